// SPDX-License-Identifier: Apache-2.0
// WattTime API v3: marginal operating emissions rate (co2_moer) forecasts and
// history for a WattTime region ("CAISO_NORTH"). Logs in with HTTP Basic
// (GET /login) for a bearer token valid 30 minutes, caches it, renews it
// before it expires and once after a 401/403. Values arrive in lbs CO2/MWh
// and are returned in g/kWh. The `signal-index` percentile is not a rate and
// is rejected. Credentials and tokens never appear in logs or errors.
// Thread-safe if the HttpClient is (the token cache is locked).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "forecast/forecast_provider.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct WattTimeOptions {
  std::string name = "watttime";  // For logs and errors.
  std::string base_url = "https://api.watttime.org";
  std::string username;
  std::string password;  // Secret.
  std::string signal_type = "co2_moer";
  std::chrono::milliseconds timeout{10000};
};

// 1 lb/MWh in g/kWh.
inline constexpr double kGramsPerKwhPerLbPerMwh = 0.45359237;
// WattTime tokens live 30 minutes; we renew after this long.
inline constexpr Duration kWattTimeTokenRenewAfter = std::chrono::minutes(25);
// The longest range one /v3/historical request may cover.
inline constexpr Duration kWattTimeMaxHistoricalRange = std::chrono::days(32);
inline constexpr Duration kWattTimeMaxHorizon = std::chrono::hours(72);

// The factor from `units` (meta.units) to g/kWh: lbs_co2_per_mwh ->
// 0.45359237, kg_co2_per_mwh / g_co2_per_kwh -> 1. kInvalidArgument for a
// percentile (signal-index) and for any unknown unit, naming it.
Result<double> watttime_unit_factor(std::string_view units);

// Parses a /v3/forecast or /v3/historical body (`data[]` of
// {point_time, value}, `meta`): marginal/direct, converted to g/kWh, each
// point lasting meta.data_point_period_seconds (default: the spacing).
// generated_at is meta.generated_at when present, else `fetched_at`.
// `meta.warnings` are logged at warn. kNotFound for an empty `data`,
// kInvalidArgument for a wrong shape or unit, kUnavailable for non-JSON.
Result<IntensitySeries> parse_watttime_data(std::string_view body,
                                            const std::string& region,
                                            Horizon horizon,
                                            TimePoint fetched_at);

// Parses a /v3/forecast/historical body (`data[]` of {generated_at,
// forecast[]}): one forecast series per element, in body order.
Result<std::vector<IntensitySeries>> parse_watttime_forecast_history(
    std::string_view body, const std::string& region);

// Parses the {"token": ...} body of /login.
Result<std::string> parse_watttime_login(std::string_view body);

struct WattTimeRegion {
  std::string region;       // "CAISO_NORTH"
  std::string full_name;    // "California Independent System Operator (North)"
  std::string signal_type;  // "co2_moer"
};

// Parses a /v3/region-from-loc body.
Result<WattTimeRegion> parse_watttime_region(std::string_view body);

class WattTimeProvider final : public ForecastProvider {
 public:
  // `http` and `clock` must outlive the provider.
  WattTimeProvider(WattTimeOptions options, HttpClient& http,
                   const Clock& clock);

  std::string name() const override { return options_.name; }

  // GET /v3/forecast?region=&signal_type=&horizon_hours= (capped at 72).
  Result<IntensitySeries> forecast(const std::string& region, TimePoint now,
                                   Duration horizon) override;

  // GET /v3/historical in chunks of at most 32 days, joined and clipped.
  Result<IntensitySeries> history(const std::string& region, TimePoint from,
                                  TimePoint to) override;

  // GET /v3/region-from-loc: the region covering a coordinate (for the CLI).
  Result<WattTimeRegion> region_from_location(double latitude,
                                              double longitude);

 private:
  // GET `path_and_query` with the bearer token, logging in first when
  // needed and once more after a 401/403.
  Result<std::string> authorized_get(const std::string& path_and_query,
                                     const std::string& what);
  Result<std::string> current_token(TimePoint now);
  std::vector<std::string> secrets() const;

  WattTimeOptions options_;
  HttpClient& http_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::string token_;         // Guarded by mutex_. Secret.
  TimePoint token_obtained_;  // Guarded by mutex_.
};

}  // namespace lowcarb::forecast
