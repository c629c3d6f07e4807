// SPDX-License-Identifier: Apache-2.0
#include "tests/fakes/fake_process_runner.h"

namespace lowcarb::fakes {

void FakeProcessRunner::push_result(Result<executors::ProcessResult> result) {
  std::lock_guard lock(mutex_);
  results_.push_back(std::move(result));
}

void FakeProcessRunner::push_result_for(
    const std::string& program, Result<executors::ProcessResult> result) {
  std::lock_guard lock(mutex_);
  by_program_[program].push_back(std::move(result));
}

Result<executors::ProcessResult> FakeProcessRunner::run(
    const executors::Command& command) {
  std::lock_guard lock(mutex_);
  commands_run_.push_back(command);
  if (!command.argv.empty()) {
    auto it = by_program_.find(command.argv[0]);
    if (it != by_program_.end() && !it->second.empty()) {
      auto next = std::move(it->second.front());
      it->second.pop_front();
      return next;
    }
  }
  if (results_.empty()) {
    return executors::ProcessResult{};
  }
  auto next = std::move(results_.front());
  results_.pop_front();
  return next;
}

std::vector<executors::Command> FakeProcessRunner::commands_run() const {
  std::lock_guard lock(mutex_);
  return commands_run_;
}

}  // namespace lowcarb::fakes
