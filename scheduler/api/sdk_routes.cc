// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/sdk_routes.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "scheduler/sdk_window.h"

namespace lowcarb::scheduler::api {

namespace {

using nlohmann::json;

// The SDK writes DateTimeOffset as "2022-08-23T14:30:00+00:00".
std::string sdk_time(TimePoint time) {
  std::string text = format_utc(time);
  if (!text.empty() && text.back() == 'Z') {
    text.pop_back();
    text += "+00:00";
  }
  return text;
}

// .NET TimeSpan: "HH:MM:SS", "d.HH:MM:SS" from a day.
std::string sdk_timespan(Duration duration) {
  auto total = std::chrono::duration_cast<std::chrono::seconds>(duration);
  const long long seconds = total.count();
  const long long days = seconds / 86400;
  const long long rest = seconds % 86400;
  std::string text = fmt::format("{:02}:{:02}:{:02}", rest / 3600,
                                 (rest / 60) % 60, rest % 60);
  return days > 0 ? fmt::format("{}.{}", days, text) : text;
}

HttpReply problem(int status, const std::string& title,
                  const std::string& detail) {
  json body{{"title", title}, {"status", status}, {"detail", detail}};
  return {status, body.dump(), "application/problem+json"};
}

HttpReply problem_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
      return problem(400, "ArgumentException", error.message);
    case ErrorCode::kNotFound:
      return problem(404, "NotFound", error.message);
    default:
      return problem(503, "ServiceUnavailable", error.message);
  }
}

Result<std::vector<std::string>> locations_of(const QueryParams& params) {
  std::vector<std::string> out;
  for (const auto& value : all_params(params, "location")) {
    // The SDK also accepts a comma-separated list in one parameter.
    for (const auto& part : split(value, ',')) {
      std::string name(trim(part));
      if (!name.empty()) {
        out.push_back(name);
      }
    }
  }
  if (out.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "location: required (e.g. ?location=DE)");
  }
  return out;
}

Result<std::optional<TimePoint>> time_param(const QueryParams& params,
                                            std::string_view name) {
  auto value = first_param(params, name);
  if (!value || value->empty()) {
    return std::optional<TimePoint>();
  }
  // An unencoded "+00:00" arrives as " 00:00" after form decoding.
  std::string text = *value;
  if (auto t = text.find('T'); t != std::string::npos) {
    std::replace(text.begin() + static_cast<std::ptrdiff_t>(t), text.end(), ' ',
                 '+');
  }
  auto time = parse_time(text, MissingOffset::kAssumeUtc);
  if (!time) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: {}", std::string(name), time.error().message));
  }
  return std::optional<TimePoint>(*time);
}

std::vector<sdk::EmissionsData> to_sdk(const forecast::IntensitySeries& s) {
  std::vector<sdk::EmissionsData> out;
  for (const auto& point : s.points) {
    if (point.gco2_per_kwh) {
      out.push_back(
          {point.start, point.end - point.start, *point.gco2_per_kwh});
    }
  }
  return out;
}

json forecast_point(const std::string& location, const sdk::EmissionsData& d) {
  return {
      {"location", location},
      {"timestamp", sdk_time(d.time)},
      {"duration",
       std::chrono::duration_cast<std::chrono::minutes>(d.duration).count()},
      {"value", d.rating}};
}

json emissions_point(const std::string& location, const sdk::EmissionsData& d) {
  return {{"location", location},
          {"time", sdk_time(d.time)},
          {"rating", d.rating},
          {"duration", sdk_timespan(d.duration)}};
}

HttpReply current_forecasts(const QueryParams& params,
                            forecast::ForecastProvider& forecasts,
                            TimePoint now, Duration horizon) {
  auto locations = locations_of(params);
  if (!locations) {
    return problem_for(locations.error());
  }
  sdk::ForecastQuery query;
  auto start = time_param(params, "dataStartAt");
  auto end = time_param(params, "dataEndAt");
  if (!start || !end) {
    return problem_for(!start ? start.error() : end.error());
  }
  query.data_start_at = *start;
  query.data_end_at = *end;
  if (auto window = first_param(params, "windowSize");
      window && !window->empty()) {
    auto minutes = parse_integer(*window);
    if (!minutes || *minutes < 0) {
      return problem(400, "ArgumentException",
                     fmt::format("windowSize: '{}' is not a whole number of "
                                 "minutes",
                                 *window));
    }
    if (*minutes > 0) {
      query.window_size = std::chrono::minutes(*minutes);
    }
  }
  json answer = json::array();
  for (const auto& location : *locations) {
    auto series = forecasts.forecast(location, now, horizon);
    if (!series) {
      return problem_for(series.error());
    }
    query.forecast = to_sdk(*series);
    auto processed = sdk::process_forecast(query);
    if (!processed) {
      return problem_for(
          Error{processed.error().code,
                fmt::format("{}: {}", location, processed.error().message)});
    }
    json data = json::array();
    for (const auto& d : processed->forecast_data) {
      data.push_back(forecast_point(location, d));
    }
    json optimal = json::array();
    for (const auto& d : processed->optimal_data_points) {
      optimal.push_back(forecast_point(location, d));
    }
    answer.push_back(
        {{"generatedAt", sdk_time(series->generated_at)},
         {"requestedAt", sdk_time(now)},
         {"location", location},
         {"dataStartAt", sdk_time(processed->data_start_at)},
         {"dataEndAt", sdk_time(processed->data_end_at)},
         {"windowSize", std::chrono::duration_cast<std::chrono::minutes>(
                            processed->window_size)
                            .count()},
         {"optimalDataPoints", optimal},
         {"forecastData", data}});
  }
  return {200, answer.dump(), "application/json"};
}

