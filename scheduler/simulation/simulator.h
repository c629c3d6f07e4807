// SPDX-License-Identifier: Apache-2.0
// Replays a workload over historical grid intensity through the production
// Scheduler, MemoryJobStore and Tracker, driven by a virtual clock
// (ManualClock) and a SimulatedExecutor. The clock jumps from event to event:
// the next submission, Scheduler::next_event(now, false) (planned starts,
// segment ends, latest safe starts, forecast refreshes) and the next job
// completion. Emissions are the Tracker's ledger totals: declared power x
// running time x the interval's actual intensity x PUE; the baseline is the
// Tracker's counterfactual (the same job run at submission in its first
// zone). Not thread-safe; one call runs one policy.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/simulation/trace_forecast_provider.h"
#include "scheduler/simulation/trace_intensity_history.h"
#include "scheduler/simulation/workload.h"

namespace lowcarb::scheduler::simulation {

// The policies the simulator compares. kOracle runs the Scheduler with a
// perfect forecast covering every deadline, fetched once, and the job's own
// policy (pause-resume if interruptible, else flexible-start; spatial over
// several zones): the per-job optimum, an upper bound on savings.
enum class SimPolicy {
  kRunNow,
  kFlexibleStart,
  kThreshold,
  kPauseResume,
  kSpatial,
  kOracle,
};

const char* to_string(SimPolicy policy);
// "run-now", "flexible-start", "threshold", "pause-resume", "spatial",
// "oracle".
Result<SimPolicy> sim_policy_from_string(std::string_view text);
// A comma-separated list of the above.
Result<std::vector<SimPolicy>> sim_policies_from_string(std::string_view text);

struct SimulationOptions {
  SimPolicy policy = SimPolicy::kFlexibleStart;
  ForecastSpec forecast;                     // Ignored by kOracle.
  Duration horizon{std::chrono::hours(48)};  // Forecast horizon.
  Duration refresh{std::chrono::hours(1)};   // Forecast refresh = re-plan.
  Duration safety_margin{0};  // Start by deadline - remaining - this.
  int capacity = 0;           // Per-zone slots passed to ZoneConfig; 0 = none.
  double pue = 1.0;
  // Power of jobs whose trace gives none: `power_watts` if > 0, else
  // cpus (at least 1) x `watts_per_core`.
  double power_watts = 0;
  double watts_per_core = 0;
  bool all_interruptible = false;  // Marks every job interruptible.
  std::optional<double> threshold_gco2_per_kwh;  // kThreshold.
  std::optional<double> threshold_percentile;    // kThreshold; default 25.
};

struct JobResult {
  std::string id;  // The trace's id.
  std::string zone;
  TimePoint submit;
  TimePoint deadline;
  Duration duration{0};
  std::optional<TimePoint> start;
  std::optional<TimePoint> end;
  std::string state;  // Final JobState, or "rejected".
  double kg = 0;
  double baseline_kg = 0;
  int pauses = 0;
  bool missed_deadline = false;  // Not succeeded, or ended after deadline.
};

struct SimulationResult {
  std::string policy;
  std::string forecast;  // ForecastSpec::text(), "perfect" for the oracle.
  int jobs = 0;          // Simulated (submitted) jobs.
  int rejected = 0;      // Refused by Scheduler::submit (see `errors`).
  double kg = 0;
  double baseline_kg = 0;
  int missed_deadlines = 0;
  double mean_delay_hours = 0;              // Mean of end - submit - duration.
  long long events = 0;                     // Clock jumps (ticks).
  std::map<std::string, int> peak_running;  // By zone.
  std::vector<std::string> errors;          // First few rejections.
  std::vector<JobResult> per_job;           // In trace order.

  double savings_percent() const {
    return baseline_kg > 0 ? 100.0 * (baseline_kg - kg) / baseline_kg : 0;
  }
};

// The jobs of `workload` that can be simulated over `trace`: submitted at or
// after the start of the data every zone has, with a deadline at or before
// its end. REQUIRES: every job has a deadline.
struct ClippedWorkload {
  Workload workload;
  int dropped = 0;
};
ClippedWorkload clip_to_trace(const Workload& workload,
                              const TraceIntensityHistory& trace);

// Runs `options.policy` over `workload` (jobs with deadlines, inside the
// trace: see clip_to_trace). `trace[0]` is the home zone. kInvalidArgument
// for an empty trace or a job without a deadline.
Result<SimulationResult> run_simulation(const Workload& workload,
                                        TraceIntensityHistory& trace,
                                        const SimulationOptions& options);

}  // namespace lowcarb::scheduler::simulation
