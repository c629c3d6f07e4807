// SPDX-License-Identifier: Apache-2.0
#include "scheduler/job.h"

#include <chrono>
#include <cmath>
#include <iterator>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace lowcarb::scheduler {
namespace {

using nlohmann::json;

constexpr JobState kAllStates[] = {
    JobState::kQueued,    JobState::kStarting, JobState::kRunning,
    JobState::kPausing,   JobState::kPaused,   JobState::kResuming,
    JobState::kSucceeded, JobState::kFailed,   JobState::kCancelled};

constexpr Policy kAllPolicies[] = {Policy::kAuto,          Policy::kRunNow,
                                   Policy::kFlexibleStart, Policy::kThreshold,
                                   Policy::kPauseResume,   Policy::kSpatial};

}  // namespace

const char* to_string(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kStarting:
      return "starting";
    case JobState::kRunning:
      return "running";
    case JobState::kPausing:
      return "pausing";
    case JobState::kPaused:
      return "paused";
    case JobState::kResuming:
      return "resuming";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

Result<JobState> job_state_from_string(const std::string& text) {
  for (JobState state : kAllStates) {
    if (text == to_string(state)) {
      return state;
    }
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("unknown job state '{}'", text));
}

bool is_terminal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

const char* to_string(Policy policy) {
  switch (policy) {
    case Policy::kAuto:
      return "auto";
    case Policy::kRunNow:
      return "run-now";
    case Policy::kFlexibleStart:
      return "flexible-start";
    case Policy::kThreshold:
      return "threshold";
    case Policy::kPauseResume:
      return "pause-resume";
    case Policy::kSpatial:
      return "spatial";
  }
  return "auto";
}

Result<Policy> policy_from_string(const std::string& text) {
  for (Policy policy : kAllPolicies) {
    if (text == to_string(policy)) {
      return policy;
    }
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("unknown policy '{}' (known: auto, run-now, "
                                "flexible-start, threshold, pause-resume, "
                                "spatial)",
                                text));
}

Status JobSpec::validate() const {
  auto bad = [](std::string message) {
    return make_error(ErrorCode::kInvalidArgument, std::move(message));
  };
  if (argv.empty() && shell_command.empty() && sbatch_script.empty()) {
    return bad(
        "missing command: give COMMAND [ARGS...] after --, or --sbatch "
        "SCRIPT");
  }
  if (duration <= Duration(0)) {
    return bad("duration must be positive");
  }
  if (duration > std::chrono::hours(24 * 366)) {
    return bad(fmt::format("duration {} is longer than a year",
                           format_duration(duration)));
  }
  if (deadline <= earliest) {
    return bad(fmt::format("deadline {} is not after the earliest start {}",
                           format_utc(deadline), format_utc(earliest)));
  }
  if (earliest + duration > deadline) {
    return bad(fmt::format(
        "infeasible: a {} job starting at the earliest {} ends at {}, after "
        "its deadline {}",
        format_duration(duration), format_utc(earliest),
        format_utc(earliest + duration), format_utc(deadline)));
  }
  if (min_chunk < Duration(0) || min_chunk > duration) {
    return bad("min-chunk must be between 0 and the duration");
  }
  if (resume_overhead < Duration(0)) {
    return bad("resume overhead must not be negative");
  }
  if (power_watts < 0) {
    return bad("power must not be negative");
  }
  return {};
}

std::string spec_to_json(const JobSpec& spec) {
  json j;
  j["name"] = spec.name;
  j["uid"] = spec.uid;
  j["gid"] = spec.gid;
  j["user"] = spec.user;
  j["argv"] = spec.argv;
  j["shell_command"] = spec.shell_command;
  j["sbatch_script"] = spec.sbatch_script;
  j["sbatch_options"] = spec.sbatch_options;
  j["working_dir"] = spec.working_dir;
  j["env"] = spec.env;
  j["duration_s"] = spec.duration.count();
  j["submitted_at"] = format_utc(spec.submitted_at);
  j["earliest"] = format_utc(spec.earliest);
  j["deadline"] = format_utc(spec.deadline);
  j["zones"] = spec.zones;
  j["executor"] = spec.executor;
  j["interruptible"] = spec.interruptible;
  if (spec.allow_late) {
    j["allow_late"] = true;
  }
  j["pause_mode"] = spec.pause_mode == executors::PauseMode::kCheckpoint
                        ? "checkpoint"
                        : "stop";
  j["min_chunk_s"] = spec.min_chunk.count();
  j["max_pauses"] = spec.max_pauses;
  if (spec.resume_overhead > Duration(0)) {
    j["resume_overhead_s"] = spec.resume_overhead.count();
  }
  if (spec.threshold_gco2_per_kwh) {
    j["threshold_gco2_per_kwh"] = *spec.threshold_gco2_per_kwh;
  }
  j["power_watts"] = spec.power_watts;
  j["hardware"] = spec.hardware;
  j["policy"] = to_string(spec.policy);
  return j.dump();
}

namespace {

Result<TimePoint> time_field(const json& j, const char* key) {
  return parse_time(j.at(key).get<std::string>());
}

}  // namespace

Result<JobSpec> spec_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    JobSpec spec;
    spec.name = j.value("name", "");
    spec.uid = j.value("uid", 0u);
    spec.gid = j.value("gid", 0u);
    spec.user = j.value("user", "");
    spec.argv = j.value("argv", std::vector<std::string>{});
    spec.shell_command = j.value("shell_command", "");
    spec.sbatch_script = j.value("sbatch_script", "");
    spec.sbatch_options = j.value("sbatch_options", std::vector<std::string>{});
    spec.working_dir = j.value("working_dir", "");
    spec.env = j.value("env", std::map<std::string, std::string>{});
    spec.duration = Duration(j.at("duration_s").get<int64_t>());
    auto submitted = time_field(j, "submitted_at");
    auto earliest = time_field(j, "earliest");
    auto deadline = time_field(j, "deadline");
    if (!submitted || !earliest || !deadline) {
      return make_error(ErrorCode::kInvalidArgument,
                        "stored job spec has a bad timestamp");
    }
    spec.submitted_at = *submitted;
    spec.earliest = *earliest;
    spec.deadline = *deadline;
    spec.zones = j.value("zones", std::vector<std::string>{});
    spec.executor = j.value("executor", "");
    spec.interruptible = j.value("interruptible", false);
    spec.allow_late = j.value("allow_late", false);
    spec.pause_mode = j.value("pause_mode", "stop") == "checkpoint"
                          ? executors::PauseMode::kCheckpoint
                          : executors::PauseMode::kStop;
    spec.min_chunk = Duration(j.value("min_chunk_s", int64_t{0}));
    spec.max_pauses = j.value("max_pauses", -1);
    spec.resume_overhead = Duration(j.value("resume_overhead_s", int64_t{0}));
    if (j.contains("threshold_gco2_per_kwh")) {
      spec.threshold_gco2_per_kwh = j["threshold_gco2_per_kwh"].get<double>();
    }
    spec.power_watts = j.value("power_watts", 0.0);
    spec.hardware = j.value("hardware", "");
    auto policy = policy_from_string(j.value("policy", "auto"));
    if (!policy) {
      return make_error(policy.error());
    }
    spec.policy = *policy;
    return spec;
  } catch (const json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("stored job spec: {}", e.what()));
  }
}

