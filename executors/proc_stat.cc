// SPDX-License-Identifier: Apache-2.0
#include "executors/proc_stat.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/strings.h"

namespace lowcarb::executors {
namespace {

bool parse_u64(std::string_view text, uint64_t& value) {
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_pid(std::string_view text, pid_t& value) {
  long long parsed = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return false;
  }
  value = static_cast<pid_t>(parsed);
  return true;
}

}  // namespace

Result<ProcStat> parse_proc_stat(std::string_view line) {
  auto bad = [&](const char* why) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("parsing /proc stat line '{}': {}",
                                  line.substr(0, 80), why));
  };
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos ||
      close < open) {
    return bad("no '(comm)' field");
  }
  ProcStat stat;
  if (!parse_pid(trim(line.substr(0, open)), stat.pid)) {
    return bad("bad pid");
  }
  stat.comm = std::string(line.substr(open + 1, close - open - 1));
  // Fields after comm, numbered from 3 (state) as in proc(5).
  std::vector<std::string_view> fields;
  std::string_view rest = line.substr(close + 1);
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && (rest[pos] == ' ' || rest[pos] == '\n')) {
      ++pos;
    }
    if (pos >= rest.size()) {
      break;
    }
    size_t end = rest.find_first_of(" \n", pos);
    if (end == std::string_view::npos) {
      end = rest.size();
    }
    fields.push_back(rest.substr(pos, end - pos));
    pos = end;
  }
  // Field n (1-based, proc(5)) is fields[n - 3].
  if (fields.size() < 22) {  // Up to field 24 (rss).
    return bad("too few fields");
  }
  auto field = [&](int n) { return fields[static_cast<size_t>(n - 3)]; };
  if (field(3).size() != 1) {
    return bad("bad state");
  }
  stat.state = field(3)[0];
  if (!parse_pid(field(4), stat.ppid) || !parse_pid(field(5), stat.pgrp) ||
      !parse_pid(field(6), stat.session)) {
    return bad("bad ppid/pgrp/session");
  }
  uint64_t cutime = 0;
  uint64_t cstime = 0;
  if (!parse_u64(field(14), stat.utime_ticks) ||
      !parse_u64(field(15), stat.stime_ticks)) {
    return bad("bad utime/stime");
  }
  // cutime/cstime are signed in the kernel ABI but never negative in practice.
  if (!parse_u64(field(16), cutime) || !parse_u64(field(17), cstime)) {
    return bad("bad cutime/cstime");
  }
  stat.cutime_ticks = cutime;
  stat.cstime_ticks = cstime;
  if (!parse_u64(field(22), stat.start_ticks)) {
    return bad("bad starttime (field 22)");
  }
  if (!parse_u64(field(24), stat.rss_pages)) {
    stat.rss_pages = 0;  // Negative rss does not occur; be lenient.
  }
  return stat;
}

TreeUsage sum_session_usage(const std::vector<ProcStat>& stats, pid_t session,
                            long ticks_per_second, long page_size_bytes) {
  TreeUsage usage;
  uint64_t ticks = 0;
  for (const auto& stat : stats) {
    if (stat.session != session || !stat.alive()) {
      continue;
    }
    ++usage.processes;
    ticks += stat.utime_ticks + stat.stime_ticks + stat.cutime_ticks +
             stat.cstime_ticks;
    usage.rss_bytes += stat.rss_pages * static_cast<uint64_t>(page_size_bytes);
  }
  usage.cpu_seconds =
      static_cast<double>(ticks) / static_cast<double>(ticks_per_second);
  return usage;
}

ProcReader::ProcReader(std::string proc_root, long ticks_per_second,
                       long page_size_bytes)
    : proc_root_(std::move(proc_root)),
      ticks_per_second_(ticks_per_second > 0 ? ticks_per_second
                                             : sysconf(_SC_CLK_TCK)),
      page_size_bytes_(page_size_bytes > 0 ? page_size_bytes
                                           : sysconf(_SC_PAGESIZE)) {
  if (ticks_per_second_ <= 0) {
    ticks_per_second_ = 100;
  }
  if (page_size_bytes_ <= 0) {
    page_size_bytes_ = 4096;
  }
}

Result<ProcStat> ProcReader::read_stat(pid_t pid) const {
  const std::string path = fmt::format("{}/{}/stat", proc_root_, pid);
  std::ifstream in(path);
  if (!in) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("reading {}: no such process", path));
  }
  std::string line;
  std::getline(in, line);
  if (line.empty()) {
    // The process exited between open and read.
    return make_error(ErrorCode::kNotFound,
                      fmt::format("reading {}: process gone", path));
  }
  return parse_proc_stat(line);
}

std::vector<ProcStat> ProcReader::read_all() const {
  std::vector<ProcStat> stats;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(proc_root_, ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    pid_t pid = 0;
    if (name.empty() || !parse_pid(name, pid)) {
      continue;
    }
    auto stat = read_stat(pid);
    if (stat) {
      stats.push_back(std::move(*stat));
    }
  }
  return stats;
}

TreeUsage ProcReader::session_usage(pid_t session, TimePoint now) {
  if (!snapshot_time_ || *snapshot_time_ != now) {
    snapshot_ = read_all();
    snapshot_time_ = now;
  }
  return sum_session_usage(snapshot_, session, ticks_per_second_,
                           page_size_bytes_);
}

bool ProcReader::group_has_live_process(pid_t pgrp) const {
  for (const auto& stat : read_all()) {
    if (stat.pgrp == pgrp && stat.alive()) {
      return true;
    }
  }
  return false;
}

}  // namespace lowcarb::executors
