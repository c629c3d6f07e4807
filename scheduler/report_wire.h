// SPDX-License-Identifier: Apache-2.0
// The ledger rows and job facts `lowcarb report` needs, as JSON, so that a
// user who may not read the state database (it is 0600, see
// state_permissions.h) gets the report through the daemon's `report`
// request with "ledger": true. The daemon fills it with the caller's own
// rows only (root: everyone's). Only what build_report() uses travels: no
// command lines, no environments. Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "scheduler/job.h"
#include "scheduler/job_store.h"

namespace lowcarb::scheduler {

struct LedgerWire {
  std::vector<LedgerRecord> records;
  std::map<std::string, Job> jobs;  // Only the fields build_report reads.
};

// {"records": [...], "job_facts": {id: {...}}}.
nlohmann::json ledger_to_wire(const std::vector<LedgerRecord>& records,
                              const std::map<std::string, Job>& jobs);
// kInvalidArgument naming the field for a malformed answer.
Result<LedgerWire> ledger_from_wire(const nlohmann::json& wire);

}  // namespace lowcarb::scheduler
