// SPDX-License-Identifier: Apache-2.0
#include "scheduler/sqlite_job_store.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace lowcarb::scheduler {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uid INTEGER NOT NULL,
  state TEXT NOT NULL,
  spec TEXT NOT NULL,
  plan TEXT,
  forecast_provider TEXT NOT NULL DEFAULT '',
  handle TEXT,
  executor TEXT NOT NULL DEFAULT '',
  zone TEXT NOT NULL DEFAULT '',
  segment INTEGER NOT NULL DEFAULT 0,
  restarts INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER,
  ended_at INTEGER,
  exit_code INTEGER,
  run_time_s INTEGER NOT NULL DEFAULT 0,
  running_since INTEGER,
  message TEXT NOT NULL DEFAULT '',
  held INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state);
CREATE INDEX IF NOT EXISTS jobs_by_uid ON jobs(uid);
CREATE TABLE IF NOT EXISTS transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  at INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_by_job ON transitions(job_id);
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  zone TEXT NOT NULL,
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  cpu_joules REAL NOT NULL,
  gpu_joules REAL NOT NULL,
  ram_joules REAL NOT NULL,
  other_joules REAL NOT NULL,
  pue REAL NOT NULL,
  gco2_per_kwh REAL NOT NULL,
  intensity_source TEXT NOT NULL,
  grams REAL NOT NULL,
  counterfactual_gco2_per_kwh REAL NOT NULL,
  counterfactual_grams REAL NOT NULL,
  meter_source TEXT NOT NULL,
  meter_counter REAL
);
CREATE INDEX IF NOT EXISTS ledger_by_job ON ledger(job_id);
CREATE TRIGGER IF NOT EXISTS ledger_is_append_only_update
  BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_is_append_only_delete
  BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
)sql";

constexpr const char* kJobColumns =
    "id, uid, state, spec, plan, forecast_provider, handle, executor, zone, "
    "segment, restarts, started_at, ended_at, exit_code, run_time_s, "
    "running_since, message, version, held, request_id";

SqlValue optional_time(const std::optional<TimePoint>& t) {
  if (!t) {
    return nullptr;
  }
  return static_cast<int64_t>(t->time_since_epoch().count());
}

std::optional<TimePoint> time_column(const SqlRow& row, size_t column) {
  if (row.is_null(column)) {
    return std::nullopt;
  }
  return TimePoint(Duration(row.integer(column)));
}

int64_t seconds_of(TimePoint t) { return t.time_since_epoch().count(); }

Result<Job> job_from_row(const SqlRow& row) {
  Job job;
  job.id = row.text(0);
  auto state = job_state_from_string(row.text(2));
  if (!state) {
    return make_error(state.error().with_context("job " + job.id));
  }
  job.state = *state;
  auto spec = spec_from_json(row.text(3));
  if (!spec) {
    return make_error(spec.error().with_context("job " + job.id));
  }
  job.spec = std::move(*spec);
  if (!row.is_null(4)) {
    auto plan = plan_from_json(row.text(4));
    if (!plan) {
      return make_error(plan.error().with_context("job " + job.id));
    }
    job.plan = std::move(*plan);
  }
  job.forecast_provider = row.text(5);
  if (!row.is_null(6)) {
    auto handle = handle_from_text(row.text(6));
    if (!handle) {
      return make_error(handle.error().with_context("job " + job.id));
    }
    job.handle = std::move(*handle);
  }
  job.executor = row.text(7);
  job.zone = row.text(8);
  job.segment = static_cast<int>(row.integer(9));
  job.restarts = static_cast<int>(row.integer(10));
  job.started_at = time_column(row, 11);
  job.ended_at = time_column(row, 12);
  if (!row.is_null(13)) {
    job.exit_code = static_cast<int>(row.integer(13));
  }
  job.run_time = Duration(row.integer(14));
  job.running_since = time_column(row, 15);
  job.message = row.text(16);
  job.version = row.integer(17);
  job.held = row.integer(18) != 0;
  job.spec.request_id = row.text(19);
  return job;
}

