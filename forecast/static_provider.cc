// SPDX-License-Identifier: Apache-2.0
#include "forecast/static_provider.h"

#include <fmt/format.h>

#include "data/catalogue.h"
#include "forecast/resample.h"

namespace lowcarb::forecast {

namespace {
constexpr Duration kStep{3600};
}  // namespace

Result<IntensitySeries> StaticProvider::forecast(const std::string& zone,
                                                 TimePoint now,
                                                 Duration horizon) {
  const auto* info = data::find_zone(zone);
  if (info == nullptr) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("static annual average for {}: zone not in "
                                  "the embedded catalogue",
                                  zone));
  }
  IntensitySeries series;
  series.zone = zone;
  series.kind = {
      Basis::kAverage,
      info->annual_basis == "lifecycle" ? Scope::kLifecycle : Scope::kDirect,
      Horizon::kAnnualAverage};
  series.provider = name();
  series.generated_at = now;
  const TimePoint end = now + horizon;
  for (TimePoint t = floor_to_step(now, kStep); t < end || t == now;
       t += kStep) {
    series.points.push_back({t, t + kStep, info->annual_gco2_per_kwh});
  }
  return series;
}

Result<IntensitySeries> StaticProvider::history(const std::string& zone,
                                                TimePoint, TimePoint) {
  return make_error(
      ErrorCode::kNotFound,
      fmt::format("static provider: no observed history for {}", zone));
}

}  // namespace lowcarb::forecast
