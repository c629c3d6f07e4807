// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/dashboard.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "common/time_format.h"

namespace lowcarb::scheduler::api {

namespace {

using nlohmann::json;

json points_json(const forecast::IntensitySeries& series) {
  json out = json::array();
  for (const auto& p : series.points) {
    out.push_back({{"start", format_utc(p.start)},
                   {"end", format_utc(p.end)},
                   {"value", p.gco2_per_kwh ? json(*p.gco2_per_kwh) : json()}});
  }
  return out;
}

// The `result` of one protocol request, or {"error": message}.
json call(const DashboardSources& sources, const json& request) {
  const std::string answer = sources.handler(request.dump(), sources.peer);
  json parsed = json::parse(answer, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return json{{"error", "the daemon gave a malformed answer"}};
  }
  if (parsed.contains("result")) {
    return parsed["result"];
  }
  return json{{"error", parsed.value(json::json_pointer("/error/message"),
                                     std::string("unknown error"))}};
}

}  // namespace

json dashboard_data(const DashboardSources& sources, TimePoint now) {
  json zones = json::array();
  for (const auto& zone : sources.zones) {
    json z{{"zone", zone}};
    auto predicted = sources.forecasts->forecast(zone, now, sources.horizon);
    if (predicted) {
      z["forecast"] = points_json(*predicted);
      z["provider"] = predicted->provider;
      z["stale"] = predicted->stale;
    } else {
      z["forecast"] = json::array();
      z["error"] = predicted.error().message;
    }
    auto observed =
        sources.forecasts->history(zone, now - sources.observed_span, now);
    z["observed"] = observed ? points_json(*observed) : json::array();
    zones.push_back(std::move(z));
  }
  json jobs = call(sources, {{"op", "list"}, {"all", true}, {"limit", 1000}});
  return json{{"now", format_utc(now)},
              {"zones", zones},
              {"jobs", jobs.contains("jobs") ? jobs["jobs"] : json::array()},
              {"report", call(sources, {{"op", "report"}})}};
}

std::optional<HttpReply> answer_dashboard_route(const HttpRouteRequest& request,
                                                const DashboardSources& sources,
                                                TimePoint now) {
  auto target = parse_route_target(request.target);
  if (target.path == "/dashboard" || target.path == "/dashboard/index.html") {
    if (request.method != "GET") {
      return HttpReply{405, R"({"error":"the dashboard takes GET"})"};
    }
    return HttpReply{200, std::string(dashboard_page()),
                     "text/html; charset=utf-8"};
  }
  if (target.path == "/dashboard/data") {
    if (!request.authorized) {
      return std::nullopt;
    }
    return HttpReply{200, dashboard_data(sources, now).dump()};
  }
  return std::nullopt;
}

}  // namespace lowcarb::scheduler::api
