// SPDX-License-Identifier: Apache-2.0
// A ForecastProvider whose forecast() never waits for the network: the
// daemon's event loop calls it, and the real fetch (the full fallback chain,
// HTTP providers included) runs on one worker thread.
//
// Per zone it keeps the last good answer and the horizon it was asked for.
// forecast(zone, now, horizon):
//  - an answer younger than `refresh` that covers `horizon` is served;
//  - otherwise a refresh is queued (one per zone at a time, not sooner than
//    `retry_after_failure` after a failed one) and, stale-while-revalidate,
//    the last answer is served meanwhile while it is younger than `max_age`;
//  - with no usable answer (none yet, or older than `max_age`: logged at
//    warn) the `immediate` provider answers on the calling thread: the
//    zone's local fallback chain (history, profile, static), which needs no
//    network.
// After a refresh brings a different answer (other points or another
// provider) the update callback runs (on the worker thread); the daemon uses
// it to have the scheduler ask again.
//
// Thread-safety: forecast() and history() may be called from any one thread
// (they call `immediate` on it); the worker only touches `remote`. Ages use
// the `now` passed by the caller; the worker fetches with the `now` of the
// request that queued the refresh.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "forecast/forecast_provider.h"

namespace lowcarb::forecast {

struct BackgroundOptions {
  Duration refresh{std::chrono::minutes(15)};
  Duration max_age{std::chrono::hours(6)};
  Duration retry_after_failure{std::chrono::minutes(1)};
};

class BackgroundForecasts final : public ForecastProvider {
 public:
  // `remote` is shared with the worker, which keeps it alive until its
  // current fetch returns, so destruction never waits for a provider that
  // hangs. `immediate` must outlive this object.
  BackgroundForecasts(std::shared_ptr<ForecastProvider> remote,
                      ForecastProvider& immediate, BackgroundOptions options);
  // Stops the worker without waiting for a fetch under way (it finishes
  // alone and its result is dropped).
  ~BackgroundForecasts() override;
  BackgroundForecasts(const BackgroundForecasts&) = delete;
  BackgroundForecasts& operator=(const BackgroundForecasts&) = delete;

  std::string name() const override { return "background"; }

  // Never blocks on `remote` (see above).
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;

  // Observed values come from `immediate` (local data only).
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;

  // Runs `callback` on the worker thread after each refresh that produced a
  // different answer. Replaces the previous one; an empty function clears it.
  void set_on_update(std::function<void()> callback);

  // For tests and benchmarks: waits (at most `timeout`) until no refresh is
  // queued or running. True when idle.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct State;
  std::shared_ptr<State> state_;
  ForecastProvider& immediate_;
  BackgroundOptions options_;
};

}  // namespace lowcarb::forecast
