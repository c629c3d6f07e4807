// SPDX-License-Identifier: Apache-2.0
// JobStore in the SQLite state database (<state_dir>/lowcarb.db): WAL mode,
// synchronous=FULL, one transaction per call, so a crash at any point leaves
// either the old or the new state of a job, never a mix.
#pragma once

#include <memory>
#include <string>

#include "common/sqlite_database.h"
#include "scheduler/job_store.h"

namespace lowcarb::scheduler {

class SqliteJobStore final : public JobStore {
 public:
  // Opens or creates the schema in `db`, which must outlive the store.
  static Result<std::unique_ptr<SqliteJobStore>> open(Database& db);

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
  Status begin_batch() override { return db_.begin(); }
  Status commit_batch() override { return db_.commit(); }
  void abort_batch() override { db_.rollback(); }
  Status append_ledger(const LedgerRecord& record) override;
  Result<std::vector<LedgerRecord>> ledger(const LedgerFilter& filter) override;
  Result<std::vector<LedgerRecord>> ledger_of(
      const std::vector<std::string>& job_ids,
      std::optional<unsigned> uid) override;

 private:
  explicit SqliteJobStore(Database& db) : db_(db) {}
  Result<std::vector<LedgerRecord>> select_ledger(
      const std::string& conditions, const std::vector<SqlValue>& params);
  Result<std::vector<Job>> select_jobs(const std::string& where,
                                       const std::vector<SqlValue>& params);

  Database& db_;
};

}  // namespace lowcarb::scheduler
