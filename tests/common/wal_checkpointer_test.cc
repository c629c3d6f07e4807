// SPDX-License-Identifier: Apache-2.0
// Real SQLite files in a temporary directory: what the daemon's writer
// connection and its checkpoint thread do to the WAL.
#include "common/wal_checkpointer.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb {
namespace {

// About 250 pages of 4 KiB per call: 1,000 rows of 1 KiB in one transaction.
void write_batch(Database& db, int batch) {
  Transaction tx(db);
  ASSERT_OK(tx.begin());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(db.execute("INSERT INTO t (batch, payload) VALUES (?1, ?2)",
                         {int64_t{batch}, std::string(1024, 'x')}));
  }
  ASSERT_OK(tx.commit());
}

std::unique_ptr<Database> open_with_table(const std::string& path) {
  auto db = Database::open(path);
  EXPECT_TRUE(db.has_value());
  EXPECT_TRUE(
      (*db)
          ->exec("CREATE TABLE IF NOT EXISTS t (batch INTEGER, payload TEXT)")
          .has_value());
  return std::move(*db);
}

// The WAL's frames, read through a second connection (PASSIVE copies them
// too, which does not change the count until a writer restarts the WAL).
int wal_frames(const std::string& path) {
  auto other = Database::open(path);
  EXPECT_TRUE(other.has_value());
  auto result = (*other)->checkpoint(CheckpointMode::kPassive);
  EXPECT_TRUE(result.has_value());
  return result->wal_frames;
}

TEST(WalCheckpointerTest, WithoutAHookSqliteCheckpointsInsideTheCommit) {
  // The baseline the hook changes: SQLite's automatic checkpoint restarts
  // the WAL, so it never holds the 2,500 pages written.
  testing::ScopedTempDir dir;
  auto db = open_with_table(dir.file("state.db"));
  for (int batch = 0; batch < 10; ++batch) {
    write_batch(*db, batch);
  }
  EXPECT_LT(wal_frames(dir.file("state.db")), 1500);
}

TEST(WalCheckpointerTest, AWalHookTakesTheCheckpointOutOfTheWritersCommits) {
  testing::ScopedTempDir dir;
  auto db = open_with_table(dir.file("state.db"));
  int largest = 0;
  db->on_wal_commit([&](int pages) { largest = std::max(largest, pages); });
  for (int batch = 0; batch < 10; ++batch) {
    write_batch(*db, batch);
  }
  EXPECT_GE(largest, 2000);
  EXPECT_GE(wal_frames(dir.file("state.db")), 2000);
}

TEST(WalCheckpointerTest, CheckpointsOnItsOwnThreadAndKeepsEveryRow) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("state.db");
  auto db = open_with_table(path);
  auto checkpointer = WalCheckpointer::attach(*db, {.wake_at_pages = 500});
  ASSERT_OK(checkpointer);
  for (int batch = 0; batch < 10; ++batch) {
    write_batch(*db, batch);
  }
  (*checkpointer)->wait_idle();

  EXPECT_GE((*checkpointer)->checkpoints(), 1);
  // The latest one ran after the last commit and copied all of the WAL.
  const CheckpointResult last = (*checkpointer)->last();
  EXPECT_GT(last.wal_frames, 0);
  EXPECT_EQ(last.wal_frames, last.checkpointed_frames);
  auto other = Database::open(path);
  ASSERT_OK(other);
  auto rows = (*other)->query("SELECT COUNT(*) FROM t");
  ASSERT_OK(rows);
  EXPECT_EQ(10000, (*rows)[0].integer(0));
}

TEST(WalCheckpointerTest, LeavesAnEmptyWalAndAWholeDatabaseFileWhenDestroyed) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("state.db");
  auto db = open_with_table(path);
  {
    auto checkpointer = WalCheckpointer::attach(*db);
    ASSERT_OK(checkpointer);
    for (int batch = 0; batch < 3; ++batch) {
      write_batch(*db, batch);
    }
    ASSERT_GT(std::filesystem::file_size(path + "-wal"), 0u);
  }
  EXPECT_EQ(0u, std::filesystem::file_size(path + "-wal"));

  // The database file alone holds every row: copied without its WAL.
  std::filesystem::copy_file(path, dir.file("copy.db"));
  auto copy = Database::open(dir.file("copy.db"));
  ASSERT_OK(copy);
  auto rows = (*copy)->query("SELECT COUNT(*) FROM t");
  ASSERT_OK(rows);
  EXPECT_EQ(3000, (*rows)[0].integer(0));
}

TEST(WalCheckpointerTest, GivesCheckpointsBackToTheWriterWhenDestroyed) {
  testing::ScopedTempDir dir;
  auto db = open_with_table(dir.file("state.db"));
  { ASSERT_OK(WalCheckpointer::attach(*db)); }
  for (int batch = 0; batch < 10; ++batch) {
    write_batch(*db, batch);
  }
  EXPECT_LT(wal_frames(dir.file("state.db")), 1500);
}

TEST(WalCheckpointerTest, BoundsTheWalFileOnceItCanStartOver) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("state.db");
  auto db = open_with_table(path);
  auto checkpointer = WalCheckpointer::attach(
      *db, {.wake_at_pages = 100000, .wal_size_limit_bytes = 256 << 10});
  ASSERT_OK(checkpointer);
  for (int batch = 0; batch < 10; ++batch) {  // ~10 MB of WAL, no checkpoint.
    write_batch(*db, batch);
  }
  ASSERT_GT(std::filesystem::file_size(path + "-wal"), 8u << 20);
  auto other = Database::open(path);
  ASSERT_OK(other);
  ASSERT_OK((*other)->checkpoint(CheckpointMode::kPassive));
  write_batch(*db, 10);  // Starts the WAL over and cuts the file back.

  EXPECT_LE(std::filesystem::file_size(path + "-wal"), 2u << 20);
}

}  // namespace
}  // namespace lowcarb
