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

// Statements are prepared once and reused (issue 12); reuse must behave as
// a fresh prepare: new bindings, no leftover rows, no open read.
TEST(SqliteDatabaseTest, AReusedStatementTakesItsNewBindings) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  ASSERT_OK((*db)->exec("CREATE TABLE t (k TEXT, v INTEGER)"));
  const std::string insert = "INSERT INTO t VALUES (?1, ?2)";
  ASSERT_OK((*db)->execute(insert, {std::string("a"), int64_t{1}}));
  const size_t cached = (*db)->cached_statements();
  ASSERT_OK((*db)->execute(insert, {std::string("b"), int64_t{2}}));
  // Fewer parameters than last time: the rest are NULL, not the old ones.
  ASSERT_OK((*db)->execute(insert, {std::string("c")}));

  EXPECT_EQ(cached, (*db)->cached_statements());
  auto rows = (*db)->query("SELECT k, v FROM t ORDER BY k");
  ASSERT_OK(rows);
  ASSERT_EQ(3u, rows->size());
  EXPECT_EQ("b", (*rows)[1].text(0));
  EXPECT_EQ(2, (*rows)[1].integer(1));
  EXPECT_TRUE((*rows)[2].is_null(1));
}

TEST(SqliteDatabaseTest, AStatementThatFailedCanBeUsedAgain) {
  testing::ScopedTempDir dir;
  auto db = Database::open(dir.file("state.db"));
  ASSERT_OK(db);
  ASSERT_OK((*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY)"));
  const std::string insert = "INSERT INTO t VALUES (?1)";
  ASSERT_OK((*db)->execute(insert, {std::string("a")}));
  ASSERT_FALSE((*db)->execute(insert, {std::string("a")}));

  ASSERT_OK((*db)->execute(insert, {std::string("b")}));

  // Nothing was left mid-step: a transaction commits, and another
  // connection sees both rows.
  Transaction tx(**db);
  ASSERT_OK(tx.begin());
  ASSERT_OK((*db)->execute(insert, {std::string("c")}));
  ASSERT_OK(tx.commit());
  auto other = Database::open(dir.file("state.db"));
  ASSERT_OK(other);
  auto rows = (*other)->query("SELECT COUNT(*) FROM t");
  ASSERT_OK(rows);
  EXPECT_EQ(3, (*rows)[0].integer(0));
}

TEST(SqliteDatabaseTest, ACachedQuerySeesASchemaChange) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  ASSERT_OK((*db)->exec("CREATE TABLE t (a INTEGER)"));
  ASSERT_OK((*db)->execute("INSERT INTO t VALUES (1)"));
  auto before = (*db)->query("SELECT * FROM t");
  ASSERT_OK(before);
  ASSERT_EQ(1u, (*before)[0].size());

  ASSERT_OK((*db)->exec("ALTER TABLE t ADD COLUMN b INTEGER DEFAULT 5"));
  auto after = (*db)->query("SELECT * FROM t");

  ASSERT_OK(after);
  ASSERT_EQ(2u, (*after)[0].size());
  EXPECT_EQ(5, (*after)[0].integer(1));
}

TEST(SqliteDatabaseTest, TheCacheIsBoundedAndQueriesStayRight) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  const int distinct = static_cast<int>(Database::kMaxCachedStatements) * 3;
  for (int i = 0; i < distinct; ++i) {
    auto rows = (*db)->query("SELECT " + std::to_string(i));
    ASSERT_OK(rows);
    ASSERT_EQ(i, (*rows)[0].integer(0));
    EXPECT_LE((*db)->cached_statements(), Database::kMaxCachedStatements);
  }
}

TEST(SqliteDatabaseTest, NestedTransactionsStillUndoOnlyTheirPart) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  ASSERT_OK((*db)->exec("CREATE TABLE t (v INTEGER)"));
  ASSERT_OK((*db)->begin());
  for (int round = 0; round < 3; ++round) {
    ASSERT_OK((*db)->begin());
    ASSERT_OK((*db)->execute("INSERT INTO t VALUES (?1)", {int64_t{round}}));
    if (round == 1) {
      (*db)->rollback();
    } else {
      ASSERT_OK((*db)->commit());
    }
  }
  ASSERT_OK((*db)->commit());

  auto rows = (*db)->query("SELECT SUM(v), COUNT(*) FROM t");
  ASSERT_OK(rows);
  EXPECT_EQ(2, (*rows)[0].integer(0));
  EXPECT_EQ(2, (*rows)[0].integer(1));
  EXPECT_EQ(0, (*db)->depth());
}

}  // namespace
}  // namespace lowcarb
