// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/workload.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/strings.h"
#include "common/time_format.h"

namespace lowcarb::scheduler::simulation {
namespace {

tl::unexpected<Error> line_error(const std::string& source, int line,
                                 std::string_view field,
                                 const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("{}:{}: {}: {}", source, line, field, why));
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

// Lines with their 1-based numbers; '\r' stripped.
struct Line {
  int number = 0;
  std::string_view text;
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> lines;
  int number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back({++number, line});
    pos = end + 1;
  }
  return lines;
}

Result<bool> parse_bool(std::string_view text) {
  std::string lower = to_lower(trim(text));
  if (lower.empty() || lower == "0" || lower == "false" || lower == "no") {
    return false;
  }
  if (lower == "1" || lower == "true" || lower == "yes") {
    return true;
  }
  return make_error(
      ErrorCode::kInvalidArgument,
      "expected true/false/1/0/yes/no, got '" + std::string(text) + "'");
}

Result<Workload> parse_canonical(const std::vector<Line>& lines,
                                 const std::string& source) {
  Workload workload;
  workload.source = source;
  bool first = true;
  for (const auto& line : lines) {
    if (trim(line.text).empty() || line.text.front() == '#') {
      continue;
    }
    auto fields = split(line.text, ',');
    if (first) {
      first = false;
      if (to_lower(trim(fields[0])) == "id") {
        continue;  // Header.
      }
    }
    if (fields.size() < 6 || fields.size() > 7) {
      return line_error(source, line.number, "row",
                        fmt::format("expected 6 or 7 fields "
                                    "(id,submit,duration,deadline,power_w,"
                                    "interruptible[,zones]), got {}",
                                    fields.size()));
    }
    WorkloadJob job;
    job.line = line.number;
    job.id = std::string(trim(fields[0]));
    if (job.id.empty()) {
      return line_error(source, line.number, "id", "empty");
    }
    auto submit = parse_time(trim(fields[1]), MissingOffset::kAssumeUtc);
    if (!submit) {
      return line_error(source, line.number, "submit", submit.error().message);
    }
    job.submit = *submit;
    auto duration = parse_duration(trim(fields[2]));
    if (!duration) {
      return line_error(source, line.number, "duration",
                        duration.error().message);
    }
    if (*duration <= Duration(0)) {
      return line_error(source, line.number, "duration", "must be positive");
    }
    job.duration = *duration;
    if (!trim(fields[3]).empty()) {
      auto deadline = parse_time(trim(fields[3]), MissingOffset::kAssumeUtc);
      if (!deadline) {
        return line_error(source, line.number, "deadline",
                          deadline.error().message);
      }
      if (*deadline < job.submit + job.duration) {
        return line_error(source, line.number, "deadline",
                          fmt::format("{} is before submit + duration ({})",
                                      format_utc(*deadline),
                                      format_utc(job.submit + job.duration)));
      }
      job.deadline = *deadline;
    }
    if (!trim(fields[4]).empty()) {
      auto power = parse_double(trim(fields[4]));
      if (!power || *power < 0) {
        return line_error(source, line.number, "power_w",
                          "expected a non-negative number of watts, got '" +
                              std::string(trim(fields[4])) + "'");
      }
      job.power_watts = *power;
    }
    auto interruptible = parse_bool(fields[5]);
    if (!interruptible) {
      return line_error(source, line.number, "interruptible",
                        interruptible.error().message);
    }
    job.interruptible = *interruptible;
    if (fields.size() == 7) {
      for (const auto& zone : split(fields[6], ';')) {
        if (!trim(zone).empty()) {
          job.zones.emplace_back(trim(zone));
        }
      }
    }
    workload.jobs.push_back(std::move(job));
  }
  return workload;
}

Result<Workload> parse_gaia(const std::vector<Line>& lines,
                            const std::string& source,
                            const WorkloadOptions& options) {
  Workload workload;
  workload.source = source;
  const double unit_seconds =
      options.gaia_time_unit == TimeUnit::kHours ? 3600.0 : 1.0;
  bool header_seen = false;
  int index = 0;
  for (const auto& line : lines) {
    if (trim(line.text).empty()) {
      continue;
    }
    auto fields = split(line.text, ',');
    if (!header_seen) {
      header_seen = true;
      if (fields.size() < 3 || to_lower(trim(fields[0])) != "arrival_time" ||
          to_lower(trim(fields[1])) != "length" ||
          to_lower(trim(fields[2])) != "cpus") {
        return line_error(source, line.number, "header",
                          "expected 'arrival_time,length,cpus'");
      }
      continue;
    }
    if (fields.size() < 3) {
      return line_error(
          source, line.number, "row",
          fmt::format("expected 3 fields, got {}", fields.size()));
    }
    auto arrival = parse_double(trim(fields[0]));
    if (!arrival || *arrival < 0) {
      return line_error(source, line.number, "arrival_time",
                        "expected a non-negative number, got '" +
                            std::string(trim(fields[0])) + "'");
    }
    auto length = parse_double(trim(fields[1]));
    if (!length || *length < 0) {
      return line_error(source, line.number, "length",
                        "expected a non-negative number, got '" +
                            std::string(trim(fields[1])) + "'");
    }
    auto cpus = parse_double(trim(fields[2]));
    if (!cpus || *cpus < 0) {
      return line_error(source, line.number, "cpus",
                        "expected a non-negative number, got '" +
                            std::string(trim(fields[2])) + "'");
    }
    ++index;
    auto seconds = std::llround(*length * unit_seconds);
    if (seconds <= 0) {
      ++workload.skipped;
      continue;
    }
    WorkloadJob job;
    job.line = line.number;
    job.id = std::to_string(index);
    job.submit =
        options.trace_start + Duration(std::llround(*arrival * unit_seconds));
    job.duration = Duration(seconds);
    job.cpus = static_cast<int>(std::lround(*cpus));
    workload.jobs.push_back(std::move(job));
  }
  if (!header_seen) {
    return line_error(source, 1, "header", "empty file");
  }
  return workload;
}

Result<Workload> parse_swf(const std::vector<Line>& lines,
                           const std::string& source,
                           const WorkloadOptions& options) {
  Workload workload;
  workload.source = source;
  for (const auto& line : lines) {
    auto text = trim(line.text);
    if (text.empty() || text.front() == ';') {
      continue;
    }
    std::vector<std::string_view> fields;
    size_t pos = 0;
    while (pos < text.size()) {
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) {
        ++pos;
      }
      size_t end = pos;
      while (end < text.size() && text[end] != ' ' && text[end] != '\t') {
        ++end;
      }
      if (end > pos) {
        fields.push_back(text.substr(pos, end - pos));
      }
      pos = end;
    }
    if (fields.size() < 8) {
      return line_error(source, line.number, "row",
                        fmt::format("expected at least 8 whitespace-separated "
                                    "SWF fields, got {}",
                                    fields.size()));
    }
    auto number = [&](size_t index, const char* name) -> Result<double> {
      auto value = parse_double(fields[index]);
      if (!value) {
        return line_error(
            source, line.number, fmt::format("field {} ({})", index + 1, name),
            "expected a number, got '" + std::string(fields[index]) + "'");
      }
      return *value;
    };
    auto submit = number(1, "submit time");
    auto run_time = number(3, "run time");
    auto allocated = number(4, "allocated processors");
    auto requested = number(7, "requested processors");
    for (const auto* result : {&submit, &run_time, &allocated, &requested}) {
      if (!*result) {
        return tl::unexpected(result->error());
      }
    }
    if (*submit < 0) {
      return line_error(source, line.number, "field 2 (submit time)",
                        "negative");
    }
    if (*run_time <= 0) {
      ++workload.skipped;  // -1 = unknown; 0 = nothing to schedule.
      continue;
    }
    WorkloadJob job;
    job.line = line.number;
    job.id = std::string(fields[0]);
    job.submit = options.trace_start + Duration(std::llround(*submit));
    job.duration = Duration(std::llround(*run_time));
    double cpus = *allocated > 0 ? *allocated : *requested;
    job.cpus = cpus > 0 ? static_cast<int>(std::lround(cpus)) : 0;
    workload.jobs.push_back(std::move(job));
  }
  return workload;
}

}  // namespace

