// SPDX-License-Identifier: Apache-2.0
// Synthetic intensity series for the simulator tests.
#pragma once

#include <string>
#include <vector>

#include "common/time_format.h"
#include "forecast/intensity_series.h"

namespace lowcarb::scheduler::simulation {

inline TimePoint sim_t0() { return *parse_time("2022-01-03T00:00:00Z"); }

// Hourly points from sim_t0() with the given values.
inline forecast::IntensitySeries hourly_series(
    const std::string& zone, const std::vector<double>& values) {
  forecast::IntensitySeries series;
  series.zone = zone;
  series.kind.horizon = forecast::Horizon::kObserved;
  TimePoint t = sim_t0();
  for (double value : values) {
    series.points.push_back({t, t + std::chrono::hours(1), value});
    t += std::chrono::hours(1);
  }
  return series;
}

// `days` of a daily cycle: clean at night, dirty in the evening, with a
// day-to-day drift so windows are never tied.
inline std::vector<double> daily_cycle(int days, double phase = 0) {
  std::vector<double> values;
  for (int d = 0; d < days; ++d) {
    for (int h = 0; h < 24; ++h) {
      double hour = (h + phase);
      double value =
          300 +
          120 * ((static_cast<int>(hour * 7 + d * 13) % 24) - 11.5) / 11.5 +
          d * 1.7 + h * 0.01;
      values.push_back(value);
    }
  }
  return values;
}

}  // namespace lowcarb::scheduler::simulation
