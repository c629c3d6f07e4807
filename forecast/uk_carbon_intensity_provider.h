// SPDX-License-Identifier: Apache-2.0
// The UK Carbon Intensity API (National Energy System Operator; no key):
// half-hourly average/direct intensity for Great Britain, one of its 14 DNO
// regions ("region:13") or an outward postcode ("postcode:BS7"). Any other
// location means the national series. Forecasts use /fw24h or /fw48h;
// history uses /{from}/{to} in chunks of at most 14 days. Thread-safe if the
// HttpClient is.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "forecast/forecast_provider.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct UkCarbonIntensityOptions {
  std::string name = "ukcarbonintensity";  // For logs and errors.
  std::string base_url = "https://api.carbonintensity.org.uk";
  std::chrono::milliseconds timeout{10000};
};

inline constexpr Duration kUkMaxRange = std::chrono::days(14);

// Where a location points: national, a region id or an outward postcode.
struct UkLocation {
  enum class Type { kNational, kRegion, kPostcode };
  Type type = Type::kNational;
  std::string value;  // Region id ("13") or postcode ("BS7").
};

// "region:13" -> region 13, "postcode:BS7" -> postcode BS7, anything else
// -> national. kInvalidArgument for a region that is not a number or an
// empty/odd postcode.
Result<UkLocation> parse_uk_location(std::string_view location);

// "2026-11-23T14:00Z": the {from}/{to} format of the API's paths.
std::string format_uk_time(TimePoint time);

// Which value of each period to keep.
enum class UkValue {
  kForecast,     // `forecast` (forecasts).
  kActualFirst,  // `actual` when present, else `forecast` (history).
};

// Parses a national body (`data` array of periods), a regional one for a
// single region (`data` an object holding `data`), or an all-regions one
// (`data[].regions[]`, which needs `region_id`). Points keep the periods'
// own from/to. A 200 body carrying an `error` object is an error
// (kInvalidArgument with the API's message). generated_at = `fetched_at`.
Result<IntensitySeries> parse_uk_body(std::string_view body,
                                      const std::string& zone, Horizon horizon,
                                      UkValue value, TimePoint fetched_at,
                                      std::optional<int> region_id = {});

class UkCarbonIntensityProvider final : public ForecastProvider {
 public:
  // `http` and `clock` must outlive the provider.
  UkCarbonIntensityProvider(UkCarbonIntensityOptions options, HttpClient& http,
                            const Clock& clock);

  std::string name() const override { return options_.name; }

  // /intensity/{now}/fw24h (fw48h when `horizon` > 24 h), or the regional
  // and postcode forms. The first period ends at {now}; periods that ended
  // by `now` are dropped.
  Result<IntensitySeries> forecast(const std::string& location, TimePoint now,
                                   Duration horizon) override;

  // /intensity/{from}/{to} (or its regional forms), `actual` preferred.
  Result<IntensitySeries> history(const std::string& location, TimePoint from,
                                  TimePoint to) override;

 private:
  Result<IntensitySeries> get(const std::string& path, const std::string& zone,
                              const std::string& what, Horizon horizon,
                              UkValue value);

  UkCarbonIntensityOptions options_;
  HttpClient& http_;
  const Clock& clock_;
};

}  // namespace lowcarb::forecast
