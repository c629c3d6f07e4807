// SPDX-License-Identifier: Apache-2.0
// Extra HTTP routes the daemon plugs into its HTTP server without the server
// knowing them (the Carbon Aware SDK routes, the dashboard): a route handler
// sees the method, target and body and whether the bearer token was right,
// and either answers or returns nullopt ("not mine", or "mine but needs the
// token", so the server answers 401 itself). Plus the query-string helpers
// they share. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/api/api_service.h"

namespace lowcarb::scheduler::api {

struct HttpRouteRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // Path and query, as sent: "/a/b?x=1".
  std::string body;
  bool authorized = false;  // The bearer token was right.
  // The user the token maps to (api/http_tokens.h); null when unauthorized.
  // Routes that read jobs act as this user and see only what it may.
  const Peer* peer = nullptr;
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

using HttpRouteHandler =
    std::function<std::optional<HttpReply>(const HttpRouteRequest&)>;

// Query parameters in order, names and values %-decoded ('+' = space), each
// name with every value it was given ("location=a&location=b").
using QueryParams = std::map<std::string, std::vector<std::string>>;

// Splits "/path?query" into the path and its parameters.
struct RouteTarget {
  std::string path;  // Trailing '/' removed (except for "/").
  QueryParams params;
};
RouteTarget parse_route_target(std::string_view target);

// %XX and '+' decoding; a malformed escape is kept as written.
std::string url_decode(std::string_view text);

// The first value of `name`, matched case-insensitively as ASP.NET does.
std::optional<std::string> first_param(const QueryParams& params,
                                       std::string_view name);
// Every value of `name` (case-insensitive), in order.
std::vector<std::string> all_params(const QueryParams& params,
                                    std::string_view name);

}  // namespace lowcarb::scheduler::api
