// SPDX-License-Identifier: Apache-2.0
// The daemon's IntensityHistory: what a zone's intensity actually was over an
// interval. Observed values from the history store when they cover the
// interval; otherwise the forecast that was in force (from the forecast
// service, normally served from its cache), marked "<provider>/forecast" in
// the ledger so published numbers say which they are. Not thread-safe.
#pragma once

#include <optional>
#include <string>

#include "forecast/forecast_provider.h"
#include "forecast/history_store.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler {

// Time-weighted mean of `series` over [from, to) using only points with
// values, and the fraction of [from, to) those points cover; nullopt when
// none overlap.
struct Coverage {
  double mean = 0;
  double covered_fraction = 0;
};
std::optional<Coverage> mean_over(const forecast::IntensitySeries& series,
                                  TimePoint from, TimePoint to);

class ObservedOrForecastHistory final : public IntensityHistory {
 public:
  // `observed` may be null (no state database).
  ObservedOrForecastHistory(forecast::ForecastProvider& forecasts,
                            forecast::HistoryStore* observed,
                            forecast::SignalKind kind)
      : forecasts_(forecasts), observed_(observed), kind_(kind) {}

  std::optional<RealizedIntensity> realized(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override;

 private:
  forecast::ForecastProvider& forecasts_;
  forecast::HistoryStore* observed_;
  forecast::SignalKind kind_;
};

}  // namespace lowcarb::scheduler
