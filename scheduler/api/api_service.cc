// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/api_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/time_format.h"
#include "scheduler/report_wire.h"

namespace lowcarb::scheduler::api {
namespace {

using nlohmann::json;

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = get_logger("api");
  return instance;
}

Requester requester_of(const Peer& peer) { return Requester{peer.uid}; }

void add_record(JobEmissions& sums, const LedgerRecord& record) {
  sums.joules += record.joules();
  sums.grams += record.grams;
  sums.counterfactual_grams += record.counterfactual_grams;
  sums.metered += record.end - record.start;
}

}  // namespace

Result<LogChunk> read_log_chunk(const std::string& path, int64_t offset,
                                size_t max_bytes) {
  LogChunk chunk;
  chunk.offset = offset;
  chunk.next_offset = offset;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return chunk;  // Not started yet, or nothing written.
    }
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("read log {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("read log {}: not a regular file", path));
  }
  chunk.size = st.st_size;
  if (offset < chunk.size) {
    size_t want = std::min<int64_t>(max_bytes, chunk.size - offset);
    chunk.data.resize(want);
    ssize_t got = ::pread(fd, chunk.data.data(), want, offset);
    if (got < 0) {
      int saved = errno;
      ::close(fd);
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("read log {}: {}", path, std::strerror(saved)));
    }
    chunk.data.resize(static_cast<size_t>(got));
    chunk.next_offset = offset + got;
  }
  ::close(fd);
  return chunk;
}

ApiService::ApiService(Scheduler& scheduler, JobStore& store,
                       LogPathFn log_path, ApiServiceOptions options)
    : scheduler_(scheduler),
      store_(store),
      log_path_(std::move(log_path)),
      options_(options) {}

void ApiService::count_rejected() { ++request_errors_; }

std::string ApiService::handle(std::string_view text, const Peer& peer,
                               TimePoint now) {
  // What an error says, with the secrets masked (set_secrets()).
  auto masked = [this](Error error) {
    error.message = redact(error.message, secrets_);
    return error;
  };
  auto request = parse_request(text, now, options_.limits);
  if (!request) {
    ++request_errors_;
    ++request_errors_by_uid_[peer.uid];
    const Error error = masked(request.error());
    logger()->info("request from uid {} rejected: {}", peer.uid, error.message);
    return error_response(error);
  }
  ++requests_by_op_[to_string(request->op)];
  ++requests_by_uid_[peer.uid][to_string(request->op)];
  if (request->op == Op::kMetrics) {
    return result_response(json{{"text", metrics_text(now, peer)}});
  }
  auto result = execute(*request, peer, now);
  if (!result) {
    ++request_errors_;
    ++request_errors_by_uid_[peer.uid];
    const Error error = masked(result.error());
    logger()->debug("{} from uid {} failed: {}", to_string(request->op),
                    peer.uid, error.message);
    return error_response(error);
  }
  return result_response(*result);
}

Result<json> ApiService::execute(const Request& request, const Peer& peer,
                                 TimePoint now) {
  const Requester who = requester_of(peer);
  switch (request.op) {
    case Op::kPing:
      return json{{"pong", true},
                  {"now", format_utc(now)},
                  {"uid", peer.uid},
                  {"version", LOWCARB_VERSION}};
    case Op::kSubmit:
      return submit(request, peer, now);
    case Op::kList:
      return list(request, peer);
    case Op::kShow:
      return show(request, peer);
    case Op::kCancel:
    case Op::kPause:
    case Op::kResume: {
      Status status =
          request.op == Op::kCancel  ? scheduler_.cancel(request.id, who, now)
          : request.op == Op::kPause ? scheduler_.pause(request.id, who, now)
                                     : scheduler_.resume(request.id, who, now);
      if (!status) {
        return make_error(status.error());
      }
      auto job = scheduler_.job(request.id, who);
      if (!job) {
        return make_error(job.error());
      }
      return job_to_json(*job, nullptr);
    }
    case Op::kReport:
      return report(request, peer);
    case Op::kMetrics:
      return json{{"text", metrics_text(now, peer)}};
    case Op::kLogs:
      return logs(request, peer);
  }
  return make_error(ErrorCode::kInternal, "unhandled op");
}

