// SPDX-License-Identifier: Apache-2.0
#include "scheduler/sqlite_job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");

Job make_job(unsigned uid) {
  Job job;
  job.spec.name = "train";
  job.spec.uid = uid;
  job.spec.argv = {"python3", "train.py", "--epochs", "3"};
  job.spec.env = {{"CUDA_VISIBLE_DEVICES", "0"}};
  job.spec.duration = std::chrono::hours(2);
  job.spec.submitted_at = kNow;
  job.spec.earliest = kNow;
  job.spec.deadline = kNow + std::chrono::hours(12);
  job.spec.zones = {"DE", "FR"};
  job.spec.interruptible = true;
  job.spec.threshold_gco2_per_kwh = 150;
  Plan plan;
  plan.zone = "FR";
  plan.segments = {
      {kNow + std::chrono::hours(3), kNow + std::chrono::hours(4)},
      {kNow + std::chrono::hours(6), kNow + std::chrono::hours(7)}};
  plan.expected_gco2_per_kwh = 42.5;
  plan.run_now_gco2_per_kwh = 300;
  plan.savings_percent = 85.8;
  plan.reason = "pause-resume";
  job.plan = plan;
  job.zone = "FR";
  job.executor = "local";
  return job;
}

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::open(dir_.file("lowcarb.db"));
    ASSERT_OK(db);
    db_ = std::move(*db);
    auto store = SqliteJobStore::open(*db_);
    ASSERT_OK(store);
    store_ = std::move(*store);
  }

  testing::ScopedTempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqliteJobStore> store_;
};

TEST_F(SqliteJobStoreTest, RoundTripsEveryField) {
  auto inserted = store_->insert(make_job(1000), kNow);
  ASSERT_OK(inserted);

  auto loaded = store_->get(inserted->id);

  ASSERT_OK(loaded);
  EXPECT_EQ("1", loaded->id);
  EXPECT_EQ(make_job(1000).spec.argv, loaded->spec.argv);
  EXPECT_EQ("0", loaded->spec.env.at("CUDA_VISIBLE_DEVICES"));
  EXPECT_EQ(std::chrono::hours(2), loaded->spec.duration);
  EXPECT_EQ(150, loaded->spec.threshold_gco2_per_kwh.value_or(0));
  ASSERT_TRUE(loaded->plan);
  EXPECT_EQ(make_job(1000).plan->segments, loaded->plan->segments);
  EXPECT_EQ("pause-resume", loaded->plan->reason);
  EXPECT_EQ(JobState::kQueued, loaded->state);
}

TEST_F(SqliteJobStoreTest, UpdateRecordsTransitionsAndSurvivesReopen) {
  auto job = *store_->insert(make_job(1000), kNow);
  job.state = JobState::kStarting;
  ASSERT_OK(store_->update(job, kNow + std::chrono::hours(3), "starting"));
  job.state = JobState::kRunning;
  job.handle = executors::ExecutorHandle{"local", "", "4242:99"};
  ASSERT_OK(store_->update(job, kNow + std::chrono::hours(3), "started"));
  store_.reset();
  db_.reset();

  auto db = Database::open(dir_.file("lowcarb.db"));
  ASSERT_OK(db);
  auto store = SqliteJobStore::open(**db);
  ASSERT_OK(store);
  auto loaded = (*store)->get(job.id);
  auto transitions = (*store)->transitions(job.id);

  ASSERT_OK(loaded);
  EXPECT_EQ(JobState::kRunning, loaded->state);
  ASSERT_TRUE(loaded->handle);
  EXPECT_EQ("4242:99", loaded->handle->native_id);
  ASSERT_OK(transitions);
  ASSERT_EQ(3u, transitions->size());
  EXPECT_EQ("queued", (*transitions)[1].from_state);
  EXPECT_EQ("starting", (*transitions)[1].to_state);
  EXPECT_EQ("running", (*transitions)[2].to_state);
}

TEST_F(SqliteJobStoreTest, ActiveJobsExcludeFinishedOnes) {
  auto a = *store_->insert(make_job(1), kNow);
  auto b = *store_->insert(make_job(2), kNow);
  b.state = JobState::kSucceeded;
  ASSERT_OK(store_->update(b, kNow, "done"));

  auto active = store_->active_jobs();
  auto mine = store_->list(2u, 10);

  ASSERT_OK(active);
  ASSERT_EQ(1u, active->size());
  EXPECT_EQ(a.id, active->front().id);
  ASSERT_OK(mine);
  ASSERT_EQ(1u, mine->size());
  EXPECT_EQ(b.id, mine->front().id);
}

