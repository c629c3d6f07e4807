// SPDX-License-Identifier: Apache-2.0
// The persistence seam for jobs, their transitions and the emissions ledger.
// The daemon uses SqliteJobStore (durable: every call is one transaction,
// committed with synchronous=FULL before it returns, or, inside a batch, when
// the batch commits); the simulator and tests use MemoryJobStore. Not
// thread-safe: one owner (the scheduler loop).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/job.h"

namespace lowcarb::scheduler {

struct TransitionRecord {
  std::string job_id;
  TimePoint at;
  std::string from_state;
  std::string to_state;
  std::string note;
};

// One metered interval of one job: what it used and what that emitted.
struct LedgerRecord {
  std::string job_id;
  std::string zone;
  TimePoint start;
  TimePoint end;
  double cpu_joules = 0;
  double gpu_joules = 0;
  double ram_joules = 0;
  double other_joules = 0;
  double pue = 1.0;
  double gco2_per_kwh = 0;  // Realized intensity of the interval.
  std::string
      intensity_source;  // "electricitymaps/observed", "profile/forecast".
  double grams = 0;      // energy x PUE x intensity.
  double counterfactual_gco2_per_kwh = 0;  // Run-now intensity, same run time.
  double counterfactual_grams = 0;
  std::string meter_source;  // "rapl", "cpu-time-model", "declared", "slurm".
  // The meter's cumulative counter for the job's process at `end` (local
  // jobs: the process session's CPU seconds); a restarted daemon resumes
  // metering from it. nullopt when the meter keeps none.
  std::optional<double> meter_counter;

  double joules() const {
    return cpu_joules + gpu_joules + ram_joules + other_joules;
  }
};

struct LedgerFilter {
  std::string job_id;  // "" = all jobs.
  std::optional<TimePoint> since;
  std::optional<unsigned> uid;  // Only jobs of this user.
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Stores a new job, giving it the next id when `job.id` is empty, and
  // records its first transition. Returns the stored job.
  virtual Result<Job> insert(Job job, TimePoint now) = 0;

  // Writes every field of `job` and a transition record `note` from the
  // stored state to job.state, atomically.
  virtual Status update(const Job& job, TimePoint now,
                        const std::string& note) = 0;

  // A re-plan's write (issue 12: 100,000 of them in one batch): only the
  // plan, zone and executor of `job`, and a transition record `note` from
  // job.state to itself (`show` lists re-plans), without rewriting the spec
  // or reading the stored state. REQUIRES: every other field is as last
  // written (the caller uses update() after a failed write). The default is
  // update().
  virtual Status update_plan(const Job& job, TimePoint now,
                             const std::string& note) {
    return update(job, now, note);
  }

  // kNotFound for an unknown id.
  virtual Result<Job> get(const std::string& id) = 0;

  // The job `uid` submitted with spec.request_id == `request_id` (REQUIRES:
  // not empty); nullopt when there is none. insert() refuses a second job
  // with the same (uid, request_id) with kConflict.
  virtual Result<std::optional<Job>> find_by_request(
      unsigned uid, const std::string& request_id) = 0;

  // Jobs not in a terminal state, in id order.
  virtual Result<std::vector<Job>> active_jobs() = 0;

  // All jobs (of `uid` when set), newest first, at most `limit`.
  virtual Result<std::vector<Job>> list(std::optional<unsigned> uid,
                                        size_t limit) = 0;

  virtual Result<std::vector<TransitionRecord>> transitions(
      const std::string& job_id) = 0;

  // Groups the calls up to commit_batch() into one durable transaction (one
  // sync for all instead of one per call). Batches nest. Nothing of a batch
  // is durable before commit_batch() succeeds; abort_batch() undoes it (and
  // must follow a failed commit_batch()). The defaults do nothing (a store
  // without transactions).
  virtual Status begin_batch() { return {}; }
  virtual Status commit_batch() { return {}; }
  virtual void abort_batch() {}

  // Appends to the ledger (never updated or deleted).
  virtual Status append_ledger(const LedgerRecord& record) = 0;
  virtual Result<std::vector<LedgerRecord>> ledger(
      const LedgerFilter& filter) = 0;
  // The ledger of `job_ids` (of `uid`'s jobs only, when set), by job then
  // start: one query for a page of `list`. The default asks ledger() once
  // per job.
  virtual Result<std::vector<LedgerRecord>> ledger_of(
      const std::vector<std::string>& job_ids, std::optional<unsigned> uid);
};

inline Result<std::vector<LedgerRecord>> JobStore::ledger_of(
    const std::vector<std::string>& job_ids, std::optional<unsigned> uid) {
  std::vector<LedgerRecord> out;
  for (const auto& id : job_ids) {
    LedgerFilter filter;
    filter.job_id = id;
    filter.uid = uid;
    auto records = ledger(filter);
    if (!records) {
      return make_error(records.error());
    }
    out.insert(out.end(), records->begin(), records->end());
  }
  return out;
}

}  // namespace lowcarb::scheduler
