// SPDX-License-Identifier: Apache-2.0
// An HttpClient that answers from a script: responses (or errors) queued per
// URL prefix, in order; the last one repeats. Records every request.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/http_client.h"

namespace lowcarb::fakes {

class FakeHttpClient final : public HttpClient {
 public:
  // Queues `response` for requests whose URL starts with `url_prefix`.
  void push(const std::string& url_prefix, Result<HttpResponse> response);
  void push_body(const std::string& url_prefix, int status, std::string body);

  Result<HttpResponse> send(const HttpRequest& request) override;

  std::vector<HttpRequest> requests() const;
  size_t request_count() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<Result<HttpResponse>>> scripted_;
  std::vector<HttpRequest> requests_;
};

}  // namespace lowcarb::fakes
