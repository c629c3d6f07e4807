// SPDX-License-Identifier: Apache-2.0
// The production Scheduler planning a capacity zone's queue as a whole
// (scheduler_queue.cc over queue_planner.h): admission at submit, spreading
// over green hours, and the re-plan round keeping every deadline.
#include <algorithm>
#include <map>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "scheduler/memory_job_store.h"
#include "scheduler/scheduler.h"
#include "tests/fakes/fake_executor.h"
#include "tests/fakes/fake_forecast_provider.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;

const TimePoint kMidnight = *parse_time("2026-11-23T00:00:00Z");

class FlatHistory final : public IntensityHistory {
 public:
  std::optional<RealizedIntensity> realized(const std::string&, TimePoint,
                                            TimePoint) override {
    return RealizedIntensity{100, "test"};
  }
};

class SchedulerQueueTest : public ::testing::Test {
 protected:
  SchedulerQueueTest()
      : meter_(100), tracker_(store_, history_, meter_, 1.0, "DE") {
    // Dirty except a green 03:00-05:00 and a less green 06:00-08:00.
    std::vector<double> values(48, 500);
    values[3] = values[4] = 100;
    values[6] = values[7] = 200;
    forecasts_.set_hourly("DE", kMidnight, values);
    config::ZoneConfig de;
    de.id = "DE";
    de.time_zone = "UTC";
    de.capacity = 2;
    options_.zones = {de};
    options_.safety_margin = minutes(10);
    options_.replan_period = hours(1);
    options_.forecast_refresh = hours(1);
  }

  Scheduler make() {
    return Scheduler(store_, forecasts_, {{"local", &executor_}}, tracker_,
                     options_);
  }

  // Both slots taken until 10:00 by jobs without slack (`blockers`), and a
  // 1 h job due at 01:30 that cannot make it (`late`, admitted anyway).
  void submit_blockers_and_a_late_job(Scheduler& scheduler,
                                      std::vector<std::string>& blockers,
                                      std::optional<Job>& late) {
    for (int i = 0; i < 2; ++i) {
      auto blocker =
          scheduler.submit(spec(hours(10), hours(10) + minutes(10)), kMidnight);
      ASSERT_OK(blocker);
      blockers.push_back(blocker->id);
    }
    auto late_spec = spec(hours(1), hours(1) + minutes(30));
    late_spec.allow_late = true;
    auto submitted = scheduler.submit(late_spec, kMidnight);
    ASSERT_OK(submitted);
    late = *submitted;
  }

  JobSpec spec(Duration duration, Duration deadline_in,
               Duration earliest_in = Duration(0)) {
    JobSpec s;
    s.name = "train";
    s.uid = 1000;
    s.argv = {"true"};
    s.duration = duration;
    s.earliest = kMidnight + earliest_in;
    s.deadline = kMidnight + deadline_in;
    s.zones = {"DE"};
    s.power_watts = 200;
    s.policy = Policy::kFlexibleStart;
    return s;
  }

  // The most plans overlapping at any one time among queued jobs.
  int max_overlap(const Scheduler& scheduler) const {
    std::vector<std::pair<TimePoint, int>> events;
    for (const auto& [id, job] : scheduler.active_jobs()) {
      if (job.plan) {
        events.emplace_back(job.plan->start(), +1);
        events.emplace_back(job.plan->end(), -1);
      }
    }
    std::sort(events.begin(), events.end());
    int now = 0;
    int most = 0;
    for (const auto& [t, d] : events) {
      now += d;
      most = std::max(most, now);
    }
    return most;
  }

  MemoryJobStore store_;
  fakes::FakeForecastProvider forecasts_;
  fakes::FakeExecutor executor_;
  FlatHistory history_;
  DeclaredPowerMeter meter_;
  Tracker tracker_;
  SchedulerOptions options_;
};

