// SPDX-License-Identifier: Apache-2.0
// Checks a carbon-intensity series at the boundary where it enters the
// planner (the fallback chain, the file loaders, `lowcarb forecast
// --provider`). Values that cannot be right (non-finite, negative, above
// `max_gco2_per_kwh`) become nulls; of points with the same start and
// different values only the first is kept; intervals of different lengths
// are reported. Each finding is a warning naming the zone, the provider and
// the time. A series with no usable value left is a failure, so the caller
// falls back to the next provider. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct SeriesLimits {
  // The dirtiest real grids average about 1,000 g/kWh and single plants
  // stay below about 1,500 (lifecycle, lignite); 5,000 leaves room for
  // marginal signals and stops unit mix-ups (kg vs g, lb/MWh) and junk.
  double max_gco2_per_kwh = 5000;
};

struct CheckedSeries {
  IntensitySeries series;             // The cleaned series.
  std::vector<std::string> warnings;  // One line per finding; may be empty.
};

// The cleaned series and what was wrong with it. kUnavailable ("no usable
// value") when the series is empty or every value is null after cleaning:
// callers treat it like a provider failure. At most a few warnings per kind
// are listed one by one; the rest are counted in a summary line.
Result<CheckedSeries> check_series(IntensitySeries series,
                                   const SeriesLimits& limits = {});

}  // namespace lowcarb::forecast
