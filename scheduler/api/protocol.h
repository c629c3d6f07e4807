// SPDX-License-Identifier: Apache-2.0
// The daemon's request/response protocol, shared by the Unix socket (one JSON
// object per line), the HTTP API (one JSON object per body) and the CLI
// client. Requests are `{"op": "<op>", ...}`; a success is
// `{"result": ...}` and a failure `{"error": {"code": "<code>", "message":
// "..."}}` with the codes of error_code_name(). Parsing is pure: it never
// touches a socket, a clock or the scheduler, and every bad input becomes an
// kInvalidArgument Error that names the field. Thread-safe (no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/job.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler::api {

enum class Op {
  kPing,
  kSubmit,
  kList,
  kShow,
  kCancel,
  kPause,
  kResume,
  kReport,
  kMetrics,
  kLogs,
};

const char* to_string(Op op);
Result<Op> op_from_string(std::string_view text);

// Bounds on what one request may ask for.
struct ProtocolLimits {
  size_t max_request_bytes = 1 << 20;                         // Default: 1 MiB.
  Duration max_duration{std::chrono::hours(24 * 366)};        // Job run time.
  Duration max_deadline_ahead{std::chrono::hours(24 * 366)};  // From now.
  size_t max_list = 10000;         // Jobs in one list answer.
  size_t max_log_bytes = 1 << 20;  // Log bytes in one logs answer.
};

enum class LogStream { kStdout, kStderr };

// One parsed request. Only the fields of its op are meaningful.
struct Request {
  Op op = Op::kPing;
  // show, cancel, pause, resume, logs; report (optional: one job).
  std::string id;
  // report: also the raw ledger rows and job facts (report_wire.h) that
  // `lowcarb report` renders when it may not read the database itself.
  bool ledger = false;
  // submit: everything but uid, gid and user, which the server fills from
  // the peer's credentials (a request naming them is rejected).
  JobSpec spec;
  // list: at most `limit` jobs, newest first; `all` includes finished ones.
  size_t limit = 100;
  bool all = false;
  // logs: `max_bytes` bytes of `stream` from byte `offset`.
  LogStream stream = LogStream::kStdout;
  int64_t offset = 0;
  size_t max_bytes = 65536;
};

// Parses one request. `now` resolves relative times ("+2h") and bounds
// deadlines; REQUIRES: nothing. Errors (kInvalidArgument) name the field:
// malformed JSON, a request larger than limits.max_request_bytes, unknown
// or missing op, unknown fields, wrong types, durations and deadlines out of
// range, a deadline not after the earliest start, a missing command.
Result<Request> parse_request(std::string_view text, TimePoint now,
                              const ProtocolLimits& limits);

// The JSON object of `request` (what the client sends). Times are UTC
// ISO 8601, durations whole seconds.
nlohmann::json request_to_json(const Request& request);

// `{"result": result}` as one line (no newline).
std::string result_response(const nlohmann::json& result);
// `{"error": {"code": ..., "message": ...}}` as one line (no newline).
std::string error_response(const Error& error);

// Reads a response line: the result, or the Error it carries (with its code
// mapped back). Malformed responses are kInternal errors.
Result<nlohmann::json> parse_response(std::string_view text);

ErrorCode error_code_from_name(std::string_view name);

// The API's view of a job: id, name, state, times, zone, plan, executor,
// messages, and `emissions` when known. Never includes the environment.
nlohmann::json job_to_json(const Job& job, const JobEmissions* emissions);
nlohmann::json transition_to_json(const TransitionRecord& record);

}  // namespace lowcarb::scheduler::api
