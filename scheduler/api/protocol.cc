// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/protocol.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "common/strings.h"
#include "common/time_format.h"
#include "scheduler/api/json_depth.h"

namespace lowcarb::scheduler::api {
namespace {

using nlohmann::json;

struct OpName {
  Op op;
  const char* name;
};

constexpr OpName kOps[] = {
    {Op::kPing, "ping"},     {Op::kSubmit, "submit"}, {Op::kList, "list"},
    {Op::kShow, "show"},     {Op::kCancel, "cancel"}, {Op::kPause, "pause"},
    {Op::kResume, "resume"}, {Op::kReport, "report"}, {Op::kMetrics, "metrics"},
    {Op::kLogs, "logs"},
};

// The fields each op accepts besides "op".
std::vector<std::string> fields_of(Op op) {
  switch (op) {
    case Op::kPing:
    case Op::kMetrics:
      return {};
    case Op::kSubmit:
      return {"name",
              "argv",
              "shell_command",
              "sbatch_script",
              "sbatch_options",
              "working_dir",
              "env",
              "duration",
              "earliest",
              "deadline",
              "zones",
              "executor",
              "interruptible",
              "pause_mode",
              "min_chunk",
              "max_pauses",
              "threshold_gco2_per_kwh",
              "power_watts",
              "hardware",
              "policy",
              "request_id",
              "allow_late"};
    case Op::kList:
      return {"limit", "all"};
    case Op::kShow:
    case Op::kCancel:
    case Op::kPause:
    case Op::kResume:
      return {"id"};
    case Op::kReport:
      return {"id", "ledger"};
    case Op::kLogs:
      return {"id", "stream", "offset", "max_bytes"};
  }
  return {};
}

tl::unexpected<Error> bad(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, std::move(message));
}

tl::unexpected<Error> bad_type(const std::string& field, const char* want,
                               const json& value) {
  return bad(fmt::format("field '{}': expected {}, got {}", field, want,
                         value.type_name()));
}

Result<std::string> string_field(const json& j, const std::string& field,
                                 size_t max_size = 4096) {
  const json& value = j.at(field);
  if (!value.is_string()) {
    return bad_type(field, "a string", value);
  }
  auto text = value.get<std::string>();
  if (text.size() > max_size) {
    return bad(
        fmt::format("field '{}': longer than {} bytes", field, max_size));
  }
  if (text.find('\0') != std::string::npos) {
    return bad(fmt::format("field '{}': contains a NUL character", field));
  }
  return text;
}

Result<std::vector<std::string>> string_list_field(const json& j,
                                                   const std::string& field,
                                                   size_t max_items) {
  const json& value = j.at(field);
  if (!value.is_array()) {
    return bad_type(field, "an array of strings", value);
  }
  if (value.size() > max_items) {
    return bad(fmt::format("field '{}': more than {} items", field, max_items));
  }
  std::vector<std::string> items;
  for (size_t i = 0; i < value.size(); ++i) {
    const auto& item = value[i];
    const std::string name = fmt::format("{}[{}]", field, i);
    if (!item.is_string()) {
      return bad_type(name, "a string", item);
    }
    auto text = item.get<std::string>();
    if (text.find('\0') != std::string::npos) {
      return bad(fmt::format("field '{}': contains a NUL character", name));
    }
    items.push_back(std::move(text));
  }
  return items;
}

Result<bool> bool_field(const json& j, const std::string& field) {
  const json& value = j.at(field);
  if (!value.is_boolean()) {
    return bad_type(field, "true or false", value);
  }
  return value.get<bool>();
}

Result<double> number_field(const json& j, const std::string& field, double lo,
                            double hi) {
  const json& value = j.at(field);
  if (!value.is_number()) {
    return bad_type(field, "a number", value);
  }
  double number = value.get<double>();
  if (!(number >= lo && number <= hi)) {
    return bad(fmt::format("field '{}': {} is out of range [{}, {}]", field,
                           number, lo, hi));
  }
  return number;
}

Result<int64_t> integer_field(const json& j, const std::string& field,
                              int64_t lo, int64_t hi) {
  const json& value = j.at(field);
  if (!value.is_number_integer()) {
    return bad_type(field, "an integer", value);
  }
  // Unsigned values above int64 max are out of range, not wrapped.
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() >
          static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return bad(fmt::format("field '{}': out of range [{}, {}]", field, lo, hi));
  }
  int64_t number = value.get<int64_t>();
  if (number < lo || number > hi) {
    return bad(fmt::format("field '{}': {} is out of range [{}, {}]", field,
                           number, lo, hi));
  }
  return number;
}

