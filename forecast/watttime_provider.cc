// SPDX-License-Identifier: Apache-2.0
#include "forecast/watttime_provider.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/time_format.h"
#include "forecast/http_errors.h"

namespace lowcarb::forecast {
namespace {

constexpr char kProvider[] = "watttime";

Error shape_error(const std::string& what, std::string_view why) {
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("watttime: {}: unexpected response: {}", what, why)};
}

Result<nlohmann::json> parse_json(std::string_view body,
                                  const std::string& what) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return make_error(
        unreadable_body_error({kProvider, what, {}}, body, "parse error"));
  }
  if (!doc.is_object()) {
    return make_error(shape_error(what, "the body is not a JSON object"));
  }
  return doc;
}

void log_warnings(const nlohmann::json& meta, const std::string& what) {
  if (!meta.contains("warnings") || !meta["warnings"].is_array()) {
    return;
  }
  for (const auto& warning : meta["warnings"]) {
    std::string type = warning.is_object() ? warning.value("type", "") : "";
    std::string message =
        warning.is_object() ? warning.value("message", "") : warning.dump();
    get_logger("forecast")
        ->warn("watttime: {}: API warning {}: {}", what, type, redact(message));
  }
}

// Converts `list` (an array of {point_time, value}) into points.
Result<std::vector<IntensityPoint>> parse_points(const nlohmann::json& list,
                                                 double factor,
                                                 std::optional<Duration> period,
                                                 const std::string& what) {
  if (!list.is_array()) {
    return make_error(shape_error(what, "\"data\" is not an array"));
  }
  std::vector<Sample> samples;
  for (const auto& entry : list) {
    if (!entry.is_object() || !entry.contains("point_time") ||
        !entry["point_time"].is_string()) {
      return make_error(shape_error(what, "an entry has no \"point_time\""));
    }
    auto start = parse_time(entry["point_time"].get<std::string>());
    if (!start) {
      return make_error(shape_error(what, start.error().message));
    }
    Sample sample{*start, std::nullopt};
    if (entry.contains("value") && entry["value"].is_number()) {
      sample.gco2_per_kwh = entry["value"].get<double>() * factor;
    } else if (entry.contains("value") && !entry["value"].is_null()) {
      return make_error(shape_error(what, "a \"value\" is not a number"));
    }
    samples.push_back(sample);
  }
  auto points = points_from_starts(std::move(samples),
                                   period.value_or(std::chrono::minutes(5)));
  if (period) {
    for (auto& point : points) {
      point.end = point.start + *period;
    }
  }
  return points;
}

struct Meta {
  double factor = 1;
  std::optional<Duration> period;
  std::optional<TimePoint> generated_at;
};

Result<Meta> parse_meta(const nlohmann::json& doc, const std::string& what) {
  if (!doc.contains("meta") || !doc["meta"].is_object()) {
    return make_error(shape_error(what, "no \"meta\" object"));
  }
  const auto& meta = doc["meta"];
  log_warnings(meta, what);
  if (!meta.contains("units") || !meta["units"].is_string()) {
    return make_error(shape_error(what, "no \"meta.units\""));
  }
  auto factor = watttime_unit_factor(meta["units"].get<std::string>());
  if (!factor) {
    return make_error(factor.error().with_context("watttime: " + what));
  }
  Meta out;
  out.factor = *factor;
  if (meta.contains("data_point_period_seconds") &&
      meta["data_point_period_seconds"].is_number_integer() &&
      meta["data_point_period_seconds"].get<long long>() > 0) {
    out.period = Duration(meta["data_point_period_seconds"].get<long long>());
  }
  if (meta.contains("generated_at") && meta["generated_at"].is_string()) {
    if (auto at = parse_time(meta["generated_at"].get<std::string>())) {
      out.generated_at = *at;
    }
  }
  return out;
}

}  // namespace

Result<double> watttime_unit_factor(std::string_view units) {
  if (units == "lbs_co2_per_mwh") {
    return kGramsPerKwhPerLbPerMwh;
  }
  if (units == "kg_co2_per_mwh" || units == "g_co2_per_kwh") {
    return 1.0;
  }
  if (units == "percentile" || units == "percent") {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("units \"{}\": this is the signal-index percentile (0-100 "
                    "relative to the recent past), not an emission rate; "
                    "it cannot be compared with g/kWh values",
                    units));
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("units \"{}\" are not known (expected "
                                "lbs_co2_per_mwh)",
                                units));
}

