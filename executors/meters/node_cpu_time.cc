// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/node_cpu_time.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace lowcarb::executors {

Result<double> parse_node_busy_cpu_seconds(std::string_view proc_stat,
                                           long ticks_per_second) {
  if (ticks_per_second <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "/proc/stat: ticks per second must be positive");
  }
  const std::string first(proc_stat.substr(0, proc_stat.find('\n')));
  std::istringstream in(first);
  std::string label;
  in >> label;
  if (label != "cpu") {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("/proc/stat: first line '{}' is not the "
                                  "aggregate cpu line",
                                  first));
  }
  // user nice system idle iowait irq softirq steal guest guest_nice; older
  // kernels stop after idle (or iowait, irq, ...).
  std::vector<uint64_t> fields;
  uint64_t value = 0;
  while (in >> value) {
    fields.push_back(value);
  }
  if (fields.size() < 4 || !in.eof()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("/proc/stat: malformed cpu line '{}'", first));
  }
  auto field = [&](size_t i) { return i < fields.size() ? fields[i] : 0; };
  const uint64_t busy =
      field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
  return static_cast<double>(busy) / static_cast<double>(ticks_per_second);
}

Result<double> read_node_busy_cpu_seconds(const std::string& path,
                                          long ticks_per_second) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("cannot read {}", path));
  }
  return parse_node_busy_cpu_seconds(line, ticks_per_second);
}

}  // namespace lowcarb::executors
