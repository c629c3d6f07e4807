// SPDX-License-Identifier: Apache-2.0
#include "forecast/carbon_aware_sdk_provider.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "forecast/http_errors.h"

namespace lowcarb::forecast {
namespace {

constexpr char kProvider[] = "carbon-aware-sdk";

Error shape_error(const std::string& what, std::string_view why) {
  return Error{
      ErrorCode::kInvalidArgument,
      fmt::format("carbon-aware-sdk: {}: unexpected response: {}", what, why)};
}

Result<nlohmann::json> parse_array(std::string_view body,
                                   const std::string& what) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return make_error(
        unreadable_body_error({kProvider, what, {}}, body, "parse error"));
  }
  if (doc.is_object()) {
    nlohmann::json array = nlohmann::json::array();
    array.push_back(std::move(doc));
    return array;
  }
  if (!doc.is_array()) {
    return make_error(shape_error(what, "the body is not a JSON array"));
  }
  return doc;
}

Result<TimePoint> time_field(const nlohmann::json& object, const char* key,
                             const std::string& what) {
  if (!object.contains(key) || !object[key].is_string()) {
    return make_error(
        shape_error(what, fmt::format("an entry has no \"{}\"", key)));
  }
  auto at = parse_time(object[key].get<std::string>());
  if (!at) {
    return make_error(shape_error(what, at.error().message));
  }
  return *at;
}

std::optional<double> number_or_null(const nlohmann::json& object,
                                     const char* key) {
  if (object.contains(key) && object[key].is_number()) {
    return object[key].get<double>();
  }
  return std::nullopt;
}

std::string joined_locations(const std::vector<std::string>& locations) {
  std::string out;
  for (const auto& location : locations) {
    out += out.empty() ? location : "," + location;
  }
  return out;
}

}  // namespace

Result<Duration> parse_sdk_timespan(std::string_view text) {
  std::string_view rest = trim(text);
  long long days = 0;
  auto colon = rest.find(':');
  auto dot = rest.find('.');
  if (dot != std::string_view::npos && colon != std::string_view::npos &&
      dot < colon) {
    auto parsed = parse_integer(rest.substr(0, dot));
    if (!parsed) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("duration \"{}\": bad day count", text));
    }
    days = *parsed;
    rest = rest.substr(dot + 1);
  }
  auto parts = split(rest, ':');
  if (parts.size() != 3) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("duration \"{}\": expected HH:MM:SS", text));
  }
  // Fractional seconds ("00:05:00.5") are dropped.
  auto seconds_text = parts[2].substr(0, parts[2].find('.'));
  auto hours = parse_integer(parts[0]);
  auto minutes = parse_integer(parts[1]);
  auto seconds = parse_integer(seconds_text);
  if (!hours || !minutes || !seconds || *hours < 0 || *minutes < 0 ||
      *seconds < 0 || days < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("duration \"{}\": expected HH:MM:SS", text));
  }
  return Duration(((days * 24 + *hours) * 60 + *minutes) * 60 + *seconds);
}

Result<std::vector<IntensitySeries>> parse_sdk_forecasts(std::string_view body,
                                                         Basis basis,
                                                         TimePoint fetched_at) {
  std::string what = "forecast";
  auto doc = parse_array(body, what);
  if (!doc) {
    return make_error(doc.error());
  }
  std::vector<IntensitySeries> out;
  for (const auto& forecast : *doc) {
    if (!forecast.is_object() || !forecast.contains("forecastData") ||
        !forecast["forecastData"].is_array()) {
      return make_error(shape_error(what, "an element has no forecastData"));
    }
    IntensitySeries series;
    series.zone = forecast.value("location", "");
    series.kind = {basis, Scope::kDirect, Horizon::kForecast};
    series.provider = kProvider;
    series.generated_at = fetched_at;
    if (forecast.contains("generatedAt")) {
      auto generated = time_field(forecast, "generatedAt", what);
      if (!generated) {
        return make_error(generated.error());
      }
      series.generated_at = *generated;
    }
    for (const auto& entry : forecast["forecastData"]) {
      auto start = time_field(entry, "timestamp", what);
      if (!start) {
        return make_error(start.error());
      }
      auto minutes = entry.is_object() && entry.contains("duration") &&
                             entry["duration"].is_number_integer()
                         ? entry["duration"].get<long long>()
                         : 0;
      if (minutes <= 0) {
        return make_error(shape_error(what,
                                      "a forecastData entry has no positive "
                                      "\"duration\" (minutes)"));
      }
      series.points.push_back({*start, *start + std::chrono::minutes(minutes),
                               number_or_null(entry, "value")});
      if (series.zone.empty()) {
        series.zone = entry.value("location", "");
      }
    }
    std::stable_sort(series.points.begin(), series.points.end(),
                     [](const IntensityPoint& a, const IntensityPoint& b) {
                       return a.start < b.start;
                     });
    if (series.points.empty()) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("carbon-aware-sdk: forecast for {}: "
                                    "forecastData is empty",
                                    series.zone));
    }
    out.push_back(std::move(series));
  }
  if (out.empty()) {
    return make_error(ErrorCode::kNotFound,
                      "carbon-aware-sdk: forecast: the response is an empty "
                      "array (unknown location?)");
  }
  return out;
}

