// SPDX-License-Identifier: Apache-2.0
#include "forecast/fallback_chain.h"

#include <fmt/format.h>

#include "common/logging.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "forecast/series_validation.h"

namespace lowcarb::forecast {

namespace {

// Checks a provider's answer; findings go to the log at warn.
Result<IntensitySeries> checked(Result<IntensitySeries> result,
                                const std::string& zone,
                                const std::string& provider) {
  if (!result) {
    return result;
  }
  result->zone = zone;
  result->provider = provider;
  auto check = check_series(std::move(*result));
  if (!check) {
    return make_error(check.error());
  }
  for (const auto& warning : check->warnings) {
    get_logger("forecast")->warn("{}", warning);
  }
  return std::move(check->series);
}

}  // namespace

FallbackChain::FallbackChain(
    std::map<std::string, std::vector<ChainLink>> routes,
    std::vector<ChainLink> default_route, SignalKind comparison)
    : routes_(std::move(routes)),
      default_route_(std::move(default_route)),
      comparison_(comparison) {
  for (auto& link : default_route_) {
    link.location.clear();
  }
}

std::vector<ChainLink> FallbackChain::route(const std::string& zone) const {
  auto it = routes_.find(zone);
  return it == routes_.end() ? default_route_ : it->second;
}

void FallbackChain::note_failure(const std::string& zone, const ChainLink& link,
                                 const Error& error) {
  auto& logged = failing_[{zone, link.provider_name}];
  if (!logged) {
    logged = true;
    // kNotFound is the chain working as designed (no history imported, no
    // profile for the zone), not a degraded provider.
    const auto level = error.code == ErrorCode::kNotFound ? spdlog::level::info
                                                          : spdlog::level::warn;
    get_logger("forecast")
        ->log(level, "forecast for {}: provider {} failed ({}): {}", zone,
              link.provider_name, error_code_name(error.code),
              redact(error.message));
  }
}

void FallbackChain::note_success(const std::string& zone, const ChainLink& link,
                                 const IntensitySeries& series) {
  auto key = std::make_pair(zone, link.provider_name);
  if (auto it = failing_.find(key); it != failing_.end() && it->second) {
    it->second = false;
    get_logger("forecast")
        ->info("forecast for {}: provider {} recovered", zone,
               link.provider_name);
  }
  if (!series.kind.comparable_with(comparison_)) {
    auto& logged = mismatch_logged_[key];
    if (!logged) {
      logged = true;
      get_logger("forecast")
          ->warn(
              "forecast for {}: provider {} serves {} values, but zones are "
              "compared on {}; its values are not comparable with other zones'",
              zone, link.provider_name, to_string(series.kind),
              to_string(comparison_));
    }
  }
}

template <typename Call>
Result<IntensitySeries> FallbackChain::walk(const std::string& zone,
                                            const char* what,
                                            std::optional<TimePoint> now,
                                            Call call) {
  const auto links = route(zone);
  if (links.empty()) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("{} for {}: no providers configured", what, zone));
  }
  std::vector<std::string> failures;
  bool all_not_found = true;
  // A stale answer kept in case no later provider can do better.
  std::optional<IntensitySeries> stale;
  for (const auto& link : links) {
    const std::string& location = link.location.empty() ? zone : link.location;
    auto result =
        checked(call(*link.provider, location), zone, link.provider_name);
    if (result) {
      note_success(zone, link, *result);
      const bool too_old = now && max_age_ != Duration::max() &&
                           result->kind.horizon != Horizon::kAnnualAverage &&
                           *now - result->generated_at > max_age_;
      if (!too_old) {
        if (stale) {
          get_logger("forecast")
              ->warn(
                  "{} for {}: {} is stale (generated {}, more than {} "
                  "ago); using {} instead",
                  what, zone, stale->provider, format_utc(stale->generated_at),
                  format_duration(max_age_), link.provider_name);
        }
        return result;
      }
      if (!stale) {
        stale = std::move(*result);
      }
      all_not_found = false;
      continue;
    }
    note_failure(zone, link, result.error());
    all_not_found =
        all_not_found && result.error().code == ErrorCode::kNotFound;
    failures.push_back(fmt::format("{} ({}): {}", link.provider_name,
                                   error_code_name(result.error().code),
                                   redact(result.error().message)));
  }
  if (stale) {
    get_logger("forecast")
        ->warn(
            "{} for {}: only a stale forecast is available ({}, generated "
            "{}); no other provider answered",
            what, zone, stale->provider, format_utc(stale->generated_at));
    stale->stale = true;
    return std::move(*stale);
  }
  return make_error(
      all_not_found ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
      fmt::format("{} for {}: every provider failed: {}", what, zone,
                  join(failures, "; ")));
}

Result<IntensitySeries> FallbackChain::forecast(const std::string& zone,
                                                TimePoint now,
                                                Duration horizon) {
  return walk(zone, "forecast", now,
              [&](ForecastProvider& provider, const std::string& location) {
                return provider.forecast(location, now, horizon);
              });
}

Result<IntensitySeries> FallbackChain::history(const std::string& zone,
                                               TimePoint from, TimePoint to) {
  return walk(zone, "history", std::nullopt,
              [&](ForecastProvider& provider, const std::string& location) {
                return provider.history(location, from, to);
              });
}

}  // namespace lowcarb::forecast
