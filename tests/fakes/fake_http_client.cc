// SPDX-License-Identifier: Apache-2.0
#include "tests/fakes/fake_http_client.h"

namespace lowcarb::fakes {

void FakeHttpClient::push(const std::string& url_prefix,
                          Result<HttpResponse> response) {
  std::lock_guard lock(mutex_);
  scripted_[url_prefix].push_back(std::move(response));
}

void FakeHttpClient::push_body(const std::string& url_prefix, int status,
                               std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  push(url_prefix, response);
}

Result<HttpResponse> FakeHttpClient::send(const HttpRequest& request) {
  std::lock_guard lock(mutex_);
  requests_.push_back(request);
  // The longest matching prefix wins.
  std::deque<Result<HttpResponse>>* best = nullptr;
  size_t best_length = 0;
  for (auto& [prefix, queue] : scripted_) {
    if (request.url.rfind(prefix, 0) == 0 && prefix.size() >= best_length &&
        !queue.empty()) {
      best = &queue;
      best_length = prefix.size();
    }
  }
  if (!best) {
    return make_error(ErrorCode::kUnavailable,
                      "FakeHttpClient: nothing scripted for " + request.url);
  }
  auto response = best->front();
  if (best->size() > 1) {
    best->pop_front();
  }
  return response;
}

std::vector<HttpRequest> FakeHttpClient::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

size_t FakeHttpClient::request_count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

}  // namespace lowcarb::fakes
