// SPDX-License-Identifier: Apache-2.0
// An Executor that records what it was asked to do and whose jobs change
// state only when the test says so (finish(), set_state()). Can be told to
// fail the next start.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "executors/executor.h"

namespace lowcarb::fakes {

class FakeExecutor final : public executors::Executor {
 public:
  explicit FakeExecutor(std::string name = "local", bool defers = false)
      : name_(std::move(name)), defers_(defers) {}

  std::string name() const override { return name_; }
  bool defers_start() const override { return defers_; }

  Result<executors::ExecutorHandle> start(const executors::LaunchSpec& spec,
                                          TimePoint begin) override;
  Status reschedule(const executors::ExecutorHandle& handle,
                    TimePoint begin) override;
  Result<executors::RunStatus> poll(
      const executors::ExecutorHandle& handle) override;
  Status pause(const executors::ExecutorHandle& handle,
               executors::PauseMode mode) override;
  Result<executors::ExecutorHandle> resume(
      const executors::ExecutorHandle& handle,
      const executors::LaunchSpec& spec, executors::PauseMode mode) override;
  Status cancel(const executors::ExecutorHandle& handle) override;
  Status hold(const executors::ExecutorHandle& handle) override;
  Status release(const executors::ExecutorHandle& handle,
                 TimePoint begin) override;
  Result<std::optional<executors::ExecutorHandle>> find(
      const std::string& job_id, int segment) override;

  // Test controls.
  void fail_next_start(Error error) { next_start_error_ = std::move(error); }
  void finish(const std::string& job_id, int exit_code);
  void set_state(const std::string& job_id, executors::RunState state);
  // Pretends a launch happened that the scheduler never heard about.
  void add_launched(const std::string& job_id, int segment);

  struct Call {
    std::string what;  // "start", "reschedule", "pause", "resume", "cancel",
                       // "hold", "release"
    std::string job_id;
    TimePoint at;  // begin time for start/reschedule/release
  };
  const std::vector<Call>& calls() const { return calls_; }
  int count(const std::string& what) const;
  int count(const std::string& what, const std::string& job_id) const;

 private:
  std::string job_of(const executors::ExecutorHandle& handle) const;

  std::string name_;
  bool defers_;
  std::optional<Error> next_start_error_;
  std::vector<Call> calls_;
  std::map<std::string, executors::RunStatus> jobs_;  // By job id.
  std::map<std::string, int> launched_segment_;
  int next_native_ = 100;
};

}  // namespace lowcarb::fakes
