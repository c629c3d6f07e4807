// SPDX-License-Identifier: Apache-2.0
// Queue-level planning for a zone (or Slurm cluster) with `slots` concurrent
// job slots: the whole queue is planned together so that no deadline is
// missed when the earliest-deadline-first placement meets them all, and
// emissions are minimised within that. Pure code; thread-safe.
//
// Model: time is cut into cells of `cell` (default 5 min) aligned to the
// epoch, so plans keep their starts from one re-plan to the next. A job
// starts on a cell boundary (or at max(now, earliest) when that is inside a
// cell), takes every cell it overlaps, each with a free slot, and must end by
// its deadline minus the margin (by its deadline when the margin would make
// it infeasible). A cell's cost is the forecast's time-weighted
// mean over it; a cell the forecast does not fully cover costs a penalty
// (10x the highest known value), so jobs prefer forecast time but can still
// be placed beyond it.
//
// The slack reserve: carbon placement (warm start and local search) keeps a
// job inside [earliest, deadline - slack_reserve * slack], slack = deadline
// - earliest - duration, so part of every job's slack is left for later
// arrivals; the deadline-keeping fallbacks below may use the reserve.
//
// Method (the guarantee first, then carbon):
//  1. Warm start: every job with a `current_start` that still fits (its
//     deadline and the capacity) keeps it; the others, in deadline order,
//     take their cheapest free window that keeps the reserve, else the
//     earliest free start that meets the deadline. If that leaves a late
//     job that could still be on time, the same in plain deadline order
//     (a tight newcomer may push a loose job off its plan) is tried too.
//  2. If a late job that could be on time remains, EDF placement: every job
//     in deadline order at its *earliest* fitting start. It replaces the
//     warm start when it has fewer late jobs. Hence: whenever EDF placement
//     of the queue meets every deadline, the result meets every deadline
//     (the per-plan guarantee; `late` is then 0).
//  3. Local search: each job in turn (deadline order) is lifted out and put
//     back at its cheapest free window that keeps the reserve (or, for a job
//     placed inside its reserve, no later than it is), pass after pass until
//     nothing moves or `max_passes`. A move never breaks capacity or a
//     deadline and lowers the total, so the search terminates.
// In every step a job that cannot meet its deadline is placed after all the
// jobs that can (at its earliest fitting start among what is left) and
// marked `late`: placed by its early deadline, a hopeless job would take the
// slots of jobs that can still make it (EDF's domino effect in overload).
//
// What is and is not guaranteed. Per plan: no miss whenever EDF placement of
// the current queue from `now` meets every deadline. Online, with arrivals
// the planner cannot see, no deferring planner can promise "no miss where
// run-now has none" (an arrival can need a slot that deferral left idle
// earlier); the reserve makes that rare, and it is measured, not proven:
// EVALUATION.md "Capacity" (0 misses where run-now has 0 on Alibaba PAI 1k
// at 20, 40 and 100 slots; fewer misses than run-now in the overloaded
// cases measured).
//
// The result is reported with the capacity-free lower bound (every job at
// its own cheapest window) and the EDF placement's cost; `gap_percent` is the
// stated bound on the distance to the optimum for this instance.
//
// Cost: O(cells + jobs) to build occupancy, O(window cells) per job per
// pass (window = deadline - earliest); EDF and late placement skip full
// cells through a union-find (near O(job cells) per job), so an overloaded
// queue does not scan past deadlines job after job.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "forecast/intensity_series.h"
#include "scheduler/optimizer.h"

namespace lowcarb::scheduler {

struct QueuedJob {
  std::string id;
  Duration duration{0};  // Remaining work; REQUIRES: > 0.
  TimePoint earliest;    // Clamped to `now`.
  TimePoint deadline;
  Duration margin{0};         // End by deadline - margin when that is feasible.
  double power_watts = 1000;  // Weights the job's emissions.
  std::optional<TimePoint> current_start;  // Its plan so far (warm start).
};

struct QueuePlannerOptions {
  int slots = 1;  // REQUIRES: >= 1.
  Duration cell{std::chrono::minutes(5)};
  int max_passes = 4;
  bool warm_start = true;   // False: always EDF placement first.
  bool lower_bound = true;  // Compute lower_bound_grams and gap_percent.
  // Share of each job's slack (deadline - earliest - duration) that carbon
  // placement keeps unused; see the header comment. In [0, 1]. The default
  // was chosen by measurement (EVALUATION.md "Capacity").
  double slack_reserve = 0.35;
};

struct QueuedPlacement {
  std::string id;
  TimePoint start;
  TimePoint end;                 // start + duration.
  bool late = false;             // Ends after its deadline.
  bool forecast_known = true;    // Every cell of the window has a forecast.
  double mean_gco2_per_kwh = 0;  // Over the known cells of the window.
  double expected_grams = 0;
};

struct QueueSchedule {
  std::vector<QueuedPlacement> placements;  // In the order of the input jobs.
  int late = 0;
  bool cold_start = false;  // The warm start missed a deadline.
  double total_grams = 0;
  double edf_grams = 0;          // The EDF placement (cold start only, else 0).
  double lower_bound_grams = 0;  // Capacity-free, same jobs and cells.
  double gap_percent = 0;        // 100 * (total - lower bound) / lower bound.
  int passes = 0;
  int moves = 0;
};

// `busy`: spans during which one slot each is taken by work not in `jobs`
// (running jobs until their expected end, other plans); spans before `now`
// are ignored. Totals and the bound are in the objective's grams (cells
// without a forecast at the penalty); a placement's expected_grams uses only
// known values. A job that can no longer meet its deadline is placed at its
// earliest fitting start and marked late. kInvalidArgument for slots < 1, a
// non-positive cell or a non-positive duration.
Result<QueueSchedule> plan_zone_queue(TimePoint now,
                                      const std::vector<QueuedJob>& jobs,
                                      const std::vector<Segment>& busy,
                                      const forecast::IntensitySeries* series,
                                      const QueuePlannerOptions& options);

}  // namespace lowcarb::scheduler
