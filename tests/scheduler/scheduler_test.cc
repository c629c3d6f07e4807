// SPDX-License-Identifier: Apache-2.0
#include "scheduler/scheduler.h"

#include <algorithm>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "scheduler/memory_job_store.h"
#include "tests/fakes/fake_executor.h"
#include "tests/fakes/fake_forecast_provider.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kMidnight = *parse_time("2026-11-23T00:00:00Z");

class NoHistory final : public IntensityHistory {
 public:
  std::optional<RealizedIntensity> realized(const std::string&, TimePoint,
                                            TimePoint) override {
    return RealizedIntensity{100, "test"};
  }
};

config::ZoneConfig zone(const std::string& id) {
  config::ZoneConfig z;
  z.id = id;
  z.time_zone = "UTC";
  return z;
}

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() : meter_(100), tracker_(store_, history_, meter_, 1.0, "DE") {
    // DE: dirty except 03:00-05:00. FR: clean all day but penalised later.
    forecasts_.set_hourly(
        "DE", kMidnight,
        {500, 500, 500, 100, 100, 500, 500, 500, 500, 500, 500, 500,
         500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500});
    forecasts_.set_hourly("FR", kMidnight, std::vector<double>(24, 50.0));
    options_.zones = {zone("DE"), zone("FR")};
    options_.safety_margin = minutes(10);
    options_.replan_period = hours(1);
    options_.forecast_refresh = hours(1);
  }

  Scheduler make(std::map<std::string, executors::Executor*> executors = {}) {
    if (executors.empty()) {
      executors = {{"local", &executor_}};
    }
    return Scheduler(store_, forecasts_, executors, tracker_, options_);
  }

  JobSpec spec(Duration duration, Duration deadline_in,
               std::vector<std::string> zones = {"DE"}) {
    JobSpec s;
    s.name = "train";
    s.uid = 1000;
    s.argv = {"true"};
    s.duration = duration;
    s.earliest = kMidnight;
    s.deadline = kMidnight + deadline_in;
    s.zones = std::move(zones);
    s.power_watts = 200;
    return s;
  }

  MemoryJobStore store_;
  fakes::FakeForecastProvider forecasts_;
  fakes::FakeExecutor executor_;
  NoHistory history_;
  DeclaredPowerMeter meter_;
  Tracker tracker_;
  SchedulerOptions options_;
};

TEST_F(SchedulerTest, StartsJobWhenItsChosenWindowOpens) {
  auto scheduler = make();
  auto job = scheduler.submit(spec(hours(2), hours(12)), kMidnight);
  ASSERT_OK(job);
  EXPECT_EQ(kMidnight + hours(3), job->plan->start());

  scheduler.tick(kMidnight + hours(2) + minutes(59));
  EXPECT_EQ(0, executor_.count("start"));

  scheduler.tick(kMidnight + hours(3));
  EXPECT_EQ(1, executor_.count("start", job->id));
  EXPECT_EQ(JobState::kRunning, scheduler.active_jobs().at(job->id).state);
}

TEST_F(SchedulerTest, FinishedJobIsRecordedOnceAndLeavesTheQueue) {
  auto scheduler = make();
  auto job = *scheduler.submit(spec(hours(2), hours(12)), kMidnight);
  scheduler.tick(kMidnight + hours(3));

  executor_.finish(job.id, 0);
  scheduler.tick(kMidnight + hours(5));
  scheduler.tick(kMidnight + hours(6));

  EXPECT_TRUE(scheduler.active_jobs().empty());
  auto stored = store_.get(job.id);
  ASSERT_OK(stored);
  EXPECT_EQ(JobState::kSucceeded, stored->state);
  EXPECT_EQ(1, executor_.count("start"));
  EXPECT_EQ(kMidnight + hours(5), stored->ended_at.value_or(TimePoint{}));
}

TEST_F(SchedulerTest, SpatialJobGoesToTheGreenerZone) {
  auto scheduler = make();

  auto job =
      scheduler.submit(spec(hours(2), hours(12), {"DE", "FR"}), kMidnight);

  ASSERT_OK(job);
  EXPECT_EQ("FR", job->zone);
  EXPECT_EQ(kMidnight, job->plan->start());
}

