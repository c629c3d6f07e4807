// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_output.h"

#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "common/strings.h"
#include "executors/slurm_time.h"

namespace lowcarb::executors {
namespace {

bool contains(std::string_view text, std::string_view what) {
  return text.find(what) != std::string_view::npos;
}

bool contains_lower(std::string_view text, std::string_view lower_what) {
  return to_lower(text).find(lower_what) != std::string::npos;
}

std::string value_of(const std::map<std::string, std::string>& values,
                     const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? std::string{} : it->second;
}

// Fills a CompletionRecord from "Key=Value" fields shared by scontrol show
// job and the jobcomp log.
Result<CompletionRecord> completion_from_fields(
    const std::map<std::string, std::string>& fields, std::string_view what) {
  CompletionRecord record;
  record.job_id = value_of(fields, "JobId");
  record.state = value_of(fields, "JobState");
  if (record.job_id.empty() || record.state.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: no JobId or JobState field", what));
  }
  record.reason = value_of(fields, "Reason");
  std::tie(record.exit_code, record.signal) =
      parse_exit_code(value_of(fields, "ExitCode"));
  for (auto [key, target] : {std::pair{"StartTime", &record.started_at},
                             std::pair{"EndTime", &record.ended_at}}) {
    auto time = parse_slurm_time(value_of(fields, key));
    if (!time) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: job {} field {}: {}", what,
                                    record.job_id, key, time.error().message));
    }
    *target = *time;
  }
  return record;
}

// The numeric job id of a sacct JobID / JobIDRaw ("12", "12.batch", "12.0").
std::string_view base_job_id(std::string_view id) {
  return id.substr(0, id.find('.'));
}

// "3212K" -> 3212 x 1024 bytes; Slurm's TRES memory figures are binary
// multiples with an optional K/M/G/T/P suffix (none = bytes).
std::optional<uint64_t> parse_slurm_bytes(std::string_view text) {
  text = trim(text);
  if (text.empty()) {
    return std::nullopt;
  }
  double factor = 1;
  const char suffix = text.back();
  const std::string_view units = "KMGTP";
  if (auto at = units.find(static_cast<char>(std::toupper(suffix)));
      at != std::string_view::npos) {
    factor = std::pow(1024.0, static_cast<double>(at + 1));
    text.remove_suffix(1);
  }
  auto value = parse_double(text);
  if (!value || *value < 0) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(*value * factor);
}

// The comma-separated "name=value" list of a TRES string
// ("cpu=00:00:02,energy=0,mem=3212K"), as a map.
std::map<std::string, std::string> parse_tres(std::string_view text) {
  std::map<std::string, std::string> values;
  for (const auto& item : split(text, ',')) {
    const auto equals = item.find('=');
    if (equals != std::string::npos && equals > 0) {
      values[item.substr(0, equals)] = item.substr(equals + 1);
    }
  }
  return values;
}

// Slurm prints NO_VAL64 (2^64 - 2) for energy it does not know.
// Slurm's "no value" (NO_VAL64) read as milliseconds of CPU time is about
// 5.8e8 years; a step that is ending reports it in TRESUsageInTot (seen on
// 22.05 in the real test cluster). Any CPU time above 30 years is that.
constexpr double kNoValueCpuSeconds = 30.0 * 365 * 86400;

std::optional<double> parse_energy(std::string_view text) {
  auto value = parse_double(trim(text));
  if (!value || *value < 0 || *value >= 1e18) {
    return std::nullopt;
  }
  return value;
}

