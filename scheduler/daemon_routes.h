// SPDX-License-Identifier: Apache-2.0
// The daemon's extra HTTP routes (api/http_routes.h): the Carbon Aware SDK
// routes (api/sdk_routes.h) and the dashboard (api/dashboard.h), answered
// from the App current at request time (it changes on reload). Not
// thread-safe: runs on the daemon's loop.
#pragma once

#include <functional>

#include "common/clock.h"
#include "scheduler/api/http_routes.h"
#include "scheduler/api/unix_socket_server.h"
#include "scheduler/app.h"

namespace lowcarb::scheduler {

// `app` returns the daemon's current App; `handler` answers protocol
// requests (the dashboard's job list and report) as the user the request's
// token maps to. `clock` must outlive the routes.
api::HttpRouteHandler make_daemon_routes(std::function<App&()> app,
                                         const Clock& clock,
                                         api::RequestHandler handler);

}  // namespace lowcarb::scheduler
