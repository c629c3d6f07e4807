// SPDX-License-Identifier: Apache-2.0
#include "scheduler/queue_planner.h"

#include <algorithm>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kT0 = *parse_time("2026-11-23T00:00:00Z");
constexpr int64_t kCell = 300;

forecast::IntensitySeries hourly(const std::vector<double>& values) {
  forecast::IntensitySeries series;
  series.zone = "DE";
  for (size_t i = 0; i < values.size(); ++i) {
    series.points.push_back({kT0 + hours(i), kT0 + hours(i + 1), values[i]});
  }
  return series;
}

QueuedJob job(const std::string& id, Duration duration, Duration deadline_in,
              Duration earliest_in = Duration(0)) {
  QueuedJob j;
  j.id = id;
  j.duration = duration;
  j.earliest = kT0 + earliest_in;
  j.deadline = kT0 + deadline_in;
  return j;
}

int64_t sec(TimePoint t) { return t.time_since_epoch().count(); }

// Independent checks of a schedule: every job starts at or after its
// earliest start, on-time jobs end by their deadlines, and no cell of the
// grid has more than `slots` jobs (with `busy`) overlapping it.
void expect_valid(TimePoint now, const std::vector<QueuedJob>& jobs,
                  const std::vector<Segment>& busy, const QueueSchedule& plan,
                  int slots) {
  ASSERT_EQ(jobs.size(), plan.placements.size());
  std::map<int64_t, int> used;
  auto take = [&](int64_t from, int64_t to) {
    for (int64_t c = from / kCell; c * kCell < to; ++c) {
      ++used[c];
    }
  };
  for (const auto& b : busy) {
    if (b.end > now) {
      take(sec(std::max(b.start, now)), sec(b.end));
    }
  }
  int late = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& p = plan.placements[i];
    SCOPED_TRACE(jobs[i].id);
    EXPECT_EQ(jobs[i].id, p.id);
    EXPECT_GE(p.start, std::max(now, jobs[i].earliest));
    EXPECT_EQ(p.start + jobs[i].duration, p.end);
    if (!p.late) {
      EXPECT_LE(p.end, jobs[i].deadline);
    } else {
      ++late;
    }
    take(sec(p.start), sec(p.end));
  }
  EXPECT_EQ(late, plan.late);
  for (const auto& [cell, count] : used) {
    EXPECT_LE(count, slots)
        << "cell " << format_utc(TimePoint(Duration(cell * kCell)));
  }
}

// The reference EDF placement, written independently of the planner on the
// same cells: jobs by deadline, each at its earliest start (cell boundary,
// or its ready time) whose overlapped cells all have a free slot. True when
// every job then ends by its deadline.
bool reference_edf_feasible(TimePoint now, std::vector<QueuedJob> jobs,
                            const std::vector<Segment>& busy, int slots) {
  std::map<int64_t, int> used;
  auto cells_of = [](int64_t from, int64_t to) {
    std::vector<int64_t> cells;
    for (int64_t c = from / kCell; c * kCell < to; ++c) {
      cells.push_back(c);
    }
    return cells;
  };
  for (const auto& b : busy) {
    if (b.end > now) {
      for (int64_t c : cells_of(sec(std::max(b.start, now)), sec(b.end))) {
        ++used[c];
      }
    }
  }
  // Deadline order; ties to the earlier ready time, as the planner breaks
  // them.
  std::stable_sort(jobs.begin(), jobs.end(), [&](const auto& a, const auto& b) {
    if (a.deadline != b.deadline) {
      return a.deadline < b.deadline;
    }
    return std::max(now, a.earliest) < std::max(now, b.earliest);
  });
  for (const auto& j : jobs) {
    const int64_t ready = std::max(sec(now), sec(j.earliest));
    int64_t start = ready;
    while (true) {
      auto cells = cells_of(start, start + j.duration.count());
      bool free = std::all_of(cells.begin(), cells.end(),
                              [&](int64_t c) { return used[c] < slots; });
      if (free) {
        for (int64_t c : cells) {
          ++used[c];
        }
        break;
      }
      start = (start / kCell + 1) * kCell;  // The next cell boundary.
    }
    if (start + j.duration.count() > sec(j.deadline)) {
      return false;
    }
  }
  return true;
}

