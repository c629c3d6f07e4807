// SPDX-License-Identifier: Apache-2.0
#include "forecast/ensemble_forecaster.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/time_format.h"
#include "forecast/history_forecaster.h"
#include "forecast/resample.h"

namespace lowcarb::forecast {

namespace {

constexpr Duration kDay{86400};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

// The weighted mean of values[i - k * period] for k = first .. first +
// count - 1 (weights decay^(k - first)), skipping NaN and indices outside;
// NaN when none.
double lagged_mean(const std::vector<double>& values, int64_t i, int64_t period,
                   int first, int count, double decay) {
  double sum = 0;
  double weights = 0;
  double w = 1;
  for (int k = first; k < first + count; ++k) {
    const int64_t j = i - k * period;
    if (j < 0) {
      break;
    }
    const double v = j < static_cast<int64_t>(values.size())
                         ? values[static_cast<size_t>(j)]
                         : kNaN;
    if (!std::isnan(v)) {
      sum += w * v;
      weights += w;
    }
    w *= decay;
  }
  return weights > 0 ? sum / weights : kNaN;
}

}  // namespace

Duration EnsembleOptions::lookback(Duration horizon) const {
  const int days = profile_days + max_lead_days + weekly_weeks * 7 + fit_days +
                   static_cast<int>(ceil_div(horizon.count(), kDay.count())) +
                   2;
  return kDay * days;
}

EnsembleModel::EnsembleModel(const IntensitySeries& observed,
                             const EnsembleOptions& options)
    : zone_(observed.zone), kind_(observed.kind), options_(options) {
  LOWCARB_ASSERT(options_.step.count() > 0 &&
                 kDay.count() % options_.step.count() == 0);
  steps_per_day_ = kDay.count() / options_.step.count();
  if (observed.empty()) {
    return;
  }
  const Duration step = options_.step;
  origin_ = floor_to_step(observed.begin_time(), kDay);
  const auto cells = static_cast<size_t>(
      ceil_div((observed.end_time() - origin_).count(), step.count()));
  std::vector<double> weighted_sum(cells, 0.0);
  std::vector<double> weight(cells, 0.0);
  ready_.assign(cells, TimePoint::min());
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
      // Known once every point overlapping the step has ended.
      ready_[cell] = std::max(ready_[cell], point.end);
      if (point.gco2_per_kwh) {
        const auto seconds = static_cast<double>((to - from).count());
        weighted_sum[cell] += *point.gco2_per_kwh * seconds;
        weight[cell] += seconds;
      }
    }
  }
  values_.assign(cells, kNaN);
  TimePoint latest = TimePoint::min();
  for (size_t cell = 0; cell < cells; ++cell) {
    if (weight[cell] > 0) {
      values_[cell] = weighted_sum[cell] / weight[cell];
    }
    const TimePoint cell_end = origin_ + step * static_cast<int64_t>(cell + 1);
    latest = std::max({latest, ready_[cell], cell_end});
    ready_[cell] = latest;
  }

  // Profile errors and baseline errors per lead day. Step i's baseline for
  // lead day d reads values of days >= d before it, and profile errors of
  // whole weeks before it, so it never depends on step i or later.
  const auto n = static_cast<int64_t>(cells);
  const int days = std::max(1, options_.max_lead_days);
  profile_error_.assign(static_cast<size_t>(days),
                        std::vector<double>(cells, kNaN));
  residual_.assign(static_cast<size_t>(days), std::vector<double>(cells, kNaN));
  known_prefix_.assign(cells + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    known_prefix_[static_cast<size_t>(i + 1)] =
        known_prefix_[static_cast<size_t>(i)] + (std::isnan(value(i)) ? 0 : 1);
  }
  for (int d = 1; d <= days; ++d) {
    auto& error = profile_error_[static_cast<size_t>(d - 1)];
    for (int64_t i = 0; i < n; ++i) {
      error[static_cast<size_t>(i)] = value(i) - profile(d, i);
    }
  }
  for (int d = 1; d <= days; ++d) {
    auto& residual = residual_[static_cast<size_t>(d - 1)];
    for (int64_t i = 0; i < n; ++i) {
      residual[static_cast<size_t>(i)] = value(i) - baseline(d, i);
    }
  }

  // Features at each issue step t: its own error and the mean error of the
  // day ending with it.
  const auto& first_residual = residual_[0];
  feature_last_ = first_residual;
  feature_mean_.assign(cells, kNaN);
  double sum = 0;
  int64_t count = 0;
  for (int64_t t = 0; t < n; ++t) {
    const double r = first_residual[static_cast<size_t>(t)];
    if (!std::isnan(r)) {
      sum += r;
      ++count;
    }
    const int64_t drop = t - steps_per_day_;
    if (drop >= 0) {
      const double old = first_residual[static_cast<size_t>(drop)];
      if (!std::isnan(old)) {
        sum -= old;
        --count;
      }
    }
    if (count > 0) {
      feature_mean_[static_cast<size_t>(t)] = sum / static_cast<double>(count);
    }
  }

  if (options_.fit_days > 0) {
    const int64_t fit_count = ceil_div(n, steps_per_day_) + 1;
    fits_.reserve(static_cast<size_t>(fit_count));
    for (int64_t k = 0; k < fit_count; ++k) {
      fits_.push_back(fit(k * steps_per_day_));
    }
  }
}

