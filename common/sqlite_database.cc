// SPDX-License-Identifier: Apache-2.0
#include "common/sqlite_database.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include "common/assert.h"

namespace lowcarb {

bool SqlRow::is_null(size_t column) const {
  return std::holds_alternative<std::nullptr_t>(values_.at(column));
}

int64_t SqlRow::integer(size_t column) const {
  const auto& v = values_.at(column);
  if (auto* i = std::get_if<int64_t>(&v)) {
    return *i;
  }
  if (auto* d = std::get_if<double>(&v)) {
    return static_cast<int64_t>(*d);
  }
  if (auto* s = std::get_if<std::string>(&v)) {
    return std::stoll(*s);
  }
  LOWCARB_ASSERT(false && "integer() on a NULL column");
  return 0;
}

double SqlRow::real(size_t column) const {
  const auto& v = values_.at(column);
  if (auto* d = std::get_if<double>(&v)) {
    return *d;
  }
  if (auto* i = std::get_if<int64_t>(&v)) {
    return static_cast<double>(*i);
  }
  LOWCARB_ASSERT(false && "real() on a NULL or text column");
  return 0;
}

std::optional<double> SqlRow::optional_real(size_t column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  return real(column);
}

std::string SqlRow::text(size_t column) const {
  const auto& v = values_.at(column);
  if (auto* s = std::get_if<std::string>(&v)) {
    return *s;
  }
  if (auto* i = std::get_if<int64_t>(&v)) {
    return std::to_string(*i);
  }
  if (auto* d = std::get_if<double>(&v)) {
    return fmt::format("{}", *d);
  }
  return "";
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                 Durability durability) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("open database {}: {}", path, why));
  }
  std::unique_ptr<Database> out(new Database(db, path));
  sqlite3_busy_timeout(db, 5000);
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;";
  pragmas += durability == Durability::kFull ? "PRAGMA synchronous=FULL;"
                                             : "PRAGMA synchronous=NORMAL;";
  if (path == ":memory:") {
    pragmas = "PRAGMA foreign_keys=ON;";
  }
  if (auto status = out->exec(pragmas); !status) {
    return make_error(status.error());
  }
  return out;
}

Database::~Database() {
  for (auto& [sql, stmt] : statements_) {
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db_);
}

sqlite3_stmt* Database::statement(std::string_view sql) {
  std::string key(sql);
  if (auto it = statements_.find(key); it != statements_.end()) {
    return it->second;
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &raw,
                         nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    return nullptr;
  }
  if (statements_.size() >= kMaxCachedStatements) {
    for (auto& [old_sql, stmt] : statements_) {
      sqlite3_finalize(stmt);
    }
    statements_.clear();
  }
  statements_.emplace(std::move(key), raw);
  return raw;
}

Error Database::error(std::string_view what) const {
  int code = sqlite3_errcode(db_);
  ErrorCode ec = ErrorCode::kInternal;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
      code == SQLITE_FULL || code == SQLITE_CANTOPEN) {
    ec = ErrorCode::kUnavailable;
  } else if (code == SQLITE_CONSTRAINT) {
    ec = ErrorCode::kConflict;
  }
  return Error{ec,
               fmt::format("{} ({}): {}", what, path_, sqlite3_errmsg(db_))};
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return make_error(error("sql").code,
                      fmt::format("sql ({}): {}", path_, why));
  }
  return {};
}

