// SPDX-License-Identifier: Apache-2.0
// The seam for short external commands (sbatch, squeue, scontrol, ...):
// run to completion, capture output. Long-running jobs use ProcessSpawner.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace lowcarb::executors {

struct Command {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH; no shell.
  // Added to (or overriding) the inherited environment, e.g. SLURM_CONF, TZ.
  std::map<std::string, std::string> env;
  // false: the process gets exactly `env` and nothing of ours (argv[0] is
  // then looked up in env's PATH, else /usr/bin:/bin).
  bool inherit_environment = true;
  std::string stdin_text;
  std::chrono::seconds timeout{30};
};

struct ProcessResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// Runs a short command to completion. An Error means it could not be started
// (kNotFound for a missing program) or timed out (kTimeout, the process is
// killed); a non-zero exit code is an ordinary ProcessResult. Thread-safe.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  virtual Result<ProcessResult> run(const Command& command) = 0;
};

}  // namespace lowcarb::executors
