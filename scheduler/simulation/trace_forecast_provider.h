// SPDX-License-Identifier: Apache-2.0
// The forecasts the scheduler sees in a simulation, made from the replayed
// trace itself:
//   - perfect:  the actual values for [now, now + horizon);
//   - noisy:σ:  the actual values, each multiplied by (1 + σ·z), z standard
//               normal, clamped at 0 (Let's Wait Awhile's error model). z is
//               a pure function of (seed, zone, point start, issue time), so
//               a run is reproducible, two forecasts issued at different
//               times have independent errors, and the same forecast asked
//               twice at one `now` is identical;
//   - noisy-abs:σ: Let's Wait Awhile's own model (simulate.py
//               _apply_error): the actual value plus σ·m·z, m the zone's mean
//               over the whole trace, z drawn from (seed, zone, point start)
//               only, i.e. one fixed noisy series per seed, not clamped;
//   - history:  the production EnsembleForecaster (daily + weekly profile
//               with a fitted per-lead deviation term) over the trace; it
//               reads only values whose interval has ended by `now`, so it
//               never sees the future.
// Not thread-safe (the history forecaster caches models).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "forecast/ensemble_forecaster.h"
#include "forecast/forecast_provider.h"
#include "scheduler/simulation/trace_intensity_history.h"

namespace lowcarb::scheduler::simulation {

enum class ForecastMode { kPerfect, kNoisy, kNoisyAbsolute, kHistory };

struct ForecastSpec {
  ForecastMode mode = ForecastMode::kPerfect;
  double sigma = 0;   // kNoisy*: relative standard deviation (0.05 = 5 %).
  uint64_t seed = 1;  // kNoisy*.
  std::string text() const;  // "perfect", "noisy:0.05", "history".
};

// "perfect", "history", "noisy:0.05", "noisy:5%" or "noisy-abs:0.05"
// (σ in [0, 10]).
Result<ForecastSpec> forecast_spec_from_string(std::string_view text,
                                               uint64_t seed);

class TraceForecastProvider final : public forecast::ForecastProvider {
 public:
  // `trace` must outlive the provider.
  TraceForecastProvider(const TraceIntensityHistory& trace, ForecastSpec spec);

  std::string name() const override;  // "trace/perfect", ...

  // kNotFound for a zone not in the trace or (history) with less than a day
  // of past values at `now`.
  Result<forecast::IntensitySeries> forecast(const std::string& zone,
                                             TimePoint now,
                                             Duration horizon) override;

  // The actual values in [from, to).
  Result<forecast::IntensitySeries> history(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override;

  // The multiplicative error factor of the value for `point_start` in a
  // forecast of `zone` issued at `issued`; 1 + sigma·z clamped at 0.
  // Used by tests.
  double noise_factor(const std::string& zone, TimePoint point_start,
                      TimePoint issued) const;
  // A standard normal drawn from (seed, zone, point start, issued).
  double standard_normal(const std::string& zone, TimePoint point_start,
                         TimePoint issued) const;

 private:
  const TraceIntensityHistory& trace_;
  ForecastSpec spec_;
  std::unique_ptr<forecast::EnsembleForecaster> history_;
  std::map<std::string, double> zone_means_;  // kNoisyAbsolute.
};

}  // namespace lowcarb::scheduler::simulation
