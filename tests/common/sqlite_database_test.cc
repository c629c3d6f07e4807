// SPDX-License-Identifier: Apache-2.0
#include "common/sqlite_database.h"

#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb {
namespace {

TEST(SqliteDatabaseTest, PersistsCommittedRowsAcrossReopen) {
  testing::ScopedTempDir dir;
  {
    auto db = Database::open(dir.file("state.db"));
    ASSERT_OK(db);
    ASSERT_OK((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY, v REAL)"));
    Transaction tx(**db);
    ASSERT_OK(tx.begin());
    ASSERT_OK((*db)->execute("INSERT INTO t VALUES (?1, ?2)",
                             {std::string("a"), 1.5}));
    ASSERT_OK(tx.commit());
  }

  auto db = Database::open(dir.file("state.db"));
  ASSERT_OK(db);
  auto rows = (*db)->query("SELECT k, v FROM t");

  ASSERT_OK(rows);
  ASSERT_EQ(1u, rows->size());
  EXPECT_EQ("a", (*rows)[0].text(0));
  EXPECT_EQ(1.5, (*rows)[0].real(1));
}

TEST(SqliteDatabaseTest, UncommittedTransactionRollsBack) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  ASSERT_OK((*db)->exec("CREATE TABLE t (v INTEGER)"));
  {
    Transaction tx(**db);
    ASSERT_OK(tx.begin());
    ASSERT_OK((*db)->execute("INSERT INTO t VALUES (?1)", {int64_t{7}}));
  }

  auto rows = (*db)->query("SELECT COUNT(*) FROM t");

  ASSERT_OK(rows);
  EXPECT_EQ(0, (*rows)[0].integer(0));
}

TEST(SqliteDatabaseTest, ConstraintViolationIsConflict) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  ASSERT_OK((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY)"));
  ASSERT_OK((*db)->execute("INSERT INTO t VALUES ('a')"));

  auto again = (*db)->execute("INSERT INTO t VALUES ('a')");

  ASSERT_FALSE(again);
  EXPECT_EQ(ErrorCode::kConflict, again.error().code);
}

TEST(SqliteDatabaseTest, OpenFailsWithThePath) {
  auto db = Database::open("/nonexistent-dir/x/state.db");

  ASSERT_FALSE(db);
  EXPECT_NE(std::string::npos, db.error().message.find("/nonexistent-dir"));
}

}  // namespace
}  // namespace lowcarb