std::vector<SqlValue> job_values(const Job& job) {
  return {
      static_cast<int64_t>(job.spec.uid),
      std::string(to_string(job.state)),
      spec_to_json(job.spec),
      job.plan ? SqlValue(plan_to_json(*job.plan)) : SqlValue(nullptr),
      job.forecast_provider,
      job.handle ? SqlValue(handle_to_text(*job.handle)) : SqlValue(nullptr),
      job.executor,
      job.zone,
      static_cast<int64_t>(job.segment),
      static_cast<int64_t>(job.restarts),
      optional_time(job.started_at),
      optional_time(job.ended_at),
      job.exit_code ? SqlValue(static_cast<int64_t>(*job.exit_code))
                    : SqlValue(nullptr),
      static_cast<int64_t>(job.run_time.count()),
      optional_time(job.running_since),
      job.message,
      static_cast<int64_t>(job.held ? 1 : 0)};
}

// Adds a column that databases created by older versions lack.
Status add_column_if_missing(Database& db, const std::string& table,
                             const std::string& column,
                             const std::string& declaration) {
  auto columns = db.query(fmt::format("PRAGMA table_info({})", table));
  if (!columns) {
    return make_error(columns.error());
  }
  for (const auto& row : *columns) {
    if (row.text(1) == column) {
      return {};
    }
  }
  return db.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, column,
                             declaration));
}

}  // namespace

Result<std::unique_ptr<SqliteJobStore>> SqliteJobStore::open(Database& db) {
  if (auto status = db.exec(kSchema); !status) {
    return make_error(status.error().with_context("create job store schema"));
  }
  // A re-plan batch rewrites every queued job's row (100,000 rows, about
  // 100 MB of pages) in one transaction. When its dirty pages do not fit the
  // page cache SQLite spills them to the WAL mid-batch and reads them back:
  // with 64 MiB, a 100,000-job re-plan took 2.2 s; with 256 MiB, 1.5 s
  // (BENCHMARKS.md). The cache grows only as pages are touched; a queue of
  // 10,000 jobs never uses more than about 10 MB of it.
  if (auto status = db.exec("PRAGMA cache_size=-262144"); !status) {
    return make_error(status.error().with_context("set job store cache"));
  }
  if (auto status =
          add_column_if_missing(db, "ledger", "meter_counter", "REAL");
      !status) {
    return make_error(status.error().with_context("upgrade ledger schema"));
  }
  if (auto status = add_column_if_missing(db, "jobs", "request_id", "TEXT");
      !status) {
    return make_error(status.error().with_context("upgrade jobs schema"));
  }
  if (auto status = db.exec(
          "CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_request ON jobs(uid, "
          "request_id) WHERE request_id IS NOT NULL");
      !status) {
    return make_error(status.error().with_context("create request id index"));
  }
  return std::unique_ptr<SqliteJobStore>(new SqliteJobStore(db));
}

