// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/simulated_executor.h"

#include <algorithm>

namespace lowcarb::scheduler::simulation {

using executors::ExecutorHandle;
using executors::RunState;
using executors::RunStatus;

Result<ExecutorHandle> SimulatedExecutor::start(
    const executors::LaunchSpec& spec, TimePoint /*begin*/) {
  if (spec.expected_duration <= Duration(0)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "simulated start of job " + spec.job_id +
                          ": expected_duration must be positive");
  }
  TimePoint now = clock_.now();
  std::string native_id = "sim-" + std::to_string(next_id_++);
  SimJob job;
  job.job_id = spec.job_id;
  job.needed = spec.expected_duration;
  job.running_since = now;
  job.started_at = now;
  auto& stored = jobs_[native_id] = job;
  ++running_;
  schedule_completion(native_id, stored);
  return ExecutorHandle{"simulated", "", native_id};
}

void SimulatedExecutor::schedule_completion(const std::string& native_id,
                                            const SimJob& job) {
  completions_.push(
      {job.running_since + (job.needed - job.done), native_id, job.generation});
}

Status SimulatedExecutor::reschedule(const ExecutorHandle& handle,
                                     TimePoint /*begin*/) {
  return make_error(ErrorCode::kConflict,
                    "simulated job " + handle.native_id + " already started");
}

Result<SimulatedExecutor::SimJob*> SimulatedExecutor::lookup(
    const ExecutorHandle& handle) {
  auto it = jobs_.find(handle.native_id);
  if (it == jobs_.end()) {
    return make_error(ErrorCode::kNotFound,
                      "simulated executor: no job " + handle.native_id);
  }
  return &it->second;
}

Result<RunStatus> SimulatedExecutor::poll(const ExecutorHandle& handle) {
  auto found = lookup(handle);
  if (!found) {
    return make_error(found.error());
  }
  SimJob& job = **found;
  TimePoint now = clock_.now();
  if (job.state == RunState::kRunning &&
      job.done + (now - job.running_since) >= job.needed) {
    job.ended_at = job.running_since + (job.needed - job.done);
    job.done = job.needed;
    job.state = RunState::kSucceeded;
    ++job.generation;
    --running_;
  }
  RunStatus status;
  status.state = job.state;
  status.started_at = job.started_at;
  status.ended_at = job.ended_at;
  if (job.state == RunState::kSucceeded) {
    status.exit_code = 0;
  }
  return status;
}

Status SimulatedExecutor::pause(const ExecutorHandle& handle,
                                executors::PauseMode /*mode*/) {
  auto found = lookup(handle);
  if (!found) {
    return make_error(found.error());
  }
  SimJob& job = **found;
  if (job.state != RunState::kRunning) {
    return make_error(ErrorCode::kConflict,
                      "simulated job " + handle.native_id + " is not running");
  }
  TimePoint now = clock_.now();
  job.done = std::min(job.needed, job.done + (now - job.running_since));
  job.state = RunState::kPaused;
  ++job.pauses;
  ++pauses_by_job_[job.job_id];
  ++job.generation;
  --running_;
  return {};
}

Result<ExecutorHandle> SimulatedExecutor::resume(
    const ExecutorHandle& handle, const executors::LaunchSpec& /*spec*/,
    executors::PauseMode /*mode*/) {
  auto found = lookup(handle);
  if (!found) {
    return make_error(found.error());
  }
  SimJob& job = **found;
  if (job.state != RunState::kPaused) {
    return make_error(ErrorCode::kConflict,
                      "simulated job " + handle.native_id + " is not paused");
  }
  job.state = RunState::kRunning;
  job.running_since = clock_.now();
  ++running_;
  schedule_completion(handle.native_id, job);
  return handle;
}

Status SimulatedExecutor::cancel(const ExecutorHandle& handle) {
  auto found = lookup(handle);
  if (!found) {
    return make_error(found.error());
  }
  SimJob& job = **found;
  if (executors::is_terminal(job.state)) {
    return {};
  }
  if (job.state == RunState::kRunning) {
    --running_;
  }
  job.state = RunState::kCancelled;
  job.ended_at = clock_.now();
  ++job.generation;
  return {};
}

std::optional<TimePoint> SimulatedExecutor::next_completion() {
  while (!completions_.empty()) {
    const Completion& top = completions_.top();
    auto it = jobs_.find(top.native_id);
    if (it != jobs_.end() && it->second.generation == top.generation &&
        it->second.state == RunState::kRunning) {
      return top.at;
    }
    completions_.pop();
  }
  return std::nullopt;
}

int SimulatedExecutor::pauses(const std::string& job_id) const {
  auto it = pauses_by_job_.find(job_id);
  return it == pauses_by_job_.end() ? 0 : it->second;
}

}  // namespace lowcarb::scheduler::simulation
