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

TEST_F(SqliteJobStoreTest, UnknownJobIsNotFound) {
  EXPECT_EQ(ErrorCode::kNotFound, store_->get("77").error().code);
  EXPECT_EQ(ErrorCode::kNotFound, store_->get("abc").error().code);
}

}  // namespace
}  // namespace lowcarb::scheduler
