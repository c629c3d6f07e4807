// SPDX-License-Identifier: Apache-2.0
// One daemon per state directory: an exclusive flock(2) on
// <state_dir>/lowcarb.lock, which holds the owner's pid. The kernel drops the
// lock when its owner dies, so a crashed daemon never blocks a restart; the
// pid it left in the file is reported as a stale lock. Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"

namespace lowcarb::scheduler {

class StateLock {
 public:
  // Creates `state_dir` if needed and takes the lock. kConflict when a live
  // process holds it ("another lowcarb daemon (pid N) ..."); kUnavailable
  // when the file cannot be opened. Errors name the lock file.
  static Result<std::unique_ptr<StateLock>> acquire(
      const std::string& state_dir);

  // Clears the pid and releases the lock.
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

  const std::string& path() const { return path_; }
  // The pid a previous owner left behind without a clean shutdown, if any.
  std::optional<long> stale_pid() const { return stale_pid_; }
  // A sentence about the stale lock for the log; empty when there was none.
  std::string stale_description() const;

 private:
  StateLock(int fd, std::string path, std::optional<long> stale_pid,
            bool stale_pid_alive)
      : fd_(fd),
        path_(std::move(path)),
        stale_pid_(stale_pid),
        stale_pid_alive_(stale_pid_alive) {}

  int fd_;
  std::string path_;
  std::optional<long> stale_pid_;
  bool stale_pid_alive_ = false;
};

}  // namespace lowcarb::scheduler
