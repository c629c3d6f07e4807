// SPDX-License-Identifier: Apache-2.0
// A ForecastProvider decorator that retries transient failures (kUnavailable,
// kTimeout: 5xx, 429, timeouts, refused connections, unreadable bodies) with
// exponential backoff and jitter, honouring a 429's Retry-After. It never
// retries kPermissionDenied, kInvalidArgument or kNotFound. One call is
// bounded by `deadline` (all attempts and waits together, checked before
// each wait; an attempt under way runs to its own request timeout), and a
// Retry-After longer than `max_retry_after` or than the time left is not
// waited for: the call fails at once so the caller can fall back. Sleeping,
// the steady clock and randomness are seams so tests neither sleep nor
// depend on chance.
// Thread-safe if the wrapped provider, sleeper and jitter source are.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "forecast/forecast_provider.h"

namespace lowcarb::forecast {

struct RetryPolicy {
  int retries = 3;  // Attempts = retries + 1. Default: ProviderConfig::retries.
  std::chrono::milliseconds base_delay{500};   // Before the first retry.
  std::chrono::milliseconds max_delay{30000};  // Cap on one backoff.
  // The longest Retry-After waited for; a server asking for more gets no
  // retry (the call fails with kUnavailable and the chain falls back).
  std::chrono::milliseconds max_retry_after{10000};
  // Total time one call may take, waits included. Default: 30 s.
  std::chrono::milliseconds deadline{30000};
};

// Blocks the calling thread for the given time. Tests record instead.
using Sleeper = std::function<void(std::chrono::milliseconds)>;
// Returns a uniformly distributed number in [0, 1).
using JitterSource = std::function<double()>;
// Reads a monotonic clock (time since an arbitrary epoch). Tests advance it
// from their sleeper.
using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

// The real sleeper (std::this_thread::sleep_for) and a jitter source seeded
// from std::random_device (thread-safe).
Sleeper real_sleeper();
JitterSource random_jitter();
SteadyNow real_steady_now();

// The wait before retry number `retry` (0 = first retry) when the server
// gave no Retry-After: half of min(max_delay, base_delay * 2^retry) plus a
// `jitter` ([0, 1)) share of the other half.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        double jitter);

class RetryingProvider final : public ForecastProvider {
 public:
  // `steady_now` defaults to the real monotonic clock.
  RetryingProvider(std::unique_ptr<ForecastProvider> inner, RetryPolicy policy,
                   Sleeper sleep, JitterSource jitter,
                   SteadyNow steady_now = real_steady_now());

  std::string name() const override;
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;

  // The wrapped provider (for tests and for provider-specific calls).
  ForecastProvider& inner() { return *inner_; }

 private:
  Result<IntensitySeries> with_retries(
      const std::string& what,
      const std::function<Result<IntensitySeries>()>& call);

  std::unique_ptr<ForecastProvider> inner_;
  RetryPolicy policy_;
  Sleeper sleep_;
  JitterSource jitter_;
  SteadyNow steady_now_;
};

// True for the codes worth another attempt: kUnavailable and kTimeout.
bool is_retryable(const Error& error);

}  // namespace lowcarb::forecast
