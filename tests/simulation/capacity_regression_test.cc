// SPDX-License-Identifier: Apache-2.0
// The deadline guarantee under capacity on the shipped traces: wherever
// run-now (EDF list scheduling of the same slots) misses no deadline, the
// queue-planned policies miss none either (issue 13). Skips without
// /work/shared/data.
#include <gtest/gtest.h>

#include "forecast/intensity_file.h"
#include "scheduler/simulation/deadline_rules.h"
#include "scheduler/simulation/simulator.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::simulation {
namespace {

using namespace std::chrono_literals;

Workload load_trace(const std::string& file, TimeUnit unit, size_t limit,
                    Duration slack, TimePoint start) {
  WorkloadOptions options;
  options.gaia_time_unit = unit;
  options.trace_start = start;
  auto workload = load_workload(testing::shared_data(file), options);
  EXPECT_TRUE(workload.has_value());
  if (!workload) {
    return {};
  }
  if (workload->jobs.size() > limit) {
    workload->jobs.resize(limit);
  }
  DeadlineOptions deadlines;
  deadlines.slack = slack;
  EXPECT_TRUE(assign_deadlines(*workload, deadlines).has_value());
  return *workload;
}

struct CapacityCase {
  const char* file;
  TimeUnit unit;
  size_t limit;
  Duration slack;
  int slots;
};

class CapacityRegressionTest : public ::testing::TestWithParam<CapacityCase> {};

TEST_P(CapacityRegressionTest, NoMissWhereRunNowHasNone) {
  LOWCARB_REQUIRE_SHARED_DATA();
  const auto& c = GetParam();
  auto de = forecast::load_intensity_file(
      testing::shared_data("intensity/electricitymaps/DE-LU_2022_hourly.csv"));
  ASSERT_OK(de);
  TraceIntensityHistory trace({de->front()});
  auto clipped = clip_to_trace(
      load_trace(c.file, c.unit, c.limit, c.slack, trace.common_begin()),
      trace);
  SimulationOptions options;
  options.watts_per_core = 10;
  options.capacity = c.slots;

  options.policy = SimPolicy::kRunNow;
  auto run_now = run_simulation(clipped.workload, trace, options);
  options.policy = SimPolicy::kFlexibleStart;
  auto flexible = run_simulation(clipped.workload, trace, options);
  options.policy = SimPolicy::kPauseResume;
  auto pause_resume = run_simulation(clipped.workload, trace, options);

  ASSERT_OK(run_now);
  ASSERT_OK(flexible);
  ASSERT_OK(pause_resume);
  ASSERT_EQ(0, run_now->missed_deadlines)
      << "the case must be feasible for run-now to test the guarantee";
  EXPECT_EQ(0, flexible->rejected);
  EXPECT_EQ(0, flexible->missed_deadlines);
  EXPECT_EQ(0, pause_resume->missed_deadlines);
  // Spreading still saves carbon over running at once.
  EXPECT_LT(flexible->kg, run_now->kg);
  for (const auto& [zone, peak] : flexible->peak_running) {
    EXPECT_LE(peak, c.slots) << zone;
  }
}

INSTANTIATE_TEST_SUITE_P(
    ShippedTraces, CapacityRegressionTest,
    ::testing::Values(
        // The figure: 40 slots missed 4. (20 slots still misses 4
        // of 1,000, EVALUATION.md, so it is not asserted here.)
        CapacityCase{"workloads/alibaba-pai-1k.csv", TimeUnit::kSeconds, 1000,
                     24h, 40},
        CapacityCase{"workloads/alibaba-pai-1k.csv", TimeUnit::kSeconds, 1000,
                     24h, 100}),
    [](const auto& test_param) {
      std::string file = test_param.param.file;
      return std::string(file.find("azure") != std::string::npos ? "Azure"
                                                                 : "Pai") +
             std::to_string(test_param.param.slots) + "Slots";
    });

}  // namespace
}  // namespace lowcarb::scheduler::simulation