// A duration: whole seconds as a number, or text parse_duration() accepts.
Result<Duration> duration_field(const json& j, const std::string& field,
                                Duration max) {
  const json& value = j.at(field);
  Duration duration{0};
  if (value.is_number_integer()) {
    auto seconds = integer_field(j, field, 0, max.count());
    if (!seconds) {
      return make_error(seconds.error());
    }
    duration = Duration(*seconds);
  } else if (value.is_string()) {
    auto parsed = parse_duration(value.get<std::string>());
    if (!parsed) {
      return bad(fmt::format("field '{}': {}", field, parsed.error().message));
    }
    duration = *parsed;
  } else {
    return bad_type(field, "whole seconds or a duration like \"2h30m\"", value);
  }
  if (duration > max) {
    return bad(fmt::format("field '{}': {} is longer than the limit {}", field,
                           format_duration(duration), format_duration(max)));
  }
  return duration;
}

Result<TimePoint> time_field(const json& j, const std::string& field,
                             TimePoint now) {
  auto text = string_field(j, field, 64);
  if (!text) {
    return make_error(text.error());
  }
  auto parsed = parse_time_spec(*text, now);
  if (!parsed) {
    return bad(fmt::format("field '{}': {}", field, parsed.error().message));
  }
  return *parsed;
}

Status check_known_fields(const json& j, Op op) {
  const auto known = fields_of(op);
  for (const auto& [key, value] : j.items()) {
    if (key == "op") {
      continue;
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return bad(fmt::format(
          "unknown field '{}' in a {} request{}{}", key, to_string(op),
          did_you_mean(key, known),
          known.empty() ? std::string(" (it takes no fields)")
                        : fmt::format(" (known: {})", fmt::join(known, ", "))));
    }
  }
  return {};
}

Result<std::string> job_id_field(const json& j) {
  if (!j.contains("id")) {
    return bad("missing field 'id' (the job id)");
  }
  const json& value = j.at("id");
  std::string id;
  if (value.is_number_unsigned()) {
    id = std::to_string(value.get<uint64_t>());
  } else if (value.is_string()) {
    id = value.get<std::string>();
  } else {
    return bad_type("id", "a job id", value);
  }
  if (id.empty() || id.size() > 64 ||
      !std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
               c == '_' || c == '.';
      })) {
    return bad(
        fmt::format("field 'id': '{}' is not a job id", id.substr(0, 64)));
  }
  return id;
}

