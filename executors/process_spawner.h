// SPDX-License-Identifier: Apache-2.0
// The seam for long-running jobs: start a program detached in a new session
// (it survives the daemon), signal its process group, and look at it through
// /proc. PosixProcessSpawner is the only code with fork/exec/kill/setsid for
// jobs; tests of higher layers may substitute a fake. Implementations are
// thread-compatible (no internal locking).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "executors/proc_stat.h"

namespace lowcarb::executors {

// A process as lowcarb identifies it: a pid alone can be recycled, the pair
// (pid, start time in ticks after boot) cannot.
struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_ticks = 0;

  bool operator==(const ProcessIdentity&) const = default;
};

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is an absolute or PATH name
                                  // (looked up in our own PATH).
  // The program's complete environment; nothing of the spawning process's
  // own environment is inherited.
  std::map<std::string, std::string> env;
  std::string working_dir;  // "" = inherit.
  unsigned umask = 022;
  std::string stdout_path;  // Opened O_APPEND|O_CREAT, mode 0600.
  std::string stderr_path;  // "" = same file as stdout_path.
  // Owner of the log files when they are created by root; the program itself
  // runs as the caller (privilege drop is the exec wrapper's job).
  std::optional<unsigned> log_uid;
  std::optional<unsigned> log_gid;
  // Called once the new process exists and its identity is known, but before
  // it may exec: the place to record the launch durably. When it fails, the
  // process exits without exec'ing and spawn() returns its error. When the
  // caller dies before it returns, the process exits too, so a program that
  // runs was always first seen by this hook. Empty = no hook.
  std::function<Status(const ProcessIdentity&)> on_identified;
};

class ProcessSpawner {
 public:
  virtual ~ProcessSpawner() = default;

  // Starts `request` in a new session whose process group id is the new pid;
  // the process is not our child (no zombie to reap). Returns once the
  // program has been exec'ed. The program inherits only its stdin (/dev/null),
  // stdout and stderr; no other descriptor of ours, close-on-exec or not.
  // kNotFound when argv[0] cannot be executed, kUnavailable for other failures
  // (fork, log files, working directory).
  virtual Result<ProcessIdentity> spawn(const SpawnRequest& request) = 0;

  // The /proc stat of `pid`; kNotFound when there is no such process.
  virtual Result<ProcStat> stat(pid_t pid) = 0;

  // True when `identity` is still a live, non-zombie process: same pid and
  // the same start time, so a recycled pid is never taken for our process.
  bool is_alive(const ProcessIdentity& identity) {
    auto current = stat(identity.pid);
    return current && current->start_ticks == identity.start_ticks &&
           current->alive();
  }

  // Sends `signal` to `pid` (group = false) or to process group `pid`.
  // kNotFound when nothing received it, kPermissionDenied on EPERM.
  virtual Status signal_process(pid_t pid, int signal) = 0;
  virtual Status signal_group(pid_t pgrp, int signal) = 0;

  // True while a live process remains in process group `pgrp`.
  virtual bool group_alive(pid_t pgrp) = 0;

  // CPU time and memory of every live process in session `session` now.
  virtual TreeUsage session_usage(pid_t session) = 0;
};

}  // namespace lowcarb::executors
