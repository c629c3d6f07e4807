// SPDX-License-Identifier: Apache-2.0
// The web dashboard the daemon serves: one self-contained HTML page (inline
// CSS and JS, no external assets, works offline) and the JSON it draws.
//   GET /dashboard        the page. It holds no data, so it needs no token:
//                         open http://127.0.0.1:PORT/dashboard#token=TOKEN;
//                         the fragment never leaves the browser, and the
//                         page sends it as a bearer token.
//   GET /dashboard/data   (token required) {now, zones: [{zone, forecast:
//                         [{start, end, value}], observed: [...], error}],
//                         jobs: [job objects as in the socket protocol],
//                         report: the `report` answer}
// The page draws per zone the forecast curve, the observed values and the
// chosen windows of the jobs; the queue with planned starts and deadlines;
// each job's realized intensity and emissions against its run-now
// counterfactual; and the totals. Not thread-safe (the provider is not).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "forecast/forecast_provider.h"
#include "scheduler/api/http_routes.h"
#include "scheduler/api/unix_socket_server.h"

namespace lowcarb::scheduler::api {

struct DashboardSources {
  RequestHandler handler;  // Socket-protocol requests (list, report).
  Peer peer;               // Who the requests act as.
  forecast::ForecastProvider* forecasts = nullptr;  // REQUIRES: not null.
  std::vector<std::string> zones;  // Configured zones, in order.
  Duration horizon{std::chrono::hours(48)};
  Duration observed_span{std::chrono::hours(24)};  // History before now.
};

// The page's HTML.
std::string_view dashboard_page();

// The /dashboard/data object at `now`; a zone whose providers fail carries
// `error` instead of points.
nlohmann::json dashboard_data(const DashboardSources& sources, TimePoint now);

// Answers /dashboard and /dashboard/data; nullopt for other paths and for
// /dashboard/data without the token.
std::optional<HttpReply> answer_dashboard_route(const HttpRouteRequest& request,
                                                const DashboardSources& sources,
                                                TimePoint now);

}  // namespace lowcarb::scheduler::api
