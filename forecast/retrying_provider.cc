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

SteadyNow real_steady_now() {
  return [] { return std::chrono::steady_clock::now(); };
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
                                   JitterSource jitter, SteadyNow steady_now)
    : inner_(std::move(inner)),
      policy_(policy),
      sleep_(std::move(sleep)),
      jitter_(std::move(jitter)),
      steady_now_(std::move(steady_now)) {}

std::string RetryingProvider::name() const { return inner_->name(); }

Result<IntensitySeries> RetryingProvider::with_retries(
    const std::string& what,
    const std::function<Result<IntensitySeries>()>& call) {
  int retries = std::max(0, policy_.retries);
  const auto started = steady_now_();
  for (int retry = 0;; ++retry) {
    auto result = call();
    if (result || !is_retryable(result.error()) || retry >= retries) {
      if (!result && retry > 0) {
        return make_error(result.error().with_context(
            fmt::format("gave up after {} attempts", retry + 1)));
      }
      return result;
    }
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
        steady_now_() - started);
    const auto left = policy_.deadline - spent;
    std::chrono::milliseconds delay;
    if (auto hint = retry_after_hint(result.error())) {
      if (*hint > policy_.max_retry_after || *hint >= left) {
        return make_error(
            ErrorCode::kUnavailable,
            fmt::format(
                "{} (the server asked to retry after {} ms; not "
                "waiting more than {} ms, failing over)",
                result.error().message,
                std::chrono::duration_cast<std::chrono::milliseconds>(*hint)
                    .count(),
                std::min(policy_.max_retry_after, left).count()));
      }
      delay = *hint;
    } else {
      delay = backoff_delay(policy_, retry, jitter_());
    }
    if (delay >= left) {
      return make_error(result.error().with_context(
          fmt::format("gave up after {} attempts in {} ms (deadline {} ms)",
                      retry + 1, spent.count(), policy_.deadline.count())));
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
