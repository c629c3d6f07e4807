// SPDX-License-Identifier: Apache-2.0
// The fallback chain: for each zone, its providers in configured order
// (ZoneConfig::providers). A forecast is asked of each in turn until one
// succeeds; the series says who served it (`provider`, the configured name)
// and keeps `stale` from a cache. Each provider gets the zone's location in
// its own terms (ZoneConfig::provider_location for HTTP providers) and the
// series comes back under the zone id. Every series is checked on the way
// through (series_validation.h): findings are logged at warn, and a series
// with no usable value counts as that provider failing. A forecast older
// than the maximum age (set_max_age) does not end the walk: the next
// providers are asked and it is served only when none of them can answer.
// Not thread-safe (it remembers which failures it has logged).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "forecast/forecast_provider.h"

namespace lowcarb::forecast {

// One step of a zone's chain.
struct ChainLink {
  std::string provider_name;  // The configured name, reported as `provider`.
  ForecastProvider* provider = nullptr;  // Not owned.
  std::string location;  // What the provider is asked for; "" = the zone id.
};

class FallbackChain final : public ForecastProvider {
 public:
  // `routes` maps zone ids to their chains; zones not in it use
  // `default_route` (whose locations are ignored: the zone id is used).
  // `comparison` is the planner's comparison kind: a served series of
  // another basis or scope is logged at warn.
  FallbackChain(std::map<std::string, std::vector<ChainLink>> routes,
                std::vector<ChainLink> default_route, SignalKind comparison);

  std::string name() const override { return "fallback"; }

  // The first success along the zone's chain. Each failure is logged
  // (redacted) once until that provider succeeds again for the zone: at warn,
  // or at info for kNotFound (a provider without data for the zone).
  // When every provider fails: kNotFound if all said kNotFound, else
  // kUnavailable, with each provider's failure in the message.
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;

  // The same walk for observed values.
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;

  // The chain used for `zone`.
  std::vector<ChainLink> route(const std::string& zone) const;

  // Forecasts generated more than `age` before the `now` asked about are
  // stale (annual averages never are). Default: no limit.
  void set_max_age(Duration age) { max_age_ = age; }

 private:
  template <typename Call>
  Result<IntensitySeries> walk(const std::string& zone, const char* what,
                               std::optional<TimePoint> now, Call call);
  void note_failure(const std::string& zone, const ChainLink& link,
                    const Error& error);
  void note_success(const std::string& zone, const ChainLink& link,
                    const IntensitySeries& series);

  std::map<std::string, std::vector<ChainLink>> routes_;
  std::vector<ChainLink> default_route_;
  SignalKind comparison_;
  Duration max_age_ = Duration::max();
  // (zone, provider) pairs whose failure has been logged.
  std::map<std::pair<std::string, std::string>, bool> failing_;
  // (zone, provider) pairs whose kind mismatch has been logged.
  std::map<std::pair<std::string, std::string>, bool> mismatch_logged_;
};

}  // namespace lowcarb::forecast
