// SPDX-License-Identifier: Apache-2.0
// A Carbon Aware SDK WebAPI server (Green Software Foundation): forecasts
// from /emissions/forecasts/current and history from /emissions/bylocations
// for SDK location names ("westus", "eastus"). The SDK relays another
// provider (WattTime or Electricity Maps) and does not say which basis its
// values have; the kind is configured (default: marginal, the SDK's
// documented WattTime set-up). Thread-safe if the HttpClient is.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "forecast/forecast_provider.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct CarbonAwareSdkOptions {
  std::string name = "carbon-aware-sdk";  // For logs and errors.
  std::string base_url = "http://localhost:8080";
  std::string token;  // Optional; sent as "Authorization: Bearer". Secret.
  Basis basis = Basis::kMarginal;
  std::chrono::milliseconds timeout{10000};
};

// Parses a /emissions/forecasts/current body: an array with one
// EmissionsForecast per location, each with `forecastData` of {location,
// timestamp, duration (minutes), value}. generated_at is `generatedAt`.
// kNotFound for an empty array or empty forecastData.
Result<std::vector<IntensitySeries>> parse_sdk_forecasts(std::string_view body,
                                                         Basis basis,
                                                         TimePoint fetched_at);

// Parses a /emissions/bylocation(s) body: an array of {location, time,
// rating, duration ("HH:MM:SS" or "d.HH:MM:SS")}, in any order; one series
// per location, sorted by start. A single object (the documented
// /bylocations/best example) is accepted as an array of one.
Result<std::vector<IntensitySeries>> parse_sdk_emissions(std::string_view body,
                                                         Basis basis,
                                                         TimePoint fetched_at);

// Parses a .NET TimeSpan "HH:MM:SS" / "d.HH:MM:SS" (fractions ignored).
Result<Duration> parse_sdk_timespan(std::string_view text);

class CarbonAwareSdkProvider final : public ForecastProvider {
 public:
  // `http` and `clock` must outlive the provider.
  CarbonAwareSdkProvider(CarbonAwareSdkOptions options, HttpClient& http,
                         const Clock& clock);

  std::string name() const override { return options_.name; }

  Result<IntensitySeries> forecast(const std::string& location, TimePoint now,
                                   Duration horizon) override;

  // One request with a repeated `location` parameter; one series per
  // location, in the order asked. Points that ended by `now` are dropped;
  // the series is the SDK's whole forecast (it may exceed `horizon`).
  Result<std::vector<IntensitySeries>> forecasts(
      const std::vector<std::string>& locations, TimePoint now,
      Duration horizon);

  // GET /emissions/bylocations?location=&time=&toTime=.
  Result<IntensitySeries> history(const std::string& location, TimePoint from,
                                  TimePoint to) override;

 private:
  Result<std::string> get(const std::string& path_and_query,
                          const std::string& what);

  CarbonAwareSdkOptions options_;
  HttpClient& http_;
  const Clock& clock_;
};

}  // namespace lowcarb::forecast
