// SPDX-License-Identifier: Apache-2.0
// An executor whose jobs exist only on a virtual clock: a job started at t
// succeeds once it has been running (not paused) for its expected duration
// (LaunchSpec::expected_duration, which the simulator sets to the trace's
// actual run time). Pausing and resuming are free and instantaneous; a
// checkpoint-mode resume keeps the work done. It never defers a start.
// Not thread-safe; the clock must outlive the executor.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "common/clock.h"
#include "executors/executor.h"

namespace lowcarb::scheduler::simulation {

class SimulatedExecutor final : public executors::Executor {
 public:
  explicit SimulatedExecutor(const Clock& clock) : clock_(clock) {}

  std::string name() const override { return "simulated"; }
  bool defers_start() const override { return false; }

  // Starts at clock.now() whatever `begin` is. kInvalidArgument when
  // spec.expected_duration is not positive.
  Result<executors::ExecutorHandle> start(const executors::LaunchSpec& spec,
                                          TimePoint begin) override;
  // kConflict: simulated jobs are never deferred.
  Status reschedule(const executors::ExecutorHandle& handle,
                    TimePoint begin) override;
  // kSucceeded with ended_at = the instant the work completed once it has;
  // kNotFound for an unknown handle.
  Result<executors::RunStatus> poll(
      const executors::ExecutorHandle& handle) override;
  Status pause(const executors::ExecutorHandle& handle,
               executors::PauseMode mode) override;
  Result<executors::ExecutorHandle> resume(
      const executors::ExecutorHandle& handle,
      const executors::LaunchSpec& spec, executors::PauseMode mode) override;
  Status cancel(const executors::ExecutorHandle& handle) override;

  // The earliest instant a running job completes; nullopt when none runs.
  std::optional<TimePoint> next_completion();

  int running() const { return running_; }
  int pauses(const std::string& job_id) const;  // Pauses of lowcarb job id.

 private:
  struct SimJob {
    std::string job_id;
    executors::RunState state = executors::RunState::kRunning;
    Duration needed{0};
    Duration done{0};  // Running time before the current segment.
    TimePoint running_since;
    TimePoint started_at;
    std::optional<TimePoint> ended_at;
    int pauses = 0;
    int generation = 0;  // Invalidates queued completions after a pause.
  };
  struct Completion {
    TimePoint at;
    std::string native_id;
    int generation = 0;
    bool operator>(const Completion& other) const { return at > other.at; }
  };

  Result<SimJob*> lookup(const executors::ExecutorHandle& handle);
  void schedule_completion(const std::string& native_id, const SimJob& job);

  const Clock& clock_;
  uint64_t next_id_ = 1;
  int running_ = 0;
  std::map<std::string, SimJob> jobs_;  // By native id.
  std::map<std::string, int> pauses_by_job_;
  std::priority_queue<Completion, std::vector<Completion>,
                      std::greater<Completion>>
      completions_;
};

}  // namespace lowcarb::scheduler::simulation
