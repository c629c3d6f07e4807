// SPDX-License-Identifier: Apache-2.0
// Carbon-intensity series: the value type every provider returns and the
// optimizer consumes. A series is one zone's list of intervals [start, end)
// with a value in gCO2eq/kWh (nullable: providers return nulls and gaps), plus
// the kind of signal it is and where it came from.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace lowcarb::forecast {

enum class Basis { kAverage, kMarginal };
enum class Scope { kDirect, kLifecycle };
enum class Horizon { kForecast, kObserved, kAnnualAverage };

// What a value means. Zones are only compared on the same basis and scope.
struct SignalKind {
  Basis basis = Basis::kAverage;
  Scope scope = Scope::kDirect;
  Horizon horizon = Horizon::kForecast;

  bool comparable_with(const SignalKind& other) const {
    return basis == other.basis && scope == other.scope;
  }
  bool operator==(const SignalKind&) const = default;
};

// "average/direct/forecast".
std::string to_string(const SignalKind& kind);

struct IntensityPoint {
  TimePoint start;
  TimePoint end;                       // REQUIRES: end > start.
  std::optional<double> gco2_per_kwh;  // nullopt = the provider had no value.

  bool operator==(const IntensityPoint&) const = default;
};

struct IntensitySeries {
  std::string zone;
  SignalKind kind;
  std::string provider;    // Who served it: "electricitymaps", "history", ...
  TimePoint generated_at;  // When the provider made it (or we fetched it).
  bool stale = false;      // Served from cache after the providers failed.
  // Sorted by start; intervals do not overlap (loaders resolve overlaps).
  std::vector<IntensityPoint> points;

  bool empty() const { return points.empty(); }
  TimePoint begin_time() const {
    return points.front().start;
  }  // REQUIRES: !empty()
  TimePoint end_time() const {
    return points.back().end;
  }  // REQUIRES: !empty()
};

}  // namespace lowcarb::forecast
