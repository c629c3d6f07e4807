// SPDX-License-Identifier: Apache-2.0
// Brute-force reference implementations of the optimizer's modes, for the
// property tests: slow, obvious, and independent of the optimizer's code
// (they integrate the raw IntensitySeries directly).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "forecast/intensity_series.h"
#include "scheduler/optimizer.h"

namespace lowcarb::scheduler::reference {

// The mean over [start, end) if every second of it has a value; nullopt
// otherwise. Integrates the raw points one by one.
std::optional<double> mean_over(const forecast::IntensitySeries& series,
                                int64_t start, int64_t end);

struct ReferenceWindow {
  int64_t start = 0;
  double mean = 0;
};

// The lowest-mean window by evaluating every candidate start: lo, hi - d,
// every point boundary b and b - d in range, and additionally every start
// on a `scan_step`-second lattice from lo (0 = no lattice). Ties (within
// `tolerance`, relative) to the earliest start.
std::optional<ReferenceWindow> best_window(
    const forecast::IntensitySeries& series, int64_t lo, int64_t hi,
    int64_t duration, int64_t scan_step = 0, double tolerance = 0);

// Pause-resume over grid cells by enumerating every subset of cells.
// `cell_cost[i]` = nullopt for an unusable cell. A selection is valid when
// every run of consecutive selected cells has at least `min_cells` cells
// (runs after the first also more than `overhead_cells`),
// the number of runs minus one is <= max_pauses (when >= 0), and the number
// of selected cells is `work_cells + (runs - 1) * overhead_cells`. Returns
// the least total cost, nullopt when nothing is valid. REQUIRES: size <= 20.
std::optional<double> best_cell_subset(
    const std::vector<std::optional<double>>& cell_cost, int work_cells,
    int min_cells, int max_pauses, int overhead_cells);

// A regular series for tests: points of `step` seconds from `start`.
forecast::IntensitySeries regular_series(
    const std::string& zone, TimePoint start, Duration step,
    const std::vector<std::optional<double>>& values);

// A ZoneOption with default preferences.
inline ZoneOption zone_option(const std::string& zone,
                              const forecast::IntensitySeries* series) {
  ZoneOption option;
  option.zone = zone;
  option.series = series;
  return option;
}

}  // namespace lowcarb::scheduler::reference