TEST_F(SchedulerQueueTest, QueueIsSpreadOverTheGreenHoursNotHerded) {
  auto scheduler = make();
  std::vector<Job> jobs;
  for (int i = 0; i < 4; ++i) {
    auto job = scheduler.submit(spec(hours(2), hours(24)), kMidnight);
    ASSERT_OK(job);
    jobs.push_back(*job);
  }
  std::map<TimePoint, int> starts;
  for (const auto& job : jobs) {
    ++starts[job.plan->start()];
    EXPECT_EQ("queue", job.plan->reason);
  }
  // Two slots: two jobs in 03:00-05:00, two in 06:00-08:00.
  EXPECT_EQ((std::map<TimePoint, int>{{kMidnight + hours(3), 2},
                                      {kMidnight + hours(6), 2}}),
            starts);
  EXPECT_LE(max_overlap(scheduler), 2);
}

TEST_F(SchedulerQueueTest, ANewcomerThatFitsTheFreeSlotsMovesNoQueuedJob) {
  auto scheduler = make();
  std::vector<Job> queued;
  for (int i = 0; i < 2; ++i) {
    auto job = scheduler.submit(spec(hours(2), hours(24)), kMidnight);
    ASSERT_OK(job);
    queued.push_back(*job);
  }
  std::map<std::string, int> versions;
  for (const auto& job : queued) {
    auto stored = store_.get(job.id);
    ASSERT_OK(stored);
    versions[job.id] = stored->version;
  }

  // 03:00-05:00 is full; the newcomer takes the next green window without
  // the queue being planned again around it.
  auto newcomer = scheduler.submit(spec(hours(2), hours(24)), kMidnight);

  ASSERT_OK(newcomer);
  EXPECT_EQ(kMidnight + hours(6), newcomer->plan->start());
  EXPECT_EQ("queue", newcomer->plan->reason);
  for (const auto& job : queued) {
    EXPECT_EQ(job.plan->start(),
              scheduler.active_jobs().at(job.id).plan->start());
    auto stored = store_.get(job.id);
    ASSERT_OK(stored);
    EXPECT_EQ(versions[job.id], stored->version) << job.id << " was saved";
  }
  EXPECT_LE(max_overlap(scheduler), 2);
}

TEST_F(SchedulerQueueTest, AdmissionRefusesAJobTheSlotsLeftCannotServe) {
  auto scheduler = make();
  // Two 3 h jobs due at 03:30 take both slots from now.
  ASSERT_OK(
      scheduler.submit(spec(hours(3), hours(3) + minutes(30)), kMidnight));
  ASSERT_OK(
      scheduler.submit(spec(hours(3), hours(3) + minutes(30)), kMidnight));

  auto refused = scheduler.submit(spec(hours(2), hours(4)), kMidnight);

  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(ErrorCode::kInvalidArgument, refused.error().code);
  EXPECT_THAT(refused.error().message, HasSubstr("capacity left in zone DE"));
  EXPECT_THAT(refused.error().message, HasSubstr("2 slots"));
  EXPECT_THAT(refused.error().message, HasSubstr("--allow-late"));
  EXPECT_EQ(2u, scheduler.active_jobs().size());  // Nothing else changed.

  // The same job with allow_late is queued, with a warning.
  auto late = spec(hours(2), hours(4));
  late.allow_late = true;
  auto admitted = scheduler.submit(late, kMidnight);
  ASSERT_OK(admitted);
  ASSERT_EQ(1u, admitted->plan->warnings.size());
  EXPECT_THAT(admitted->plan->warnings[0], HasSubstr("cannot be met"));
  EXPECT_EQ("queue-late", admitted->plan->reason);
  EXPECT_GE(admitted->plan->start(), kMidnight + hours(3));
}

TEST_F(SchedulerQueueTest, AdmissionRefusesAJobThatWouldMakeOthersMiss) {
  options_.zones.front().capacity = 1;
  auto scheduler = make();
  // Queued: 2 h due at 05:00 (planned 02:50, mostly in the green hours).
  auto first = scheduler.submit(spec(hours(2), hours(5)), kMidnight);
  ASSERT_OK(first);

  // A 4 h job due at 04:30 is on time only if the first waits past 05:00:
  // the admitted job keeps its plan and the newcomer is refused.
  auto refused =
      scheduler.submit(spec(hours(4), hours(4) + minutes(30)), kMidnight);

  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, HasSubstr("cannot be met"));
  EXPECT_EQ(first->plan->start(),
            scheduler.active_jobs().at(first->id).plan->start());
}

