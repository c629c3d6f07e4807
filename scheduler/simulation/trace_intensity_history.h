// SPDX-License-Identifier: Apache-2.0
// The grid's actual intensity in a simulation: the historical series the
// simulator replays, per zone, with prefix integrals so a time-weighted mean
// over any interval costs two binary searches. Serves the Tracker
// (IntensityHistory) and the simulator's forecast provider. Immutable after
// construction; safe to share between threads for reading.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "forecast/intensity_series.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler::simulation {

class TraceIntensityHistory final : public IntensityHistory {
 public:
  // `series`: one per zone (later duplicates of a zone are ignored).
  explicit TraceIntensityHistory(std::vector<forecast::IntensitySeries> series);

  // Time-weighted mean of the known values in [from, to); nullopt when the
  // zone is unknown or nothing in the interval has a value. Source
  // "trace/observed".
  std::optional<RealizedIntensity> realized(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override;

  // The same as a const query: the time-weighted mean, or nullopt.
  std::optional<double> mean(const std::string& zone, TimePoint from,
                             TimePoint to) const;

  // The stored series of `zone`, or nullptr.
  const forecast::IntensitySeries* series(const std::string& zone) const;

  // The points of `zone` that overlap [from, to), unclipped, in order.
  std::vector<forecast::IntensityPoint> points_between(const std::string& zone,
                                                       TimePoint from,
                                                       TimePoint to) const;

  std::vector<std::string> zones() const;  // In construction order.

  // The span every zone has data for: [latest begin, earliest end).
  TimePoint common_begin() const;
  TimePoint common_end() const;

 private:
  struct ZoneData {
    forecast::IntensitySeries series;
    std::vector<double> value_seconds;       // Prefix sums, size points + 1.
    std::vector<long long> covered_seconds;  // Prefix sums, size points + 1.
  };
  // Integral and covered seconds over [from, to).
  std::pair<double, long long> integrate(const ZoneData& data, TimePoint from,
                                         TimePoint to) const;

  std::vector<std::string> order_;
  std::map<std::string, ZoneData> zones_;
};

}  // namespace lowcarb::scheduler::simulation
