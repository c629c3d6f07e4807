// SPDX-License-Identifier: Apache-2.0
// The node's busy CPU time from /proc/stat (proc(5)), the denominator when a
// node-level energy figure (RAPL) is split among jobs by CPU time. Busy is
// user+nice+system+irq+softirq+steal of the first ("cpu") line: idle and
// iowait are not work, and guest/guest_nice are already inside user/nice.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace lowcarb::executors {

// Busy CPU seconds since boot, all CPUs summed, from the text of /proc/stat.
// kInvalidArgument when the first line is not an aggregate "cpu" line with at
// least the first four fields, or `ticks_per_second` <= 0.
Result<double> parse_node_busy_cpu_seconds(std::string_view proc_stat,
                                           long ticks_per_second);

// Reads `path` (normally "/proc/stat"; tests pass a fake) and parses it.
// kUnavailable when it cannot be read.
Result<double> read_node_busy_cpu_seconds(const std::string& path,
                                          long ticks_per_second);

}  // namespace lowcarb::executors