Result<json> ApiService::submit(const Request& request, const Peer& peer,
                                TimePoint now) {
  if (options_.daemon_uid != 0 && peer.uid != options_.daemon_uid) {
    return make_error(
        ErrorCode::kPermissionDenied,
        fmt::format("this daemon runs as uid {} and can only run that user's "
                    "jobs; uid {} must use its own daemon (or a root one)",
                    options_.daemon_uid, peer.uid));
  }
  JobSpec spec = request.spec;
  spec.uid = peer.uid;
  spec.gid = peer.gid;
  spec.user = peer.user;
  if (!spec.request_id.empty()) {
    // A retry (the first answer was lost): the job the first one created.
    auto earlier = store_.find_by_request(peer.uid, spec.request_id);
    if (!earlier) {
      return make_error(earlier.error().with_context("find request id"));
    }
    if (*earlier) {
      auto current = scheduler_.job((*earlier)->id, requester_of(peer));
      json result = job_to_json(current ? *current : **earlier, nullptr);
      result["duplicate"] = true;
      logger()->info("submit from uid {}: request id {} is job {}", peer.uid,
                     spec.request_id, (*earlier)->id);
      return result;
    }
  }
  auto job = scheduler_.submit(std::move(spec), now);
  if (!job) {
    return make_error(job.error());
  }
  json result = job_to_json(*job, nullptr);
  if (job->plan && !job->plan->warnings.empty()) {
    result["warnings"] = job->plan->warnings;
  }
  return result;
}

std::map<std::string, JobEmissions> ApiService::emissions_by_job(
    const Peer& peer, const std::string& job_id) {
  LedgerFilter filter;
  filter.job_id = job_id;
  if (peer.uid != 0) {
    filter.uid = peer.uid;
  }
  std::map<std::string, JobEmissions> sums;
  auto records = store_.ledger(filter);
  if (!records) {
    logger()->warn("read ledger: {}", records.error().message);
    return sums;
  }
  for (const auto& record : *records) {
    add_record(sums[record.job_id], record);
  }
  return sums;
}

Result<json> ApiService::list(const Request& request, const Peer& peer) {
  std::vector<Job> jobs;
  if (request.all) {
    auto listed = store_.list(
        peer.uid == 0 ? std::nullopt : std::optional<unsigned>(peer.uid),
        request.limit);
    if (!listed) {
      return make_error(listed.error().with_context("list jobs"));
    }
    jobs = std::move(*listed);
    // The scheduler's in-memory copies are newer than the stored ones only
    // between a transition and its write; prefer them anyway.
    for (auto& job : jobs) {
      auto it = scheduler_.active_jobs().find(job.id);
      if (it != scheduler_.active_jobs().end()) {
        job = it->second;
      }
    }
  } else {
    // Active jobs, newest (highest id) first, read from the scheduler's
    // newest-first index: only the listed ones (and others' jobs newer than
    // them) are looked at, not all of a long queue.
    const auto& active = scheduler_.active_jobs();
    for (const auto& id : scheduler_.active_newest_first()) {
      if (jobs.size() >= request.limit) {
        break;
      }
      const Job& job = active.at(id);
      if (peer.uid == 0 || job.spec.uid == peer.uid) {
        jobs.push_back(job);
      }
    }
  }
  // The ledger of the listed jobs only, in one query through the job index.
  std::map<std::string, JobEmissions> sums;
  if (!jobs.empty()) {
    std::vector<std::string> ids;
    ids.reserve(jobs.size());
    for (const auto& job : jobs) {
      ids.push_back(job.id);
    }
    if (auto records = store_.ledger_of(
            ids,
            peer.uid == 0 ? std::nullopt : std::optional<unsigned>(peer.uid));
        records) {
      for (const auto& record : *records) {
        add_record(sums[record.job_id], record);
      }
    } else {
      logger()->warn("read ledger: {}", records.error().message);
    }
  }
  json items = json::array();
  for (const auto& job : jobs) {
    auto it = sums.find(job.id);
    items.push_back(job_to_json(job, it == sums.end() ? nullptr : &it->second));
  }
  return json{{"jobs", items}};
}

Result<json> ApiService::show(const Request& request, const Peer& peer) {
  auto job = scheduler_.job(request.id, requester_of(peer));
  if (!job) {
    return make_error(job.error());
  }
  auto sums = emissions_by_job(peer, job->id);
  auto it = sums.find(job->id);
  json result = job_to_json(*job, it == sums.end() ? nullptr : &it->second);
  auto transitions = store_.transitions(job->id);
  json history = json::array();
  if (transitions) {
    for (const auto& record : *transitions) {
      history.push_back(transition_to_json(record));
    }
  }
  result["history"] = history;
  result["logs"] = {{"stdout", log_path_(job->id, LogStream::kStdout)},
                    {"stderr", log_path_(job->id, LogStream::kStderr)}};
  if (job->plan) {
    result["warnings"] = job->plan->warnings;
  }
  return result;
}

