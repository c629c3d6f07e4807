// SPDX-License-Identifier: Apache-2.0
#include "scheduler/capacity_planner.h"

#include <map>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"
#include "tests/scheduler/optimizer_reference.h"

namespace lowcarb::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = *parse_time("2026-01-05T00:00:00Z");

// Occupancy per hour of the placed jobs.
std::map<TimePoint, int> occupancy(const QueuePlan& plan) {
  std::map<TimePoint, int> used;
  for (const auto& p : plan.placements) {
    for (TimePoint t = p.start; p.placed && t < p.end; t += 1h) {
      ++used[t];
    }
  }
  return used;
}

TEST(CapacityPlannerTest, SpreadsJobsInsteadOfPilingIntoTheGreenestHour) {
  auto series =
      reference::regular_series("A", kStart, 1h, {90, 10, 90, 50, 60, 90});
  std::vector<QueueJob> jobs;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back({"job" + std::to_string(i), 1h, kStart, kStart + 6h, 1000});
  }

  auto plan = plan_queue(jobs, series, {.slots = 1, .max_passes = 4});

  ASSERT_OK(plan);
  EXPECT_EQ(0, plan->unplaced);
  std::vector<TimePoint> starts;
  for (const auto& p : plan->placements) {
    starts.push_back(p.start);
  }
  EXPECT_THAT(starts, ::testing::UnorderedElementsAre(kStart + 1h, kStart + 3h,
                                                      kStart + 4h));
  EXPECT_DOUBLE_EQ(3 * 10.0, plan->lower_bound_grams);  // All at 10 g/kWh.
  EXPECT_DOUBLE_EQ(120.0, plan->total_grams);
}

TEST(CapacityPlannerTest, NeverExceedsSlotsAndKeepsEveryJobInItsBounds) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::optional<double>> values;
    for (int i = 0; i < 48; ++i) {
      values.push_back(static_cast<double>(rng() % 400));
    }
    auto series = reference::regular_series("A", kStart, 1h, values);
    std::vector<QueueJob> jobs;
    for (int j = 0; j < 40; ++j) {
      const auto earliest = kStart + std::chrono::hours(rng() % 24);
      const auto length = std::chrono::hours(1 + rng() % 4);
      jobs.push_back({"j" + std::to_string(j), length, earliest,
                      earliest + length + std::chrono::hours(rng() % 20),
                      1000});
    }
    const int slots = 1 + static_cast<int>(rng() % 4);

    auto plan = plan_queue(jobs, series, {.slots = slots, .max_passes = 4});

    ASSERT_OK(plan);
    for (const auto& [hour, count] : occupancy(*plan)) {
      ASSERT_LE(count, slots) << format_utc(hour);
    }
    for (size_t j = 0; j < jobs.size(); ++j) {
      const auto& p = plan->placements[j];
      if (p.placed) {
        ASSERT_GE(p.start, jobs[j].earliest);
        ASSERT_LE(p.end, jobs[j].deadline);
        ASSERT_EQ(jobs[j].duration, p.end - p.start);
      }
    }
    if (plan->unplaced == 0) {
      ASSERT_GE(plan->total_grams + 1e-6, plan->lower_bound_grams);
    }
    ASSERT_LE(plan->total_grams, plan->edf_grams + 1e-6);
  }
}

TEST(CapacityPlannerTest, LocalSearchIsOptimalOnASmallKnownCase) {
  // EDF puts the tight job second; local search must not lose its slot.
  auto series = reference::regular_series("A", kStart, 1h, {10, 20, 80, 90});
  std::vector<QueueJob> jobs = {{"loose", 1h, kStart, kStart + 4h, 1000},
                                {"tight", 1h, kStart, kStart + 1h, 1000}};

  auto plan = plan_queue(jobs, series, {.slots = 1, .max_passes = 4});

  ASSERT_OK(plan);
  EXPECT_EQ(kStart + 1h, plan->placements[0].start);
  EXPECT_EQ(kStart, plan->placements[1].start);
  EXPECT_DOUBLE_EQ(30.0, plan->total_grams);
}

TEST(CapacityPlannerTest, RejectsZeroSlots) {
  auto series = reference::regular_series("A", kStart, 1h, {10});

  auto plan = plan_queue({}, series, {.slots = 0, .max_passes = 4});

  ASSERT_FALSE(plan);
  EXPECT_EQ(ErrorCode::kInvalidArgument, plan.error().code);
}

}  // namespace
}  // namespace lowcarb::scheduler
