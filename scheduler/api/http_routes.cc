// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/http_routes.h"

#include "common/strings.h"

namespace lowcarb::scheduler::api {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 +
                               hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

RouteTarget parse_route_target(std::string_view target) {
  RouteTarget out;
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  out.path = url_decode(path);
  while (out.path.size() > 1 && out.path.back() == '/') {
    out.path.pop_back();
  }
  if (!query.empty()) {
    for (const auto& pair : split(query, '&')) {
      if (pair.empty()) {
        continue;
      }
      auto eq = pair.find('=');
      if (eq == std::string::npos) {
        out.params[url_decode(pair)].push_back("");
      } else {
        out.params[url_decode(pair.substr(0, eq))].push_back(
            url_decode(pair.substr(eq + 1)));
      }
    }
  }
  return out;
}

std::vector<std::string> all_params(const QueryParams& params,
                                    std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [key, values] : params) {
    if (iequals(key, name)) {
      out.insert(out.end(), values.begin(), values.end());
    }
  }
  return out;
}

std::optional<std::string> first_param(const QueryParams& params,
                                       std::string_view name) {
  auto values = all_params(params, name);
  if (values.empty()) {
    return std::nullopt;
  }
  return values.front();
}

}  // namespace lowcarb::scheduler::api