std::vector<EnsembleModel::Coefficients> EnsembleModel::fit(
    int64_t cutoff) const {
  const int64_t leads = std::max(1, options_.max_lead_days) * steps_per_day_;
  const int64_t window = options_.fit_days * steps_per_day_;
  const auto n = static_cast<int64_t>(values_.size());
  std::vector<Coefficients> result(static_cast<size_t>(leads + 1));
  for (int64_t h = 1; h <= leads; ++h) {
    const auto& target = residual_[static_cast<size_t>(
        std::min<int64_t>(ceil_div(h, steps_per_day_),
                          static_cast<int64_t>(residual_.size())) -
        1)];
    double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
    int64_t pairs = 0;
    const int64_t last_issue = std::min(cutoff, n) - h - 1;
    for (int64_t t = std::max<int64_t>(0, last_issue - window + 1);
         t <= last_issue; ++t) {
      const double x1 = feature_last_[static_cast<size_t>(t)];
      const double x2 = feature_mean_[static_cast<size_t>(t)];
      const double y = target[static_cast<size_t>(t + h)];
      if (std::isnan(x1) || std::isnan(x2) || std::isnan(y)) {
        continue;
      }
      s11 += x1 * x1;
      s12 += x1 * x2;
      s22 += x2 * x2;
      s1y += x1 * y;
      s2y += x2 * y;
      ++pairs;
    }
    if (pairs < steps_per_day_) {
      continue;  // Too few to fit: no correction at this lead.
    }
    const double a11 = s11 * (1 + options_.ridge);
    const double a22 = s22 * (1 + options_.ridge);
    const double det = a11 * a22 - s12 * s12;
    if (!(det > 1e-12 * std::max(1.0, a11 * a22))) {
      continue;
    }
    result[static_cast<size_t>(h)] = {(a22 * s1y - s12 * s2y) / det,
                                      (a11 * s2y - s12 * s1y) / det};
  }
  return result;
}

int64_t EnsembleModel::known_steps(TimePoint now) const {
  const auto size = static_cast<int64_t>(values_.size());
  const int64_t first = std::clamp<int64_t>(
      floor_div((now - origin_).count(), options_.step.count()), 0, size);
  // ready_ is non-decreasing: the steps known at `now` are a prefix.
  const auto known = static_cast<int64_t>(
      std::upper_bound(ready_.begin(), ready_.end(), now) - ready_.begin());
  return std::min(first, known);
}

double EnsembleModel::profile(int d, int64_t i) const {
  return lagged_mean(values_, i, steps_per_day_, d, options_.profile_days,
                     options_.day_decay);
}