Result<WorkloadFormat> workload_format_from_string(std::string_view text) {
  std::string lower = to_lower(trim(text));
  if (lower == "auto") {
    return WorkloadFormat::kAuto;
  }
  if (lower == "csv") {
    return WorkloadFormat::kCsv;
  }
  if (lower == "gaia") {
    return WorkloadFormat::kGaia;
  }
  if (lower == "swf") {
    return WorkloadFormat::kSwf;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown workload format '" + std::string(text) +
                        "' (known: csv, gaia, swf, auto)");
}

Result<TimeUnit> time_unit_from_string(std::string_view text) {
  std::string lower = to_lower(trim(text));
  if (lower == "s") {
    return TimeUnit::kSeconds;
  }
  if (lower == "h") {
    return TimeUnit::kHours;
  }
  return make_error(
      ErrorCode::kInvalidArgument,
      "unknown time unit '" + std::string(text) + "' (known: s, h)");
}

Result<std::string> read_maybe_gzipped(const std::string& path) {
  // gzread passes plain files through unchanged.
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return make_error(ErrorCode::kNotFound,
                      "reading workload " + path + ": cannot open");
  }
  std::string text;
  char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file, buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(got));
  }
  int errnum = 0;
  std::string why = got < 0 ? gzerror(file, &errnum) : "";
  gzclose(file);
  if (got < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "reading workload " + path + ": " + why);
  }
  return text;
}

