// SPDX-License-Identifier: Apache-2.0
#include "forecast/history_forecaster.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/time_format.h"
#include "forecast/resample.h"

namespace lowcarb::forecast {

namespace {

constexpr Duration kDay{86400};

// Floor division of `numerator` by `denominator` > 0.
int64_t floor_div(int64_t numerator, int64_t denominator) {
  int64_t q = numerator / denominator;
  if (numerator % denominator != 0 && numerator < 0) {
    --q;
  }
  return q;
}

int64_t ceil_div(int64_t numerator, int64_t denominator) {
  return -floor_div(-numerator, denominator);
}

}  // namespace

HistoryModel::HistoryModel(const IntensitySeries& observed,
                           const HistoryForecastOptions& options)
    : zone_(observed.zone), kind_(observed.kind), options_(options) {
  LOWCARB_ASSERT(options_.step.count() > 0 &&
                 kDay.count() % options_.step.count() == 0);
  if (observed.empty()) {
    known_prefix_.push_back(0);
    return;
  }
  const Duration step = options_.step;
  origin_ = floor_to_step(observed.begin_time(), step);
  const auto cells = static_cast<size_t>(
      ceil_div((observed.end_time() - origin_).count(), step.count()));
  std::vector<double> weighted_sum(cells, 0.0);
  std::vector<double> weight(cells, 0.0);
  known_from_.assign(cells, TimePoint::min());
  for (const auto& point : observed.points) {
    auto cell = static_cast<size_t>((point.start - origin_) / step);
    for (; cell < cells; ++cell) {
      const TimePoint cell_start = origin_ + step * static_cast<int64_t>(cell);
      if (cell_start >= point.end) {
        break;
      }
      const TimePoint from = std::max(cell_start, point.start);
      const TimePoint to = std::min(cell_start + step, point.end);
      if (to <= from) {
        continue;
      }
      // A step is only known once every point overlapping it has ended,
      // null or not: otherwise whether a later point has a value would
      // decide which values the step averages.
      known_from_[cell] = std::max(known_from_[cell], point.end);
      if (point.gco2_per_kwh) {
        const auto seconds = static_cast<double>((to - from).count());
        weighted_sum[cell] += *point.gco2_per_kwh * seconds;
        weight[cell] += seconds;
      }
    }
  }
  values_.assign(cells, 0.0);
  known_prefix_.assign(cells + 1, 0);
  for (size_t cell = 0; cell < cells; ++cell) {
    const bool known = weight[cell] > 0;
    if (known) {
      values_[cell] = weighted_sum[cell] / weight[cell];
      const TimePoint cell_end =
          origin_ + step * static_cast<int64_t>(cell + 1);
      const int64_t lag =
          ceil_div(std::max<int64_t>(0, (known_from_[cell] - cell_end).count()),
                   step.count());
      max_lag_steps_ = std::max(max_lag_steps_, lag);
    } else {
      known_from_[cell] = TimePoint::max();
    }
    known_prefix_[cell + 1] = known_prefix_[cell] + (known ? 1 : 0);
  }
}

bool HistoryModel::known_at(int64_t index, TimePoint now) const {
  return index >= 0 && index < static_cast<int64_t>(values_.size()) &&
         known_from_[static_cast<size_t>(index)] <= now;
}

Result<IntensitySeries> HistoryModel::forecast(TimePoint now,
                                               Duration horizon) const {
  const int64_t step = options_.step.count();
  const int64_t steps_per_day = kDay.count() / step;
  const auto size = static_cast<int64_t>(values_.size());
  // Step `first` contains `now` (or starts at it); steps before it ended at
  // or before `now`. Steps of index >= n are never read.
  const int64_t first = floor_div((now - origin_).count(), step);
  const int64_t n = std::clamp<int64_t>(first, 0, size);

  // Steps that ended long enough before `now` are known; the last few are
  // checked one by one.
  const int64_t checked_from = std::max<int64_t>(0, n - max_lag_steps_ - 1);
  int64_t known = known_prefix_[static_cast<size_t>(checked_from)];
  for (int64_t j = checked_from; j < n; ++j) {
    known += known_at(j, now) ? 1 : 0;
  }
  if (Duration{known * step} < options_.min_history) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("history forecast for {}: {} of observations before {}, "
                    "need at least {}",
                    zone_, format_duration(Duration{known * step}),
                    format_utc(now), format_duration(options_.min_history)));
  }

  // The most recent value known at `now`, if recent enough to blend in.
  std::optional<double> last_value;
  TimePoint last_end;
  const int64_t max_age_steps =
      ceil_div(options_.max_last_value_age.count(), step);
  for (int64_t j = n - 1; j >= 0 && j >= n - max_age_steps - max_lag_steps_;
       --j) {
    if (known_at(j, now)) {
      const TimePoint end = origin_ + Duration{(j + 1) * step};
      if (now - end <= options_.max_last_value_age) {
        last_value = values_[static_cast<size_t>(j)];
        last_end = end;
      }
      break;
    }
  }

  IntensitySeries series;
  series.zone = zone_;
  series.kind = {kind_.basis, kind_.scope, Horizon::kForecast};
  series.provider = "history";
  series.generated_at = now;
  const TimePoint end = now + horizon;
  const auto tau = static_cast<double>(options_.blend_time_constant.count());
  for (int64_t i = first;; ++i) {
    const TimePoint start = origin_ + Duration{i * step};
    if (start >= end && i > first) {
      break;
    }
    // The most recent earlier day whose same step ended before `now`.
    const int64_t first_day =
        std::max<int64_t>(1, ceil_div(i - n + 1, steps_per_day));
    double sum = 0;
    double weights = 0;
    double w = 1;
    for (int k = 0; k < options_.max_days; ++k) {
      const int64_t j = i - (first_day + k) * steps_per_day;
      if (j < 0) {
        break;
      }
      if (known_at(j, now)) {
        sum += w * values_[static_cast<size_t>(j)];
        weights += w;
      }
      w *= options_.day_decay;
    }
    std::optional<double> value;
    if (weights > 0) {
      value = sum / weights;
      if (last_value && tau > 0) {
        const auto age = static_cast<double>(
            std::max<int64_t>(0, (start - last_end).count()));
        const double a = std::exp(-age / tau);
        value = a * *last_value + (1 - a) * *value;
      }
    }
    series.points.push_back({start, start + options_.step, value});
  }
  return series;
}

