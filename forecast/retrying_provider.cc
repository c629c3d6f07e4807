// SPDX-License-Identifier: Apache-2.0
#include "forecast/retrying_provider.h"

#include <algorithm>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "common/logging.h"
#include "forecast/http_errors.h"

namespace lowcarb::forecast {

Sleeper real_sleeper() {
  return [](std::chrono::milliseconds delay) {
    std::this_thread::sleep_for(delay);
  };
}

JitterSource random_jitter() {
  struct State {
    std::mutex mutex;
    std::mt19937_64 engine{std::random_device{}()};
    std::uniform_real_distribution<double> uniform{0.0, 1.0};
  };
  auto state = std::make_shared<State>();
  return [state] {
    std::lock_guard lock(state->mutex);
    return state->uniform(state->engine);
  };
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        double jitter) {
  auto ceiling = policy.base_delay;
  for (int i = 0; i < retry && ceiling < policy.max_delay; ++i) {
    ceiling *= 2;
  }
  ceiling = std::min(ceiling, policy.max_delay);
  jitter = std::clamp(jitter, 0.0, 1.0);
  auto half = ceiling / 2;
  return half + std::chrono::milliseconds(static_cast<long long>(
                    static_cast<double>((ceiling - half).count()) * jitter));
}

bool is_retryable(const Error& error) {
  return error.code == ErrorCode::kUnavailable ||
         error.code == ErrorCode::kTimeout;
}

RetryingProvider::RetryingProvider(std::unique_ptr<ForecastProvider> inner,
                                   RetryPolicy policy, Sleeper sleep,
                                   JitterSource jitter)
    : inner_(std::move(inner)),
      policy_(policy),
      sleep_(std::move(sleep)),
      jitter_(std::move(jitter)) {}

std::string RetryingProvider::name() const { return inner_->name(); }

Result<IntensitySeries> RetryingProvider::with_retries(
    const std::string& what,
    const std::function<Result<IntensitySeries>()>& call) {
  int retries = std::max(0, policy_.retries);
  for (int retry = 0;; ++retry) {
    auto result = call();
    if (result || !is_retryable(result.error()) || retry >= retries) {
      if (!result && retry > 0) {
        return make_error(result.error().with_context(
            fmt::format("gave up after {} attempts", retry + 1)));
      }
      return result;
    }
    std::chrono::milliseconds delay;
    if (auto hint = retry_after_hint(result.error())) {
      delay =
          std::min<std::chrono::milliseconds>(*hint, policy_.max_retry_after);
    } else {
      delay = backoff_delay(policy_, retry, jitter_());
    }
    get_logger("forecast")
        ->warn("{}: {} failed ({}); retry {} of {} in {} ms", inner_->name(),
               what, result.error().message, retry + 1, retries, delay.count());
    sleep_(delay);
  }
}

Result<IntensitySeries> RetryingProvider::forecast(const std::string& zone,
                                                   TimePoint now,
                                                   Duration horizon) {
  return with_retries("forecast for " + zone,
                      [&] { return inner_->forecast(zone, now, horizon); });
}

Result<IntensitySeries> RetryingProvider::history(const std::string& zone,
                                                  TimePoint from,
                                                  TimePoint to) {
  return with_retries("history for " + zone,
                      [&] { return inner_->history(zone, from, to); });
}

}  // namespace lowcarb::forecast