TEST_F(SchedulerTest, RejectsInfeasibleAndUnknownZoneWithClearErrors) {
  auto scheduler = make();

  auto infeasible = scheduler.submit(spec(hours(5), hours(4)), kMidnight);
  auto unknown = scheduler.submit(spec(hours(1), hours(4), {"FRR"}), kMidnight);

  ASSERT_FALSE(infeasible);
  EXPECT_EQ(ErrorCode::kInvalidArgument, infeasible.error().code);
  EXPECT_THAT(infeasible.error().message, ::testing::HasSubstr("infeasible"));
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message,
              ::testing::HasSubstr("did you mean 'FR'?"));
  EXPECT_TRUE(store_.all_jobs().empty());
}

TEST_F(SchedulerTest, WithoutForecastStartsByTheLatestSafeStart) {
  forecasts_.fail_with(Error{ErrorCode::kUnavailable, "provider down"});
  auto scheduler = make();
  auto job = *scheduler.submit(spec(hours(2), hours(12)), kMidnight);
  TimePoint latest = kMidnight + hours(10) - minutes(10);

  scheduler.tick(latest - minutes(1));
  EXPECT_EQ(0, executor_.count("start"));
  scheduler.tick(latest);

  EXPECT_EQ(1, executor_.count("start", job.id));
}

TEST_F(SchedulerTest, InterruptibleJobPausesAndResumesAtSegmentBoundaries) {
  forecasts_.set_hourly("DE", kMidnight,
                        {500, 100, 500, 500, 100, 500, 500, 500, 500, 500});
  auto scheduler = make();
  auto s = spec(hours(2), hours(10));
  s.interruptible = true;
  auto job = *scheduler.submit(s, kMidnight);
  ASSERT_EQ(2u, job.plan->segments.size());

  scheduler.tick(kMidnight + hours(1));
  scheduler.tick(kMidnight + hours(2));
  EXPECT_EQ(JobState::kPaused, scheduler.active_jobs().at(job.id).state);
  scheduler.tick(kMidnight + hours(3));
  EXPECT_EQ(0, executor_.count("resume"));
  scheduler.tick(kMidnight + hours(4));

  EXPECT_EQ(1, executor_.count("pause", job.id));
  EXPECT_EQ(1, executor_.count("resume", job.id));
  EXPECT_EQ(JobState::kRunning, scheduler.active_jobs().at(job.id).state);
  EXPECT_EQ(hours(1), scheduler.active_jobs().at(job.id).run_time);
}

// A paused job's new plan covers the work left; what the run so far emitted
// is carried in done_grams (from the ledger), so the whole job's
// expectation is done + expected, not only the rest.
TEST_F(SchedulerTest, APausedJobsPlanCarriesWhatItsRunSoFarEmitted) {
  forecasts_.set_hourly("DE", kMidnight,
                        {500, 100, 500, 500, 100, 500, 500, 500, 500, 500});
  auto scheduler = make();
  auto s = spec(hours(2), hours(10));
  s.interruptible = true;
  auto job = *scheduler.submit(s, kMidnight);
  EXPECT_EQ(0.0, job.plan->done_grams);

  scheduler.tick(kMidnight + hours(1));
  scheduler.tick(kMidnight + hours(2));
  const Job& paused = scheduler.active_jobs().at(job.id);
  ASSERT_EQ(JobState::kPaused, paused.state);
  ASSERT_TRUE(paused.plan.has_value());
  auto rows = store_.ledger(LedgerFilter{job.id, {}, {}});
  ASSERT_OK(rows);
  double grams = 0;
  double run_now_grams = 0;
  for (const auto& row : *rows) {
    grams += row.grams;
    run_now_grams += row.counterfactual_grams;
  }

  EXPECT_DOUBLE_EQ(run_now_grams, paused.plan->done_run_now_grams);
  // 1 h at 200 W and 100 g/kWh.
  EXPECT_DOUBLE_EQ(20.0, grams);
  EXPECT_DOUBLE_EQ(grams, paused.plan->done_grams);
  // The rest (1 h at 200 W in the 04:00 hour at 100 g/kWh) is what the plan
  // expects.
  EXPECT_NEAR(20.0, paused.plan->expected_grams, 1e-6);
  EXPECT_DOUBLE_EQ(grams, store_.get(job.id)->plan->done_grams);
}

