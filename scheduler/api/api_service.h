// SPDX-License-Identifier: Apache-2.0
// Executes API requests against the scheduler on behalf of a peer whose uid
// the transport established (SO_PEERCRED on the socket; the daemon's own uid
// for the token-authenticated HTTP API). Permission rules: users see and act
// on their own jobs only, root (uid 0) on every job; submitted jobs run as
// the peer's uid/gid, never as ids taken from the request; a daemon not
// running as root accepts submissions from its own uid only. No sockets and
// no clock: the transport passes the peer and `now`. Not thread-safe: call
// it from the daemon's loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/api/metrics.h"
#include "scheduler/api/protocol.h"
#include "scheduler/job_store.h"
#include "scheduler/scheduler.h"

namespace lowcarb::scheduler::api {

// Who is asking, as the transport established it.
struct Peer {
  unsigned uid = 0;
  unsigned gid = 0;
  std::string user;  // Name for display; may be empty.
};

struct ApiServiceOptions {
  ProtocolLimits limits;
  unsigned daemon_uid = 0;  // The uid the daemon runs as.
  TimePoint started_at;     // For the uptime metric.
};

// The path of a job's stdout or stderr log (it need not exist yet).
using LogPathFn =
    std::function<std::string(const std::string& job_id, LogStream stream)>;

class ApiService {
 public:
  // `scheduler` and `store` must outlive the service.
  ApiService(Scheduler& scheduler, JobStore& store, LogPathFn log_path,
             ApiServiceOptions options);

  // Parses and executes one request; returns the response as one line
  // without the newline. Never throws; every failure is an error response.
  std::string handle(std::string_view text, const Peer& peer, TimePoint now);

  // Executes a parsed request. Errors: kNotFound for a job the peer may not
  // see (others' jobs are indistinguishable from missing ones),
  // kPermissionDenied, kConflict, kInvalidArgument from the scheduler.
  Result<nlohmann::json> execute(const Request& request, const Peer& peer,
                                 TimePoint now);

  // The Prometheus text of the daemon's metrics at `now`, as root sees
  // them (every user's figures).
  std::string metrics_text(TimePoint now);
  // The same for `peer`: root gets everything; any other uid gets its own
  // jobs, emissions and requests only (forecast figures are not per user).
  std::string metrics_text(TimePoint now, const Peer& peer);

  // Counts a request the transport rejected before parsing (too large,
  // timed out), so it shows up in the metrics.
  void count_rejected();

  // Values masked wherever they would appear in an error message or a log
  // line of this service (the HTTP bearer tokens): a request can carry one
  // anywhere, e.g. as a job id, and errors quote what they refuse.
  void set_secrets(std::vector<std::string> secrets) {
    secrets_ = std::move(secrets);
  }

 private:
  Result<nlohmann::json> submit(const Request& request, const Peer& peer,
                                TimePoint now);
  Result<nlohmann::json> list(const Request& request, const Peer& peer);
  Result<nlohmann::json> show(const Request& request, const Peer& peer);
  Result<nlohmann::json> report(const Request& request, const Peer& peer);
  Result<nlohmann::json> logs(const Request& request, const Peer& peer);
  std::map<std::string, JobEmissions> emissions_by_job(
      const Peer& peer, const std::string& job_id);

  Scheduler& scheduler_;
  JobStore& store_;
  LogPathFn log_path_;
  ApiServiceOptions options_;
  std::map<std::string, int64_t> requests_by_op_;
  int64_t request_errors_ = 0;
  // The same by peer uid, for non-root metrics.
  std::map<unsigned, std::map<std::string, int64_t>> requests_by_uid_;
  std::map<unsigned, int64_t> request_errors_by_uid_;
  std::vector<std::string> secrets_;
};

// Reads up to `max_bytes` of the file at `path` from byte `offset` without
// following a final symlink. A missing file reads as empty (size 0).
struct LogChunk {
  std::string data;
  int64_t offset = 0;
  int64_t next_offset = 0;
  int64_t size = 0;
};
Result<LogChunk> read_log_chunk(const std::string& path, int64_t offset,
                                size_t max_bytes);

}  // namespace lowcarb::scheduler::api
