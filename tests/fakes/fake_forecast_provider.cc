// SPDX-License-Identifier: Apache-2.0
#include "tests/fakes/fake_forecast_provider.h"

namespace lowcarb::fakes {

void FakeForecastProvider::set_hourly(const std::string& zone, TimePoint start,
                                      const std::vector<double>& values) {
  forecast::IntensitySeries series;
  series.zone = zone;
  series.provider = "fake";
  series.generated_at = start;
  for (size_t i = 0; i < values.size(); ++i) {
    TimePoint s = start + std::chrono::hours(i);
    series.points.push_back({s, s + std::chrono::hours(1), values[i]});
  }
  series_[zone] = std::move(series);
}

void FakeForecastProvider::set_series(forecast::IntensitySeries series) {
  series_[series.zone] = std::move(series);
}

Result<forecast::IntensitySeries> FakeForecastProvider::forecast(
    const std::string& zone, TimePoint now, Duration horizon) {
  ++calls_[zone];
  if (error_) {
    return tl::unexpected(*error_);
  }
  auto it = series_.find(zone);
  if (it == series_.end()) {
    return tl::unexpected(Error{ErrorCode::kNotFound, "no series for " + zone});
  }
  forecast::IntensitySeries out = it->second;
  out.generated_at = now;
  out.points.clear();
  for (const auto& p : it->second.points) {
    if (p.end > now && p.start < now + horizon) {
      out.points.push_back(p);
    }
  }
  return out;
}

Result<forecast::IntensitySeries> FakeForecastProvider::history(
    const std::string& zone, TimePoint from, TimePoint to) {
  auto it = series_.find(zone);
  if (it == series_.end()) {
    return tl::unexpected(Error{ErrorCode::kNotFound, "no series for " + zone});
  }
  forecast::IntensitySeries out = it->second;
  out.points.clear();
  for (const auto& p : it->second.points) {
    if (p.end > from && p.start < to) {
      out.points.push_back(p);
    }
  }
  return out;
}

int FakeForecastProvider::calls(const std::string& zone) const {
  auto it = calls_.find(zone);
  return it == calls_.end() ? 0 : it->second;
}

}  // namespace lowcarb::fakes