// `--parsable2 --noheader` output of sacct or sstat (`what`).
Result<std::vector<SacctRecord>> parse_parsable2(
    std::string_view out, const std::vector<std::string>& fields,
    std::string_view what) {
  std::vector<SacctRecord> records;
  int line_number = 0;
  for (const auto& raw : split(out, '\n')) {
    ++line_number;
    const std::string_view line = trim(raw);
    if (line.empty()) {
      continue;
    }
    auto values = split(line, '|');
    if (values.size() != fields.size()) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{} output line {}: {} fields, expected {} ({})", what,
                      line_number, values.size(), fields.size(),
                      fmt::join(fields, ",")));
    }
    SacctRecord record;
    for (size_t i = 0; i < fields.size(); ++i) {
      record[fields[i]] = std::move(values[i]);
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

Result<SubmittedJob> parse_sbatch_parsable(std::string_view out) {
  // sbatch may print warnings before the id; the id is on the last line.
  std::string_view text = trim(out);
  if (auto newline = text.rfind('\n'); newline != std::string_view::npos) {
    text = trim(text.substr(newline + 1));
  }
  SubmittedJob job;
  const auto semicolon = text.find(';');
  job.job_id = std::string(trim(text.substr(0, semicolon)));
  if (semicolon != std::string_view::npos) {
    job.cluster = std::string(trim(text.substr(semicolon + 1)));
  }
  if (job.job_id.empty() || !parse_integer(job.job_id)) {
    return make_error(
        ErrorCode::kInternal,
        fmt::format("sbatch --parsable: expected '<job id>[;<cluster>]', "
                    "got '{}'",
                    trim(out)));
  }
  return job;
}

Result<std::vector<SqueueRow>> parse_squeue(std::string_view out) {
  std::vector<SqueueRow> rows;
  int line_number = 0;
  for (const auto& raw : split(out, '\n')) {
    ++line_number;
    const std::string_view line = trim(raw);
    if (line.empty()) {
      continue;
    }
    // Split into the five fixed fields; the rest of the line is the comment.
    std::vector<std::string> fields;
    size_t start = 0;
    for (int i = 0; i < 5; ++i) {
      const size_t bar = line.find('|', start);
      if (bar == std::string_view::npos) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("squeue output line {}: expected 6 '|'-separated "
                        "fields (id|state|start|end|reason|comment): '{}'",
                        line_number, line));
      }
      fields.emplace_back(line.substr(start, bar - start));
      start = bar + 1;
    }
    SqueueRow row;
    row.job_id = fields[0];
    row.state = fields[1];
    row.reason = fields[4];
    row.comment = std::string(line.substr(start));
    if (row.comment == "(null)") {
      row.comment.clear();
    }
    auto start_time = parse_slurm_time(fields[2]);
    auto end_time = parse_slurm_time(fields[3]);
    if (!start_time || !end_time) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("squeue output line {}: {}", line_number,
                      (!start_time ? start_time : end_time).error().message));
    }
    row.start = *start_time;
    row.end = *end_time;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::map<std::string, std::string> parse_key_values(std::string_view line) {
  std::map<std::string, std::string> values;
  std::string* last = nullptr;
  for (const auto& word : split(line, ' ')) {
    const std::string_view token = trim(word);
    if (token.empty()) {
      continue;
    }
    const auto equals = token.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      if (last != nullptr) {
        last->append(" ").append(token);
      }
      continue;
    }
    last = &(values[std::string(token.substr(0, equals))] =
                 std::string(token.substr(equals + 1)));
  }
  return values;
}

std::pair<std::optional<int>, std::optional<int>> parse_exit_code(
    std::string_view text) {
  const auto colon = text.find(':');
  auto code = parse_integer(text.substr(0, colon));
  if (!code) {
    return {};
  }
  std::optional<int> signal;
  if (colon != std::string_view::npos) {
    if (auto sig = parse_integer(text.substr(colon + 1))) {
      signal = static_cast<int>(*sig);
    }
  }
  return {static_cast<int>(*code), signal};
}

Result<CompletionRecord> parse_scontrol_job(std::string_view out) {
  // -o prints one line per job; a job id names one job.
  const std::string_view line = trim(out.substr(0, out.find('\n')));
  return completion_from_fields(parse_key_values(line), "scontrol show job");
}

Result<CompletionRecord> parse_jobcomp(std::string_view text,
                                       std::string_view job_id) {
  const std::string prefix = fmt::format("JobId={} ", job_id);
  std::string found;
  for (const auto& raw : split(text, '\n')) {
    // Requeued jobs leave one line per run: the last line is the final one.
    if (raw.rfind(prefix, 0) == 0) {
      found = raw;
    }
  }
  if (found.empty()) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("job completion log: no record of job {}", job_id));
  }
  return completion_from_fields(parse_key_values(found), "job completion log");
}

std::vector<std::string> jobcomp_ids_named(std::string_view text,
                                           std::string_view name) {
  std::vector<std::string> ids;
  for (const auto& raw : split(text, '\n')) {
    auto fields = parse_key_values(raw);
    auto named = fields.find("Name");
    auto id = fields.find("JobId");
    if (named != fields.end() && id != fields.end() && named->second == name) {
      ids.push_back(id->second);
    }
  }
  return ids;
}

SlurmSiteInfo parse_show_config(std::string_view out) {
  SlurmSiteInfo info;
  for (const auto& raw : split(out, '\n')) {
    const auto equals = raw.find('=');
    if (equals == std::string::npos) {
      continue;
    }
    const std::string key(trim(std::string_view(raw).substr(0, equals)));
    const std::string value(trim(std::string_view(raw).substr(equals + 1)));
    if (key == "ClusterName") {
      info.cluster_name = value;
    } else if (key == "SlurmUser") {
      info.slurm_user = value.substr(0, value.find('('));
    } else if (key == "AccountingStorageType") {
      info.accounting_storage_type = value;
    } else if (key == "JobCompType") {
      info.job_comp_type = value;
    } else if (key == "JobCompLoc") {
      info.job_comp_loc = value;
    } else if (key == "AcctGatherEnergyType") {
      info.energy_plugin = value;
    }
  }
  return info;
}