TEST_F(SchedulerQueueTest, TightJobMakesTheQueueMoveAndEveryDeadlineIsKept) {
  options_.zones.front().capacity = 1;
  auto scheduler = make();
  auto relaxed = scheduler.submit(spec(hours(1), hours(24)), kMidnight);
  ASSERT_OK(relaxed);
  EXPECT_EQ(kMidnight + hours(3), relaxed->plan->start());

  // Must run 02:30-04:30: it only fits if the relaxed job leaves 03:00.
  auto tight = scheduler.submit(
      spec(hours(2), hours(4) + minutes(40), hours(2) + minutes(30)),
      kMidnight);
  ASSERT_OK(tight);
  EXPECT_EQ(kMidnight + hours(2) + minutes(30), tight->plan->start());
  const auto& moved = scheduler.active_jobs().at(relaxed->id);
  EXPECT_GE(moved.plan->start(), tight->plan->end());
  EXPECT_LE(max_overlap(scheduler), 1);

  // Run the day: both end by their deadlines with one slot.
  for (TimePoint t = kMidnight; t < kMidnight + hours(24); t += minutes(5)) {
    scheduler.tick(t);
    for (const auto& [id, job] : scheduler.active_jobs()) {
      if (job.state == JobState::kRunning && job.running_since &&
          t - *job.running_since >= job.spec.duration) {
        executor_.finish(id, 0);
      }
    }
  }
  for (const auto& id : {relaxed->id, tight->id}) {
    auto stored = store_.get(id);
    ASSERT_OK(stored);
    EXPECT_EQ(JobState::kSucceeded, stored->state) << id;
    ASSERT_TRUE(stored->ended_at.has_value());
    EXPECT_LE(*stored->ended_at, stored->spec.deadline) << id;
  }
}

TEST_F(SchedulerQueueTest, ReplanRoundKeepsPlansApartAndWithinDeadlines) {
  auto scheduler = make();
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK(scheduler.submit(spec(hours(1), hours(12)), kMidnight));
  }
  scheduler.tick(kMidnight + minutes(1));
  scheduler.tick(kMidnight + hours(1) + minutes(1));  // A re-plan round.

  EXPECT_LE(max_overlap(scheduler), 2);
  for (const auto& [id, job] : scheduler.active_jobs()) {
    ASSERT_TRUE(job.plan.has_value());
    EXPECT_LE(job.plan->end(), job.spec.deadline - options_.safety_margin);
  }
}

TEST_F(SchedulerQueueTest, RunNowJobsAreNotQueuePlanned) {
  auto scheduler = make();
  auto s = spec(hours(1), hours(12));
  s.policy = Policy::kRunNow;
  auto job = scheduler.submit(s, kMidnight);
  ASSERT_OK(job);
  EXPECT_EQ("run-now", job->plan->reason);
  EXPECT_EQ(kMidnight, job->plan->start());
}