double EnsembleModel::baseline(int d, int64_t i) const {
  const double daily = profile(d, i);
  if (std::isnan(daily) || options_.weekly_weeks <= 0 ||
      options_.weekly_weight == 0 ||
      d > static_cast<int>(profile_error_.size())) {
    return daily;
  }
  const double weekly =
      lagged_mean(profile_error_[static_cast<size_t>(d - 1)], i,
                  7 * steps_per_day_, 1, options_.weekly_weeks, 1.0);
  return std::isnan(weekly) ? daily : daily + options_.weekly_weight * weekly;
}

Result<IntensitySeries> EnsembleModel::forecast(TimePoint now,
                                                Duration horizon) const {
  const int64_t step = options_.step.count();
  const int64_t n = known_steps(now);
  const int64_t known =
      values_.empty() ? 0 : known_prefix_[static_cast<size_t>(n)];
  if (values_.empty() || Duration{known * step} < options_.min_history) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("history forecast for {}: {} of observations before {}, "
                    "need at least {}",
                    zone_, format_duration(Duration{known * step}),
                    format_utc(now), format_duration(options_.min_history)));
  }
  const int64_t issue = n - 1;  // The last known step.
  const std::vector<Coefficients>* coefficients = nullptr;
  if (!fits_.empty()) {
    const auto k = std::min<int64_t>(n / steps_per_day_,
                                     static_cast<int64_t>(fits_.size()) - 1);
    coefficients = &fits_[static_cast<size_t>(k)];
  }
  double last = feature_last_[static_cast<size_t>(issue)];
  double mean = feature_mean_[static_cast<size_t>(issue)];
  last = std::isnan(last) ? 0 : last;
  mean = std::isnan(mean) ? 0 : mean;

  IntensitySeries series;
  series.zone = zone_;
  series.kind = {kind_.basis, kind_.scope, Horizon::kForecast};
  series.provider = "history";
  series.generated_at = now;
  const int64_t first = floor_div((now - origin_).count(), step);
  const TimePoint end = now + horizon;
  for (int64_t i = first;; ++i) {
    const TimePoint start = origin_ + Duration{i * step};
    if (start >= end && i > first) {
      break;
    }
    const int64_t lead = i - issue;
    const auto d = static_cast<int>(ceil_div(lead, steps_per_day_));
    double v = baseline(d, i);
    std::optional<double> out;
    if (!std::isnan(v)) {
      if (coefficients != nullptr) {
        const auto& c = (*coefficients)[static_cast<size_t>(std::min<int64_t>(
            lead, static_cast<int64_t>(coefficients->size()) - 1))];
        v += c.last * last + c.mean * mean;
      }
      out = std::max(0.0, v);
    }
    series.points.push_back({start, start + options_.step, out});
  }
  return series;
}

EnsembleForecaster::EnsembleForecaster(HistoryStore& store,
                                       SignalKind preferred,
                                       EnsembleOptions options)
    : store_(&store), preferred_(preferred), options_(options) {}

std::unique_ptr<EnsembleForecaster> EnsembleForecaster::from_series(
    const std::vector<IntensitySeries>& observed, EnsembleOptions options) {
  std::unique_ptr<EnsembleForecaster> forecaster(
      new EnsembleForecaster(options));
  for (const auto& series : observed) {
    forecaster->models_.insert_or_assign(series.zone,
                                         EnsembleModel(series, options));
    forecaster->observed_.insert_or_assign(series.zone, series);
  }
  return forecaster;
}

Result<IntensitySeries> EnsembleForecaster::forecast(const std::string& zone,
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
  const TimePoint from = now - options_.lookback(horizon);
  return forecast_from_store(
      *store_, preferred_, zone, from, now,
      [&](const IntensitySeries& observed) {
        return EnsembleModel(observed, options_).forecast(now, horizon);
      });
}

Result<IntensitySeries> EnsembleForecaster::history(const std::string& zone,
                                                    TimePoint from,
                                                    TimePoint to) {
  return observed_history(store_, observed_, preferred_, zone, from, to);
}

}  // namespace lowcarb::forecast
