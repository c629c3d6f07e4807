// SPDX-License-Identifier: Apache-2.0
#include "forecast/uk_carbon_intensity_provider.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "forecast/http_errors.h"

namespace lowcarb::forecast {
namespace {

constexpr char kProvider[] = "ukcarbonintensity";

Error shape_error(const std::string& what, std::string_view why) {
  return Error{
      ErrorCode::kInvalidArgument,
      fmt::format("ukcarbonintensity: {}: unexpected response: {}", what, why)};
}

std::optional<double> number_or_null(const nlohmann::json& intensity,
                                     const char* key) {
  if (intensity.contains(key) && intensity[key].is_number()) {
    return intensity[key].get<double>();
  }
  return std::nullopt;
}

Result<IntensityPoint> parse_period(const nlohmann::json& period, UkValue value,
                                    const std::string& what) {
  if (!period.is_object() || !period.contains("from") ||
      !period.contains("to") || !period["from"].is_string() ||
      !period["to"].is_string()) {
    return make_error(shape_error(what, "a period has no \"from\"/\"to\""));
  }
  auto from = parse_time(period["from"].get<std::string>());
  auto to = parse_time(period["to"].get<std::string>());
  if (!from || !to) {
    return make_error(
        shape_error(what, !from ? from.error().message : to.error().message));
  }
  if (*to <= *from) {
    return make_error(shape_error(what, "a period ends before it starts: " +
                                            period["from"].get<std::string>()));
  }
  IntensityPoint point{*from, *to, std::nullopt};
  if (period.contains("intensity") && period["intensity"].is_object()) {
    const auto& intensity = period["intensity"];
    auto forecast = number_or_null(intensity, "forecast");
    auto actual = number_or_null(intensity, "actual");
    point.gco2_per_kwh =
        value == UkValue::kActualFirst && actual ? actual : forecast;
  }
  return point;
}

}  // namespace

Result<UkLocation> parse_uk_location(std::string_view location) {
  UkLocation out;
  if (location.starts_with("region:")) {
    auto id = parse_integer(location.substr(7));
    if (!id || *id < 1 || *id > 99) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("UK location \"{}\": the region id must be a number "
                      "(1-17, see the API's region list)",
                      location));
    }
    out.type = UkLocation::Type::kRegion;
    out.value = std::to_string(*id);
  } else if (location.starts_with("postcode:")) {
    std::string postcode(trim(location.substr(9)));
    bool ok = !postcode.empty() && postcode.size() <= 4;
    for (char c : postcode) {
      ok = ok && std::isalnum(static_cast<unsigned char>(c));
    }
    if (!ok) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("UK location \"{}\": expected the outward part of a "
                      "postcode, e.g. postcode:BS7",
                      location));
    }
    out.type = UkLocation::Type::kPostcode;
    out.value = postcode;
  }
  return out;
}

std::string format_uk_time(TimePoint time) {
  // format_utc gives "YYYY-MM-DDTHH:MM:SSZ"; the API's paths take minutes.
  std::string text = format_utc(time);
  return text.substr(0, 16) + "Z";
}

