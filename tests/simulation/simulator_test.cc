// SPDX-License-Identifier: Apache-2.0
// The simulator runs the production Scheduler; these tests check that the
// policies relate the way the theory says they must.
#include "scheduler/simulation/simulator.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "forecast/intensity_file.h"
#include "scheduler/simulation/deadline_rules.h"
#include "tests/fakes/test_support.h"
#include "tests/simulation/sim_test_util.h"

namespace lowcarb::scheduler::simulation {
namespace {

using namespace std::chrono_literals;

// `count` jobs over the first days of the synthetic trace with varied
// durations and slack (deterministic).
Workload synthetic_workload(int count, bool interruptible) {
  Workload workload;
  workload.source = "synthetic";
  for (int i = 0; i < count; ++i) {
    WorkloadJob job;
    job.id = std::to_string(i + 1);
    job.line = i + 2;
    job.submit = sim_t0() + std::chrono::minutes(97 * i);
    job.duration = std::chrono::minutes(30 + (i * 53) % 600);
    job.deadline =
        job.submit + job.duration + std::chrono::hours(4 + (i * 7) % 30);
    job.power_watts = 100 + 10 * (i % 5);
    job.interruptible = interruptible;
    workload.jobs.push_back(job);
  }
  return workload;
}

SimulationOptions options_for(SimPolicy policy) {
  SimulationOptions options;
  options.policy = policy;
  options.watts_per_core = 10;
  return options;
}

void expect_same_jobs(const SimulationResult& a, const SimulationResult& b) {
  ASSERT_EQ(a.per_job.size(), b.per_job.size());
  for (size_t i = 0; i < a.per_job.size(); ++i) {
    SCOPED_TRACE("job " + a.per_job[i].id);
    EXPECT_NEAR(a.per_job[i].kg, b.per_job[i].kg,
                1e-9 * std::max(1.0, a.per_job[i].kg));
    EXPECT_EQ(a.per_job[i].end, b.per_job[i].end);
  }
  EXPECT_NEAR(a.kg, b.kg, 1e-9 * a.kg);
}

TEST(SimulatorTest, RunNowEmitsExactlyItsBaseline) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(12))});
  auto workload = synthetic_workload(40, false);

  auto result =
      run_simulation(workload, trace, options_for(SimPolicy::kRunNow));

  ASSERT_OK(result);
  EXPECT_EQ(40, result->jobs);
  EXPECT_EQ(0, result->rejected);
  EXPECT_EQ(0, result->missed_deadlines);
  EXPECT_GT(result->kg, 0);
  EXPECT_NEAR(result->baseline_kg, result->kg, 1e-9 * result->kg);
  EXPECT_NEAR(0.0, result->mean_delay_hours, 1e-9);
  for (const auto& job : result->per_job) {
    EXPECT_EQ(job.submit, job.start);
  }
}

TEST(SimulatorTest, FlexibleStartSavesOnACyclicGridAndMeetsDeadlines) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(12))});
  auto workload = synthetic_workload(40, false);

  auto result =
      run_simulation(workload, trace, options_for(SimPolicy::kFlexibleStart));

  ASSERT_OK(result);
  EXPECT_EQ(0, result->missed_deadlines);
  EXPECT_GT(result->savings_percent(), 1.0);
  EXPECT_GT(result->mean_delay_hours, 0.0);
}

TEST(SimulatorTest, OracleEqualsFlexibleStartWithAPerfectFullHorizonForecast) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(12))});
  auto workload = synthetic_workload(40, false);
  auto flexible = options_for(SimPolicy::kFlexibleStart);
  flexible.horizon = 24h * 30;

  auto oracle =
      run_simulation(workload, trace, options_for(SimPolicy::kOracle));
  auto best = run_simulation(workload, trace, flexible);

  ASSERT_OK(oracle);
  ASSERT_OK(best);
  expect_same_jobs(*oracle, *best);
}

TEST(SimulatorTest,
     PauseResumeWithPerfectForecastEqualsOracleWhenInterruptible) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(12))});
  auto workload = synthetic_workload(40, true);
  auto pause_resume = options_for(SimPolicy::kPauseResume);
  pause_resume.horizon = 24h * 30;

  auto oracle =
      run_simulation(workload, trace, options_for(SimPolicy::kOracle));
  auto best = run_simulation(workload, trace, pause_resume);
  auto contiguous =
      run_simulation(workload, trace, options_for(SimPolicy::kFlexibleStart));

  ASSERT_OK(oracle);
  ASSERT_OK(best);
  ASSERT_OK(contiguous);
  expect_same_jobs(*oracle, *best);
  EXPECT_EQ(0, best->missed_deadlines);
  EXPECT_LE(oracle->kg, contiguous->kg * (1 + 1e-12));
}