TEST(QueuePlannerTest, FeasibleQueueMissesNoDeadline) {
  // One very green hour at 10:00: with 2 slots, four 1 h jobs cannot all
  // take it, and the two with deadlines at 04:00 must run first.
  std::vector<double> values(24, 400);
  values[10] = 50;
  auto series = hourly(values);
  std::vector<QueuedJob> jobs = {
      job("a", hours(1), hours(12)), job("b", hours(1), hours(12)),
      job("tight1", hours(2), hours(4)), job("tight2", hours(2), hours(4))};
  QueuePlannerOptions options;
  options.slots = 2;
  options.slack_reserve = 0;  // 10:00 is inside a 35 % reserve.

  auto plan = plan_zone_queue(kT0, jobs, {}, &series, options);

  ASSERT_OK(plan);
  expect_valid(kT0, jobs, {}, *plan, 2);
  EXPECT_EQ(0, plan->late);
  EXPECT_EQ(kT0 + hours(10), plan->placements[0].start);
  EXPECT_EQ(kT0 + hours(10), plan->placements[1].start);
  EXPECT_LE(plan->placements[2].end, kT0 + hours(4));
  EXPECT_LE(plan->placements[3].end, kT0 + hours(4));
}

TEST(QueuePlannerTest, SpreadsJobsOverTheGreenHoursInsteadOfHerding) {
  // Greenest at 03:00, then 04:00 and 05:00; 6 one-hour jobs, 2 slots.
  std::vector<double> values(24, 500);
  values[3] = 100;
  values[4] = 150;
  values[5] = 200;
  auto series = hourly(values);
  std::vector<QueuedJob> jobs;
  for (int i = 0; i < 6; ++i) {
    jobs.push_back(job("j" + std::to_string(i), hours(1), hours(20)));
  }
  QueuePlannerOptions options;
  options.slots = 2;

  auto plan = plan_zone_queue(kT0, jobs, {}, &series, options);

  ASSERT_OK(plan);
  expect_valid(kT0, jobs, {}, *plan, 2);
  std::map<TimePoint, int> per_start;
  for (const auto& p : plan->placements) {
    ++per_start[p.start];
  }
  EXPECT_EQ((std::map<TimePoint, int>{
                {kT0 + hours(3), 2}, {kT0 + hours(4), 2}, {kT0 + hours(5), 2}}),
            per_start);
  // Spread: the capacity-free bound puts all six at 03:00.
  EXPECT_NEAR(6 * 100.0, plan->lower_bound_grams, 1e-6);
  EXPECT_NEAR(2 * (100.0 + 150 + 200), plan->total_grams, 1e-6);
  EXPECT_GT(plan->gap_percent, 0);
}

TEST(QueuePlannerTest, WarmPlansThatWouldMissGiveWayToEdf) {
  // One slot. `x` keeps its green 03:00 plan; `y` (5 h, due 07:01) then
  // finds no 5 h gap around it. Keeping the old plan would miss y's
  // deadline, so the queue is re-placed from EDF: x at 00:00, y after it.
  std::vector<double> values(24, 400);
  values[3] = 50;
  auto series = hourly(values);
  auto x = job("x", hours(1), hours(7));
  x.current_start = kT0 + hours(3);
  auto y = job("y", hours(5), hours(7) + minutes(1));
  std::vector<QueuedJob> jobs = {x, y};
  QueuePlannerOptions options;

  auto plan = plan_zone_queue(kT0, jobs, {}, &series, options);

  ASSERT_OK(plan);
  expect_valid(kT0, jobs, {}, *plan, 1);
  EXPECT_TRUE(plan->cold_start);
  EXPECT_EQ(0, plan->late);
  EXPECT_EQ(kT0, plan->placements[0].start);
  EXPECT_EQ(kT0 + hours(1), plan->placements[1].start);
}

TEST(QueuePlannerTest, ValidWarmPlansAreKept) {
  std::vector<double> values(24, 400);
  values[10] = 50;
  auto series = hourly(values);
  auto a = job("a", hours(1), hours(20));
  a.current_start = kT0 + hours(15);  // Not the best, but valid.
  QueuePlannerOptions options;
  options.max_passes = 0;

  auto kept = plan_zone_queue(kT0, {a}, {}, &series, options);
  options.max_passes = 1;
  auto improved = plan_zone_queue(kT0, {a}, {}, &series, options);

  ASSERT_OK(kept);
  ASSERT_OK(improved);
  EXPECT_FALSE(kept->cold_start);
  EXPECT_EQ(kT0 + hours(15), kept->placements[0].start);
  EXPECT_EQ(kT0 + hours(10), improved->placements[0].start);
  EXPECT_EQ(1, improved->moves);
}

TEST(QueuePlannerTest, BusySlotsAreRespected) {
  std::vector<double> values(24, 400);
  values[2] = 50;
  auto series = hourly(values);
  // The one slot is taken until 03:00 by a running job.
  std::vector<Segment> busy = {{kT0, kT0 + hours(3)}};
  std::vector<QueuedJob> jobs = {job("a", hours(1), hours(6))};
  QueuePlannerOptions options;

  auto plan = plan_zone_queue(kT0, jobs, busy, &series, options);

  ASSERT_OK(plan);
  expect_valid(kT0, jobs, busy, *plan, 1);
  EXPECT_EQ(kT0 + hours(3), plan->placements[0].start);
}