Result<Workload> parse_workload_text(std::string_view text,
                                     const std::string& source_name,
                                     const WorkloadOptions& options) {
  auto lines = lines_of(text);
  WorkloadFormat format = options.format;
  if (format == WorkloadFormat::kAuto) {
    std::string_view first;
    for (const auto& line : lines) {
      if (!trim(line.text).empty()) {
        first = trim(line.text);
        break;
      }
    }
    std::string lower = to_lower(first);
    if (ends_with(source_name, ".swf") || ends_with(source_name, ".swf.gz") ||
        (!first.empty() && first.front() == ';')) {
      format = WorkloadFormat::kSwf;
    } else if (lower.rfind("arrival_time", 0) == 0) {
      format = WorkloadFormat::kGaia;
    } else if (lower.rfind("id,", 0) == 0) {
      format = WorkloadFormat::kCsv;
    } else {
      return make_error(
          ErrorCode::kInvalidArgument,
          source_name +
              ":1: header: cannot tell the workload format; expected "
              "'id,submit,duration,deadline,power_w,interruptible[,zones]', "
              "'arrival_time,length,cpus' or an .swf file (or pass "
              "--workload-format)");
    }
  }
  Result<Workload> workload = [&]() -> Result<Workload> {
    switch (format) {
      case WorkloadFormat::kCsv:
        return parse_canonical(lines, source_name);
      case WorkloadFormat::kGaia:
        return parse_gaia(lines, source_name, options);
      case WorkloadFormat::kSwf:
      case WorkloadFormat::kAuto:
        break;
    }
    return parse_swf(lines, source_name, options);
  }();
  if (!workload) {
    return workload;
  }
  std::stable_sort(workload->jobs.begin(), workload->jobs.end(),
                   [](const WorkloadJob& a, const WorkloadJob& b) {
                     return a.submit < b.submit;
                   });
  return workload;
}

Result<Workload> load_workload(const std::string& path,
                               const WorkloadOptions& options) {
  auto text = read_maybe_gzipped(path);
  if (!text) {
    return tl::unexpected(text.error());
  }
  return parse_workload_text(*text, path, options);
}

}  // namespace lowcarb::scheduler::simulation
