// SPDX-License-Identifier: Apache-2.0
#include "scheduler/daemon_routes.h"

#include <chrono>

#include "scheduler/api/dashboard.h"
#include "scheduler/api/sdk_routes.h"

namespace lowcarb::scheduler {

namespace {
// How far ahead the SDK routes and the dashboard ask for forecasts.
constexpr Duration kHorizon = std::chrono::hours(72);
}  // namespace

api::HttpRouteHandler make_daemon_routes(std::function<App&()> app,
                                         const Clock& clock,
                                         api::RequestHandler handler) {
  return [app = std::move(app), &clock,
          handler = std::move(handler)](const api::HttpRouteRequest& request)
             -> std::optional<api::HttpReply> {
    App& current = app();
    const TimePoint now = clock.now();
    if (auto reply = api::answer_sdk_route(request, current.forecasts(), now,
                                           kHorizon)) {
      return reply;
    }
    api::DashboardSources sources;
    sources.handler = handler;
    if (request.peer != nullptr) {
      sources.peer = *request.peer;
    }
    sources.forecasts = &current.forecasts();
    sources.horizon = kHorizon;
    for (const auto& zone : current.config().zones) {
      sources.zones.push_back(zone.id);
    }
    return api::answer_dashboard_route(request, sources, now);
  };
}

}  // namespace lowcarb::scheduler
