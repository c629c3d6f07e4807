// SPDX-License-Identifier: Apache-2.0
// ProcessSpawner over fork/setsid/execve, kill(2) and /proc.
#pragma once

#include <string>

#include "executors/process_spawner.h"

namespace lowcarb::executors {

class PosixProcessSpawner final : public ProcessSpawner {
 public:
  // `proc_root` is where /proc is mounted (tests of parsing use fake trees,
  // but spawning needs the real one).
  explicit PosixProcessSpawner(std::string proc_root = "/proc");

  Result<ProcessIdentity> spawn(const SpawnRequest& request) override;
  Result<ProcStat> stat(pid_t pid) override;
  Status signal_process(pid_t pid, int signal) override;
  Status signal_group(pid_t pgrp, int signal) override;
  bool group_alive(pid_t pgrp) override;
  TreeUsage session_usage(pid_t session) override;

 private:
  ProcReader reader_;
};

}  // namespace lowcarb::executors