Result<IntensitySeries> parse_watttime_data(std::string_view body,
                                            const std::string& region,
                                            Horizon horizon,
                                            TimePoint fetched_at) {
  std::string what = fmt::format(
      "{} for {}", horizon == Horizon::kForecast ? "forecast" : "history",
      region);
  auto doc = parse_json(body, what);
  if (!doc) {
    return make_error(doc.error());
  }
  auto meta = parse_meta(*doc, what);
  if (!meta) {
    return make_error(meta.error());
  }
  if (!doc->contains("data")) {
    return make_error(shape_error(what, "no \"data\""));
  }
  auto points = parse_points((*doc)["data"], meta->factor, meta->period, what);
  if (!points) {
    return make_error(points.error());
  }
  if (points->empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("watttime: {}: the response has no data "
                                  "points",
                                  what));
  }
  IntensitySeries series;
  series.zone = (*doc)["meta"].value("region", region);
  series.kind = {Basis::kMarginal, Scope::kDirect, horizon};
  series.provider = kProvider;
  series.generated_at = meta->generated_at.value_or(fetched_at);
  series.points = std::move(*points);
  return series;
}

Result<std::vector<IntensitySeries>> parse_watttime_forecast_history(
    std::string_view body, const std::string& region) {
  std::string what = "forecast history for " + region;
  auto doc = parse_json(body, what);
  if (!doc) {
    return make_error(doc.error());
  }
  auto meta = parse_meta(*doc, what);
  if (!meta) {
    return make_error(meta.error());
  }
  if (!doc->contains("data") || !(*doc)["data"].is_array()) {
    return make_error(shape_error(what, "\"data\" is not an array"));
  }
  std::vector<IntensitySeries> out;
  for (const auto& element : (*doc)["data"]) {
    if (!element.is_object() || !element.contains("forecast") ||
        !element.contains("generated_at") ||
        !element["generated_at"].is_string()) {
      return make_error(shape_error(
          what, "an element has no \"generated_at\" or \"forecast\""));
    }
    auto generated = parse_time(element["generated_at"].get<std::string>());
    if (!generated) {
      return make_error(shape_error(what, generated.error().message));
    }
    auto points =
        parse_points(element["forecast"], meta->factor, meta->period, what);
    if (!points) {
      return make_error(points.error());
    }
    IntensitySeries series;
    series.zone = (*doc)["meta"].value("region", region);
    series.kind = {Basis::kMarginal, Scope::kDirect, Horizon::kForecast};
    series.provider = kProvider;
    series.generated_at = *generated;
    series.points = std::move(*points);
    out.push_back(std::move(series));
  }
  if (out.empty()) {
    return make_error(ErrorCode::kNotFound,
                      "watttime: " + what + ": the response has no forecasts");
  }
  return out;
}

Result<std::string> parse_watttime_login(std::string_view body) {
  auto doc = parse_json(body, "login");
  if (!doc) {
    return make_error(doc.error());
  }
  if (!doc->contains("token") || !(*doc)["token"].is_string() ||
      (*doc)["token"].get<std::string>().empty()) {
    return make_error(shape_error("login", "no \"token\""));
  }
  return (*doc)["token"].get<std::string>();
}

Result<WattTimeRegion> parse_watttime_region(std::string_view body) {
  auto doc = parse_json(body, "region-from-loc");
  if (!doc) {
    return make_error(doc.error());
  }
  if (!doc->contains("region") || !(*doc)["region"].is_string()) {
    return make_error(shape_error("region-from-loc", "no \"region\""));
  }
  return WattTimeRegion{(*doc)["region"].get<std::string>(),
                        doc->value("region_full_name", ""),
                        doc->value("signal_type", "")};
}

WattTimeProvider::WattTimeProvider(WattTimeOptions options, HttpClient& http,
                                   const Clock& clock)
    : options_(std::move(options)), http_(http), clock_(clock) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

std::vector<std::string> WattTimeProvider::secrets() const {
  std::lock_guard lock(mutex_);
  return {options_.password, token_};
}