Result<Job> SqliteJobStore::insert(Job job, TimePoint now) {
  Transaction tx(db_);
  if (auto s = tx.begin(); !s) {
    return make_error(s.error());
  }
  if (!job.spec.request_id.empty()) {
    auto used = find_by_request(job.spec.uid, job.spec.request_id);
    if (!used) {
      return make_error(used.error());
    }
    if (*used) {
      return make_error(ErrorCode::kConflict,
                        fmt::format("request id {} was used by job {}",
                                    job.spec.request_id, (*used)->id));
    }
  }
  auto values = job_values(job);
  values.push_back(seconds_of(now));
  values.push_back(seconds_of(now));
  values.push_back(job.spec.request_id.empty() ? SqlValue(nullptr)
                                               : SqlValue(job.spec.request_id));
  std::string sql =
      "INSERT INTO jobs (uid, state, spec, plan, forecast_provider, handle, "
      "executor, zone, segment, restarts, started_at, ended_at, exit_code, "
      "run_time_s, running_since, message, held, version, created_at, "
      "updated_at, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
      "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 1, ?18, ?19, ?20)";
  if (!job.id.empty()) {
    auto id = parse_integer(job.id);
    if (!id) {
      return make_error(ErrorCode::kInvalidArgument,
                        "job ids are numbers, got '" + job.id + "'");
    }
    sql =
        "INSERT INTO jobs (uid, state, spec, plan, forecast_provider, handle, "
        "executor, zone, segment, restarts, started_at, ended_at, exit_code, "
        "run_time_s, running_since, message, held, version, created_at, "
        "updated_at, request_id, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
        "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 1, ?18, ?19, ?20, ?21)";
    values.push_back(static_cast<int64_t>(*id));
  }
  if (auto r = db_.execute(sql, values); !r) {
    return make_error(r.error().with_context("insert job"));
  }
  job.id = std::to_string(db_.last_insert_rowid());
  job.version = 1;
  if (auto r = db_.execute(
          "INSERT INTO transitions (job_id, at, from_state, to_state, note) "
          "VALUES (?1, ?2, '', ?3, 'submitted')",
          {static_cast<int64_t>(*parse_integer(job.id)), seconds_of(now),
           std::string(to_string(job.state))});
      !r) {
    return make_error(r.error().with_context("insert transition"));
  }
  if (auto s = tx.commit(); !s) {
    return make_error(s.error().with_context("commit new job"));
  }
  return job;
}

Status SqliteJobStore::update(const Job& job, TimePoint now,
                              const std::string& note) {
  auto id = parse_integer(job.id);
  if (!id) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bad job id '" + job.id + "'");
  }
  Transaction tx(db_);
  if (auto s = tx.begin(); !s) {
    return s;
  }
  auto old = db_.query("SELECT state FROM jobs WHERE id = ?1",
                       {static_cast<int64_t>(*id)});
  if (!old) {
    return make_error(old.error());
  }
  if (old->empty()) {
    return make_error(ErrorCode::kNotFound, "no job " + job.id);
  }
  std::string from = (*old)[0].text(0);
  auto values = job_values(job);
  values.push_back(seconds_of(now));
  values.push_back(static_cast<int64_t>(*id));
  auto r = db_.execute(
      "UPDATE jobs SET uid = ?1, state = ?2, spec = ?3, plan = ?4, "
      "forecast_provider = ?5, handle = ?6, executor = ?7, zone = ?8, "
      "segment = ?9, restarts = ?10, started_at = ?11, ended_at = ?12, "
      "exit_code = ?13, run_time_s = ?14, running_since = ?15, message = ?16, "
      "held = ?17, version = version + 1, updated_at = ?18 WHERE id = ?19",
      values);
  if (!r) {
    return make_error(r.error().with_context("update job " + job.id));
  }
  if (from != to_string(job.state) || !note.empty()) {
    auto t = db_.execute(
        "INSERT INTO transitions (job_id, at, from_state, to_state, note) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
        {static_cast<int64_t>(*id), seconds_of(now), from,
         std::string(to_string(job.state)), note});
    if (!t) {
      return make_error(t.error().with_context("record transition"));
    }
  }
  return tx.commit();
}

Status SqliteJobStore::update_plan(const Job& job, TimePoint now,
                                   const std::string& note) {
  auto id = parse_integer(job.id);
  if (!id) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bad job id '" + job.id + "'");
  }
  Transaction tx(db_);
  if (auto s = tx.begin(); !s) {
    return s;
  }
  auto changed = db_.execute(
      "UPDATE jobs SET plan = ?1, zone = ?2, executor = ?3, "
      "version = version + 1, updated_at = ?4 WHERE id = ?5",
      {job.plan ? SqlValue(plan_to_json(*job.plan)) : SqlValue(nullptr),
       job.zone, job.executor, seconds_of(now), static_cast<int64_t>(*id)});
  if (!changed) {
    return make_error(changed.error().with_context("update plan of " + job.id));
  }
  if (*changed == 0) {
    return make_error(ErrorCode::kNotFound, "no job " + job.id);
  }
  const std::string state(to_string(job.state));
  auto t = db_.execute(
      "INSERT INTO transitions (job_id, at, from_state, to_state, note) "
      "VALUES (?1, ?2, ?3, ?4, ?5)",
      {static_cast<int64_t>(*id), seconds_of(now), state, state, note});
  if (!t) {
    return make_error(t.error().with_context("record transition"));
  }
  return tx.commit();
}