namespace {

// done_grams and done_run_now_grams are written only for a job that ran
// before the plan, so other plans stay as they were.
bool has_done_figures(const Plan& plan) {
  return plan.done_grams > 0 || plan.done_run_now_grams > 0;
}

// The plan as nlohmann::json writes it: the reference format, and the path
// for what the fast writer below does not handle.
std::string plan_to_json_slow(const Plan& plan) {
  json j;
  if (has_done_figures(plan)) {
    j["done_grams"] = plan.done_grams;
    j["done_run_now_grams"] = plan.done_run_now_grams;
  }
  j["zone"] = plan.zone;
  json segments = json::array();
  for (const auto& s : plan.segments) {
    segments.push_back(
        {{"start", format_utc(s.start)}, {"end", format_utc(s.end)}});
  }
  j["segments"] = segments;
  j["expected_gco2_per_kwh"] = plan.expected_gco2_per_kwh;
  j["expected_grams"] = plan.expected_grams;
  j["run_now_zone"] = plan.run_now_zone;
  j["run_now_gco2_per_kwh"] = plan.run_now_gco2_per_kwh;
  j["run_now_grams"] = plan.run_now_grams;
  j["savings_percent"] = plan.savings_percent;
  j["reason"] = plan.reason;
  return j.dump();
}

// True when `text` can be written between quotes as it is: printable ASCII
// without quote or backslash.
bool plain(const std::string& text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      return false;
    }
  }
  return true;
}

bool plain_time(TimePoint t) {
  auto year = static_cast<int>(
      std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t))
          .year());
  return year >= 0 && year <= 9999;
}

// format_utc() without its ostringstream (REQUIRES: plain_time(t)).
void append_utc(fmt::memory_buffer& out, TimePoint t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day date(day);
  std::chrono::hh_mm_ss<Duration> time(t - day);
  fmt::format_to(
      std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
      static_cast<unsigned>(date.day()), time.hours().count(),
      time.minutes().count(), time.seconds().count());
}

// A finite double in shortest round-trip form, kept a JSON float ("12.0",
// not "12") as nlohmann::json writes it.
void append_number(fmt::memory_buffer& out, double value) {
  const size_t begin = out.size();
  fmt::format_to(std::back_inserter(out), "{}", value);
  for (size_t i = begin; i < out.size(); ++i) {
    if (out[i] == '.' || out[i] == 'e') {
      return;
    }
  }
  out.append(std::string_view(".0"));
}

}  // namespace

