// SPDX-License-Identifier: Apache-2.0
#include "scheduler/memory_job_store.h"

#include "common/strings.h"

namespace lowcarb::scheduler {

Result<Job> MemoryJobStore::insert(Job job, TimePoint now) {
  uint64_t id = next_id_;
  if (!job.id.empty()) {
    auto parsed = parse_integer(job.id);
    if (!parsed || *parsed <= 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "job ids are positive numbers, got '" + job.id + "'");
    }
    id = static_cast<uint64_t>(*parsed);
    if (jobs_.count(id)) {
      return make_error(ErrorCode::kConflict, "job " + job.id + " exists");
    }
  }
  if (!job.spec.request_id.empty()) {
    auto key = std::make_pair(job.spec.uid, job.spec.request_id);
    if (by_request_.count(key)) {
      return make_error(ErrorCode::kConflict,
                        "request id " + job.spec.request_id + " was used");
    }
    by_request_[key] = id;
  }
  next_id_ = std::max(next_id_, id + 1);
  job.id = std::to_string(id);
  job.version = 1;
  transitions_.push_back({job.id, now, "", to_string(job.state), "submitted"});
  jobs_[id] = job;
  return job;
}

Status MemoryJobStore::update(const Job& job, TimePoint now,
                              const std::string& note) {
  auto id = parse_integer(job.id);
  auto it = id ? jobs_.find(static_cast<uint64_t>(*id)) : jobs_.end();
  if (it == jobs_.end()) {
    return make_error(ErrorCode::kNotFound, "no job " + job.id);
  }
  if (it->second.state != job.state || !note.empty()) {
    transitions_.push_back(
        {job.id, now, to_string(it->second.state), to_string(job.state), note});
  }
  int64_t version = it->second.version + 1;
  it->second = job;
  it->second.version = version;
  return {};
}

Status MemoryJobStore::update_plan(const Job& job, TimePoint now,
                                   const std::string& note) {
  auto id = parse_integer(job.id);
  auto it = id ? jobs_.find(static_cast<uint64_t>(*id)) : jobs_.end();
  if (it == jobs_.end()) {
    return make_error(ErrorCode::kNotFound, "no job " + job.id);
  }
  const std::string state(to_string(job.state));
  transitions_.push_back({job.id, now, state, state, note});
  it->second.plan = job.plan;
  it->second.zone = job.zone;
  it->second.executor = job.executor;
  ++it->second.version;
  return {};
}

Result<std::optional<Job>> MemoryJobStore::find_by_request(
    unsigned uid, const std::string& request_id) {
  auto it = by_request_.find(std::make_pair(uid, request_id));
  if (it == by_request_.end()) {
    return std::optional<Job>();
  }
  return std::optional<Job>(jobs_.at(it->second));
}

Result<Job> MemoryJobStore::get(const std::string& id) {
  auto number = parse_integer(id);
  auto it = number ? jobs_.find(static_cast<uint64_t>(*number)) : jobs_.end();
  if (it == jobs_.end()) {
    return make_error(ErrorCode::kNotFound, "no job " + id);
  }
  return it->second;
}

Result<std::vector<Job>> MemoryJobStore::active_jobs() {
  std::vector<Job> out;
  for (const auto& [id, job] : jobs_) {
    if (!is_terminal(job.state)) {
      out.push_back(job);
    }
  }
  return out;
}

Result<std::vector<Job>> MemoryJobStore::list(std::optional<unsigned> uid,
                                              size_t limit) {
  std::vector<Job> out;
  for (auto it = jobs_.rbegin(); it != jobs_.rend() && out.size() < limit;
       ++it) {
    if (!uid || it->second.spec.uid == *uid) {
      out.push_back(it->second);
    }
  }
  return out;
}

Result<std::vector<TransitionRecord>> MemoryJobStore::transitions(
    const std::string& job_id) {
  std::vector<TransitionRecord> out;
  for (const auto& t : transitions_) {
    if (t.job_id == job_id) {
      out.push_back(t);
    }
  }
  return out;
}

Status MemoryJobStore::append_ledger(const LedgerRecord& record) {
  if (keep_ == KeepLedger::kYes) {
    ledger_.push_back(record);
  }
  return {};
}

Result<std::vector<LedgerRecord>> MemoryJobStore::ledger(
    const LedgerFilter& filter) {
  std::vector<LedgerRecord> out;
  for (const auto& r : ledger_) {
    if (!filter.job_id.empty() && r.job_id != filter.job_id) {
      continue;
    }
    if (filter.since && r.end <= *filter.since) {
      continue;
    }
    if (filter.uid) {
      auto job = get(r.job_id);
      if (!job || job->spec.uid != *filter.uid) {
        continue;
      }
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace lowcarb::scheduler