Result<json> ApiService::report(const Request& request, const Peer& peer) {
  if (!request.id.empty()) {
    auto job = scheduler_.job(request.id, requester_of(peer));
    if (!job) {
      return make_error(job.error());
    }
  }
  auto sums = emissions_by_job(peer, request.id);
  JobEmissions total;
  json jobs = json::array();
  for (const auto& [id, e] : sums) {
    total.joules += e.joules;
    total.grams += e.grams;
    total.counterfactual_grams += e.counterfactual_grams;
    total.metered += e.metered;
    jobs.push_back({{"id", id},
                    {"kwh", e.joules / 3.6e6},
                    {"realized_kg", e.grams / 1000},
                    {"counterfactual_kg", e.counterfactual_grams / 1000},
                    {"saved_kg", e.saved_grams() / 1000}});
  }
  json result{{"jobs", jobs},
              {"job_count", sums.size()},
              {"kwh", total.joules / 3.6e6},
              {"realized_kg", total.grams / 1000},
              {"counterfactual_kg", total.counterfactual_grams / 1000},
              {"saved_kg", total.saved_grams() / 1000},
              {"metered_s", total.metered.count()}};
  if (request.ledger) {
    // The peer's own rows only (root: all), for `lowcarb report`.
    LedgerFilter filter;
    filter.job_id = request.id;
    if (peer.uid != 0) {
      filter.uid = peer.uid;
    }
    auto records = store_.ledger(filter);
    if (!records) {
      return make_error(records.error().with_context("report"));
    }
    std::map<std::string, Job> facts;
    for (const auto& record : *records) {
      if (facts.count(record.job_id) == 0) {
        if (auto job = store_.get(record.job_id);
            job && (peer.uid == 0 || job->spec.uid == peer.uid)) {
          facts[record.job_id] = std::move(*job);
        }
      }
    }
    if (!request.id.empty() && facts.count(request.id) == 0) {
      if (auto job = scheduler_.job(request.id, requester_of(peer))) {
        facts[request.id] = std::move(*job);
      }
    }
    json wire = ledger_to_wire(*records, facts);
    result["records"] = std::move(wire["records"]);
    result["job_facts"] = std::move(wire["job_facts"]);
  }
  return result;
}

Result<json> ApiService::logs(const Request& request, const Peer& peer) {
  auto job = scheduler_.job(request.id, requester_of(peer));
  if (!job) {
    return make_error(job.error());
  }
  const std::string path = log_path_(job->id, request.stream);
  auto chunk = read_log_chunk(path, request.offset, request.max_bytes);
  if (!chunk) {
    return make_error(chunk.error());
  }
  return json{{"id", job->id},
              {"path", path},
              {"data", chunk->data},
              {"offset", chunk->offset},
              {"next_offset", chunk->next_offset},
              {"size", chunk->size},
              {"state", to_string(job->state)},
              {"finished", is_terminal(job->state)}};
}

std::string ApiService::metrics_text(TimePoint now) {
  return metrics_text(now, Peer{});
}

std::string ApiService::metrics_text(TimePoint now, const Peer& peer) {
  MetricsSnapshot snapshot;
  snapshot.now = now;
  snapshot.started_at = options_.started_at;
  snapshot.stats = scheduler_.stats();
  snapshot.requests_by_op = requests_by_op_;
  snapshot.request_errors = request_errors_;
  LedgerFilter filter;
  if (peer.uid != 0) {
    // Another user's job counts, plans and requests are theirs to know.
    SchedulerStats& stats = snapshot.stats;
    stats.jobs_by_state.clear();
    stats.planned_grams = 0;
    stats.run_now_grams = 0;
    for (const auto& [id, job] : scheduler_.active_jobs()) {
      if (job.spec.uid != peer.uid) {
        continue;
      }
      ++stats.jobs_by_state[to_string(job.state)];
      if (job.plan) {
        stats.planned_grams += job.plan->expected_grams;
        stats.run_now_grams += job.plan->run_now_grams;
      }
    }
    auto requests = requests_by_uid_.find(peer.uid);
    snapshot.requests_by_op = requests == requests_by_uid_.end()
                                  ? std::map<std::string, int64_t>{}
                                  : requests->second;
    auto errors = request_errors_by_uid_.find(peer.uid);
    snapshot.request_errors =
        errors == request_errors_by_uid_.end() ? 0 : errors->second;
    filter.uid = peer.uid;
  }
  auto records = store_.ledger(filter);
  if (records) {
    for (const auto& record : *records) {
      snapshot.realized_grams += record.grams;
      snapshot.counterfactual_grams += record.counterfactual_grams;
      snapshot.metered_joules += record.joules();
    }
  } else {
    logger()->warn("read ledger for metrics: {}", records.error().message);
  }
  return format_prometheus(snapshot);
}

}  // namespace lowcarb::scheduler::api