Result<IntensitySeries> parse_uk_body(std::string_view body,
                                      const std::string& zone, Horizon horizon,
                                      UkValue value, TimePoint fetched_at,
                                      std::optional<int> region_id) {
  std::string what = "carbon intensity for " + zone;
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return make_error(
        unreadable_body_error({kProvider, what, {}}, body, "parse error"));
  }
  if (!doc.is_object()) {
    return make_error(shape_error(what, "the body is not a JSON object"));
  }
  if (doc.contains("error")) {
    const auto& error = doc["error"];
    std::string message = error.is_object()
                              ? fmt::format("{}: {}", error.value("code", ""),
                                            error.value("message", ""))
                              : error.dump();
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("ukcarbonintensity: {}: the API answered "
                                  "with an error: {}",
                                  what, message));
  }
  if (!doc.contains("data")) {
    return make_error(shape_error(what, "no \"data\""));
  }
  const nlohmann::json* periods = &doc["data"];
  if (periods->is_object()) {
    // A single region: {"data": {"regionid": 13, ..., "data": [...]}}.
    if (!periods->contains("data")) {
      return make_error(shape_error(what, "regional \"data\" has no periods"));
    }
    periods = &(*periods)["data"];
  }
  if (!periods->is_array()) {
    return make_error(shape_error(what, "\"data\" is not an array"));
  }
  IntensitySeries series;
  series.zone = zone;
  series.kind = {Basis::kAverage, Scope::kDirect, horizon};
  series.provider = kProvider;
  series.generated_at = fetched_at;
  for (const auto& period : *periods) {
    if (period.is_object() && period.contains("regions")) {
      // All regions per period: pick ours.
      if (!region_id) {
        return make_error(shape_error(
            what, "the body lists every region but no region was asked for"));
      }
      const nlohmann::json* match = nullptr;
      for (const auto& region : period["regions"]) {
        if (region.is_object() && region.value("regionid", -1) == *region_id) {
          match = &region;
        }
      }
      if (!match) {
        return make_error(ErrorCode::kNotFound,
                          fmt::format("ukcarbonintensity: {}: region {} is "
                                      "not in the response",
                                      what, *region_id));
      }
      nlohmann::json merged = *match;
      merged["from"] = period.value("from", "");
      merged["to"] = period.value("to", "");
      auto point = parse_period(merged, value, what);
      if (!point) {
        return make_error(point.error());
      }
      series.points.push_back(*point);
      continue;
    }
    auto point = parse_period(period, value, what);
    if (!point) {
      return make_error(point.error());
    }
    series.points.push_back(*point);
  }
  if (series.points.empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("ukcarbonintensity: {}: the response has no "
                                  "periods",
                                  what));
  }
  std::stable_sort(series.points.begin(), series.points.end(),
                   [](const IntensityPoint& a, const IntensityPoint& b) {
                     return a.start < b.start;
                   });
  return series;
}

UkCarbonIntensityProvider::UkCarbonIntensityProvider(
    UkCarbonIntensityOptions options, HttpClient& http, const Clock& clock)
    : options_(std::move(options)), http_(http), clock_(clock) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

Result<IntensitySeries> UkCarbonIntensityProvider::get(const std::string& path,
                                                       const std::string& zone,
                                                       const std::string& what,
                                                       Horizon horizon,
                                                       UkValue value) {
  HttpRequest request;
  request.url = options_.base_url + path;
  request.headers.emplace_back("Accept", "application/json");
  request.total_timeout = options_.timeout;
  RequestContext context{options_.name, what, {}};
  TimePoint now = clock_.now();
  auto body = fetch_body(http_, request, context, now);
  if (!body) {
    return make_error(body.error());
  }
  auto series = parse_uk_body(*body, zone, horizon, value, now);
  if (series) {
    series->provider = options_.name;
  }
  return series;
}

namespace {

// "/intensity/{from}/{window}" or its regional forms.
std::string uk_path(const UkLocation& location, const std::string& from,
                    const std::string& window) {
  switch (location.type) {
    case UkLocation::Type::kRegion:
      return fmt::format("/regional/intensity/{}/{}/regionid/{}", from, window,
                         location.value);
    case UkLocation::Type::kPostcode:
      return fmt::format("/regional/intensity/{}/{}/postcode/{}", from, window,
                         location.value);
    case UkLocation::Type::kNational:
      break;
  }
  return fmt::format("/intensity/{}/{}", from, window);
}

}  // namespace

Result<IntensitySeries> UkCarbonIntensityProvider::forecast(
    const std::string& location, TimePoint now, Duration horizon) {
  auto where = parse_uk_location(location);
  if (!where) {
    return make_error(where.error().with_context(options_.name));
  }
  std::string window = horizon > std::chrono::hours(24) ? "fw48h" : "fw24h";
  std::string what = "forecast for " + location;
  auto series = get(uk_path(*where, format_uk_time(now), window), location,
                    what, Horizon::kForecast, UkValue::kForecast);
  if (!series) {
    return series;
  }
  drop_ended(*series, now);
  if (series->empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: {}: every period ended before {}",
                                  options_.name, what, format_utc(now)));
  }
  return series;
}

Result<IntensitySeries> UkCarbonIntensityProvider::history(
    const std::string& location, TimePoint from, TimePoint to) {
  auto where = parse_uk_location(location);
  if (!where) {
    return make_error(where.error().with_context(options_.name));
  }
  return fetch_history_in_chunks(
      options_.name, location, from, to, kUkMaxRange,
      [&](TimePoint start, TimePoint end) {
        std::string what = fmt::format("history for {} from {} to {}", location,
                                       format_utc(start), format_utc(end));
        // The path's second slot is {to} here instead of a window.
        return get(uk_path(*where, format_uk_time(start), format_uk_time(end)),
                   location, what, Horizon::kObserved, UkValue::kActualFirst);
      });
}

}  // namespace lowcarb::forecast
