// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/simulated_executor.h"

#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"
#include "tests/simulation/sim_test_util.h"

namespace lowcarb::scheduler::simulation {
namespace {

using executors::RunState;
using namespace std::chrono_literals;

executors::LaunchSpec spec_of(const std::string& id, Duration duration) {
  executors::LaunchSpec spec;
  spec.job_id = id;
  spec.expected_duration = duration;
  return spec;
}

TEST(SimulatedExecutorTest, JobSucceedsAfterItsRunTime) {
  ManualClock clock(sim_t0());
  SimulatedExecutor executor(clock);
  auto handle = executor.start(spec_of("1", 2h), sim_t0());
  ASSERT_OK(handle);

  clock.advance(1h);
  auto running = executor.poll(*handle);
  clock.advance(90min);
  auto done = executor.poll(*handle);

  ASSERT_OK(running);
  ASSERT_OK(done);
  EXPECT_EQ(RunState::kRunning, running->state);
  EXPECT_EQ(RunState::kSucceeded, done->state);
  EXPECT_EQ(sim_t0() + 2h, done->ended_at);
  EXPECT_EQ(0, done->exit_code);
  EXPECT_FALSE(executor.defers_start());
}

TEST(SimulatedExecutorTest, PausedTimeDoesNotCount) {
  ManualClock clock(sim_t0());
  SimulatedExecutor executor(clock);
  auto handle = *executor.start(spec_of("1", 2h), sim_t0());

  clock.advance(30min);
  ASSERT_OK(executor.pause(handle, executors::PauseMode::kStop));
  clock.advance(5h);
  EXPECT_EQ(RunState::kPaused, executor.poll(handle)->state);
  EXPECT_FALSE(executor.next_completion());
  ASSERT_OK(
      executor.resume(handle, spec_of("1", 2h), executors::PauseMode::kStop));

  EXPECT_EQ(sim_t0() + 30min + 5h + 90min, executor.next_completion());
  clock.advance(89min);
  EXPECT_EQ(RunState::kRunning, executor.poll(handle)->state);
  clock.advance(1min);
  EXPECT_EQ(RunState::kSucceeded, executor.poll(handle)->state);
  EXPECT_EQ(1, executor.pauses("1"));
}

TEST(SimulatedExecutorTest, NextCompletionIsTheEarliestRunningJob) {
  ManualClock clock(sim_t0());
  SimulatedExecutor executor(clock);
  auto a = *executor.start(spec_of("a", 3h), sim_t0());
  executor.start(spec_of("b", 5h), sim_t0());

  EXPECT_EQ(sim_t0() + 3h, executor.next_completion());
  ASSERT_OK(executor.cancel(a));
  EXPECT_EQ(sim_t0() + 5h, executor.next_completion());
  EXPECT_EQ(1, executor.running());
}

TEST(SimulatedExecutorTest, RejectsBadRequests) {
  ManualClock clock(sim_t0());
  SimulatedExecutor executor(clock);
  auto handle = *executor.start(spec_of("1", 1h), sim_t0());

  EXPECT_FALSE(executor.start(spec_of("2", 0s), sim_t0()));
  EXPECT_FALSE(
      executor.resume(handle, spec_of("1", 1h), executors::PauseMode::kStop));
  EXPECT_FALSE(executor.reschedule(handle, sim_t0()));
  EXPECT_EQ(ErrorCode::kNotFound,
            executor.poll({"simulated", "", "nope"}).error().code);
}

}  // namespace
}  // namespace lowcarb::scheduler::simulation