TEST_F(SchedulerTest, UsersCannotSeeOrCancelOthersJobs) {
  auto scheduler = make();
  auto job = *scheduler.submit(spec(hours(1), hours(12)), kMidnight);

  auto seen = scheduler.job(job.id, Requester{2000});
  auto cancelled = scheduler.cancel(job.id, Requester{2000}, kMidnight);
  auto by_root = scheduler.cancel(job.id, Requester{0}, kMidnight);

  EXPECT_EQ(ErrorCode::kNotFound, seen.error().code);
  EXPECT_EQ(ErrorCode::kNotFound, cancelled.error().code);
  EXPECT_OK(by_root);
  EXPECT_EQ(JobState::kCancelled, store_.get(job.id)->state);
}

TEST_F(SchedulerTest, RecoveryAdoptsALaunchThatHappenedBeforeTheCrash) {
  auto scheduler = make();
  auto job = *scheduler.submit(spec(hours(1), hours(12)), kMidnight);
  // The crash: state 'starting' was written, the executor launched it, the
  // handle was never stored.
  auto stored = *store_.get(job.id);
  stored.state = JobState::kStarting;
  ASSERT_OK(store_.update(stored, kMidnight + hours(3), "starting"));
  executor_.add_launched(job.id, 0);

  auto restarted = make();
  ASSERT_OK(restarted.recover(kMidnight + hours(3) + minutes(1)));
  restarted.tick(kMidnight + hours(3) + minutes(2));

  EXPECT_EQ(0, executor_.count("start"));
  EXPECT_EQ(JobState::kRunning, restarted.active_jobs().at(job.id).state);
}

TEST_F(SchedulerTest, RecoveryStartsALaunchThatNeverHappened) {
  auto scheduler = make();
  auto job = *scheduler.submit(spec(hours(1), hours(12)), kMidnight);
  auto stored = *store_.get(job.id);
  stored.state = JobState::kStarting;
  ASSERT_OK(store_.update(stored, kMidnight + hours(3), "starting"));

  auto restarted = make();
  ASSERT_OK(restarted.recover(kMidnight + hours(3) + minutes(1)));
  restarted.tick(kMidnight + hours(3) + minutes(2));

  EXPECT_EQ(1, executor_.count("start", job.id));
}

TEST_F(SchedulerTest, DeferringExecutorGetsTheJobAtOnceAndReplansMoveIt) {
  fakes::FakeExecutor slurm("slurm:a", /*defers=*/true);
  auto scheduler = make({{"slurm:a", &slurm}});
  auto s = spec(hours(1), hours(8));
  s.executor = "slurm:a";
  auto job = *scheduler.submit(s, kMidnight);
  ASSERT_EQ(1, slurm.count("start", job.id));
  EXPECT_EQ(kMidnight + hours(3), slurm.calls().back().at);
  EXPECT_EQ(JobState::kQueued, scheduler.active_jobs().at(job.id).state);

  // A fresher forecast finds a cleaner hour at 02:00.
  forecasts_.set_hourly("DE", kMidnight,
                        {500, 500, 20, 100, 100, 500, 500, 500, 500, 500});
  scheduler.tick(kMidnight + hours(1));

  ASSERT_EQ(1, slurm.count("reschedule", job.id));
  EXPECT_EQ(kMidnight + hours(2), slurm.calls().back().at);
  EXPECT_EQ(1, slurm.count("start"));
  slurm.set_state(job.id, executors::RunState::kRunning);
  scheduler.tick(kMidnight + hours(2));
  EXPECT_EQ(JobState::kRunning, scheduler.active_jobs().at(job.id).state);
}