Status parse_submit(const json& j, TimePoint now, const ProtocolLimits& limits,
                    JobSpec& spec) {
  constexpr size_t kMaxArgs = 4096;
  constexpr size_t kMaxArgBytes = 128 * 1024;
  if (j.contains("name")) {
    auto v = string_field(j, "name", 256);
    if (!v) {
      return make_error(v.error());
    }
    spec.name = *v;
  }
  if (j.contains("argv")) {
    auto v = string_list_field(j, "argv", kMaxArgs);
    if (!v) {
      return make_error(v.error());
    }
    spec.argv = *v;
  }
  if (j.contains("shell_command")) {
    auto v = string_field(j, "shell_command", kMaxArgBytes);
    if (!v) {
      return make_error(v.error());
    }
    spec.shell_command = *v;
  }
  if (j.contains("sbatch_script")) {
    auto v = string_field(j, "sbatch_script");
    if (!v) {
      return make_error(v.error());
    }
    spec.sbatch_script = *v;
  }
  if (j.contains("sbatch_options")) {
    auto v = string_list_field(j, "sbatch_options", kMaxArgs);
    if (!v) {
      return make_error(v.error());
    }
    spec.sbatch_options = *v;
  }
  if (!spec.argv.empty() + !spec.shell_command.empty() +
          !spec.sbatch_script.empty() >
      1) {
    return bad("give only one of 'argv', 'shell_command' and 'sbatch_script'");
  }
  if (!spec.argv.empty() && spec.argv.front().empty()) {
    return bad("field 'argv[0]': the program name is empty");
  }
  if (j.contains("working_dir")) {
    auto v = string_field(j, "working_dir");
    if (!v) {
      return make_error(v.error());
    }
    if (!v->empty() && v->front() != '/') {
      return bad(
          fmt::format("field 'working_dir': '{}' is not an absolute path", *v));
    }
    spec.working_dir = *v;
  }
  if (j.contains("request_id")) {
    auto v = string_field(j, "request_id", 128);
    if (!v) {
      return make_error(v.error());
    }
    if (v->empty() || !std::all_of(v->begin(), v->end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                 c == '_' || c == '.' || c == ':';
        })) {
      return bad(
          "field 'request_id': use letters, digits and - _ . : only (at "
          "most 128)");
    }
    spec.request_id = *v;
  }
  if (j.contains("env")) {
    const json& env = j.at("env");
    if (!env.is_object()) {
      return bad_type("env", "an object of strings", env);
    }
    if (env.size() > kMaxArgs) {
      return bad(fmt::format("field 'env': more than {} variables", kMaxArgs));
    }
    for (const auto& [key, value] : env.items()) {
      if (key.empty() || key.find('=') != std::string::npos ||
          key.find('\0') != std::string::npos) {
        return bad(
            fmt::format("field 'env': '{}' is not a variable name", key));
      }
      if (!value.is_string()) {
        return bad_type("env." + key, "a string", value);
      }
      auto text = value.get<std::string>();
      if (text.find('\0') != std::string::npos) {
        return bad(
            fmt::format("field 'env.{}': contains a NUL character", key));
      }
      spec.env[key] = std::move(text);
    }
  }
  if (!j.contains("duration")) {
    return bad("missing field 'duration' (the job's expected run time)");
  }
  auto duration = duration_field(j, "duration", limits.max_duration);
  if (!duration) {
    return make_error(duration.error());
  }
  if (*duration <= Duration(0)) {
    return bad("field 'duration': must be positive");
  }
  spec.duration = *duration;
  spec.earliest = now;
  if (j.contains("earliest")) {
    auto v = time_field(j, "earliest", now);
    if (!v) {
      return make_error(v.error());
    }
    spec.earliest = *v;
  }
  if (!j.contains("deadline")) {
    return bad("missing field 'deadline' (when the job must have finished)");
  }
  auto deadline = time_field(j, "deadline", now);
  if (!deadline) {
    return make_error(deadline.error());
  }
  if (*deadline > now + limits.max_deadline_ahead) {
    return bad(fmt::format(
        "field 'deadline': {} is more than {} ahead (the limit)",
        format_utc(*deadline), format_duration(limits.max_deadline_ahead)));
  }
  if (*deadline <= now) {
    return bad(fmt::format("field 'deadline': {} is in the past (now {})",
                           format_utc(*deadline), format_utc(now)));
  }
  spec.deadline = *deadline;
  if (spec.earliest > spec.deadline) {
    return bad(fmt::format("field 'earliest': {} is after the deadline {}",
                           format_utc(spec.earliest),
                           format_utc(spec.deadline)));
  }
  if (j.contains("zones")) {
    auto v = string_list_field(j, "zones", 64);
    if (!v) {
      return make_error(v.error());
    }
    for (const auto& zone : *v) {
      if (zone.empty() || zone.size() > 64) {
        return bad(fmt::format("field 'zones': '{}' is not a zone id", zone));
      }
    }
    spec.zones = *v;
  }
  if (j.contains("executor")) {
    auto v = string_field(j, "executor", 128);
    if (!v) {
      return make_error(v.error());
    }
    if (!v->empty() && *v != "local" && *v != "slurm" &&
        v->rfind("slurm:", 0) != 0) {
      return bad(fmt::format(
          "field 'executor': '{}' is not local, slurm or slurm:CLUSTER", *v));
    }
    spec.executor = *v;
  }
  if (j.contains("interruptible")) {
    auto v = bool_field(j, "interruptible");
    if (!v) {
      return make_error(v.error());
    }
    spec.interruptible = *v;
  }
  if (j.contains("allow_late")) {
    auto v = bool_field(j, "allow_late");
    if (!v) {
      return make_error(v.error());
    }
    spec.allow_late = *v;
  }
  if (j.contains("pause_mode")) {
    auto v = string_field(j, "pause_mode", 32);
    if (!v) {
      return make_error(v.error());
    }
    if (*v == "stop") {
      spec.pause_mode = executors::PauseMode::kStop;
    } else if (*v == "checkpoint") {
      spec.pause_mode = executors::PauseMode::kCheckpoint;
    } else {
      return bad(fmt::format(
          "field 'pause_mode': '{}' is not stop or checkpoint", *v));
    }
  }
  if (j.contains("min_chunk")) {
    auto v = duration_field(j, "min_chunk", limits.max_duration);
    if (!v) {
      return make_error(v.error());
    }
    spec.min_chunk = *v;
  }
  if (j.contains("max_pauses")) {
    auto v = integer_field(j, "max_pauses", -1, 10000);
    if (!v) {
      return make_error(v.error());
    }
    spec.max_pauses = static_cast<int>(*v);
  }
  if (j.contains("threshold_gco2_per_kwh")) {
    auto v = number_field(j, "threshold_gco2_per_kwh", 0, 5000);
    if (!v) {
      return make_error(v.error());
    }
    spec.threshold_gco2_per_kwh = *v;
  }
  if (j.contains("power_watts")) {
    auto v = number_field(j, "power_watts", 0, 1e7);
    if (!v) {
      return make_error(v.error());
    }
    spec.power_watts = *v;
  }
  if (j.contains("hardware")) {
    auto v = string_field(j, "hardware", 256);
    if (!v) {
      return make_error(v.error());
    }
    spec.hardware = *v;
  }
  if (j.contains("policy")) {
    auto v = string_field(j, "policy", 32);
    if (!v) {
      return make_error(v.error());
    }
    auto policy = policy_from_string(*v);
    if (!policy) {
      return bad("field 'policy': " + policy.error().message);
    }
    spec.policy = *policy;
  }
  if (auto s = spec.validate(); !s) {
    return make_error(s.error());
  }
  return {};
}

