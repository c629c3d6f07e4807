// SPDX-License-Identifier: Apache-2.0
#include "forecast/electricitymaps_provider.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "forecast/http_errors.h"

namespace lowcarb::forecast {
namespace {

Error shape_error(const std::string& zone, std::string_view why) {
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("electricitymaps: carbon intensity for {}: "
                           "unexpected response: {}",
                           zone, why)};
}

Result<Sample> parse_entry(const nlohmann::json& entry,
                           const std::string& zone) {
  if (!entry.is_object() || !entry.contains("datetime") ||
      !entry["datetime"].is_string()) {
    return make_error(shape_error(zone, "an entry has no \"datetime\""));
  }
  auto start = parse_time(entry["datetime"].get<std::string>());
  if (!start) {
    return make_error(shape_error(zone, start.error().message));
  }
  Sample sample{*start, std::nullopt};
  if (entry.contains("carbonIntensity")) {
    const auto& value = entry["carbonIntensity"];
    if (value.is_number()) {
      sample.gco2_per_kwh = value.get<double>();
    } else if (!value.is_null()) {
      return make_error(
          shape_error(zone, "\"carbonIntensity\" is not a number"));
    }
  }
  return sample;
}

std::string scope_name(Scope scope) {
  return scope == Scope::kLifecycle ? "lifecycle" : "direct";
}

}  // namespace

int electricitymaps_horizon_hours(Duration horizon) {
  for (int hours : {6, 24, 48}) {
    if (horizon <= std::chrono::hours(hours)) {
      return hours;
    }
  }
  return 72;
}

Result<IntensitySeries> parse_electricitymaps_body(std::string_view body,
                                                   const std::string& zone,
                                                   Horizon horizon, Scope scope,
                                                   TimePoint fetched_at) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return make_error(unreadable_body_error(
        {"electricitymaps", "carbon intensity for " + zone, {}}, body,
        "parse error"));
  }
  if (!doc.is_object()) {
    return make_error(shape_error(zone, "the body is not a JSON object"));
  }
  std::vector<Sample> samples;
  const nlohmann::json* factor_type = nullptr;
  const nlohmann::json* list = nullptr;
  for (const char* key : {"forecast", "history", "data"}) {
    if (doc.contains(key) && doc[key].is_array()) {
      list = &doc[key];
      break;
    }
  }
  if (list) {
    for (const auto& entry : *list) {
      auto sample = parse_entry(entry, zone);
      if (!sample) {
        return make_error(sample.error());
      }
      samples.push_back(*sample);
      if (entry.contains("emissionFactorType")) {
        factor_type = &entry["emissionFactorType"];
      }
    }
  } else if (doc.contains("datetime")) {
    auto sample = parse_entry(doc, zone);
    if (!sample) {
      return make_error(sample.error());
    }
    samples.push_back(*sample);
  } else {
    return make_error(shape_error(
        zone, "no \"forecast\", \"history\", \"data\" or \"datetime\""));
  }
  if (doc.contains("emissionFactorType")) {
    factor_type = &doc["emissionFactorType"];
  }
  if (samples.empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("electricitymaps: carbon intensity for {}: "
                                  "the response has no data points",
                                  zone));
  }
  IntensitySeries series;
  series.zone = doc.value("zone", zone);
  series.provider = "electricitymaps";
  series.kind = {Basis::kAverage, scope, horizon};
  if (factor_type && factor_type->is_string()) {
    auto type = factor_type->get<std::string>();
    if (type == "lifecycle") {
      series.kind.scope = Scope::kLifecycle;
    } else if (type == "direct") {
      series.kind.scope = Scope::kDirect;
    }
  }
  series.generated_at = fetched_at;
  if (doc.contains("updatedAt") && doc["updatedAt"].is_string()) {
    if (auto updated = parse_time(doc["updatedAt"].get<std::string>())) {
      series.generated_at = *updated;
    }
  }
  series.points = points_from_starts(std::move(samples), std::chrono::hours(1));
  return series;
}

ElectricityMapsProvider::ElectricityMapsProvider(ElectricityMapsOptions options,
                                                 HttpClient& http,
                                                 const Clock& clock)
    : options_(std::move(options)), http_(http), clock_(clock) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

Result<IntensitySeries> ElectricityMapsProvider::get(
    const std::string& endpoint, const std::string& zone,
    const std::string& extra_query, const std::string& what, Horizon horizon) {
  HttpRequest request;
  request.url = fmt::format(
      "{}/carbon-intensity/{}?zone={}&emissionFactorType={}"
      "&disableCallerLookup=true{}",
      options_.base_url, endpoint, url_encode(zone), scope_name(options_.scope),
      extra_query);
  request.headers.emplace_back("auth-token", options_.token);
  request.headers.emplace_back("Accept", "application/json");
  request.total_timeout = options_.timeout;
  RequestContext context{options_.name, what, {options_.token}};
  TimePoint now = clock_.now();
  auto body = fetch_body(http_, request, context, now);
  if (!body) {
    return make_error(body.error());
  }
  auto series =
      parse_electricitymaps_body(*body, zone, horizon, options_.scope, now);
  if (!series) {
    return make_error(redacted(series.error(), context.secrets));
  }
  series->provider = options_.name;
  return series;
}

Result<IntensitySeries> ElectricityMapsProvider::forecast(
    const std::string& zone, TimePoint now, Duration horizon) {
  int hours = electricitymaps_horizon_hours(horizon);
  auto series = get("forecast", zone, fmt::format("&horizonHours={}", hours),
                    "forecast for " + zone, Horizon::kForecast);
  if (!series) {
    return series;
  }
  drop_ended(*series, now);
  if (series->empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: forecast for {}: every point ended "
                                  "before {}",
                                  options_.name, zone, format_utc(now)));
  }
  return series;
}

Result<IntensitySeries> ElectricityMapsProvider::history(
    const std::string& zone, TimePoint from, TimePoint to) {
  return fetch_history_in_chunks(
      options_.name, zone, from, to, kElectricityMapsMaxPastRange,
      [&](TimePoint start, TimePoint end) {
        return get(
            "past-range", zone,
            fmt::format("&start={}&end={}", url_encode(format_utc(start)),
                        url_encode(format_utc(end))),
            fmt::format("history for {} from {} to {}", zone, format_utc(start),
                        format_utc(end)),
            Horizon::kObserved);
      });
}

Result<IntensitySeries> ElectricityMapsProvider::latest(
    const std::string& zone) {
  return get("latest", zone, "", "latest for " + zone, Horizon::kObserved);
}

Result<IntensitySeries> ElectricityMapsProvider::recent_history(
    const std::string& zone) {
  return get("history", zone, "", "recent history for " + zone,
             Horizon::kObserved);
}

}  // namespace lowcarb::forecast
