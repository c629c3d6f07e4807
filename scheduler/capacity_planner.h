// SPDX-License-Identifier: Apache-2.0
// Capacity-aware queue planning: a zone with N concurrent slots and a queue
// of contiguous jobs, so the queue does not all pile into the single greenest
// hour. Pure code; thread-safe.
//
// Method: time is cut into the series' grid cells (step = gcd of the point
// lengths; starts on cell boundaries, durations rounded up to whole cells).
// Jobs are placed in deadline order (EDF) each at its cheapest window whose
// cells all have a free slot (O(cells in the job's range) per job with a
// sliding count of blocked cells). Then local search: each job in turn is
// lifted out and put back at its cheapest feasible window, pass after pass,
// until a pass moves nothing or `max_passes` is reached. Every move lowers
// the total, so the search terminates. It is a heuristic: the result is
// reported with the capacity-free lower bound (every job at its own best
// window, as if slots were unlimited) and the gap between them.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "forecast/intensity_series.h"

namespace lowcarb::scheduler {

struct QueueJob {
  std::string id;
  Duration duration{0};
  TimePoint earliest;
  TimePoint deadline;
  double power_watts = 1000;  // Weights the job's emissions.
};

struct QueueOptions {
  int slots = 1;       // Concurrent jobs the zone runs; REQUIRES: >= 1.
  int max_passes = 4;  // Local-search passes after EDF.
};

struct Placement {
  std::string id;
  bool placed = false;  // False: no window with a free slot and known values.
  TimePoint start;
  TimePoint end;
  double expected_gco2_per_kwh = 0;
  double expected_grams = 0;
};

struct QueuePlan {
  std::vector<Placement> placements;  // In the order of the input jobs.
  double total_grams = 0;             // Placed jobs only.
  double lower_bound_grams = 0;       // Capacity-free, same jobs.
  double gap_percent = 0;  // 100 * (total - lower bound) / lower bound.
  int unplaced = 0;
  int passes = 0;        // Local-search passes run.
  int moves = 0;         // Jobs moved by local search.
  double edf_grams = 0;  // Total before local search.
};

// kInvalidArgument for slots < 1, an empty series, or a job whose duration
// does not fit between its earliest start and deadline.
Result<QueuePlan> plan_queue(const std::vector<QueueJob>& jobs,
                             const forecast::IntensitySeries& series,
                             const QueueOptions& options = {});

}  // namespace lowcarb::scheduler
