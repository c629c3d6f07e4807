// SPDX-License-Identifier: Apache-2.0
// A small RAII layer over SQLite, the only file that includes <sqlite3.h>.
// Used by the forecast cache and the scheduler's job store. A Database is
// used from one thread at a time (SQLite's own locking serialises processes).
// Statements are prepared once and kept, keyed by their SQL text (a re-plan
// of 100,000 jobs runs the same four statements per job; parsing them again
// each time was a large share of it): on reuse a statement is reset and its
// bindings cleared, so each call behaves as if freshly prepared.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lowcarb {

// A bound parameter or a column value.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;

// One row of a query result, columns in SELECT order.
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool is_null(size_t column) const;
  int64_t integer(size_t column) const;   // REQUIRES: not null.
  double real(size_t column) const;       // Integers are converted.
  std::string text(size_t column) const;  // "" for NULL.
  std::optional<double> optional_real(size_t column) const;

 private:
  std::vector<SqlValue> values_;
};

enum class Durability {
  kNormal,  // synchronous=NORMAL: fast; a power cut may lose the last commits.
  kFull,    // synchronous=FULL: a committed transaction survives a power cut.
};

// sqlite3_wal_checkpoint_v2's modes that lowcarb uses.
enum class CheckpointMode {
  kPassive,   // Copies what it can without waiting for writers or readers.
  kTruncate,  // Waits for writers, copies all, then empties the WAL file.
};

// What a checkpoint found: frames in the WAL, and how many of them are now
// in the database file.
struct CheckpointResult {
  int wal_frames = 0;
  int checkpointed_frames = 0;
};

class Database {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode with a busy
  // timeout. ":memory:" gives a private in-memory database.
  static Result<std::unique_ptr<Database>> open(
      const std::string& path, Durability durability = Durability::kFull);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without parameters.
  Status exec(std::string_view sql);

  // Runs one statement with `params` bound to ?1, ?2, ...; returns its rows.
  Result<std::vector<SqlRow>> query(std::string_view sql,
                                    const std::vector<SqlValue>& params = {});

  // Runs one statement with parameters; returns the number of changed rows.
  Result<int64_t> execute(std::string_view sql,
                          const std::vector<SqlValue>& params = {});

  int64_t last_insert_rowid() const;

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK. They nest: a begin() inside an
  // open transaction starts a savepoint, whose commit() releases it and
  // whose rollback() undoes only its part; only the outermost commit()
  // makes the whole durable (one sync for a batch of transactions).
  Status begin();
  Status commit();
  void rollback();
  // Open begin()s not yet committed or rolled back.
  int depth() const { return depth_; }

  // Prepared statements kept for reuse (for tests of the cache).
  size_t cached_statements() const { return statements_.size(); }
  // At most this many are kept; SQL built per call (e.g. with literal
  // values) would otherwise grow the cache without bound. When full, the
  // cache is emptied and refills with what is used next.
  static constexpr size_t kMaxCachedStatements = 64;

  const std::string& path() const { return path_; }

  // Replaces SQLite's automatic checkpoint of this connection (which runs
  // inside the commit that grows the WAL past 1,000 pages, so a 100 MB batch
  // paid for copying itself into the database file) with `hook`, called
  // after each commit with the WAL's size in pages. An empty hook restores
  // the automatic checkpoint. See common/wal_checkpointer.h.
  void on_wal_commit(std::function<void(int wal_pages)> hook);

  // Copies the WAL into the database file (sqlite3_wal_checkpoint_v2).
  Result<CheckpointResult> checkpoint(CheckpointMode mode);

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Error error(std::string_view what) const;
  // The cached statement for `sql`, prepared on first use; nullptr on a
  // prepare error (error() describes it).
  sqlite3_stmt* statement(std::string_view sql);
  // Runs a statement without parameters or rows through the cache.
  Status run(std::string_view sql);

  sqlite3* db_;
  std::string path_;
  int depth_ = 0;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  std::function<void(int)> wal_hook_;
};

// Rolls back unless commit() was called; for early returns on error.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Status begin();
  Status commit();

 private:
  Database& db_;
  bool open_ = false;
};

}  // namespace lowcarb
