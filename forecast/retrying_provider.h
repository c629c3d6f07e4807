// SPDX-License-Identifier: Apache-2.0
// A ForecastProvider decorator that retries transient failures (kUnavailable,
// kTimeout: 5xx, 429, timeouts, refused connections, unreadable bodies) with
// exponential backoff and jitter, honouring a 429's Retry-After (capped). It
// never retries kPermissionDenied, kInvalidArgument or kNotFound. Sleeping
// and randomness are seams so tests neither sleep nor depend on chance.
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
  // Cap on a server's Retry-After; a longer wait is cut to this.
  std::chrono::milliseconds max_retry_after{120000};
};

// Blocks the calling thread for the given time. Tests record instead.
using Sleeper = std::function<void(std::chrono::milliseconds)>;
// Returns a uniformly distributed number in [0, 1).
using JitterSource = std::function<double()>;

// The real sleeper (std::this_thread::sleep_for) and a jitter source seeded
// from std::random_device (thread-safe).
Sleeper real_sleeper();
JitterSource random_jitter();

// The wait before retry number `retry` (0 = first retry) when the server
// gave no Retry-After: half of min(max_delay, base_delay * 2^retry) plus a
// `jitter` ([0, 1)) share of the other half.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry,
                                        double jitter);

class RetryingProvider final : public ForecastProvider {
 public:
  RetryingProvider(std::unique_ptr<ForecastProvider> inner, RetryPolicy policy,
                   Sleeper sleep, JitterSource jitter);

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
};

// True for the codes worth another attempt: kUnavailable and kTimeout.
bool is_retryable(const Error& error);

}  // namespace lowcarb::forecast
