// SPDX-License-Identifier: Apache-2.0
#include "tests/fakes/fake_executor.h"

#include <algorithm>

namespace lowcarb::fakes {

using executors::RunState;

std::string FakeExecutor::job_of(
    const executors::ExecutorHandle& handle) const {
  auto colon = handle.native_id.find(':');
  return handle.native_id.substr(0, colon);
}

Result<executors::ExecutorHandle> FakeExecutor::start(
    const executors::LaunchSpec& spec, TimePoint begin) {
  calls_.push_back({"start", spec.job_id, begin});
  if (next_start_error_) {
    Error error = *next_start_error_;
    next_start_error_.reset();
    return tl::unexpected(error);
  }
  auto& status = jobs_[spec.job_id];
  status = {};
  status.state = defers_ ? RunState::kPending : RunState::kRunning;
  if (!defers_) {
    status.started_at = begin;
  }
  launched_segment_[spec.job_id] = spec.segment;
  return executors::ExecutorHandle{
      name_, "", spec.job_id + ":" + std::to_string(next_native_++)};
}

Status FakeExecutor::reschedule(const executors::ExecutorHandle& handle,
                                TimePoint begin) {
  calls_.push_back({"reschedule", job_of(handle), begin});
  return {};
}

Result<executors::RunStatus> FakeExecutor::poll(
    const executors::ExecutorHandle& handle) {
  auto it = jobs_.find(job_of(handle));
  if (it == jobs_.end()) {
    executors::RunStatus lost;
    lost.state = RunState::kLost;
    return lost;
  }
  return it->second;
}

Status FakeExecutor::pause(const executors::ExecutorHandle& handle,
                           executors::PauseMode) {
  calls_.push_back({"pause", job_of(handle), {}});
  jobs_[job_of(handle)].state = RunState::kPaused;
  return {};
}

Result<executors::ExecutorHandle> FakeExecutor::resume(
    const executors::ExecutorHandle& handle, const executors::LaunchSpec&,
    executors::PauseMode) {
  calls_.push_back({"resume", job_of(handle), {}});
  jobs_[job_of(handle)].state = RunState::kRunning;
  return handle;
}

Status FakeExecutor::cancel(const executors::ExecutorHandle& handle) {
  calls_.push_back({"cancel", job_of(handle), {}});
  jobs_[job_of(handle)].state = RunState::kCancelled;
  return {};
}

Status FakeExecutor::hold(const executors::ExecutorHandle& handle) {
  calls_.push_back({"hold", job_of(handle), {}});
  auto& status = jobs_[job_of(handle)];
  if (status.state != RunState::kPending) {
    return tl::unexpected(
        Error{ErrorCode::kConflict, "job is no longer pending"});
  }
  status.state = RunState::kPaused;  // As Slurm reports a held job.
  return {};
}

Status FakeExecutor::release(const executors::ExecutorHandle& handle,
                             TimePoint begin) {
  calls_.push_back({"release", job_of(handle), begin});
  jobs_[job_of(handle)].state = RunState::kPending;
  return {};
}

Result<std::optional<executors::ExecutorHandle>> FakeExecutor::find(
    const std::string& job_id, int segment) {
  auto it = launched_segment_.find(job_id);
  if (it == launched_segment_.end() || it->second != segment) {
    return std::optional<executors::ExecutorHandle>();
  }
  return std::optional<executors::ExecutorHandle>(
      executors::ExecutorHandle{name_, "", job_id + ":found"});
}

void FakeExecutor::finish(const std::string& job_id, int exit_code) {
  auto& status = jobs_[job_id];
  status.state = exit_code == 0 ? RunState::kSucceeded : RunState::kFailed;
  status.exit_code = exit_code;
}

void FakeExecutor::set_state(const std::string& job_id, RunState state) {
  jobs_[job_id].state = state;
}

void FakeExecutor::add_launched(const std::string& job_id, int segment) {
  launched_segment_[job_id] = segment;
  jobs_[job_id].state = RunState::kRunning;
}

int FakeExecutor::count(const std::string& what) const {
  return static_cast<int>(
      std::count_if(calls_.begin(), calls_.end(),
                    [&](const Call& c) { return c.what == what; }));
}

int FakeExecutor::count(const std::string& what,
                        const std::string& job_id) const {
  return static_cast<int>(std::count_if(
      calls_.begin(), calls_.end(),
      [&](const Call& c) { return c.what == what && c.job_id == job_id; }));
}

}  // namespace lowcarb::fakes
