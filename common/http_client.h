// SPDX-License-Identifier: Apache-2.0
// The network seam. Providers talk HTTP only through HttpClient; production
// uses CurlHttpClient, unit tests a FakeHttpClient.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace lowcarb {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  // Sent in order. Values may hold secrets: never log them unredacted.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // HTTP Basic credentials ("user", "password"); empty user = none.
  std::string basic_user;
  std::string basic_password;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};
  // A larger body is an error (kUnavailable), not a truncated success.
  size_t max_response_bytes = 32 * 1024 * 1024;
};

struct HttpResponse {
  int status = 0;
  // Header names in lower case; the last value wins for repeated names.
  std::map<std::string, std::string> headers;
  std::string body;

  // The value of header `name` (lower case), or "" if absent.
  std::string header(const std::string& name) const;
};

// Performs one request, no retries. Any HTTP status is a response; an Error
// means no complete response was received: kTimeout for timeouts,
// kUnavailable for connection, TLS and size-cap failures. Error messages never
// contain credentials. Implementations are thread-safe.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

// Percent-encodes `text` for use in a URL query or path segment.
std::string url_encode(std::string_view text);

}  // namespace lowcarb
