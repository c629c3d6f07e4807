// SPDX-License-Identifier: Apache-2.0
// How `lowcarb simulate` prints its results: a table comparing policies, a
// JSON document for scripts (one object per policy; a list when there are
// several), and a per-job CSV. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "scheduler/simulation/simulator.h"

namespace lowcarb::scheduler::simulation {

// What was simulated, printed beside the results.
struct ReportContext {
  std::string workload;            // Trace file.
  std::vector<std::string> zones;  // Home zone first.
  int jobs_in_trace = 0;           // Before clipping.
  int dropped = 0;                 // Outside the intensity data.
  int skipped = 0;                 // Records without a run time.
};

// One line per policy: jobs, kg CO2eq, run-now kg, savings %, missed
// deadlines, mean delay, peak concurrently running jobs.
std::string report_table(const std::vector<SimulationResult>& results,
                         const ReportContext& context);

// Keys per policy: policy, forecast, jobs, rejected, dropped, baseline_kg,
// kg, savings_percent, missed_deadlines, mean_delay_hours, events,
// peak_running (by zone), zones, workload. A single object for one policy,
// else a list in the order given.
std::string report_json(const std::vector<SimulationResult>& results,
                        const ReportContext& context);

// Header `policy,id,zone,submit,deadline,start,end,state,pauses,kg,
// baseline_kg`, one row per job and policy; times in UTC ISO 8601.
std::string per_job_csv(const std::vector<SimulationResult>& results);

}  // namespace lowcarb::scheduler::simulation
