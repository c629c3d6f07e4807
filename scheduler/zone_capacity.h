// SPDX-License-Identifier: Apache-2.0
// Zone capacity for the planner: a zone (or Slurm cluster) with N concurrent
// slots must not have every queued job pile into its single greenest hour.
// The scheduler plans jobs one at a time in deadline order; each plan sees
// the times when the zone's slots are already taken (by running jobs and by
// the plans of the others) as times without a forecast value, which the
// optimizer never chooses: the per-job path (run-now, threshold, spatial,
// zones with allowed hours); queue_planner.h plans the other jobs' queue as
// a whole. Pure code.
#pragma once

#include <vector>

#include "forecast/intensity_series.h"
#include "scheduler/optimizer.h"

namespace lowcarb::scheduler {

// The spans, sorted and merged, during which at least `capacity` of the
// `occupied` segment lists overlap. REQUIRES: capacity >= 1.
std::vector<UtcSpan> full_spans(const std::vector<Segment>& occupied,
                                int capacity);

// `series` with no value inside `blocked` (points cut at span boundaries).
// REQUIRES: `blocked` sorted and non-overlapping.
forecast::IntensitySeries without_spans(const forecast::IntensitySeries& series,
                                        const std::vector<UtcSpan>& blocked);

}  // namespace lowcarb::scheduler