TEST_F(SqliteJobStoreTest, LedgerIsAppendOnly) {
  auto job = *store_->insert(make_job(1), kNow);
  LedgerRecord record;
  record.job_id = job.id;
  record.zone = "FR";
  record.start = kNow;
  record.end = kNow + std::chrono::minutes(10);
  record.cpu_joules = 36000;
  record.gco2_per_kwh = 50;
  record.grams = 0.5;
  record.meter_source = "cpu-time-model";
  ASSERT_OK(store_->append_ledger(record));

  auto update = db_->exec("UPDATE ledger SET grams = 0");
  auto erase = db_->exec("DELETE FROM ledger");
  auto rows = store_->ledger({job.id, std::nullopt, std::nullopt});

  EXPECT_FALSE(update);
  EXPECT_FALSE(erase);
  ASSERT_OK(rows);
  ASSERT_EQ(1u, rows->size());
  EXPECT_DOUBLE_EQ(0.5, rows->front().grams);
  EXPECT_EQ("cpu-time-model", rows->front().meter_source);
}

TEST_F(SqliteJobStoreTest, RequestIdsAreUniquePerUserAndSurviveReopen) {
  Job job = make_job(1000);
  job.spec.request_id = "cli-1";
  auto first = store_->insert(job, kNow);
  ASSERT_OK(first);
  auto again = store_->insert(job, kNow);
  ASSERT_FALSE(again);
  EXPECT_EQ(ErrorCode::kConflict, again.error().code);
  Job bobs = make_job(1001);
  bobs.spec.request_id = "cli-1";
  ASSERT_OK(store_->insert(bobs, kNow));
  ASSERT_OK(store_->insert(make_job(1000), kNow));  // No id: never a clash.
  ASSERT_OK(store_->insert(make_job(1000), kNow));

  store_.reset();
  store_ = std::move(*SqliteJobStore::open(*db_));
  auto found = store_->find_by_request(1000, "cli-1");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(first->id, (*found)->id);
  EXPECT_EQ("cli-1", (*found)->spec.request_id);
  auto missing = store_->find_by_request(1000, "cli-2");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteJobStoreTest, LedgerKeepsTheMeterCounter) {
  auto job = *store_->insert(make_job(1), kNow);
  LedgerRecord record;
  record.job_id = job.id;
  record.zone = "FR";
  record.start = kNow;
  record.end = kNow + std::chrono::minutes(1);
  record.meter_source = "cpu-time-model";
  record.meter_counter = 12.5;
  ASSERT_OK(store_->append_ledger(record));
  record.start = record.end;
  record.end += std::chrono::minutes(1);
  record.meter_counter.reset();
  record.meter_source = "declared";
  ASSERT_OK(store_->append_ledger(record));

  auto rows = store_->ledger({job.id, std::nullopt, std::nullopt});
  ASSERT_OK(rows);
  ASSERT_EQ(2u, rows->size());
  ASSERT_TRUE((*rows)[0].meter_counter.has_value());
  EXPECT_DOUBLE_EQ(12.5, *(*rows)[0].meter_counter);
  EXPECT_FALSE((*rows)[1].meter_counter.has_value());
}

TEST_F(SqliteJobStoreTest, ADatabaseOfAnOlderVersionGainsTheNewColumns) {
  auto old = Database::open(dir_.file("old.db"));
  ASSERT_OK(old);
  // The tables as the previous version created them.
  ASSERT_OK((*old)->exec(
      "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, uid INTEGER "
      "NOT NULL, state TEXT NOT NULL, spec TEXT NOT NULL, plan TEXT, "
      "forecast_provider TEXT NOT NULL DEFAULT '', handle TEXT, executor "
      "TEXT NOT NULL DEFAULT '', zone TEXT NOT NULL DEFAULT '', segment "
      "INTEGER NOT NULL DEFAULT 0, restarts INTEGER NOT NULL DEFAULT 0, "
      "started_at INTEGER, ended_at INTEGER, exit_code INTEGER, run_time_s "
      "INTEGER NOT NULL DEFAULT 0, running_since INTEGER, message TEXT NOT "
      "NULL DEFAULT '', held INTEGER NOT NULL DEFAULT 0, version INTEGER NOT "
      "NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT "
      "NULL);"
      "CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, job_id "
      "INTEGER NOT NULL REFERENCES jobs(id), zone TEXT NOT NULL, start "
      "INTEGER NOT NULL, end INTEGER NOT NULL, cpu_joules REAL NOT NULL, "
      "gpu_joules REAL NOT NULL, ram_joules REAL NOT NULL, other_joules REAL "
      "NOT NULL, pue REAL NOT NULL, gco2_per_kwh REAL NOT NULL, "
      "intensity_source TEXT NOT NULL, grams REAL NOT NULL, "
      "counterfactual_gco2_per_kwh REAL NOT NULL, counterfactual_grams REAL "
      "NOT NULL, meter_source TEXT NOT NULL);"));
  auto store = SqliteJobStore::open(**old);
  ASSERT_OK(store);
  Job job = make_job(5);
  job.spec.request_id = "r";
  auto inserted = (*store)->insert(job, kNow);
  ASSERT_OK(inserted);
  auto found = (*store)->find_by_request(5, "r");
  ASSERT_OK(found);
  EXPECT_TRUE(found->has_value());
}