TEST(QueuePlannerTest, InfeasibleQueueIsMarkedLateAndRunsAsEarlyAsItFits) {
  auto series = hourly(std::vector<double>(24, 300));
  std::vector<QueuedJob> jobs = {job("a", hours(2), hours(2)),
                                 job("b", hours(2), hours(3))};
  QueuePlannerOptions options;

  auto plan = plan_zone_queue(kT0, jobs, {}, &series, options);

  ASSERT_OK(plan);
  expect_valid(kT0, jobs, {}, *plan, 1);
  EXPECT_EQ(1, plan->late);
  EXPECT_FALSE(plan->placements[0].late);
  EXPECT_TRUE(plan->placements[1].late);
  EXPECT_EQ(kT0 + hours(2), plan->placements[1].start);
}

TEST(QueuePlannerTest, HopelessJobGoesBehindJobsThatCanStillMakeIt) {
  // One slot. `hopeless` (3 h of work due in 2 h) is late wherever it
  // goes; placed first by its earlier deadline it would make `ok` late too.
  auto series = hourly(std::vector<double>(24, 300));
  std::vector<QueuedJob> jobs = {job("hopeless", hours(3), hours(2)),
                                 job("ok", hours(1), hours(3))};
  for (bool warm : {true, false}) {
    SCOPED_TRACE(warm ? "warm" : "cold");
    QueuePlannerOptions options;
    options.warm_start = warm;

    auto plan = plan_zone_queue(kT0, jobs, {}, &series, options);

    ASSERT_OK(plan);
    expect_valid(kT0, jobs, {}, *plan, 1);
    EXPECT_EQ(1, plan->late);
    EXPECT_TRUE(plan->placements[0].late);
    EXPECT_FALSE(plan->placements[1].late);
    EXPECT_GE(plan->placements[0].start, plan->placements[1].end);
  }
}

TEST(QueuePlannerTest, SlackReserveKeepsTheLastShareOfTheSlackUnused) {
  // Greenest at 20:00; the job has 23 h of slack.
  std::vector<double> values(24, 400);
  values[20] = 10;
  values[8] = 200;
  auto series = hourly(values);
  const auto j = job("a", hours(1), hours(24));
  QueuePlannerOptions options;
  options.slack_reserve = 0;
  auto unreserved = plan_zone_queue(kT0, {j}, {}, &series, options);
  options.slack_reserve = 0.5;  // End by 24 h - 11.5 h.
  auto reserved = plan_zone_queue(kT0, {j}, {}, &series, options);

  ASSERT_OK(unreserved);
  ASSERT_OK(reserved);
  EXPECT_EQ(kT0 + hours(20), unreserved->placements[0].start);
  EXPECT_EQ(kT0 + hours(8), reserved->placements[0].start);
  EXPECT_LE(reserved->placements[0].end, kT0 + hours(12) + minutes(30));
}

TEST(QueuePlannerTest, ReserveGivesWayWhenOnlyTheReserveFits) {
  // One slot taken until 20:00; the job (1 h, due 24:00, 23 h of slack) can
  // only meet its deadline inside its reserve: it does, and is not late.
  auto series = hourly(std::vector<double>(24, 300));
  std::vector<Segment> busy = {{kT0, kT0 + hours(20)}};
  const auto j = job("a", hours(1), hours(24));
  QueuePlannerOptions options;
  options.slack_reserve = 0.5;

  auto plan = plan_zone_queue(kT0, {j}, busy, &series, options);

  ASSERT_OK(plan);
  expect_valid(kT0, {j}, busy, *plan, 1);
  EXPECT_EQ(0, plan->late);
  EXPECT_EQ(kT0 + hours(20), plan->placements[0].start);
}

TEST(QueuePlannerTest, LocalSearchKeepsTheTightJobsSlotOnASmallKnownCase) {
  // The known optimum: tight at 00:00 (10), loose at 01:00 (20).
  auto series = hourly({10, 20, 80, 90});
  std::vector<QueuedJob> jobs = {job("loose", hours(1), hours(4)),
                                 job("tight", hours(1), hours(1))};
  QueuePlannerOptions options;
  options.slack_reserve = 0;

  auto plan = plan_zone_queue(kT0, jobs, {}, &series, options);

  ASSERT_OK(plan);
  EXPECT_EQ(kT0 + hours(1), plan->placements[0].start);
  EXPECT_EQ(kT0, plan->placements[1].start);
  EXPECT_NEAR(30.0, plan->total_grams, 1e-9);
}

TEST(QueuePlannerTest, TightJobStartsAtOnceWhenNowIsInsideACell) {
  auto series = hourly(std::vector<double>(24, 300));
  const TimePoint now = kT0 + minutes(7);
  auto tight = job("tight", minutes(2), minutes(10));
  QueuePlannerOptions options;

  auto plan = plan_zone_queue(now, {tight}, {}, &series, options);

  ASSERT_OK(plan);
  EXPECT_EQ(0, plan->late);
  EXPECT_EQ(now, plan->placements[0].start);
}

