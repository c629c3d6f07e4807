// SPDX-License-Identifier: Apache-2.0
#include "forecast/profile_provider.h"

#include <chrono>

#include <fmt/format.h>

#include "common/strings.h"
#include "data/profiles.h"
#include "forecast/resample.h"

namespace lowcarb::forecast {

namespace {

constexpr Duration kStep{3600};
}  // namespace

Result<IntensitySeries> ProfileProvider::forecast(const std::string& zone,
                                                  TimePoint now,
                                                  Duration horizon) {
  const char* scope_name = scope_ == Scope::kDirect ? "direct" : "lifecycle";
  const auto* profile = data::find_diurnal_profile(zone, scope_name);
  if (profile == nullptr) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("typical-day profile for {}: no {} profile for this zone "
                    "(profiles exist for {})",
                    zone, scope_name,
                    join(data::diurnal_profile_zones(), ", ")));
  }
  IntensitySeries series;
  series.zone = zone;
  series.kind = {Basis::kAverage, scope_, Horizon::kForecast};
  series.provider = name();
  series.generated_at = now;
  const TimePoint end = now + horizon;
  for (TimePoint t = floor_to_step(now, kStep); t < end || t == now;
       t += kStep) {
    const auto day = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{day};
    const auto hour = static_cast<unsigned>(
        std::chrono::duration_cast<std::chrono::hours>(t - day).count());
    series.points.push_back(
        {t, t + kStep, profile->at(static_cast<unsigned>(ymd.month()), hour)});
  }
  return series;
}

Result<IntensitySeries> ProfileProvider::history(const std::string& zone,
                                                 TimePoint, TimePoint) {
  return make_error(
      ErrorCode::kNotFound,
      fmt::format("profile provider: no observed history for {}", zone));
}

}  // namespace lowcarb::forecast
