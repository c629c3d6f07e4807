// SPDX-License-Identifier: Apache-2.0
#include "forecast/observation_recorder.h"

#include <utility>

namespace lowcarb::forecast {

ObservationRecorder::ObservationRecorder(
    HistoryStore& store, ForecastProvider& source,
    std::function<bool(const std::string&)> is_remote,
    ObservationOptions options)
    : store_(store),
      source_(source),
      is_remote_(std::move(is_remote)),
      options_(options) {}

Result<RecordedObservations> ObservationRecorder::record(
    const std::string& zone, TimePoint now, const IntensitySeries& served) {
  RecordedObservations recorded;
  if (served.stale || !is_remote_(served.provider)) {
    return recorded;
  }
  auto last = last_history_.find(zone);
  const bool ask = last == last_history_.end() ||
                   now - last->second >= options_.min_interval;
  if (ask) {
    last_history_[zone] = now;
    auto history = source_.history(zone, now - options_.lookback, now);
    // A failed or local answer is not an error here: the nowcast below
    // stands in for it.
    if (history && !history->stale && is_remote_(history->provider) &&
        history->kind.horizon == Horizon::kObserved) {
      IntensitySeries observed;
      observed.zone = zone;
      observed.kind = history->kind;
      observed.provider = history->provider;
      for (const auto& point : history->points) {
        if (point.gco2_per_kwh && point.end <= now && point.end > point.start) {
          observed.points.push_back(point);
        }
      }
      if (!observed.points.empty()) {
        auto written = store_.append(observed);
        if (!written) {
          return make_error(written.error());
        }
        recorded.source = ObservationSource::kProviderHistory;
        recorded.points = *written;
        return recorded;
      }
    }
  }
  // The provider's own value for the interval containing the issue time.
  const TimePoint issued = served.generated_at;
  for (const auto& point : served.points) {
    if (point.start <= issued && issued < point.end && point.gco2_per_kwh) {
      IntensitySeries nowcast;
      nowcast.zone = zone;
      nowcast.kind = {served.kind.basis, served.kind.scope, Horizon::kObserved};
      nowcast.provider = served.provider;
      nowcast.points.push_back(point);
      auto written = store_.append(nowcast);
      if (!written) {
        return make_error(written.error());
      }
      recorded.source = ObservationSource::kForecastNowcast;
      recorded.points = *written;
      break;
    }
  }
  return recorded;
}

}  // namespace lowcarb::forecast