// Issue 13: in overload the rounds must cost what changed. A job that can no
// longer meet its deadline waits in the zone's late tail: saved once when
// it enters, not re-placed and saved at every round while on-time arrivals
// push it back; it starts once a slot frees, after the on-time jobs.
TEST_F(SchedulerQueueTest, LateJobWaitsInTheTailWithoutASaveEveryRound) {
  auto scheduler = make();
  std::vector<std::string> blockers;
  std::optional<Job> late;
  ASSERT_NO_FATAL_FAILURE(
      submit_blockers_and_a_late_job(scheduler, blockers, late));
  scheduler.tick(kMidnight);
  ASSERT_EQ(1, executor_.count("start", blockers[0]));
  ASSERT_EQ(1, executor_.count("start", blockers[1]));
  auto saves_of_late = [&] {
    auto records = store_.transitions(late->id);
    return records ? records->size() : size_t{0};
  };

  // Rounds at every hour, each with an on-time arrival placed before it.
  std::vector<std::string> on_time;
  for (int h = 1; h <= 6; ++h) {
    const TimePoint now = kMidnight + hours(h) + minutes(1);
    auto job = scheduler.submit(spec(hours(1), hours(30)), now);
    ASSERT_OK(job);
    on_time.push_back(job->id);
    scheduler.tick(now);
    if (h == 1) {
      ASSERT_EQ("queue-tail",
                scheduler.active_jobs().at(late->id).plan->reason);
    }
  }
  const size_t saves_after_tail = saves_of_late();
  for (int h = 7; h <= 9; ++h) {
    const TimePoint now = kMidnight + hours(h) + minutes(1);
    auto job = scheduler.submit(spec(hours(1), hours(30)), now);
    ASSERT_OK(job);
    on_time.push_back(job->id);
    scheduler.tick(now);
  }

  EXPECT_EQ(saves_after_tail, saves_of_late())
      << "the late job was saved again while it waited in the tail";
  EXPECT_LE(saves_of_late(), 3u);  // Insert, first round, entering the tail.
  EXPECT_EQ("queue-tail", scheduler.active_jobs().at(late->id).plan->reason);
  EXPECT_EQ(0, executor_.count("start", late->id));
  // The on-time jobs are planned ahead of it and keep their deadlines.
  for (const auto& id : on_time) {
    const auto& plan = scheduler.active_jobs().at(id).plan;
    ASSERT_TRUE(plan.has_value());
    EXPECT_EQ("queue", plan->reason.substr(0, 5));
    EXPECT_LE(plan->end(), scheduler.active_jobs().at(id).spec.deadline);
  }
}

TEST_F(SchedulerQueueTest, TailJobStartsAtTheFirstRoundAfterASlotFrees) {
  auto scheduler = make();
  std::vector<std::string> blockers;
  std::optional<Job> late;
  ASSERT_NO_FATAL_FAILURE(
      submit_blockers_and_a_late_job(scheduler, blockers, late));
  scheduler.tick(kMidnight);
  scheduler.tick(kMidnight + hours(1) + minutes(1));
  ASSERT_EQ("queue-tail", scheduler.active_jobs().at(late->id).plan->reason);

  executor_.finish(blockers[0], 0);
  scheduler.tick(kMidnight + hours(1) + minutes(30));  // Not a round.
  EXPECT_EQ(0, executor_.count("start", late->id));
  scheduler.tick(kMidnight + hours(2) + minutes(1));

  EXPECT_EQ(1, executor_.count("start", late->id));
}

// A run-now job in a full zone only waits for a slot: rounds do not re-plan
// (and save) it, and it starts in the tick a slot frees.
TEST_F(SchedulerQueueTest,
       WaitingRunNowJobIsNotReplannedAndStartsWhenASlotFrees) {
  auto scheduler = make();
  auto run_now = [&](Duration duration) {
    auto s = spec(duration, hours(30));
    s.policy = Policy::kRunNow;
    return s;
  };
  auto a = scheduler.submit(run_now(hours(5)), kMidnight);
  auto b = scheduler.submit(run_now(hours(5)), kMidnight);
  auto waiting = scheduler.submit(run_now(hours(1)), kMidnight);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(waiting);
  scheduler.tick(kMidnight);
  const size_t saves = store_.transitions(waiting->id)->size();

  for (int h = 1; h <= 4; ++h) {
    scheduler.tick(kMidnight + hours(h) + minutes(1));  // Re-plan rounds.
  }
  EXPECT_EQ(saves, store_.transitions(waiting->id)->size());
  EXPECT_EQ(0, executor_.count("start", waiting->id));

  executor_.finish(a->id, 0);
  scheduler.tick(kMidnight + hours(4) + minutes(20));  // Not a round.
  EXPECT_EQ(1, executor_.count("start", waiting->id));
}

}  // namespace
}  // namespace lowcarb::scheduler
