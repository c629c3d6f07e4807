// SPDX-License-Identifier: Apache-2.0
#include "scheduler/intensity_history.h"

#include <algorithm>

namespace lowcarb::scheduler {

std::optional<Coverage> mean_over(const forecast::IntensitySeries& series,
                                  TimePoint from, TimePoint to) {
  if (to <= from) {
    return std::nullopt;
  }
  double weighted = 0;
  double seconds = 0;
  for (const auto& p : series.points) {
    if (!p.gco2_per_kwh || p.end <= from || p.start >= to) {
      continue;
    }
    double overlap = static_cast<double>(
        (std::min(p.end, to) - std::max(p.start, from)).count());
    weighted += *p.gco2_per_kwh * overlap;
    seconds += overlap;
  }
  if (seconds <= 0) {
    return std::nullopt;
  }
  return Coverage{weighted / seconds,
                  seconds / static_cast<double>((to - from).count())};
}

std::optional<RealizedIntensity> ObservedOrForecastHistory::realized(
    const std::string& zone, TimePoint from, TimePoint to) {
  if (observed_) {
    auto series = observed_->range(zone, kind_, from, to);
    if (series) {
      auto coverage = mean_over(*series, from, to);
      // Observed values win when they cover most of the interval.
      if (coverage && coverage->covered_fraction >= 0.5) {
        return RealizedIntensity{coverage->mean, "history/observed"};
      }
    }
  }
  // The forecast in force: ask from the interval's start (the cache serves
  // it without a network call within its TTL).
  auto forecast =
      forecasts_.forecast(zone, from, std::max(to - from, Duration(3600)));
  if (!forecast) {
    return std::nullopt;
  }
  auto coverage = mean_over(*forecast, from, to);
  if (!coverage) {
    return std::nullopt;
  }
  const char* what =
      forecast->kind.horizon == forecast::Horizon::kObserved ? "observed"
      : forecast->kind.horizon == forecast::Horizon::kAnnualAverage
          ? "annual-average"
          : "forecast";
  return RealizedIntensity{coverage->mean, forecast->provider + "/" + what};
}

}  // namespace lowcarb::scheduler
