// SPDX-License-Identifier: Apache-2.0
// The Carbon Aware SDK WebAPI routes (v1.8 shapes), served by the daemon so
// tools written for the SDK (its clients, the carbon-aware KEDA operator)
// can point at lowcarb. SDK "locations" are lowcarb zone ids.
//   GET /emissions/forecasts/current?location=Z[&location=Z2...]
//       [&dataStartAt=T][&dataEndAt=T][&windowSize=MIN]
//     -> [{generatedAt, requestedAt, location, dataStartAt, dataEndAt,
//          windowSize, optimalDataPoints, forecastData}], points as
//        {location, timestamp, duration (minutes), value}; the rolling
//        window and optimum are scheduler/sdk_window.h's, bit for bit.
//   GET /emissions/bylocation?location=Z[&time=T][&toTime=T]
//   GET /emissions/bylocations?location=Z[&location=Z2...][&time][&toTime]
//     -> [{location, time, rating, duration ("HH:MM:SS")}], per location in
//        time order: the points overlapping [time, toTime). Default: the
//        24 hours before now. Observed values where the zone's providers
//        have them, else the forecast. 204 when there is no data.
//   GET /emissions/bylocations/best (same parameters)
//     -> the point(s) with the lowest rating, every tie, in time order.
// Errors are 400 (bad parameter, the SDK's validation messages), 404
// (unknown zone) or 503 (no provider answered), with the SDK's
// ProblemDetails body {title, status, detail}. Like every HTTP route they
// need the bearer token; the SDK clients and our CarbonAwareSdkProvider
// send it. Not thread-safe (the provider is not).
#pragma once

#include <optional>

#include "common/clock.h"
#include "forecast/forecast_provider.h"
#include "scheduler/api/http_routes.h"

namespace lowcarb::scheduler::api {

// Answers `request` when it is one of the routes above (nullopt otherwise,
// and for requests without the token so the server answers 401). Forecasts
// are asked of `forecasts` from `now` for `horizon`.
std::optional<HttpReply> answer_sdk_route(const HttpRouteRequest& request,
                                          forecast::ForecastProvider& forecasts,
                                          TimePoint now, Duration horizon);

}  // namespace lowcarb::scheduler::api
