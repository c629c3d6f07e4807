// SPDX-License-Identifier: Apache-2.0
// HttpClient over libcurl: TLS verification always on, proxies from the usual
// environment variables (libcurl reads http_proxy, https_proxy, no_proxy),
// connect and total timeouts, and a response size cap. Thread-safe: each
// call uses its own easy handle.
#pragma once

#include "common/http_client.h"

namespace lowcarb {

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> send(const HttpRequest& request) override;
};

}  // namespace lowcarb
