// SPDX-License-Identifier: Apache-2.0
// The scheduler's next-event index (scheduler_index.cc) against the walk
// over every job it replaces: random submit / tick / pause / resume /
// cancel / backend-end sequences on a fake clock, compared after every step.
#include <random>

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

const TimePoint kMidnight = *parse_time("2026-11-23T00:00:00Z");

class NoHistory final : public IntensityHistory {
 public:
  std::optional<RealizedIntensity> realized(const std::string&, TimePoint,
                                            TimePoint) override {
    return RealizedIntensity{100, "test"};
  }
};

config::ZoneConfig zone(const std::string& id, int capacity) {
  config::ZoneConfig z;
  z.id = id;
  z.time_zone = "UTC";
  z.capacity = capacity;
  return z;
}

struct Params {
  int capacity;  // Slots of zone DE (0 = unlimited).
  bool defers;   // The executor holds jobs until their start (Slurm).
  unsigned seed;
};

class SchedulerIndexTest : public ::testing::TestWithParam<Params> {
 protected:
  SchedulerIndexTest()
      : executor_("local", GetParam().defers),
        meter_(100),
        tracker_(store_, history_, meter_, 1.0, "DE") {
    std::vector<double> de;
    for (int h = 0; h < 96; ++h) {
      de.push_back(h % 7 == 3 ? 80 : 400 + 10 * (h % 5));
    }
    forecasts_.set_hourly("DE", kMidnight, de);
    forecasts_.set_hourly("FR", kMidnight, std::vector<double>(96, 120.0));
    options_.zones = {zone("DE", GetParam().capacity), zone("FR", 0)};
    options_.replan_period = hours(1);
    options_.forecast_refresh = hours(2);
    options_.sample_period = minutes(5);
  }

  // The index and the walk must agree at `now` and at times ahead of it.
  void expect_index_matches(const Scheduler& scheduler, TimePoint now,
                            const std::string& after) {
    for (bool polls : {false, true}) {
      ASSERT_EQ(format_utc(scheduler.next_event_by_scan(now, polls)),
                format_utc(scheduler.next_event(now, polls)))
          << "next_event after " << after << " at " << format_utc(now)
          << " polls " << polls;
    }
    for (Duration ahead : {Duration(0), Duration(minutes(30)),
                           Duration(hours(3)), Duration(hours(30))}) {
      ASSERT_EQ(scheduler.due_jobs_by_scan(now + ahead),
                scheduler.due_jobs(now + ahead))
          << "due jobs after " << after << " at " << format_utc(now + ahead);
    }
    // has_free_slot() reads the per-zone count of slot holders.
    for (const std::string zone : {"DE", "FR"}) {
      ASSERT_EQ(scheduler.slots_taken_by_scan(zone),
                scheduler.slots_taken(zone))
          << "slots taken in " << zone << " after " << after;
    }
    if (GetParam().capacity > 0) {
      ASSERT_LE(scheduler.slots_taken("DE"), GetParam().capacity)
          << "after " << after;
    }
  }

  MemoryJobStore store_;
  fakes::FakeForecastProvider forecasts_;
  fakes::FakeExecutor executor_;
  NoHistory history_;
  DeclaredPowerMeter meter_;
  Tracker tracker_;
  SchedulerOptions options_;
};

TEST_P(SchedulerIndexTest, AgreesWithAWalkOverEveryJob) {
  Scheduler scheduler(store_, forecasts_, {{"local", &executor_}}, tracker_,
                      options_);
  std::mt19937 random(GetParam().seed);
  auto pick = [&](int n) {
    return static_cast<int>(std::uniform_int_distribution<>(0, n - 1)(random));
  };
  TimePoint now = kMidnight;
  int submitted = 0;
  for (int step = 0; step < 400; ++step) {
    const int action = pick(10);
    std::vector<std::string> ids;
    for (const auto& [id, job] : scheduler.active_jobs()) {
      ids.push_back(id);
    }
    const std::string some = ids.empty() ? "" : ids[pick(ids.size())];
    std::string what;
    if (action <= 2 || ids.empty()) {
      JobSpec s;
      s.name = "job";
      s.uid = 1000;
      s.argv = {"true"};
      s.duration = minutes(30 + 30 * pick(4));
      s.earliest = now + minutes(15 * pick(3));
      s.deadline = s.earliest + s.duration + hours(1 + pick(24));
      s.zones = pick(3) == 0 ? std::vector<std::string>{"DE", "FR"}
                             : std::vector<std::string>{"DE"};
      s.interruptible = pick(2) == 0;
      s.power_watts = 200;
      what = "submit";
      if (scheduler.submit(s, now)) {
        ++submitted;
      }
    } else if (action <= 5) {
      now += minutes(1 + pick(90));
      what = "tick";
      scheduler.tick(now);
    } else if (action == 6) {
      what = "pause " + some;
      (void)scheduler.pause(some, Requester{0}, now);
    } else if (action == 7) {
      what = "resume " + some;
      (void)scheduler.resume(some, Requester{0}, now);
    } else if (action == 8) {
      what = "cancel " + some;
      (void)scheduler.cancel(some, Requester{0}, now);
    } else {
      what = "backend end of " + some;
      executor_.finish(some, pick(2));
    }
    expect_index_matches(scheduler, now, what);
    if (HasFatalFailure()) {
      return;
    }
  }
  EXPECT_GT(submitted, 50);  // The sequence exercised a real queue.
  EXPECT_GT(executor_.count("start"), 5);
}

INSTANTIATE_TEST_SUITE_P(
    Sequences, SchedulerIndexTest,
    ::testing::Values(Params{0, false, 1}, Params{0, false, 2},
                      Params{2, false, 3}, Params{1, false, 4},
                      Params{0, true, 5}, Params{2, true, 6}));

TEST(SchedulerIndexRecoveryTest, RecoveredJobsAreIndexed) {
  MemoryJobStore store;
  fakes::FakeForecastProvider forecasts;
  forecasts.set_hourly("DE", kMidnight, std::vector<double>(48, 300.0));
  fakes::FakeExecutor executor;
  NoHistory history;
  DeclaredPowerMeter meter(100);
  Tracker tracker(store, history, meter, 1.0, "DE");
  SchedulerOptions options;
  options.zones = {zone("DE", 0)};
  TimePoint due;
  {
    Scheduler first(store, forecasts, {{"local", &executor}}, tracker, options);
    JobSpec s;
    s.uid = 1000;
    s.argv = {"true"};
    s.duration = hours(1);
    s.earliest = kMidnight + hours(5);
    s.deadline = kMidnight + hours(20);
    s.zones = {"DE"};
    auto job = first.submit(s, kMidnight);
    ASSERT_OK(job);
    due = job->plan->start();
  }
  Scheduler second(store, forecasts, {{"local", &executor}}, tracker, options);
  ASSERT_OK(second.recover(kMidnight + minutes(1)));
  EXPECT_EQ(second.next_event_by_scan(kMidnight + minutes(1), true),
            second.next_event(kMidnight + minutes(1), true));
  EXPECT_EQ(second.due_jobs_by_scan(due), second.due_jobs(due));
  EXPECT_EQ(second.slots_taken_by_scan("DE"), second.slots_taken("DE"));
  EXPECT_EQ(1u, second.due_jobs(due).size());
  EXPECT_TRUE(second.due_jobs(due - minutes(1)).empty());
}

}  // namespace
}  // namespace lowcarb::scheduler