Result<std::string> WattTimeProvider::current_token(TimePoint now) {
  {
    std::lock_guard lock(mutex_);
    if (!token_.empty() && now - token_obtained_ < kWattTimeTokenRenewAfter &&
        now >= token_obtained_) {
      return token_;
    }
  }
  HttpRequest request;
  request.url = options_.base_url + "/login";
  request.basic_user = options_.username;
  request.basic_password = options_.password;
  request.total_timeout = options_.timeout;
  RequestContext context{options_.name, "login as " + options_.username,
                         secrets()};
  auto body = fetch_body(http_, request, context, now);
  if (!body) {
    return make_error(body.error());
  }
  auto token = parse_watttime_login(*body);
  if (!token) {
    return make_error(redacted(token.error(), context.secrets));
  }
  get_logger("forecast")
      ->debug("{}: logged in as {}", options_.name, options_.username);
  std::lock_guard lock(mutex_);
  token_ = *token;
  token_obtained_ = now;
  return token_;
}

Result<std::string> WattTimeProvider::authorized_get(
    const std::string& path_and_query, const std::string& what) {
  for (int attempt = 0;; ++attempt) {
    TimePoint now = clock_.now();
    auto token = current_token(now);
    if (!token) {
      return make_error(token.error());
    }
    HttpRequest request;
    request.url = options_.base_url + path_and_query;
    request.headers.emplace_back("Authorization", "Bearer " + *token);
    request.headers.emplace_back("Accept", "application/json");
    request.total_timeout = options_.timeout;
    RequestContext context{options_.name, what, secrets()};
    auto response = http_.send(request);
    if (!response) {
      return make_error(transport_error(context, response.error()));
    }
    bool rejected = response->status == 401 || response->status == 403;
    if (rejected && attempt == 0) {
      // The token may have been revoked or expired early: log in once more.
      get_logger("forecast")
          ->info("{}: {}: HTTP {} with a cached token; logging in again",
                 options_.name, what, response->status);
      std::lock_guard lock(mutex_);
      if (token_ == *token) {
        token_.clear();
      }
      continue;
    }
    if (response->status < 200 || response->status > 299) {
      return make_error(http_status_error(context, *response, now));
    }
    return std::move(response->body);
  }
}

Result<IntensitySeries> WattTimeProvider::forecast(const std::string& region,
                                                   TimePoint now,
                                                   Duration horizon) {
  auto hours = std::chrono::ceil<std::chrono::hours>(
      std::min(horizon, kWattTimeMaxHorizon));
  std::string what = "forecast for " + region;
  auto body = authorized_get(
      fmt::format("/v3/forecast?region={}&signal_type={}&horizon_hours={}",
                  url_encode(region), url_encode(options_.signal_type),
                  hours.count()),
      what);
  if (!body) {
    return make_error(body.error());
  }
  auto series = parse_watttime_data(*body, region, Horizon::kForecast, now);
  if (!series) {
    return make_error(redacted(series.error(), secrets()));
  }
  series->provider = options_.name;
  drop_ended(*series, now);
  if (series->empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{}: {}: every point ended before {}",
                                  options_.name, what, format_utc(now)));
  }
  return series;
}

Result<IntensitySeries> WattTimeProvider::history(const std::string& region,
                                                  TimePoint from,
                                                  TimePoint to) {
  auto joined = fetch_history_in_chunks(
      options_.name, region, from, to, kWattTimeMaxHistoricalRange,
      [&](TimePoint start, TimePoint end) -> Result<IntensitySeries> {
        std::string what = fmt::format("history for {} from {} to {}", region,
                                       format_utc(start), format_utc(end));
        auto body = authorized_get(
            fmt::format(
                "/v3/historical?region={}&signal_type={}&start={}&end={}",
                url_encode(region), url_encode(options_.signal_type),
                url_encode(format_utc(start)), url_encode(format_utc(end))),
            what);
        if (!body) {
          return make_error(body.error());
        }
        auto part = parse_watttime_data(*body, region, Horizon::kObserved,
                                        clock_.now());
        if (!part && part.error().code != ErrorCode::kNotFound) {
          return make_error(redacted(part.error(), secrets()));
        }
        return part;
      });
  if (joined) {
    joined->provider = options_.name;
  }
  return joined;
}

Result<WattTimeRegion> WattTimeProvider::region_from_location(
    double latitude, double longitude) {
  std::string what = fmt::format("region at {},{}", latitude, longitude);
  auto body = authorized_get(
      fmt::format("/v3/region-from-loc?latitude={}&longitude={}&signal_type={}",
                  latitude, longitude, url_encode(options_.signal_type)),
      what);
  if (!body) {
    return make_error(body.error());
  }
  return parse_watttime_region(*body);
}

}  // namespace lowcarb::forecast