// Observed values for [from, to) where the providers have them; otherwise
// (providers without history, or a range in the future) the forecast.
// A range nobody has data for is empty, not an error (the SDK's 204).
Result<std::vector<sdk::EmissionsData>> emissions_for(
    const std::string& location, forecast::ForecastProvider& forecasts,
    TimePoint now, TimePoint from, TimePoint to) {
  auto observed = forecasts.history(location, from, to);
  Result<forecast::IntensitySeries> series = observed;
  if ((!observed || observed->empty()) && to > now) {
    const TimePoint begin = std::max(from, now);
    auto predicted = forecasts.forecast(location, begin, to - begin);
    if (predicted || !observed) {
      series = predicted;
    }
  }
  if (!series && series.error().code == ErrorCode::kNotFound) {
    return std::vector<sdk::EmissionsData>();  // No data there: 204.
  }
  if (!series) {
    return make_error(series.error());
  }
  std::vector<sdk::EmissionsData> out;
  for (const auto& d : to_sdk(*series)) {
    if (d.time < to && d.time + d.duration > from) {
      out.push_back(d);
    }
  }
  return out;
}

HttpReply emissions(const QueryParams& params,
                    forecast::ForecastProvider& forecasts, TimePoint now,
                    bool single, bool best) {
  auto locations = locations_of(params);
  if (!locations) {
    return problem_for(locations.error());
  }
  if (single && locations->size() > 1) {
    return problem(400, "ArgumentException",
                   "location: /emissions/bylocation takes one location; use "
                   "/emissions/bylocations for several");
  }
  auto from = time_param(params, "time");
  auto to = time_param(params, "toTime");
  if (!from || !to) {
    return problem_for(!from ? from.error() : to.error());
  }
  const TimePoint end = to->value_or(now);
  const TimePoint begin = from->value_or(end - std::chrono::hours(24));
  if (begin >= end) {
    return problem(400, "ArgumentException",
                   "time must be earlier than toTime");
  }
  std::vector<std::pair<std::string, sdk::EmissionsData>> found;
  for (const auto& location : *locations) {
    auto points = emissions_for(location, forecasts, now, begin, end);
    if (!points) {
      return problem_for(
          Error{points.error().code,
                fmt::format("{}: {}", location, points.error().message)});
    }
    for (const auto& d : *points) {
      found.emplace_back(location, d);
    }
  }
  if (best && !found.empty()) {
    double lowest = found.front().second.rating;
    for (const auto& [location, d] : found) {
      lowest = std::min(lowest, d.rating);
    }
    std::erase_if(
        found, [&](const auto& item) { return item.second.rating != lowest; });
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) {
                       return a.second.time < b.second.time;
                     });
  }
  if (found.empty()) {
    return {204, "", "application/json"};
  }
  json answer = json::array();
  for (const auto& [location, d] : found) {
    answer.push_back(emissions_point(location, d));
  }
  return {200, answer.dump(), "application/json"};
}

}  // namespace

std::optional<HttpReply> answer_sdk_route(const HttpRouteRequest& request,
                                          forecast::ForecastProvider& forecasts,
                                          TimePoint now, Duration horizon) {
  auto target = parse_route_target(request.target);
  const std::string path = to_lower(target.path);
  const bool known = path == "/emissions/forecasts/current" ||
                     path == "/emissions/bylocation" ||
                     path == "/emissions/bylocations" ||
                     path == "/emissions/bylocations/best";
  if (!known || !request.authorized) {
    return std::nullopt;
  }
  if (request.method != "GET") {
    return problem(405, "MethodNotAllowed",
                   fmt::format("{} takes GET", target.path));
  }
  if (path == "/emissions/forecasts/current") {
    return current_forecasts(target.params, forecasts, now, horizon);
  }
  return emissions(target.params, forecasts, now,
                   path == "/emissions/bylocation",
                   path == "/emissions/bylocations/best");
}

}  // namespace lowcarb::scheduler::api