TEST(SimulatorTest, SpatialRunsInTheCleanerZone) {
  auto dirty = daily_cycle(12);
  auto clean = dirty;
  for (auto& value : clean) {
    value /= 4;
  }
  TraceIntensityHistory trace(
      {hourly_series("DE", dirty), hourly_series("FR", clean)});
  auto workload = synthetic_workload(20, false);

  auto result =
      run_simulation(workload, trace, options_for(SimPolicy::kSpatial));

  ASSERT_OK(result);
  EXPECT_EQ(0, result->missed_deadlines);
  for (const auto& job : result->per_job) {
    EXPECT_EQ("FR", job.zone);
  }
  EXPECT_GT(result->savings_percent(), 70.0);
}

TEST(SimulatorTest, NoisyRunsAreReproducibleBySeed) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(12))});
  auto workload = synthetic_workload(40, false);
  auto options = options_for(SimPolicy::kFlexibleStart);
  options.forecast = *forecast_spec_from_string("noisy:0.2", 5);

  auto first = run_simulation(workload, trace, options);
  auto second = run_simulation(workload, trace, options);

  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(0, first->missed_deadlines);
  expect_same_jobs(*first, *second);
}

TEST(SimulatorTest, ClipDropsJobsWhoseWindowLeavesTheData) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(2))});
  Workload workload = synthetic_workload(40, false);

  auto clipped = clip_to_trace(workload, trace);

  EXPECT_GT(clipped.dropped, 0);
  EXPECT_EQ(40,
            clipped.dropped + static_cast<int>(clipped.workload.jobs.size()));
  for (const auto& job : clipped.workload.jobs) {
    EXPECT_LE(*job.deadline, trace.common_end());
  }
}

TEST(SimulatorTest, JobsWithoutDeadlineAreAnError) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(2))});
  Workload workload = synthetic_workload(1, false);
  workload.jobs[0].deadline.reset();

  auto result =
      run_simulation(workload, trace, options_for(SimPolicy::kRunNow));

  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, ::testing::HasSubstr("synthetic:2"));
}

// Every policy meets every deadline on the shipped traces (bounded subsets
// to keep the test fast).
class ShippedTraceTest : public ::testing::TestWithParam<SimPolicy> {};

Workload shipped(const std::string& file, TimeUnit unit, size_t limit,
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

TEST_P(ShippedTraceTest, MissesNoDeadline) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto de = forecast::load_intensity_file(
      testing::shared_data("intensity/electricitymaps/DE-LU_2022_hourly.csv"));
  auto gb = forecast::load_intensity_file(
      testing::shared_data("intensity/electricitymaps/GB_2022_hourly.csv"));
  ASSERT_OK(de);
  ASSERT_OK(gb);
  TraceIntensityHistory trace({de->front(), gb->front()});
  auto options = options_for(GetParam());
  options.all_interruptible = GetParam() == SimPolicy::kOracle;
  struct Case {
    const char* file;
    TimeUnit unit;
    size_t limit;
    Duration slack;
  };
  for (const auto& c :
       {Case{"workloads/alibaba-pai-1k.csv", TimeUnit::kSeconds, 1000, 6h},
        Case{"workloads/azure-100k.csv", TimeUnit::kHours, 1500, 24h}}) {
    SCOPED_TRACE(c.file);
    auto clipped = clip_to_trace(
        shipped(c.file, c.unit, c.limit, c.slack, trace.common_begin()), trace);

    auto result = run_simulation(clipped.workload, trace, options);

    ASSERT_OK(result);
    EXPECT_GT(result->jobs, 0);
    EXPECT_EQ(0, result->rejected)
        << (result->errors.empty() ? "" : result->errors.front());
    EXPECT_EQ(0, result->missed_deadlines);
    EXPECT_LE(result->kg, result->baseline_kg * 1.0001);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllPolicies, ShippedTraceTest,
    ::testing::Values(SimPolicy::kRunNow, SimPolicy::kFlexibleStart,
                      SimPolicy::kThreshold, SimPolicy::kPauseResume,
                      SimPolicy::kSpatial, SimPolicy::kOracle),
    [](const auto& test_param) {
      std::string name = to_string(test_param.param);
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      return name;
    });

}  // namespace
}  // namespace lowcarb::scheduler::simulation
