// SPDX-License-Identifier: Apache-2.0
#include "forecast/http_errors.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/assert.h"
#include "common/logging.h"
#include "common/strings.h"
#include "common/time_format.h"

namespace lowcarb::forecast {
namespace {

constexpr std::string_view kRetryHintPrefix = "(retry after ";

std::string status_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

// The provider's own explanation, from the JSON error shapes the four APIs
// use; "" when the body is not such JSON.
std::string provider_message(std::string_view body) {
  try {
    auto doc = nlohmann::json::parse(body);
    if (!doc.is_object()) {
      return "";
    }
    std::vector<std::string> parts;
    auto add = [&](const nlohmann::json& value) {
      if (value.is_string() && !value.get<std::string>().empty()) {
        parts.push_back(value.get<std::string>());
      } else if (value.is_object()) {
        // UK API: {"error": {"code": "...", "message": "..."}}.
        for (const char* key : {"code", "message"}) {
          if (value.contains(key) && value[key].is_string()) {
            parts.push_back(value[key].get<std::string>());
          }
        }
      }
    };
    for (const char* key : {"title", "error", "message", "msg", "detail"}) {
      if (doc.contains(key)) {
        add(doc[key]);
      }
    }
    std::string joined;
    for (const auto& part : parts) {
      if (joined.find(part) != std::string::npos) {
        continue;
      }
      joined += joined.empty() ? part : ": " + part;
    }
    return joined;
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

int month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun",
      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == name) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

}  // namespace

std::string body_excerpt(std::string_view body,
                         const std::vector<std::string>& secrets,
                         size_t max_chars) {
  std::string flat;
  bool last_space = false;
  for (char c : body) {
    bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (last_space || flat.empty())) {
      continue;
    }
    flat += space ? ' ' : c;
    last_space = space;
  }
  // Redact before cutting so a secret is never left half-visible.
  std::string out = redact(flat, secrets);
  if (out.size() > max_chars) {
    out = out.substr(0, max_chars) + "...";
  }
  if (out.empty()) {
    return "<empty body>";
  }
  return out;
}

std::optional<Duration> parse_retry_after(std::string_view value,
                                          TimePoint now) {
  auto text = trim(value);
  if (auto seconds = parse_integer(text)) {
    if (*seconds < 0) {
      return std::nullopt;
    }
    return Duration(*seconds);
  }
  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::string copy(text);
  char weekday[4] = {};
  char month[4] = {};
  char zone[4] = {};
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (std::sscanf(copy.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", weekday, &day,
                  month, &year, &hour, &minute, &second, zone) != 8 ||
      std::string_view(zone) != "GMT") {
    return std::nullopt;
  }
  int month_index = month_number(month);
  if (month_index == 0) {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(year),
                                   std::chrono::month(month_index),
                                   std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  TimePoint at = std::chrono::sys_days(date) + std::chrono::hours(hour) +
                 std::chrono::minutes(minute) + std::chrono::seconds(second);
  return at > now ? at - now : Duration(0);
}

Error http_status_error(const RequestContext& context,
                        const HttpResponse& response, TimePoint now) {
  int status = response.status;
  std::string phrase = status_phrase(status);
  std::string explained = provider_message(response.body);
  std::string why =
      fmt::format("HTTP {}{}{}", status, phrase.empty() ? "" : " ", phrase);
  if (!explained.empty()) {
    why += ": " + body_excerpt(explained, context.secrets);
  } else if (!response.body.empty()) {
    why += ": " + body_excerpt(response.body, context.secrets);
  }
  ErrorCode code = ErrorCode::kUnavailable;
  if (status == 401 || status == 403) {
    code = ErrorCode::kPermissionDenied;
    why += fmt::format(
        " (the {} credentials were rejected; check the token or account "
        "plan)",
        context.provider);
  } else if (status == 404) {
    code = ErrorCode::kNotFound;
  } else if (status == 400 || status == 422) {
    code = ErrorCode::kInvalidArgument;
  } else if (status == 429) {
    auto delay = parse_retry_after(response.header("retry-after"), now);
    why += fmt::format(" {}{}s)", kRetryHintPrefix, delay ? delay->count() : 0);
  }
  return Error{code, redact(fmt::format("{}: {}: {}", context.provider,
                                        context.what, why),
                            context.secrets)};
}

Error transport_error(const RequestContext& context, const Error& error) {
  return Error{error.code, redact(fmt::format("{}: {}: {}", context.provider,
                                              context.what, error.message),
                                  context.secrets)};
}

Error unreadable_body_error(const RequestContext& context,
                            std::string_view body, std::string_view why) {
  return Error{ErrorCode::kUnavailable,
               redact(fmt::format("{}: {}: response is not valid JSON ({}): "
                                  "{}",
                                  context.provider, context.what, why,
                                  body_excerpt(body, context.secrets, 80)),
                      context.secrets)};
}

std::optional<Duration> retry_after_hint(const Error& error) {
  // Only a hint at the very end counts: a server's own text earlier in the
  // message cannot forge one.
  auto pos = error.message.rfind(kRetryHintPrefix);
  if (pos == std::string::npos || !error.message.ends_with("s)")) {
    return std::nullopt;
  }
  auto rest =
      std::string_view(error.message).substr(pos + kRetryHintPrefix.size());
  auto end = rest.find("s)");
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  auto seconds = parse_integer(rest.substr(0, end));
  if (!seconds || *seconds <= 0) {
    return std::nullopt;
  }
  return Duration(*seconds);
}

Result<std::string> fetch_body(HttpClient& http, const HttpRequest& request,
                               const RequestContext& context, TimePoint now) {
  auto started = std::chrono::steady_clock::now();
  auto response = http.send(request);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (!response) {
    get_logger("forecast")
        ->debug("{} {} {}: failed after {} ms", context.provider,
                request.method, redact(request.url, context.secrets),
                elapsed.count());
    return make_error(transport_error(context, response.error()));
  }
  get_logger("forecast")
      ->debug("{} {} {}: HTTP {} in {} ms, {} bytes", context.provider,
              request.method, redact(request.url, context.secrets),
              response->status, elapsed.count(), response->body.size());
  if (response->status < 200 || response->status > 299) {
    return make_error(http_status_error(context, *response, now));
  }
  return std::move(response->body);
}

Error redacted(Error error, const std::vector<std::string>& secrets) {
  error.message = redact(error.message, secrets);
  return error;
}

std::vector<IntensityPoint> points_from_starts(std::vector<Sample> samples,
                                               Duration single_step) {
  std::stable_sort(
      samples.begin(), samples.end(),
      [](const Sample& a, const Sample& b) { return a.start < b.start; });
  samples.erase(std::unique(samples.begin(), samples.end(),
                            [](const Sample& a, const Sample& b) {
                              return a.start == b.start;
                            }),
                samples.end());
  Duration step = single_step;
  for (size_t i = 1; i < samples.size(); ++i) {
    Duration gap = samples[i].start - samples[i - 1].start;
    if (i == 1 || gap < step) {
      step = gap;
    }
  }
  std::vector<IntensityPoint> points;
  points.reserve(samples.size());
  for (const auto& sample : samples) {
    points.push_back({sample.start, sample.start + step, sample.gco2_per_kwh});
  }
  return points;
}

void drop_ended(IntensitySeries& series, TimePoint now) {
  std::erase_if(series.points,
                [now](const IntensityPoint& p) { return p.end <= now; });
}

void keep_overlapping(IntensitySeries& series, TimePoint from, TimePoint to) {
  std::erase_if(series.points, [from, to](const IntensityPoint& p) {
    return p.end <= from || p.start >= to;
  });
}

std::vector<std::pair<TimePoint, TimePoint>> split_range(TimePoint from,
                                                         TimePoint to,
                                                         Duration max_span) {
  LOWCARB_ASSERT(max_span > Duration(0));
  std::vector<std::pair<TimePoint, TimePoint>> ranges;
  for (TimePoint start = from; start < to; start += max_span) {
    ranges.emplace_back(start, std::min(to, start + max_span));
  }
  return ranges;
}

void append_points(IntensitySeries& into, const IntensitySeries& part) {
  into.points.insert(into.points.end(), part.points.begin(), part.points.end());
  std::stable_sort(into.points.begin(), into.points.end(),
                   [](const IntensityPoint& a, const IntensityPoint& b) {
                     return a.start < b.start;
                   });
  into.points.erase(
      std::unique(into.points.begin(), into.points.end(),
                  [](const IntensityPoint& a, const IntensityPoint& b) {
                    return a.start == b.start;
                  }),
      into.points.end());
}

Result<IntensitySeries> fetch_history_in_chunks(const std::string& provider,
                                                const std::string& zone,
                                                TimePoint from, TimePoint to,
                                                Duration max_span,
                                                const FetchChunk& fetch_chunk) {
  if (to <= from) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: history for {}: empty range {} .. {}", provider, zone,
                    format_utc(from), format_utc(to)));
  }
  IntensitySeries joined;
  bool first = true;
  for (const auto& [start, end] : split_range(from, to, max_span)) {
    auto part = fetch_chunk(start, end);
    if (!part) {
      if (part.error().code == ErrorCode::kNotFound) {
        continue;  // A chunk without data; others may have some.
      }
      return part;
    }
    if (first) {
      joined = std::move(*part);
      first = false;
    } else {
      append_points(joined, *part);
    }
  }
  keep_overlapping(joined, from, to);
  if (joined.empty()) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("{}: history for {}: no data from {} to {}", provider, zone,
                    format_utc(from), format_utc(to)));
  }
  return joined;
}

}  // namespace lowcarb::forecast