TEST(QueuePlannerTest, MarginIsKeptWhenItFits) {
  std::vector<double> values(24, 400);
  values[5] = 10;  // Green, but inside the margin of a 06:00 deadline.
  auto series = hourly(values);
  auto j = job("a", hours(1), hours(6));
  j.margin = minutes(30);
  QueuePlannerOptions options;

  auto plan = plan_zone_queue(kT0, {j}, {}, &series, options);

  ASSERT_OK(plan);
  EXPECT_LE(plan->placements[0].end, kT0 + hours(5) + minutes(30));
}

TEST(QueuePlannerTest, WithoutForecastJobsRunAsEarlyAsTheyFit) {
  std::vector<QueuedJob> jobs = {job("a", hours(1), hours(10)),
                                 job("b", hours(1), hours(10))};
  QueuePlannerOptions options;

  auto plan = plan_zone_queue(kT0, jobs, {}, nullptr, options);

  ASSERT_OK(plan);
  EXPECT_EQ(kT0, plan->placements[0].start);
  EXPECT_EQ(kT0 + hours(1), plan->placements[1].start);
  EXPECT_FALSE(plan->placements[0].forecast_known);
}

TEST(QueuePlannerTest, BadOptionsAreErrors) {
  auto series = hourly({100});
  QueuePlannerOptions options;
  options.slots = 0;
  EXPECT_FALSE(plan_zone_queue(kT0, {}, {}, &series, options).has_value());
  options.slots = 1;
  EXPECT_FALSE(plan_zone_queue(kT0, {job("a", Duration(0), hours(1))}, {},
                               &series, options)
                   .has_value());
}

// Random queues: whenever the reference EDF placement meets every deadline,
// the planner does too, its schedule is valid, its cost is no more than the
// EDF placement's (local search only improves) and no less than the
// capacity-free bound.
TEST(QueuePlannerPropertyTest, NeverMissesWhereEdfIsFeasible) {
  std::mt19937 rng(20261202);
  int feasible_cases = 0;
  int infeasible_cases = 0;
  for (int trial = 0; trial < 400; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int slots = 1 + static_cast<int>(rng() % 4);
    std::vector<double> values(72);
    for (auto& v : values) {
      v = 50 + static_cast<double>(rng() % 500);
    }
    auto series = hourly(values);
    const TimePoint now = kT0 + Duration(rng() % 3600);
    std::vector<QueuedJob> jobs;
    const int count = 1 + static_cast<int>(rng() % 14);
    for (int i = 0; i < count; ++i) {
      const Duration earliest(rng() % (6 * 3600));
      const Duration duration(60 + rng() % (4 * 3600));
      const Duration slack(rng() % (8 * 3600));
      QueuedJob j = job("j" + std::to_string(i), duration,
                        earliest + duration + slack + hours(1), earliest);
      j.power_watts = 100 + static_cast<double>(rng() % 900);
      if (rng() % 3 == 0) {
        j.current_start = kT0 + Duration(rng() % (20 * 3600)) / kCell * kCell;
      }
      jobs.push_back(j);
    }
    std::vector<Segment> busy;
    if (rng() % 2 == 0) {
      busy.push_back({now, now + Duration(rng() % (3 * 3600))});
    }
    QueuePlannerOptions options;
    options.slots = slots;
    const bool feasible = reference_edf_feasible(now, jobs, busy, slots);
    (feasible ? feasible_cases : infeasible_cases)++;

    auto warm = plan_zone_queue(now, jobs, busy, &series, options);
    options.warm_start = false;
    auto cold = plan_zone_queue(now, jobs, busy, &series, options);

    ASSERT_OK(warm);
    ASSERT_OK(cold);
    expect_valid(now, jobs, busy, *warm, slots);
    expect_valid(now, jobs, busy, *cold, slots);
    if (feasible) {
      EXPECT_EQ(0, warm->late);
      EXPECT_EQ(0, cold->late);
    }
    if (cold->late == 0) {  // Late jobs have no window to compare with.
      EXPECT_LE(cold->total_grams, cold->edf_grams + 1e-6);
      EXPECT_GE(cold->total_grams, cold->lower_bound_grams - 1e-6);
    }
    if (warm->late == 0) {
      EXPECT_GE(warm->total_grams, warm->lower_bound_grams - 1e-6);
    }
  }
  // Both kinds of queue were drawn, so the property was exercised.
  EXPECT_GT(feasible_cases, 100);
  EXPECT_GT(infeasible_cases, 10);
}

}  // namespace
}  // namespace lowcarb::scheduler