namespace {

// Leaves a cached statement ready for its next use, whatever happened: a
// statement left mid-step would keep its read transaction open.
struct StatementReset {
  void operator()(sqlite3_stmt* s) const {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

}  // namespace

Result<std::vector<SqlRow>> Database::query(
    std::string_view sql, const std::vector<SqlValue>& params) {
  sqlite3_stmt* raw = statement(sql);
  if (raw == nullptr) {
    return make_error(error(fmt::format("prepare '{}'", sql.substr(0, 60))));
  }
  std::unique_ptr<sqlite3_stmt, StatementReset> reset(raw);
  for (size_t i = 0; i < params.size(); ++i) {
    int index = static_cast<int>(i + 1);
    const auto& p = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::nullptr_t>(p)) {
      rc = sqlite3_bind_null(raw, index);
    } else if (auto* n = std::get_if<int64_t>(&p)) {
      rc = sqlite3_bind_int64(raw, index, *n);
    } else if (auto* d = std::get_if<double>(&p)) {
      rc = sqlite3_bind_double(raw, index, *d);
    } else {
      const auto& s = std::get<std::string>(p);
      rc = sqlite3_bind_text(raw, index, s.data(), static_cast<int>(s.size()),
                             SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) {
      return make_error(error("bind"));
    }
  }
  std::vector<SqlRow> rows;
  while (true) {
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) {
      break;
    }
    if (rc != SQLITE_ROW) {
      return make_error(error(fmt::format("step '{}'", sql.substr(0, 60))));
    }
    int columns = sqlite3_column_count(raw);
    std::vector<SqlValue> values;
    values.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      switch (sqlite3_column_type(raw, c)) {
        case SQLITE_INTEGER:
          values.emplace_back(
              static_cast<int64_t>(sqlite3_column_int64(raw, c)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(raw, c));
          break;
        case SQLITE_NULL:
          values.emplace_back(nullptr);
          break;
        default: {
          const auto* text =
              reinterpret_cast<const char*>(sqlite3_column_text(raw, c));
          int bytes = sqlite3_column_bytes(raw, c);
          values.emplace_back(std::string(text ? text : "", bytes));
        }
      }
    }
    rows.emplace_back(std::move(values));
  }
  return rows;
}

Result<int64_t> Database::execute(std::string_view sql,
                                  const std::vector<SqlValue>& params) {
  auto rows = query(sql, params);
  if (!rows) {
    return make_error(rows.error());
  }
  return static_cast<int64_t>(sqlite3_changes(db_));
}

int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

Status Database::run(std::string_view sql) {
  auto rows = query(sql);
  if (!rows) {
    return make_error(rows.error());
  }
  return {};
}

Status Database::begin() {
  auto status = depth_ == 0 ? run("BEGIN IMMEDIATE")
                            : run("SAVEPOINT nested_" + std::to_string(depth_));
  if (status) {
    ++depth_;
  }
  return status;
}

Status Database::commit() {
  auto status = depth_ <= 1
                    ? run("COMMIT")
                    : run("RELEASE nested_" + std::to_string(depth_ - 1));
  if (status && depth_ > 0) {
    --depth_;
  }
  return status;
}

namespace {

int call_wal_hook(void* hook, sqlite3*, const char*, int pages) {
  (*static_cast<std::function<void(int)>*>(hook))(pages);
  return SQLITE_OK;
}

}  // namespace

void Database::on_wal_commit(std::function<void(int wal_pages)> hook) {
  wal_hook_ = std::move(hook);
  if (wal_hook_) {
    sqlite3_wal_hook(db_, call_wal_hook, &wal_hook_);
  } else {
    sqlite3_wal_autocheckpoint(db_, 1000);  // SQLite's default.
  }
}

Result<CheckpointResult> Database::checkpoint(CheckpointMode mode) {
  CheckpointResult result;
  int rc = sqlite3_wal_checkpoint_v2(
      db_, nullptr,
      mode == CheckpointMode::kTruncate ? SQLITE_CHECKPOINT_TRUNCATE
                                        : SQLITE_CHECKPOINT_PASSIVE,
      &result.wal_frames, &result.checkpointed_frames);
  // SQLITE_BUSY: another connection held a lock the mode needed; what could
  // be copied was copied and the counts say how much.
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    return make_error(error("checkpoint"));
  }
  return result;
}

void Database::rollback() {
  if (depth_ <= 1) {
    (void)exec("ROLLBACK");
    depth_ = 0;
    return;
  }
  const std::string name = "nested_" + std::to_string(depth_ - 1);
  (void)exec("ROLLBACK TO " + name);
  (void)exec("RELEASE " + name);
  --depth_;
}

Transaction::~Transaction() {
  if (open_) {
    db_.rollback();
  }
}

Status Transaction::begin() {
  auto status = db_.begin();
  open_ = status.has_value();
  return status;
}

Status Transaction::commit() {
  auto status = db_.commit();
  if (status) {
    open_ = false;
  }
  return status;
}

}  // namespace lowcarb