TEST_F(SchedulerTest, PausedDeferredJobIsHeldOnItsBackendUntilResumed) {
  fakes::FakeExecutor slurm("slurm:a", /*defers=*/true);
  auto scheduler = make({{"slurm:a", &slurm}});
  auto s = spec(hours(1), hours(8));
  s.executor = "slurm:a";
  auto job = *scheduler.submit(s, kMidnight);

  ASSERT_OK(scheduler.pause(job.id, Requester{1000}, kMidnight));
  EXPECT_EQ(1, slurm.count("hold", job.id));
  ASSERT_OK(scheduler.resume(job.id, Requester{1000}, kMidnight + minutes(30)));
  ASSERT_EQ(1, slurm.count("release", job.id));
  // Released to begin at the re-planned start (the clean 03:00 hour).
  EXPECT_EQ(kMidnight + hours(3), slurm.calls().back().at);

  ASSERT_OK(scheduler.pause(job.id, Requester{1000}, kMidnight + minutes(40)));
  EXPECT_EQ(2, slurm.count("hold", job.id));
  // Past its latest safe start (06:50): a held job is not released behind
  // the user's back.
  const TimePoint late = kMidnight + hours(6) + minutes(55);
  scheduler.tick(late);
  EXPECT_EQ(0, slurm.count("reschedule", job.id));
  EXPECT_EQ(1, slurm.count("release", job.id));

  ASSERT_OK(scheduler.resume(job.id, Requester{1000}, late));
  ASSERT_EQ(2, slurm.count("release", job.id));
  EXPECT_EQ(late, slurm.calls().back().at);
  EXPECT_EQ(JobState::kQueued, scheduler.active_jobs().at(job.id).state);
}

TEST_F(SchedulerTest, PauseOfADeferredJobThatStartedMeanwhileFailsAndKeepsIt) {
  fakes::FakeExecutor slurm("slurm:a", /*defers=*/true);
  auto scheduler = make({{"slurm:a", &slurm}});
  auto s = spec(hours(1), hours(8));
  s.executor = "slurm:a";
  auto job = *scheduler.submit(s, kMidnight);
  slurm.set_state(job.id, executors::RunState::kRunning);

  auto paused = scheduler.pause(job.id, Requester{1000}, kMidnight);

  ASSERT_FALSE(paused);
  EXPECT_FALSE(scheduler.active_jobs().at(job.id).held);
}

TEST_F(SchedulerTest, SubmitFailsWhenTheDeferringBackendRefusesTheJob) {
  fakes::FakeExecutor slurm("slurm:a", /*defers=*/true);
  auto scheduler = make({{"slurm:a", &slurm}});
  auto s = spec(hours(1), hours(8));
  s.executor = "slurm:a";
  slurm.fail_next_start(Error{ErrorCode::kInvalidArgument,
                              "sbatch: error: invalid partition specified"});

  auto job = scheduler.submit(s, kMidnight);

  ASSERT_FALSE(job);
  EXPECT_THAT(job.error().message, ::testing::HasSubstr("invalid partition"));
  EXPECT_TRUE(scheduler.active_jobs().empty());
}

TEST_F(SchedulerTest, RecoveryAdoptsADeferredSubmissionInsteadOfResubmitting) {
  fakes::FakeExecutor slurm("slurm:a", /*defers=*/true);
  auto scheduler = make({{"slurm:a", &slurm}});
  auto s = spec(hours(1), hours(8));
  s.executor = "slurm:a";
  auto job = *scheduler.submit(s, kMidnight);
  // The crash: 'starting' written, sbatch done, the handle never stored.
  auto stored = *store_.get(job.id);
  stored.state = JobState::kStarting;
  stored.handle.reset();
  ASSERT_OK(store_.update(stored, kMidnight + minutes(1), "starting"));
  slurm.add_launched(job.id, 0);
  slurm.set_state(job.id, executors::RunState::kPending);  // Begins 03:00.

  auto restarted = make({{"slurm:a", &slurm}});
  ASSERT_OK(restarted.recover(kMidnight + minutes(2)));
  restarted.tick(kMidnight + minutes(3));

  EXPECT_EQ(1, slurm.count("start"));  // Only the one before the crash.
  const Job& recovered = restarted.active_jobs().at(job.id);
  EXPECT_EQ(JobState::kQueued, recovered.state);
  ASSERT_TRUE(recovered.handle.has_value());
  EXPECT_EQ(job.id + ":found", recovered.handle->native_id);
  // Slurm starts it at its begin time; the scheduler notices.
  slurm.set_state(job.id, executors::RunState::kRunning);
  restarted.tick(kMidnight + hours(3));
  EXPECT_EQ(JobState::kRunning, restarted.active_jobs().at(job.id).state);
  EXPECT_EQ(1, slurm.count("start"));
}

