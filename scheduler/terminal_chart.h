// SPDX-License-Identifier: Apache-2.0
// Renders an intensity series as a Unicode bar chart for the terminal: one
// column per time slice (eighth-block bars), the value range on the left, a
// time axis in UTC underneath, and an optional highlighted window [start,
// end) marked under the axis (and coloured when asked). Used by
// `lowcarb forecast` and `lowcarb plan`. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "forecast/intensity_series.h"

namespace lowcarb::scheduler {

struct ChartWindow {
  TimePoint start;
  TimePoint end;
  std::string label;  // Printed after the markers, e.g. "lowest 1h".
};

struct ChartOptions {
  int max_columns = 72;  // One column per point up to this many. Default: 72.
  int height = 8;        // Rows of bars. Default: 8.
  std::optional<ChartWindow> highlight;
  bool color = false;  // ANSI colour for highlighted bars. Default: off.
};

// The chart as lines ending in '\n'. Columns cover equal time slices of
// [series.begin_time(), series.end_time()); a column's bar is the
// time-weighted mean of the known values in its slice, and a column with
// none is drawn as '·' on the baseline. An empty series gives
// "(no data)\n".
std::string render_chart(const forecast::IntensitySeries& series,
                         const ChartOptions& options = {});

}  // namespace lowcarb::scheduler