Result<std::vector<SacctRecord>> parse_sacct(
    std::string_view out, const std::vector<std::string>& fields) {
  return parse_parsable2(out, fields, "sacct");
}

Result<JobUsage> usage_from_sacct(const std::vector<SacctRecord>& records,
                                  std::string_view job_id) {
  // Prefer the allocation line; sum the steps for what it lacks.
  std::optional<double> alloc_cpu, alloc_cpu_time, alloc_energy;
  double steps_cpu = 0, steps_energy = 0;
  bool any_step_cpu = false, any_step_energy = false, found = false;
  for (const auto& record : records) {
    const std::string id = value_of(record, "JobIDRaw").empty()
                               ? value_of(record, "JobID")
                               : value_of(record, "JobIDRaw");
    if (base_job_id(id) != job_id) {
      continue;
    }
    found = true;
    const bool allocation = id.find('.') == std::string::npos;
    std::optional<double> cpu, energy, cpu_time;
    if (auto text = value_of(record, "TotalCPU"); !text.empty()) {
      if (auto seconds = parse_slurm_duration(text)) {
        cpu = *seconds;
      }
    }
    if (auto text = value_of(record, "CPUTimeRAW"); !text.empty()) {
      if (auto seconds = parse_integer(text)) {
        cpu_time = static_cast<double>(*seconds);
      }
    } else if (auto text2 = value_of(record, "CPUTime"); !text2.empty()) {
      if (auto seconds = parse_slurm_duration(text2)) {
        cpu_time = *seconds;
      }
    }
    if (auto text = value_of(record, "ConsumedEnergyRaw"); !text.empty()) {
      energy = parse_double(text);
    }
    if (allocation) {
      alloc_cpu = alloc_cpu ? alloc_cpu : cpu;
      alloc_cpu_time = alloc_cpu_time ? alloc_cpu_time : cpu_time;
      alloc_energy = alloc_energy ? alloc_energy : energy;
    } else {
      if (cpu) {
        steps_cpu += *cpu;
        any_step_cpu = true;
      }
      if (energy) {
        steps_energy += *energy;
        any_step_energy = true;
      }
    }
  }
  if (!found) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("sacct: no record of job {}", job_id));
  }
  JobUsage usage;
  usage.cpu_seconds = alloc_cpu ? *alloc_cpu : (any_step_cpu ? steps_cpu : 0);
  usage.cpu_time_allocated_seconds = alloc_cpu_time;
  if (alloc_energy) {
    usage.energy_joules = alloc_energy;
  } else if (any_step_energy) {
    usage.energy_joules = steps_energy;
  }
  return usage;
}

