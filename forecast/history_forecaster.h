// SPDX-License-Identifier: Apache-2.0
// A forecast made from observations only, for zones without a forecast API
// or when every API is down. Seasonal naive: each future step gets the
// weighted mean of the same time of day on up to `max_days` earlier observed
// days (recent days weigh more), blended for the first hours with the last
// observed value (the blend weight decays exponentially). Only values known
// at `now` are read: an observation counts once its interval has ended at or
// before `now`, so a virtual `now` in the simulator never sees the future.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "forecast/forecast_provider.h"
#include "forecast/history_store.h"

namespace lowcarb::forecast {

struct HistoryForecastOptions {
  // Grid of the model and of the forecast points. REQUIRES: divides a day.
  Duration step{3600};  // Default: 1 h.
  int max_days = 7;     // Earlier days averaged per step. Default: 7.
  // Weight of each earlier day relative to the next more recent one.
  double day_decay = 0.7;  // Default: 0.7.
  // Time constant of the blend with the last observed value: its weight is
  // exp(-(t - t_last) / blend_time_constant).
  Duration blend_time_constant{3 * 3600};  // Default: 3 h.
  // The last value is not blended in when older than this at `now`.
  Duration max_last_value_age{6 * 3600};  // Default: 6 h.
  // Less known history than this before `now` is kNotFound.
  Duration min_history{24 * 3600};  // Default: 24 h.
};

// One zone's observations on a regular grid, built once and asked for many
// forecasts at different `now`s. Immutable after construction; thread-safe.
class HistoryModel {
 public:
  // Time-weighted means of `observed` per grid step (see resample()).
  HistoryModel(const IntensitySeries& observed,
               const HistoryForecastOptions& options);

  // The forecast for [the step containing `now`, now + horizon): points of
  // options.step, null where no earlier day has a value. kNotFound when less
  // than options.min_history of values is known at `now`. O(horizon / step
  // x max_days); reads no value whose interval ends after `now`.
  Result<IntensitySeries> forecast(TimePoint now, Duration horizon) const;

  const std::string& zone() const { return zone_; }
  const SignalKind& kind() const { return kind_; }

 private:
  // Whether grid step `index` has a value that was known at `now`.
  bool known_at(int64_t index, TimePoint now) const;

  std::string zone_;
  SignalKind kind_;
  HistoryForecastOptions options_;
  TimePoint origin_;  // Start of grid step 0.
  std::vector<double> values_;
  // When each step's value became known (the latest end of the points that
  // contributed); TimePoint::max() for steps without a value.
  std::vector<TimePoint> known_from_;
  std::vector<int64_t> known_prefix_;  // Steps with a value in [0, i).
  int64_t max_lag_steps_ = 1;  // Bound on known_from_ - step end, in steps.
};

// The forecast a history model makes from `zone`'s observations stored in
// [from, now): `model_forecast` is given the `preferred` kind's, or, when
// that fails or none are stored, each other stored kind's not comparable
// with it in turn. Shared by the history-based forecasters.
Result<IntensitySeries> forecast_from_store(
    HistoryStore& store, const SignalKind& preferred, const std::string& zone,
    TimePoint from, TimePoint now,
    const std::function<Result<IntensitySeries>(const IntensitySeries&)>&
        model_forecast);

// The observations of `zone` in [from, to): from `store` when there is one
// (the `preferred` kind first, then any other stored kind), else from the
// in-memory `observed` series. Shared by the history-based forecasters.
Result<IntensitySeries> observed_history(
    HistoryStore* store, const std::map<std::string, IntensitySeries>& observed,
    const SignalKind& preferred, const std::string& zone, TimePoint from,
    TimePoint to);

class HistoryForecaster final : public ForecastProvider {
 public:
  // Reads observations from `store` on every call, preferring `preferred`
  // (basis and scope) and trying the zone's other stored kinds after it.
  // `store` must outlive the forecaster.
  HistoryForecaster(HistoryStore& store, SignalKind preferred,
                    HistoryForecastOptions options = {});

  // An in-memory forecaster over `observed` (one series per zone): builds
  // each zone's model once, so a forecast costs O(horizon points). This is
  // the simulator's entry point.
  static std::unique_ptr<HistoryForecaster> from_series(
      const std::vector<IntensitySeries>& observed,
      HistoryForecastOptions options = {});

  std::string name() const override { return "history"; }

  // kNotFound without options.min_history of observations before `now`.
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;

  // The stored observations in [from, to).
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;

 private:
  explicit HistoryForecaster(HistoryForecastOptions options)
      : options_(options) {}

  HistoryStore* store_ = nullptr;
  SignalKind preferred_;
  HistoryForecastOptions options_;
  std::map<std::string, HistoryModel> models_;
  std::map<std::string, IntensitySeries> observed_;
};

}  // namespace lowcarb::forecast