TEST_F(SchedulerTest, HeldJobIsNotStartedUntilReleased) {
  auto scheduler = make();
  auto job = *scheduler.submit(spec(hours(1), hours(12)), kMidnight);
  ASSERT_OK(scheduler.pause(job.id, Requester{1000}, kMidnight));

  scheduler.tick(kMidnight + hours(3));
  EXPECT_EQ(0, executor_.count("start"));
  ASSERT_OK(scheduler.resume(job.id, Requester{1000}, kMidnight + hours(3)));
  scheduler.tick(kMidnight + hours(3));

  EXPECT_EQ(1, executor_.count("start"));
}

TEST_F(SchedulerTest, ZoneWithOneSlotGivesEachJobItsOwnCleanHour) {
  options_.zones.front().capacity = 1;
  auto scheduler = make();

  auto first = scheduler.submit(spec(hours(1), hours(12)), kMidnight);
  auto second = scheduler.submit(spec(hours(1), hours(12)), kMidnight);
  auto third = scheduler.submit(spec(hours(1), hours(12)), kMidnight);

  ASSERT_OK(first);
  ASSERT_OK(second);
  ASSERT_OK(third);
  // Only 03:00-05:00 is clean: two jobs get it, the third a dirty hour that
  // does not overlap them.
  std::vector<TimePoint> starts = {first->plan->start(), second->plan->start(),
                                   third->plan->start()};
  std::sort(starts.begin(), starts.end());
  EXPECT_EQ(kMidnight, starts[0]);
  EXPECT_EQ(kMidnight + hours(3), starts[1]);
  EXPECT_EQ(kMidnight + hours(4), starts[2]);

  // Re-planning keeps them apart.
  scheduler.tick(kMidnight + minutes(1));
  std::set<TimePoint> replanned;
  for (const auto& [id, job] : scheduler.active_jobs()) {
    if (job.plan && job.state == JobState::kQueued) {
      replanned.insert(job.plan->start());
    }
  }
  EXPECT_EQ(2u, replanned.size());  // The 00:00 job is running.
  EXPECT_EQ(1, executor_.count("start"));
}

TEST_F(SchedulerTest, WithoutCapacityEveryJobTakesTheCleanestHour) {
  auto scheduler = make();

  auto first = scheduler.submit(spec(hours(1), hours(12)), kMidnight);
  auto second = scheduler.submit(spec(hours(1), hours(12)), kMidnight);

  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(kMidnight + hours(3), first->plan->start());
  EXPECT_EQ(kMidnight + hours(3), second->plan->start());
}

TEST_F(SchedulerTest, DueJobWaitsForAFreeSlotWhileAnotherOverruns) {
  options_.zones.front().capacity = 1;
  auto scheduler = make();
  auto running = *scheduler.submit(spec(hours(2), hours(12)), kMidnight);
  scheduler.tick(kMidnight + hours(3));
  ASSERT_EQ(1, executor_.count("start", running.id));

  auto waiting =
      *scheduler.submit(spec(hours(1), hours(8)), kMidnight + hours(3));
  EXPECT_GE(waiting.plan->start(), kMidnight + hours(5));

  // The first job overruns its 2 h estimate: the second is due, but waits.
  scheduler.tick(kMidnight + hours(5));
  scheduler.tick(kMidnight + hours(5) + minutes(30));
  EXPECT_EQ(0, executor_.count("start", waiting.id));

  executor_.finish(running.id, 0);
  scheduler.tick(kMidnight + hours(5) + minutes(40));
  scheduler.tick(kMidnight + hours(5) + minutes(41));
  EXPECT_EQ(1, executor_.count("start", waiting.id));
}

}  // namespace
}  // namespace lowcarb::scheduler
