// SPDX-License-Identifier: Apache-2.0
// Reading /proc: one process's /proc/PID/stat line (pure parser) and a reader
// over an injectable /proc root that sums the CPU time and memory of a job's
// process tree (every live process in its session). The start time (field 22)
// tells a live process apart from a recycled pid. ProcReader is not
// thread-safe (it caches one snapshot per `now`).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb::executors {

// The fields of /proc/PID/stat lowcarb uses (see proc(5)). Times are in clock
// ticks (sysconf(_SC_CLK_TCK)); rss in pages.
struct ProcStat {
  pid_t pid = 0;
  std::string comm;  // Executable name, without the parentheses.
  char state = '?';  // R, S, D, T (stopped), t, Z (zombie), X, I ...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t cutime_ticks = 0;  // Of children already waited for.
  uint64_t cstime_ticks = 0;
  uint64_t start_ticks = 0;  // Field 22: start time after boot.
  uint64_t rss_pages = 0;    // Field 24.

  bool alive() const { return state != 'Z' && state != 'X' && state != 'x'; }
  bool stopped() const { return state == 'T' || state == 't'; }
};

// Parses one /proc/PID/stat line. The comm field may itself contain spaces and
// parentheses; the last ')' ends it. kInvalidArgument on a malformed line.
Result<ProcStat> parse_proc_stat(std::string_view line);

// CPU and memory of a group of processes.
struct TreeUsage {
  int processes = 0;       // Live processes counted.
  double cpu_seconds = 0;  // utime+stime (+ cutime+cstime of reaped kids).
  uint64_t rss_bytes = 0;  // Sum of resident set sizes.
};

// Sums `stats` over the live processes whose session is `session`.
// Reaped children's time is in their parent's cutime/cstime and is counted
// once, because reaped processes no longer appear in `stats`.
TreeUsage sum_session_usage(const std::vector<ProcStat>& stats, pid_t session,
                            long ticks_per_second, long page_size_bytes);

class ProcReader {
 public:
  // `proc_root` is normally "/proc"; tests pass a fake tree.
  // `ticks_per_second` and `page_size_bytes` default to this machine's
  // values when <= 0.
  explicit ProcReader(std::string proc_root = "/proc",
                      long ticks_per_second = 0, long page_size_bytes = 0);

  // Reads /proc/`pid`/stat. kNotFound when the process does not exist.
  Result<ProcStat> read_stat(pid_t pid) const;

  // Reads every /proc/<digits>/stat; processes that vanish meanwhile are
  // skipped.
  std::vector<ProcStat> read_all() const;

  // Usage of the process tree in `session`. Calls with the same `now` share
  // one scan of /proc, so sampling N jobs per round costs one scan.
  TreeUsage session_usage(pid_t session, TimePoint now);

  // True when a live (non-zombie) process has process group `pgrp`.
  bool group_has_live_process(pid_t pgrp) const;

  long ticks_per_second() const { return ticks_per_second_; }
  long page_size_bytes() const { return page_size_bytes_; }

 private:
  std::string proc_root_;
  long ticks_per_second_;
  long page_size_bytes_;
  std::optional<TimePoint> snapshot_time_;
  std::vector<ProcStat> snapshot_;
};

}  // namespace lowcarb::executors
