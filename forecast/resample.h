// SPDX-License-Identifier: Apache-2.0
// Putting series on a regular grid. Providers and files deliver points at 5,
// 15, 30 or 60 minute steps, with gaps, overlaps and irregular spacing; the
// planner and the history forecaster want one value per grid step. These
// functions never invent values: a grid step with no known value stays null,
// and find_gaps() lists where that happens. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <vector>

#include "common/clock.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

// A span [start, end) without any known value.
struct Gap {
  TimePoint start;
  TimePoint end;
  bool operator==(const Gap&) const = default;
};

// Makes `points` satisfy the IntensitySeries invariant: sorted by start, no
// zero- or negative-length intervals, no overlaps. Overlaps are resolved by
// listing order: a later-listed point wins over the part of any earlier point
// it covers (the earlier point is trimmed or split around it), so a file that
// repeats a timestamp keeps its last row, and appending a newer forecast
// after an older one lets the newer values win. O(n log n).
std::vector<IntensityPoint> normalise_points(
    std::vector<IntensityPoint> points);

// normalise_points() on `series.points`.
void normalise_series(IntensitySeries& series);

// The median spacing between consecutive distinct instants of `starts` (in
// any order), or nullopt with fewer than two distinct instants.
std::optional<Duration> infer_step(std::vector<TimePoint> starts);

// Resamples `series` onto the grid of `step` aligned to multiples of `step`
// since the Unix epoch (so a 15-minute grid has steps at :00, :15, ...),
// covering [floor(begin), ceil(end)). Each grid step gets the time-weighted
// mean of the known values overlapping it (nulls and holes carry no weight);
// a step that overlaps no known value is null. Metadata is copied. An empty
// series gives an empty series. REQUIRES: step > 0.
IntensitySeries resample(const IntensitySeries& series, Duration step);

// The maximal spans inside [series.begin_time(), series.end_time()) covered
// by no point with a value (holes between points and null points, merged),
// in time order. Empty for an empty series.
std::vector<Gap> find_gaps(const IntensitySeries& series);

// The start of the grid step of `step` containing `time`. REQUIRES: step > 0.
TimePoint floor_to_step(TimePoint time, Duration step);

}  // namespace lowcarb::forecast