Result<std::vector<IntensitySeries>> parse_sdk_emissions(std::string_view body,
                                                         Basis basis,
                                                         TimePoint fetched_at) {
  std::string what = "emissions";
  auto doc = parse_array(body, what);
  if (!doc) {
    return make_error(doc.error());
  }
  std::map<std::string, IntensitySeries> by_location;
  std::vector<std::string> order;
  for (const auto& entry : *doc) {
    auto start = time_field(entry, "time", what);
    if (!start) {
      return make_error(start.error());
    }
    if (!entry.contains("duration") || !entry["duration"].is_string()) {
      return make_error(shape_error(what, "an entry has no \"duration\""));
    }
    auto duration = parse_sdk_timespan(entry["duration"].get<std::string>());
    if (!duration) {
      return make_error(shape_error(what, duration.error().message));
    }
    if (*duration <= Duration(0)) {
      return make_error(shape_error(what, "an entry has a zero duration"));
    }
    std::string location = entry.value("location", "");
    auto [it, inserted] = by_location.try_emplace(location);
    if (inserted) {
      order.push_back(location);
      it->second.zone = location;
      it->second.kind = {basis, Scope::kDirect, Horizon::kObserved};
      it->second.provider = kProvider;
      it->second.generated_at = fetched_at;
    }
    it->second.points.push_back(
        {*start, *start + *duration, number_or_null(entry, "rating")});
  }
  if (order.empty()) {
    return make_error(ErrorCode::kNotFound,
                      "carbon-aware-sdk: emissions: the response is an empty "
                      "array");
  }
  std::vector<IntensitySeries> out;
  for (const auto& location : order) {
    IntensitySeries series;
    series.zone = location;
    series.kind = by_location[location].kind;
    series.provider = kProvider;
    series.generated_at = fetched_at;
    append_points(series, by_location[location]);  // Sorts, drops repeats.
    out.push_back(std::move(series));
  }
  return out;
}

CarbonAwareSdkProvider::CarbonAwareSdkProvider(CarbonAwareSdkOptions options,
                                               HttpClient& http,
                                               const Clock& clock)
    : options_(std::move(options)), http_(http), clock_(clock) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

Result<std::string> CarbonAwareSdkProvider::get(
    const std::string& path_and_query, const std::string& what) {
  HttpRequest request;
  request.url = options_.base_url + path_and_query;
  request.headers.emplace_back("Accept", "application/json");
  if (!options_.token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  }
  request.total_timeout = options_.timeout;
  RequestContext context{options_.name, what, {options_.token}};
  return fetch_body(http_, request, context, clock_.now());
}

Result<std::vector<IntensitySeries>> CarbonAwareSdkProvider::forecasts(
    const std::vector<std::string>& locations, TimePoint now,
    Duration /*horizon*/) {
  std::string what = "forecast for " + joined_locations(locations);
  if (locations.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      options_.name + ": forecast: no location given");
  }
  std::string query;
  for (const auto& location : locations) {
    query += query.empty() ? "?" : "&";
    query += "location=" + url_encode(location);
  }
  // No dataStartAt/dataEndAt: the SDK answers 400 when they fall outside
  // its forecast, which `now` and `now + horizon` easily do. The whole
  // forecast is fetched and trimmed here.
  auto body = get("/emissions/forecasts/current" + query, what);
  if (!body) {
    return make_error(body.error());
  }
  auto parsed = parse_sdk_forecasts(*body, options_.basis, now);
  if (!parsed) {
    // The parsers quote the body, which may echo the token back.
    return make_error(redacted(parsed.error(), {options_.token}));
  }
  std::vector<IntensitySeries> out;
  for (size_t i = 0; i < locations.size(); ++i) {
    const auto& location = locations[i];
    auto it = std::find_if(parsed->begin(), parsed->end(),
                           [&](const IntensitySeries& series) {
                             return iequals(series.zone, location);
                           });
    if (it == parsed->end() && parsed->size() == locations.size()) {
      // The server may name the underlying region instead (CAISO_NORTH for
      // westus); it answers in the order asked.
      it = parsed->begin() + static_cast<std::ptrdiff_t>(i);
    }
    if (it == parsed->end()) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("{}: {}: no forecast for location {} in "
                                    "the response",
                                    options_.name, what, location));
    }
    IntensitySeries series = *it;
    series.zone = location;
    series.provider = options_.name;
    drop_ended(series, now);
    if (series.empty()) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("{}: forecast for {}: every point ended "
                                    "before {}",
                                    options_.name, location, format_utc(now)));
    }
    out.push_back(std::move(series));
  }
  return out;
}

Result<IntensitySeries> CarbonAwareSdkProvider::forecast(
    const std::string& location, TimePoint now, Duration horizon) {
  auto all = forecasts({location}, now, horizon);
  if (!all) {
    return make_error(all.error());
  }
  return std::move(all->front());
}

Result<IntensitySeries> CarbonAwareSdkProvider::history(
    const std::string& location, TimePoint from, TimePoint to) {
  std::string what = fmt::format("history for {} from {} to {}", location,
                                 format_utc(from), format_utc(to));
  if (to <= from) {
    return make_error(ErrorCode::kInvalidArgument,
                      options_.name + ": " + what + ": empty range");
  }
  auto body =
      get(fmt::format("/emissions/bylocations?location={}&time={}"
                      "&toTime={}",
                      url_encode(location), url_encode(format_utc(from)),
                      url_encode(format_utc(to))),
          what);
  if (!body) {
    return make_error(body.error());
  }
  auto parsed = parse_sdk_emissions(*body, options_.basis, clock_.now());
  if (!parsed) {
    // The parsers quote the body, which may echo the token back.
    return make_error(redacted(parsed.error(), {options_.token}));
  }
  IntensitySeries series = std::move(parsed->front());
  series.zone = location;
  series.provider = options_.name;
  keep_overlapping(series, from, to);
  if (series.empty()) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("{}: {}: no data in range", options_.name, what));
  }
  return series;
}

}  // namespace lowcarb::forecast