Result<Request> parse_object(const json& j, TimePoint now,
                             const ProtocolLimits& limits) {
  if (!j.is_object()) {
    return bad(
        fmt::format("a request must be a JSON object, got {}", j.type_name()));
  }
  if (!j.contains("op")) {
    return bad(
        "missing field 'op' (one of ping, submit, list, show, cancel, "
        "pause, resume, report, metrics, logs)");
  }
  if (!j.at("op").is_string()) {
    return bad_type("op", "a string", j.at("op"));
  }
  auto op = op_from_string(j.at("op").get<std::string>());
  if (!op) {
    return make_error(op.error());
  }
  if (auto s = check_known_fields(j, *op); !s) {
    return make_error(s.error());
  }
  Request request;
  request.op = *op;
  switch (*op) {
    case Op::kPing:
    case Op::kMetrics:
      break;
    case Op::kSubmit:
      if (auto s = parse_submit(j, now, limits, request.spec); !s) {
        return make_error(s.error());
      }
      break;
    case Op::kList:
      if (j.contains("limit")) {
        auto v =
            integer_field(j, "limit", 1, static_cast<int64_t>(limits.max_list));
        if (!v) {
          return make_error(v.error());
        }
        request.limit = static_cast<size_t>(*v);
      }
      if (j.contains("all")) {
        auto v = bool_field(j, "all");
        if (!v) {
          return make_error(v.error());
        }
        request.all = *v;
      }
      break;
    case Op::kReport:
      if (j.contains("id")) {
        auto id = job_id_field(j);
        if (!id) {
          return make_error(id.error());
        }
        request.id = *id;
      }
      if (j.contains("ledger")) {
        auto v = bool_field(j, "ledger");
        if (!v) {
          return make_error(v.error());
        }
        request.ledger = *v;
      }
      break;
    case Op::kShow:
    case Op::kCancel:
    case Op::kPause:
    case Op::kResume:
    case Op::kLogs: {
      auto id = job_id_field(j);
      if (!id) {
        return make_error(id.error());
      }
      request.id = *id;
      if (*op != Op::kLogs) {
        break;
      }
      if (j.contains("stream")) {
        auto v = string_field(j, "stream", 16);
        if (!v) {
          return make_error(v.error());
        }
        if (*v == "stdout") {
          request.stream = LogStream::kStdout;
        } else if (*v == "stderr") {
          request.stream = LogStream::kStderr;
        } else {
          return bad(
              fmt::format("field 'stream': '{}' is not stdout or stderr", *v));
        }
      }
      if (j.contains("offset")) {
        auto v =
            integer_field(j, "offset", 0, std::numeric_limits<int64_t>::max());
        if (!v) {
          return make_error(v.error());
        }
        request.offset = *v;
      }
      if (j.contains("max_bytes")) {
        auto v = integer_field(j, "max_bytes", 1,
                               static_cast<int64_t>(limits.max_log_bytes));
        if (!v) {
          return make_error(v.error());
        }
        request.max_bytes = static_cast<size_t>(*v);
      }
      break;
    }
  }
  return request;
}

}  // namespace

