// SPDX-License-Identifier: Apache-2.0
// What happened, stored by the daemon itself so that stored forecasts can be
// scored (`lowcarb forecast --accuracy`) without `lowcarb forecast import`.
//
// After each forecast a remote provider served for a zone, record():
//  1. asks `source` for the zone's observed history over the last
//     `lookback` (the UK Carbon Intensity API's "actual" values, Electricity
//     Maps' history endpoint, WattTime's historical signal, a Carbon Aware
//     SDK server's emissions endpoint: each provider's history()) and stores
//     the points that have ended at `now` and carry a value, with their own
//     interval, basis and scope;
//  2. when that gives nothing (the provider has no history, the request
//     failed, or only a local provider answered), stores the served
//     forecast's own value for the interval containing its issue time as
//     that interval's observation: the provider's nowcast, replaced by a
//     later fetch's value for the same interval.
// Local answers (history, profile, static, file: `is_remote` false) and
// stale ones are never recorded: they are not news. At most one history
// request per zone per `min_interval`. Failures are returned, never thrown;
// the caller logs them. Used from one thread at a time (the store's).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/result.h"
#include "forecast/forecast_provider.h"
#include "forecast/history_store.h"

namespace lowcarb::forecast {

struct ObservationOptions {
  Duration lookback{std::chrono::hours(24)};
  Duration min_interval{std::chrono::hours(1)};
};

// Which of the two sources record() used.
enum class ObservationSource { kNone, kProviderHistory, kForecastNowcast };

struct RecordedObservations {
  ObservationSource source = ObservationSource::kNone;
  size_t points = 0;  // Rows written to the history store.
};

class ObservationRecorder {
 public:
  // `store` and `source` must outlive the recorder. `is_remote(provider)`
  // says whether a series' provider name is a remote (HTTP) one.
  ObservationRecorder(HistoryStore& store, ForecastProvider& source,
                      std::function<bool(const std::string&)> is_remote,
                      ObservationOptions options = {});

  // Records what happened up to `now` for `zone`, after `served` (the
  // forecast just served for it; see above).
  Result<RecordedObservations> record(const std::string& zone, TimePoint now,
                                      const IntensitySeries& served);

 private:
  HistoryStore& store_;
  ForecastProvider& source_;
  std::function<bool(const std::string&)> is_remote_;
  ObservationOptions options_;
  std::map<std::string, TimePoint> last_history_;  // Per zone.
};

}  // namespace lowcarb::forecast