HistoryForecaster::HistoryForecaster(HistoryStore& store, SignalKind preferred,
                                     HistoryForecastOptions options)
    : store_(&store), preferred_(preferred), options_(options) {}

std::unique_ptr<HistoryForecaster> HistoryForecaster::from_series(
    const std::vector<IntensitySeries>& observed,
    HistoryForecastOptions options) {
  std::unique_ptr<HistoryForecaster> forecaster(new HistoryForecaster(options));
  for (const auto& series : observed) {
    forecaster->models_.insert_or_assign(series.zone,
                                         HistoryModel(series, options));
    forecaster->observed_.insert_or_assign(series.zone, series);
  }
  return forecaster;
}

Result<IntensitySeries> HistoryForecaster::forecast(const std::string& zone,
                                                    TimePoint now,
                                                    Duration horizon) {
  if (store_ == nullptr) {
    auto it = models_.find(zone);
    if (it == models_.end()) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("history forecast for {}: no observations "
                                    "of this zone",
                                    zone));
    }
    return it->second.forecast(now, horizon);
  }
  // Enough for max_days earlier days of every step up to the horizon.
  const TimePoint from = now - horizon - kDay * (options_.max_days + 1);
  return forecast_from_store(
      *store_, preferred_, zone, from, now,
      [&](const IntensitySeries& observed) {
        return HistoryModel(observed, options_).forecast(now, horizon);
      });
}

Result<IntensitySeries> forecast_from_store(
    HistoryStore& store, const SignalKind& preferred, const std::string& zone,
    TimePoint from, TimePoint now,
    const std::function<Result<IntensitySeries>(const IntensitySeries&)>&
        model_forecast) {
  auto kinds = store.kinds(zone);
  if (!kinds) {
    return make_error(ErrorCode::kUnavailable, kinds.error().message);
  }
  std::vector<SignalKind> order{preferred};
  for (const auto& kind : *kinds) {
    if (!kind.comparable_with(preferred)) {
      order.push_back(kind);
    }
  }
  Error last_error{ErrorCode::kNotFound,
                   fmt::format("history forecast for {}: no stored "
                               "observations (import some with `lowcarb "
                               "forecast import`)",
                               zone)};
  for (const auto& kind : order) {
    auto observed = store.range(zone, kind, from, now);
    if (!observed) {
      return make_error(ErrorCode::kUnavailable, observed.error().message);
    }
    if (observed->empty()) {
      continue;
    }
    auto result = model_forecast(*observed);
    if (result) {
      return result;
    }
    last_error = result.error();
  }
  return make_error(last_error);
}

Result<IntensitySeries> observed_history(
    HistoryStore* store, const std::map<std::string, IntensitySeries>& observed,
    const SignalKind& preferred, const std::string& zone, TimePoint from,
    TimePoint to) {
  if (store == nullptr) {
    auto it = observed.find(zone);
    if (it == observed.end()) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("history for {}: no observations of this "
                                    "zone",
                                    zone));
    }
    IntensitySeries slice = it->second;
    slice.points.clear();
    for (const auto& point : it->second.points) {
      if (point.end > from && point.start < to) {
        slice.points.push_back(point);
      }
    }
    return slice;
  }
  auto kinds = store->kinds(zone);
  if (!kinds) {
    return make_error(ErrorCode::kUnavailable, kinds.error().message);
  }
  std::vector<SignalKind> order{preferred};
  order.insert(order.end(), kinds->begin(), kinds->end());
  for (const auto& kind : order) {
    auto stored = store->range(zone, kind, from, to);
    if (!stored) {
      return make_error(ErrorCode::kUnavailable, stored.error().message);
    }
    if (!stored->empty()) {
      return stored;
    }
  }
  return make_error(ErrorCode::kNotFound,
                    fmt::format("history for {}: nothing stored in [{}, {})",
                                zone, format_utc(from), format_utc(to)));
}

Result<IntensitySeries> HistoryForecaster::history(const std::string& zone,
                                                   TimePoint from,
                                                   TimePoint to) {
  return observed_history(store_, observed_, preferred_, zone, from, to);
}

}  // namespace lowcarb::forecast