const char* to_string(Op op) {
  for (const auto& entry : kOps) {
    if (entry.op == op) {
      return entry.name;
    }
  }
  return "ping";
}

Result<Op> op_from_string(std::string_view text) {
  std::vector<std::string> names;
  for (const auto& entry : kOps) {
    if (text == entry.name) {
      return entry.op;
    }
    names.push_back(entry.name);
  }
  return bad(fmt::format("field 'op': unknown op '{}'{} (known: {})",
                         std::string(text.substr(0, 64)),
                         did_you_mean(text, names), fmt::join(names, ", ")));
}

Result<Request> parse_request(std::string_view text, TimePoint now,
                              const ProtocolLimits& limits) {
  if (text.size() > limits.max_request_bytes) {
    return bad(
        fmt::format("request of {} bytes is larger than the limit of {} "
                    "bytes",
                    text.size(), limits.max_request_bytes));
  }
  if (auto shallow = check_json_depth(text); !shallow) {
    return tl::unexpected(shallow.error());
  }
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return bad(fmt::format("malformed JSON: {}", e.what()));
  }
  try {
    return parse_object(j, now, limits);
  } catch (const json::exception& e) {
    // Defensive: the parsers check types before reading values.
    return bad(fmt::format("bad request: {}", e.what()));
  }
}

json request_to_json(const Request& request) {
  json j;
  j["op"] = to_string(request.op);
  switch (request.op) {
    case Op::kPing:
    case Op::kMetrics:
      break;
    case Op::kSubmit: {
      const JobSpec& spec = request.spec;
      if (!spec.name.empty()) {
        j["name"] = spec.name;
      }
      if (!spec.argv.empty()) {
        j["argv"] = spec.argv;
      }
      if (!spec.shell_command.empty()) {
        j["shell_command"] = spec.shell_command;
      }
      if (!spec.sbatch_script.empty()) {
        j["sbatch_script"] = spec.sbatch_script;
      }
      if (!spec.sbatch_options.empty()) {
        j["sbatch_options"] = spec.sbatch_options;
      }
      if (!spec.working_dir.empty()) {
        j["working_dir"] = spec.working_dir;
      }
      if (!spec.env.empty()) {
        j["env"] = spec.env;
      }
      if (!spec.request_id.empty()) {
        j["request_id"] = spec.request_id;
      }
      j["duration"] = spec.duration.count();
      j["earliest"] = format_utc(spec.earliest);
      j["deadline"] = format_utc(spec.deadline);
      if (!spec.zones.empty()) {
        j["zones"] = spec.zones;
      }
      if (!spec.executor.empty()) {
        j["executor"] = spec.executor;
      }
      if (spec.allow_late) {
        j["allow_late"] = true;
      }
      if (spec.interruptible) {
        j["interruptible"] = true;
        j["pause_mode"] = spec.pause_mode == executors::PauseMode::kCheckpoint
                              ? "checkpoint"
                              : "stop";
      }
      if (spec.min_chunk > Duration(0)) {
        j["min_chunk"] = spec.min_chunk.count();
      }
      if (spec.max_pauses >= 0) {
        j["max_pauses"] = spec.max_pauses;
      }
      if (spec.threshold_gco2_per_kwh) {
        j["threshold_gco2_per_kwh"] = *spec.threshold_gco2_per_kwh;
      }
      if (spec.power_watts > 0) {
        j["power_watts"] = spec.power_watts;
      }
      if (!spec.hardware.empty()) {
        j["hardware"] = spec.hardware;
      }
      if (spec.policy != Policy::kAuto) {
        j["policy"] = to_string(spec.policy);
      }
      break;
    }
    case Op::kList:
      j["limit"] = request.limit;
      j["all"] = request.all;
      break;
    case Op::kReport:
      if (!request.id.empty()) {
        j["id"] = request.id;
      }
      if (request.ledger) {
        j["ledger"] = true;
      }
      break;
    case Op::kShow:
    case Op::kCancel:
    case Op::kPause:
    case Op::kResume:
      j["id"] = request.id;
      break;
    case Op::kLogs:
      j["id"] = request.id;
      j["stream"] = request.stream == LogStream::kStderr ? "stderr" : "stdout";
      j["offset"] = request.offset;
      j["max_bytes"] = request.max_bytes;
      break;
  }
  return j;
}

