// SPDX-License-Identifier: Apache-2.0
// The ProcessRunner of a POSIX system: posix_spawn with pipes for stdin,
// stdout and stderr. The only file with spawn/wait for short commands.
// Thread-safe: no shared state; signals are not touched process-wide.
#pragma once

#include "executors/process_runner.h"

namespace lowcarb::executors {

class PosixProcessRunner final : public ProcessRunner {
 public:
  // Runs `command` in its own process group with the inherited environment
  // plus command.env, feeds command.stdin_text, and captures stdout and
  // stderr. kNotFound when argv[0] is not an executable file (searched in
  // PATH, or the PATH of command.env, when it has no '/'); kTimeout after
  // command.timeout (the whole group is killed with SIGKILL first);
  // kInvalidArgument for an empty argv. A command killed by a signal gets
  // exit_code 128 + signal, as in a shell.
  Result<ProcessResult> run(const Command& command) override;
};

}  // namespace lowcarb::executors
