// SPDX-License-Identifier: Apache-2.0
// Electricity Maps API v3: latest, forecast, recent history and past-range
// carbon intensity for a zone ("DE", "US-CAL-CISO"). Average intensity; the
// scope (direct or lifecycle) is chosen per provider and sent as
// `emissionFactorType`. The API token travels in the `auth-token` header and
// never appears in logs or errors. Thread-safe if the HttpClient is.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "forecast/forecast_provider.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct ElectricityMapsOptions {
  std::string name = "electricitymaps";  // For logs and errors.
  // Default: the v3 API; https://api.electricitymaps.com/v3 also works.
  std::string base_url = "https://api.electricitymap.org/v3";
  std::string token;  // Secret.
  Scope scope = Scope::kDirect;
  std::chrono::milliseconds timeout{10000};
};

// The longest range one past-range request may cover (the API's limit for
// hourly data); longer history is fetched in chunks and joined.
inline constexpr Duration kElectricityMapsMaxPastRange = std::chrono::days(10);
// The longest forecast the API serves.
inline constexpr Duration kElectricityMapsMaxHorizon = std::chrono::hours(72);

// Parses a v3 carbon-intensity body: `latest` (one object), `forecast`
// (array "forecast"), `history` (array "history") or `past-range` (array
// "data"). Point durations come from the spacing of `datetime` (one point =
// 60 min). The scope is the body's `emissionFactorType` when present, else
// `scope`; generated_at is `updatedAt` when present, else `fetched_at`.
// kInvalidArgument for JSON of the wrong shape, kNotFound when there are no
// points, kUnavailable when the body is not JSON.
Result<IntensitySeries> parse_electricitymaps_body(std::string_view body,
                                                   const std::string& zone,
                                                   Horizon horizon, Scope scope,
                                                   TimePoint fetched_at);

// The allowed `horizonHours` value for a wanted horizon: the smallest of
// 6, 24, 48, 72 that covers it (72 at most).
int electricitymaps_horizon_hours(Duration horizon);

class ElectricityMapsProvider final : public ForecastProvider {
 public:
  // `http` and `clock` must outlive the provider.
  ElectricityMapsProvider(ElectricityMapsOptions options, HttpClient& http,
                          const Clock& clock);

  std::string name() const override { return options_.name; }

  // GET carbon-intensity/forecast; points that ended before `now` dropped.
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;

  // GET carbon-intensity/past-range in chunks of at most
  // kElectricityMapsMaxPastRange, joined and clipped to [from, to).
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;

  // GET carbon-intensity/latest: one point.
  Result<IntensitySeries> latest(const std::string& zone);

  // GET carbon-intensity/history: the last 24 hours.
  Result<IntensitySeries> recent_history(const std::string& zone);

 private:
  Result<IntensitySeries> get(const std::string& endpoint,
                              const std::string& zone,
                              const std::string& extra_query,
                              const std::string& what, Horizon horizon);

  ElectricityMapsOptions options_;
  HttpClient& http_;
  const Clock& clock_;
};

}  // namespace lowcarb::forecast