std::string result_response(const json& result) {
  json j;
  j["result"] = result;
  // Invalid UTF-8 (log bytes, odd file names) is replaced, never thrown on.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_response(const Error& error) {
  json j;
  j["error"] = {{"code", std::string(error_code_name(error.code))},
                {"message", error.message}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ErrorCode error_code_from_name(std::string_view name) {
  constexpr ErrorCode kCodes[] = {
      ErrorCode::kInvalidArgument,  ErrorCode::kNotFound,
      ErrorCode::kUnavailable,      ErrorCode::kTimeout,
      ErrorCode::kPermissionDenied, ErrorCode::kConflict,
      ErrorCode::kInternal};
  for (ErrorCode code : kCodes) {
    if (error_code_name(code) == name) {
      return code;
    }
  }
  return ErrorCode::kInternal;
}

Result<json> parse_response(std::string_view text) {
  try {
    json j = json::parse(text);
    if (j.is_object() && j.contains("result")) {
      return j.at("result");
    }
    if (j.is_object() && j.contains("error") && j.at("error").is_object()) {
      const json& e = j.at("error");
      return make_error(error_code_from_name(e.value("code", "internal")),
                        e.value("message", "(no message)"));
    }
  } catch (const json::exception& e) {
    return make_error(
        ErrorCode::kInternal,
        fmt::format("malformed response from the daemon: {}", e.what()));
  }
  return make_error(ErrorCode::kInternal,
                    "malformed response from the daemon: neither result nor "
                    "error");
}

json job_to_json(const Job& job, const JobEmissions* emissions) {
  json j;
  j["id"] = job.id;
  j["name"] = job.spec.name;
  j["uid"] = job.spec.uid;
  j["user"] = job.spec.user;
  j["state"] = to_string(job.state);
  j["held"] = job.held;
  j["submitted_at"] = format_utc(job.spec.submitted_at);
  j["earliest"] = format_utc(job.spec.earliest);
  j["deadline"] = format_utc(job.spec.deadline);
  j["duration_s"] = job.spec.duration.count();
  j["interruptible"] = job.spec.interruptible;
  j["zone"] = job.zone;
  j["executor"] = job.executor;
  if (job.handle && job.handle->executor == "slurm") {
    j["slurm_job_id"] = job.handle->native_id;
    j["slurm_cluster"] = job.handle->cluster;
  }
  if (!job.spec.argv.empty()) {
    j["argv"] = job.spec.argv;
  } else if (!job.spec.shell_command.empty()) {
    j["shell_command"] = job.spec.shell_command;
  } else {
    j["sbatch_script"] = job.spec.sbatch_script;
  }
  j["working_dir"] = job.spec.working_dir;
  if (job.plan) {
    j["plan"] = json::parse(plan_to_json(*job.plan));
    j["planned_start"] = format_utc(job.plan->start());
    // The whole job: what its earlier segments emitted plus what the plan
    // expects of the rest.
    j["expected_kg"] =
        (job.plan->done_grams + job.plan->expected_grams) / 1000.0;
    j["run_now_kg"] =
        (job.plan->done_run_now_grams + job.plan->run_now_grams) / 1000.0;
  }
  j["forecast_provider"] = job.forecast_provider;
  if (job.started_at) {
    j["started_at"] = format_utc(*job.started_at);
  }
  if (job.ended_at) {
    j["ended_at"] = format_utc(*job.ended_at);
  }
  if (job.exit_code) {
    j["exit_code"] = *job.exit_code;
  }
  j["run_time_s"] = job.run_time.count();
  j["segment"] = job.segment;
  j["restarts"] = job.restarts;
  j["message"] = job.message;
  if (emissions != nullptr) {
    j["emissions"] = {
        {"joules", emissions->joules},
        {"kwh", emissions->joules / 3.6e6},
        {"realized_kg", emissions->grams / 1000.0},
        {"counterfactual_kg", emissions->counterfactual_grams / 1000.0},
        {"saved_kg", emissions->saved_grams() / 1000.0},
        {"metered_s", emissions->metered.count()},
        {"mean_gco2_per_kwh", emissions->mean_gco2_per_kwh()}};
  }
  return j;
}

json transition_to_json(const TransitionRecord& record) {
  return {{"at", format_utc(record.at)},
          {"from", record.from_state},
          {"to", record.to_state},
          {"note", record.note}};
}

}  // namespace lowcarb::scheduler::api