TEST_F(SqliteJobStoreTest, ABatchIsDurableOnlyWhenCommittedAndAbortUndoesIt) {
  ASSERT_OK(store_->begin_batch());
  auto a = store_->insert(make_job(1), kNow);
  auto b = store_->insert(make_job(1), kNow);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(1, db_->depth());
  ASSERT_OK(store_->commit_batch());
  EXPECT_EQ(0, db_->depth());

  ASSERT_OK(store_->begin_batch());
  auto c = store_->insert(make_job(1), kNow);
  ASSERT_OK(c);
  // A failing call inside the batch undoes only its own part.
  Job clash = make_job(1);
  clash.id = a->id;
  EXPECT_FALSE(store_->insert(clash, kNow));
  EXPECT_OK(store_->get(c->id));
  store_->abort_batch();
  EXPECT_EQ(0, db_->depth());

  auto listed = store_->list(std::nullopt, 10);
  ASSERT_OK(listed);
  EXPECT_EQ(2u, listed->size());
  EXPECT_EQ(ErrorCode::kNotFound, store_->get(c->id).error().code);
}

TEST_F(SqliteJobStoreTest, UnknownJobIsNotFound) {
  EXPECT_EQ(ErrorCode::kNotFound, store_->get("77").error().code);
  EXPECT_EQ(ErrorCode::kNotFound, store_->get("abc").error().code);
}

TEST_F(SqliteJobStoreTest, PlanOnlyUpdateSurvivesReopenAndKeepsTheRest) {
  auto inserted = store_->insert(make_job(1000), kNow);
  ASSERT_OK(inserted);
  Job job = *inserted;
  job.state = JobState::kQueued;
  job.message = "not written by update_plan";
  job.plan->segments = {
      {kNow + std::chrono::hours(5), kNow + std::chrono::hours(7)}};
  job.plan->expected_grams = 12.5;
  job.zone = "DE";
  job.executor = "slurm:a";
  ASSERT_OK(store_->update_plan(job, kNow + std::chrono::minutes(15),
                                "re-planned: start later"));
  store_.reset();
  db_.reset();
  SetUp();  // Reopen the same file.
  auto stored = store_->get(inserted->id);
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->plan.has_value());
  EXPECT_EQ(job.plan->segments, stored->plan->segments);
  EXPECT_DOUBLE_EQ(12.5, stored->plan->expected_grams);
  EXPECT_EQ("DE", stored->zone);
  EXPECT_EQ("slurm:a", stored->executor);
  EXPECT_EQ(inserted->version + 1, stored->version);
  EXPECT_EQ(inserted->spec.argv, stored->spec.argv);
  EXPECT_EQ("", stored->message);  // Only the plan columns were written.
  auto history = store_->transitions(inserted->id);
  ASSERT_OK(history);
  ASSERT_FALSE(history->empty());
  EXPECT_EQ("re-planned: start later", history->back().note);
  EXPECT_EQ(history->back().from_state, history->back().to_state);
}

TEST_F(SqliteJobStoreTest, PlanOnlyUpdateOfAnUnknownJobIsNotFound) {
  Job job = make_job(1000);
  job.id = "4242";
  auto status = store_->update_plan(job, kNow, "re-planned");
  ASSERT_FALSE(status);
  EXPECT_EQ(ErrorCode::kNotFound, status.error().code);
}

TEST_F(SqliteJobStoreTest, LedgerOfSeveralJobsIsOneFilter) {
  auto a = store_->insert(make_job(1000), kNow);
  auto b = store_->insert(make_job(1000), kNow);
  auto c = store_->insert(make_job(1001), kNow);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(c);
  for (const auto* job : {&*a, &*b, &*c}) {
    LedgerRecord r;
    r.job_id = job->id;
    r.zone = "FR";
    r.start = kNow;
    r.end = kNow + std::chrono::minutes(10);
    r.grams = 1;
    r.meter_source = "declared";
    r.intensity_source = "test";
    ASSERT_OK(store_->append_ledger(r));
  }
  auto records = store_->ledger_of({a->id, c->id, "bad"}, std::nullopt);
  ASSERT_OK(records);
  std::vector<std::string> ids;
  for (const auto& r : *records) {
    ids.push_back(r.job_id);
  }
  EXPECT_EQ((std::vector<std::string>{a->id, c->id}), ids);
  records = store_->ledger_of({a->id, c->id}, 1000u);
  ASSERT_OK(records);
  ASSERT_EQ(1u, records->size());
  EXPECT_EQ(a->id, (*records)[0].job_id);
}

}  // namespace
}  // namespace lowcarb::scheduler