Result<std::vector<SlurmStepUsage>> parse_sstat(
    std::string_view out, std::string_view job_id,
    const std::vector<std::string>& fields) {
  auto records = parse_parsable2(out, fields, "sstat");
  if (!records) {
    return make_error(records.error());
  }
  std::vector<SlurmStepUsage> steps;
  for (const auto& record : *records) {
    SlurmStepUsage step;
    step.step_id = value_of(record, "JobID");
    if (base_job_id(step.step_id) != job_id) {
      continue;
    }
    const auto tres = parse_tres(value_of(record, "TRESUsageInTot"));
    std::optional<double> cpu;
    if (auto it = tres.find("cpu"); it != tres.end()) {
      if (auto seconds = parse_slurm_duration(it->second);
          seconds && *seconds < kNoValueCpuSeconds) {
        cpu = *seconds;
      }
    }
    if (!cpu) {
      // AveCPU is per task.
      auto average = parse_slurm_duration(value_of(record, "AveCPU"));
      auto tasks = parse_integer(value_of(record, "NTasks"));
      if (average && *average >= kNoValueCpuSeconds) {
        continue;  // A step that is ending: its last sample stands.
      }
      if (average) {
        cpu = *average * static_cast<double>(tasks && *tasks > 0 ? *tasks : 1);
      }
    }
    if (!cpu) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("sstat: step {}: no CPU time in TRESUsageInTot "
                      "'{}' or AveCPU '{}'",
                      step.step_id, value_of(record, "TRESUsageInTot"),
                      value_of(record, "AveCPU")));
    }
    step.cpu_seconds = *cpu;
    if (auto it = tres.find("mem"); it != tres.end()) {
      step.rss_bytes = parse_slurm_bytes(it->second).value_or(0);
    }
    step.energy_joules = parse_energy(value_of(record, "ConsumedEnergyRaw"));
    if (!step.energy_joules) {
      if (auto it = tres.find("energy"); it != tres.end()) {
        step.energy_joules = parse_energy(it->second);
      }
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

Result<SlurmAllocation> parse_allocation(std::string_view out) {
  const std::string_view line = trim(out.substr(0, out.find('\n')));
  const auto fields = parse_key_values(line);
  SlurmAllocation allocation;
  auto cpus = parse_integer(value_of(fields, "NumCPUs"));
  if (!cpus) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("scontrol show job: no NumCPUs in '{}'",
                    line.substr(0, std::min<size_t>(line.size(), 80))));
  }
  allocation.cpus = static_cast<int>(*cpus);
  // Untyped "gres/gpu=N" is the total; typed "gres/gpu:a100=N" entries name
  // the model (Slurm lists both when it tracks the type).
  int typed = 0;
  for (const auto& [name, value] : parse_tres(value_of(fields, "TRES"))) {
    auto count = parse_integer(value);
    if (!count) {
      continue;
    }
    if (name == "gres/gpu") {
      allocation.gpus = static_cast<int>(*count);
    } else if (name.rfind("gres/gpu:", 0) == 0) {
      typed += static_cast<int>(*count);
      if (allocation.gpu_type.empty()) {
        allocation.gpu_type = name.substr(std::string_view("gres/gpu:").size());
      }
    }
  }
  if (allocation.gpus == 0) {
    allocation.gpus = typed;
  }
  allocation.exclusive = value_of(fields, "OverSubscribe") == "NO";
  if (auto restarts = parse_integer(value_of(fields, "Restarts"))) {
    allocation.restarts = static_cast<int>(*restarts);
  }
  return allocation;
}

RunState run_state_from_slurm(std::string_view state, std::string_view reason) {
  // State names from squeue(1) "JOB STATE CODES".
  if (state == "PENDING") {
    const bool held = contains_lower(reason, "held");
    return held ? RunState::kPaused : RunState::kPending;
  }
  if (state == "REQUEUE_HOLD") {
    return RunState::kPaused;
  }
  if (state == "REQUEUED" || state == "REQUEUE_FED" ||
      state == "RESV_DEL_HOLD") {
    return RunState::kPending;
  }
  if (state == "RUNNING" || state == "CONFIGURING" || state == "COMPLETING" ||
      state == "SIGNALING" || state == "RESIZING" || state == "STAGE_OUT") {
    return RunState::kRunning;
  }
  if (state == "SUSPENDED" || state == "STOPPED") {
    return RunState::kPaused;
  }
  if (state == "COMPLETED") {
    return RunState::kSucceeded;
  }
  if (state == "CANCELLED" || state == "REVOKED") {
    return RunState::kCancelled;
  }
  // FAILED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, BOOT_FAIL,
  // DEADLINE, SPECIAL_EXIT and anything newer: the job ended without success.
  return RunState::kFailed;
}

ErrorCode classify_slurm_error(std::string_view err) {
  if (contains(err, "Unable to contact slurm controller") ||
      contains_lower(err, "connection refused") ||
      contains_lower(err, "socket timed out") ||
      contains(err, "Zero Bytes were transmitted") ||
      contains_lower(err, "temporarily unavailable") ||
      contains_lower(err, "slurmctld is not responding")) {
    return ErrorCode::kUnavailable;
  }
  if (is_unknown_job_error(err)) {
    return ErrorCode::kNotFound;
  }
  if (contains_lower(err, "no longer pending") ||
      contains_lower(err, "already") || contains_lower(err, "is not running") ||
      contains_lower(err, "is pending") ||
      contains_lower(err, "job/step already completing or completed") ||
      contains_lower(err, "not suspended")) {
    return ErrorCode::kConflict;
  }
  if (contains_lower(err, "access denied") ||
      contains_lower(err, "permission denied") ||
      contains_lower(err, "not authorized") ||
      contains_lower(err, "only operators") ||
      contains_lower(err, "user not found")) {
    return ErrorCode::kPermissionDenied;
  }
  if (contains_lower(err, "invalid") || contains_lower(err, "unrecognized") ||
      contains_lower(err, "error: option")) {
    return ErrorCode::kInvalidArgument;
  }
  return ErrorCode::kUnavailable;
}

bool is_unknown_job_error(std::string_view err) {
  return contains_lower(err, "invalid job id");
}

}  // namespace lowcarb::executors
