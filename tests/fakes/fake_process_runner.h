// SPDX-License-Identifier: Apache-2.0
// A ProcessRunner that returns queued results in order (a default success
// when the queue is empty) and records every command it was given. Results
// can also be scripted per program name (argv[0]).
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "executors/process_runner.h"

namespace lowcarb::fakes {

class FakeProcessRunner final : public executors::ProcessRunner {
 public:
  void push_result(Result<executors::ProcessResult> result);
  void push_result_for(const std::string& program,
                       Result<executors::ProcessResult> result);

  Result<executors::ProcessResult> run(
      const executors::Command& command) override;

  std::vector<executors::Command> commands_run() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Result<executors::ProcessResult>> results_;
  std::map<std::string, std::deque<Result<executors::ProcessResult>>>
      by_program_;
  std::vector<executors::Command> commands_run_;
};

}  // namespace lowcarb::fakes