Result<std::vector<Job>> SqliteJobStore::select_jobs(
    const std::string& where, const std::vector<SqlValue>& params) {
  auto rows = db_.query(
      fmt::format("SELECT {} FROM jobs {}", kJobColumns, where), params);
  if (!rows) {
    return make_error(rows.error());
  }
  std::vector<Job> jobs;
  jobs.reserve(rows->size());
  for (const auto& row : *rows) {
    auto job = job_from_row(row);
    if (!job) {
      return make_error(job.error());
    }
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

Result<Job> SqliteJobStore::get(const std::string& id) {
  auto number = parse_integer(id);
  if (!number) {
    return make_error(ErrorCode::kNotFound, "no job '" + id + "'");
  }
  auto jobs = select_jobs("WHERE id = ?1", {static_cast<int64_t>(*number)});
  if (!jobs) {
    return make_error(jobs.error());
  }
  if (jobs->empty()) {
    return make_error(ErrorCode::kNotFound, "no job " + id);
  }
  return std::move(jobs->front());
}

Result<std::optional<Job>> SqliteJobStore::find_by_request(
    unsigned uid, const std::string& request_id) {
  auto jobs = select_jobs("WHERE uid = ?1 AND request_id = ?2",
                          {static_cast<int64_t>(uid), request_id});
  if (!jobs) {
    return make_error(jobs.error());
  }
  if (jobs->empty()) {
    return std::optional<Job>();
  }
  return std::optional<Job>(std::move(jobs->front()));
}

Result<std::vector<Job>> SqliteJobStore::active_jobs() {
  return select_jobs(
      "WHERE state NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY id",
      {});
}

Result<std::vector<Job>> SqliteJobStore::list(std::optional<unsigned> uid,
                                              size_t limit) {
  if (uid) {
    return select_jobs(
        "WHERE uid = ?1 ORDER BY id DESC LIMIT ?2",
        {static_cast<int64_t>(*uid), static_cast<int64_t>(limit)});
  }
  return select_jobs("ORDER BY id DESC LIMIT ?1",
                     {static_cast<int64_t>(limit)});
}

Result<std::vector<TransitionRecord>> SqliteJobStore::transitions(
    const std::string& job_id) {
  auto id = parse_integer(job_id);
  if (!id) {
    return make_error(ErrorCode::kNotFound, "no job '" + job_id + "'");
  }
  auto rows = db_.query(
      "SELECT at, from_state, to_state, note FROM transitions WHERE job_id = "
      "?1 ORDER BY id",
      {static_cast<int64_t>(*id)});
  if (!rows) {
    return make_error(rows.error());
  }
  std::vector<TransitionRecord> out;
  for (const auto& row : *rows) {
    out.push_back({job_id, TimePoint(Duration(row.integer(0))), row.text(1),
                   row.text(2), row.text(3)});
  }
  return out;
}

Status SqliteJobStore::append_ledger(const LedgerRecord& r) {
  auto id = parse_integer(r.job_id);
  if (!id) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bad job id '" + r.job_id + "'");
  }
  auto result = db_.execute(
      "INSERT INTO ledger (job_id, zone, start, end, cpu_joules, gpu_joules, "
      "ram_joules, other_joules, pue, gco2_per_kwh, intensity_source, grams, "
      "counterfactual_gco2_per_kwh, counterfactual_grams, meter_source, "
      "meter_counter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
      "?12, ?13, ?14, ?15, ?16)",
      {static_cast<int64_t>(*id), r.zone, seconds_of(r.start),
       seconds_of(r.end), r.cpu_joules, r.gpu_joules, r.ram_joules,
       r.other_joules, r.pue, r.gco2_per_kwh, r.intensity_source, r.grams,
       r.counterfactual_gco2_per_kwh, r.counterfactual_grams, r.meter_source,
       r.meter_counter ? SqlValue(*r.meter_counter) : SqlValue(nullptr)});
  if (!result) {
    return make_error(result.error().with_context("append ledger"));
  }
  return {};
}

Result<std::vector<LedgerRecord>> SqliteJobStore::ledger(
    const LedgerFilter& filter) {
  std::string sql;
  std::vector<SqlValue> params;
  if (!filter.job_id.empty()) {
    params.push_back(
        static_cast<int64_t>(parse_integer(filter.job_id).value_or(-1)));
    sql += fmt::format(" AND l.job_id = ?{}", params.size());
  }
  if (filter.since) {
    params.push_back(seconds_of(*filter.since));
    sql += fmt::format(" AND l.end > ?{}", params.size());
  }
  if (filter.uid) {
    params.push_back(static_cast<int64_t>(*filter.uid));
    sql += fmt::format(" AND j.uid = ?{}", params.size());
  }
  return select_ledger(sql, params);
}

Result<std::vector<LedgerRecord>> SqliteJobStore::ledger_of(
    const std::vector<std::string>& job_ids, std::optional<unsigned> uid) {
  if (job_ids.empty()) {
    return std::vector<LedgerRecord>();
  }
  // Numbers only (a bad id matches nothing), inlined: one statement for a
  // whole page of `list`, answered through ledger_by_job.
  std::vector<int64_t> ids;
  ids.reserve(job_ids.size());
  for (const auto& id : job_ids) {
    ids.push_back(parse_integer(id).value_or(-1));
  }
  std::string sql = fmt::format(" AND l.job_id IN ({})", fmt::join(ids, ", "));
  std::vector<SqlValue> params;
  if (uid) {
    params.push_back(static_cast<int64_t>(*uid));
    sql += " AND j.uid = ?1";
  }
  return select_ledger(sql, params);
}

Result<std::vector<LedgerRecord>> SqliteJobStore::select_ledger(
    const std::string& conditions, const std::vector<SqlValue>& params) {
  std::string sql =
      "SELECT l.job_id, l.zone, l.start, l.end, l.cpu_joules, l.gpu_joules, "
      "l.ram_joules, l.other_joules, l.pue, l.gco2_per_kwh, "
      "l.intensity_source, l.grams, l.counterfactual_gco2_per_kwh, "
      "l.counterfactual_grams, l.meter_source, l.meter_counter FROM ledger l "
      "JOIN jobs j ON "
      "j.id = l.job_id WHERE 1 = 1";
  sql += conditions;
  sql += " ORDER BY l.job_id, l.start";
  auto rows = db_.query(sql, params);
  if (!rows) {
    return make_error(rows.error());
  }
  std::vector<LedgerRecord> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    LedgerRecord r;
    r.job_id = row.text(0);
    r.zone = row.text(1);
    r.start = TimePoint(Duration(row.integer(2)));
    r.end = TimePoint(Duration(row.integer(3)));
    r.cpu_joules = row.real(4);
    r.gpu_joules = row.real(5);
    r.ram_joules = row.real(6);
    r.other_joules = row.real(7);
    r.pue = row.real(8);
    r.gco2_per_kwh = row.real(9);
    r.intensity_source = row.text(10);
    r.grams = row.real(11);
    r.counterfactual_gco2_per_kwh = row.real(12);
    r.counterfactual_grams = row.real(13);
    r.meter_source = row.text(14);
    r.meter_counter = row.optional_real(15);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace lowcarb::scheduler
