// SPDX-License-Identifier: Apache-2.0
// The simulator's workload: a list of jobs with submission time, actual run
// time, optional deadline, power and zones, read from one of three trace
// formats:
//   - canonical CSV `id,submit,duration,deadline,power_w,interruptible[,zones]`
//     (ISO 8601 times; durations as "2h"/"PT2H" or plain seconds; `deadline`
//     and `power_w` may be empty; zones ';'-separated);
//   - the GAIA traces `arrival_time,length,cpus` (times relative to the trace
//     start, in seconds or hours);
//   - the Standard Workload Format (.swf, optionally gzip-compressed): comment
//     lines start with ';'; fields 2 (submit, s), 4 (run time, s), 5
//     (allocated processors) or 8 (requested processors).
// Any file may be gzip-compressed. Pure functions over text; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb::scheduler::simulation {

struct WorkloadJob {
  std::string id;
  TimePoint submit;
  Duration duration{0};               // Actual (= estimated) run time.
  std::optional<TimePoint> deadline;  // Must have finished by this.
  std::optional<double> power_watts;  // Declared power, when the trace has it.
  int cpus = 0;                       // 0 = the trace does not say.
  bool interruptible = false;
  std::vector<std::string> zones;  // Empty = every simulated zone.
  int line = 0;                    // Where it came from, for messages.
};

struct Workload {
  std::string source;             // File name, for messages.
  std::vector<WorkloadJob> jobs;  // Sorted by submit time (stable).
  int skipped = 0;  // Records without a usable run time (SWF -1, zero length).
};

enum class WorkloadFormat { kAuto, kCsv, kGaia, kSwf };

// "csv", "gaia", "swf" or "auto".
Result<WorkloadFormat> workload_format_from_string(std::string_view text);

enum class TimeUnit { kSeconds, kHours };
Result<TimeUnit> time_unit_from_string(std::string_view text);

struct WorkloadOptions {
  WorkloadFormat format = WorkloadFormat::kAuto;  // kAuto: from the header
                                                  // line or a .swf name.
  // GAIA: the unit of `arrival_time` and `length`. Default: seconds.
  TimeUnit gaia_time_unit = TimeUnit::kSeconds;
  // GAIA and SWF times are offsets from this instant.
  TimePoint trace_start{};
};

// Reads `path` (plain or gzip). Errors name the file and line.
Result<Workload> load_workload(const std::string& path,
                               const WorkloadOptions& options);

// The same for text already in memory; `source_name` is used in errors.
Result<Workload> parse_workload_text(std::string_view text,
                                     const std::string& source_name,
                                     const WorkloadOptions& options);

// The whole file, gunzipped when it is gzip-compressed.
Result<std::string> read_maybe_gzipped(const std::string& path);

}  // namespace lowcarb::scheduler::simulation