std::string format_plan_time(TimePoint t) {
  if (!plain_time(t)) {
    return format_utc(t);
  }
  fmt::memory_buffer out;
  append_utc(out, t);
  return fmt::to_string(out);
}

// Written with fmt in nlohmann::json's key order (sorted) and layout: a
// re-plan of 100,000 jobs writes 100,000 plans, and building a json object
// per plan was a visible share of it. Strings that would need escaping,
// non-finite numbers (written as null) and years outside 0000-9999 take the
// nlohmann path, so the output is always what plan_from_json() reads.
std::string plan_to_json(const Plan& plan) {
  bool fast = plain(plan.zone) && plain(plan.run_now_zone) &&
              plain(plan.reason) && std::isfinite(plan.expected_gco2_per_kwh) &&
              std::isfinite(plan.expected_grams) &&
              std::isfinite(plan.run_now_gco2_per_kwh) &&
              std::isfinite(plan.run_now_grams) &&
              std::isfinite(plan.savings_percent) &&
              std::isfinite(plan.done_grams) &&
              std::isfinite(plan.done_run_now_grams);
  for (const auto& s : plan.segments) {
    fast = fast && plain_time(s.start) && plain_time(s.end);
  }
  if (!fast) {
    return plan_to_json_slow(plan);
  }
  fmt::memory_buffer out;
  auto text = [&](std::string_view s) { out.append(s); };
  // Keys in sorted order, as nlohmann writes them.
  if (has_done_figures(plan)) {
    text("{\"done_grams\":");
    append_number(out, plan.done_grams);
    text(",\"done_run_now_grams\":");
    append_number(out, plan.done_run_now_grams);
    text(",\"expected_gco2_per_kwh\":");
  } else {
    text("{\"expected_gco2_per_kwh\":");
  }
  append_number(out, plan.expected_gco2_per_kwh);
  text(",\"expected_grams\":");
  append_number(out, plan.expected_grams);
  text(",\"reason\":\"");
  text(plan.reason);
  text("\",\"run_now_gco2_per_kwh\":");
  append_number(out, plan.run_now_gco2_per_kwh);
  text(",\"run_now_grams\":");
  append_number(out, plan.run_now_grams);
  text(",\"run_now_zone\":\"");
  text(plan.run_now_zone);
  text("\",\"savings_percent\":");
  append_number(out, plan.savings_percent);
  text(",\"segments\":[");
  for (size_t i = 0; i < plan.segments.size(); ++i) {
    text(i == 0 ? "{\"end\":\"" : ",{\"end\":\"");
    append_utc(out, plan.segments[i].end);
    text("\",\"start\":\"");
    append_utc(out, plan.segments[i].start);
    text("\"}");
  }
  text("],\"zone\":\"");
  text(plan.zone);
  text("\"}");
  return fmt::to_string(out);
}

Result<Plan> plan_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    Plan plan;
    plan.zone = j.value("zone", "");
    for (const auto& s : j.at("segments")) {
      auto start = parse_time(s.at("start").get<std::string>());
      auto end = parse_time(s.at("end").get<std::string>());
      if (!start || !end) {
        return make_error(ErrorCode::kInvalidArgument,
                          "stored plan has a bad timestamp");
      }
      plan.segments.push_back({*start, *end});
    }
    plan.expected_gco2_per_kwh = j.value("expected_gco2_per_kwh", 0.0);
    plan.expected_grams = j.value("expected_grams", 0.0);
    plan.done_grams = j.value("done_grams", 0.0);
    plan.done_run_now_grams = j.value("done_run_now_grams", 0.0);
    plan.run_now_zone = j.value("run_now_zone", "");
    plan.run_now_gco2_per_kwh = j.value("run_now_gco2_per_kwh", 0.0);
    plan.run_now_grams = j.value("run_now_grams", 0.0);
    plan.savings_percent = j.value("savings_percent", 0.0);
    plan.reason = j.value("reason", "");
    if (plan.segments.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "stored plan has no segments");
    }
    return plan;
  } catch (const json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("stored plan: {}", e.what()));
  }
}

std::string handle_to_text(const executors::ExecutorHandle& handle) {
  return json{{"executor", handle.executor},
              {"cluster", handle.cluster},
              {"native_id", handle.native_id}}
      .dump();
}

Result<executors::ExecutorHandle> handle_from_text(const std::string& text) {
  try {
    json j = json::parse(text);
    return executors::ExecutorHandle{j.value("executor", ""),
                                     j.value("cluster", ""),
                                     j.value("native_id", "")};
  } catch (const json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("stored executor handle: {}", e.what()));
  }
}

}  // namespace lowcarb::scheduler
