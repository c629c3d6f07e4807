// SPDX-License-Identifier: Apache-2.0
// JobStore in memory: for the simulator (fast, nothing to disk) and tests.
// `keep_ledger = false` drops ledger rows (the simulator keeps its own
// per-job totals).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "scheduler/job_store.h"

namespace lowcarb::scheduler {

enum class KeepLedger { kYes, kNo };

class MemoryJobStore final : public JobStore {
 public:
  explicit MemoryJobStore(KeepLedger keep = KeepLedger::kYes) : keep_(keep) {}

  Result<Job> insert(Job job, TimePoint now) override;
  Status update(const Job& job, TimePoint now,
                const std::string& note) override;
  Status update_plan(const Job& job, TimePoint now,
                     const std::string& note) override;
  Result<Job> get(const std::string& id) override;
  Result<std::optional<Job>> find_by_request(
      unsigned uid, const std::string& request_id) override;
  Result<std::vector<Job>> active_jobs() override;
  Result<std::vector<Job>> list(std::optional<unsigned> uid,
                                size_t limit) override;
  Result<std::vector<TransitionRecord>> transitions(
      const std::string& job_id) override;
  Status append_ledger(const LedgerRecord& record) override;
  Result<std::vector<LedgerRecord>> ledger(const LedgerFilter& filter) override;

  const std::map<uint64_t, Job>& all_jobs() const { return jobs_; }

 private:
  KeepLedger keep_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Job> jobs_;
  std::map<std::pair<unsigned, std::string>, uint64_t> by_request_;
  std::vector<TransitionRecord> transitions_;
  std::vector<LedgerRecord> ledger_;
};

}  // namespace lowcarb::scheduler
