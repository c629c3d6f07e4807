// SPDX-License-Identifier: Apache-2.0
#include "forecast/ensemble_forecaster.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

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

// out[i]: the mean of the non-NaN values in values[i - window + 1, i]; NaN
// when there are none.
std::vector<double> trailing_mean(const std::vector<double>& values,
                                  int64_t window) {
  std::vector<double> out(values.size(), kNaN);
  double sum = 0;
  int64_t count = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isnan(values[i])) {
      sum += values[i];
      ++count;
    }
    if (static_cast<int64_t>(i) >= window) {
      const double old = values[i - static_cast<size_t>(window)];
      if (!std::isnan(old)) {
        sum -= old;
        --count;
      }
    }
    if (count > 0) {
      out[i] = sum / static_cast<double>(count);
    }
  }
  return out;
}

// Sufficient statistics of a least-squares fit y ~ b . x over K features.
template <int K>
struct NormalEquations {
  std::array<std::array<double, K>, K> xx{};
  std::array<double, K> xy{};
  double yy = 0;
  int64_t pairs = 0;

  void add(const std::array<double, K>& x, double y) {
    for (int a = 0; a < K; ++a) {
      for (int b = 0; b <= a; ++b) {
        xx[a][b] += x[a] * x[b];
      }
      xy[a] += x[a] * y;
    }
    yy += y * y;
    ++pairs;
  }
  // Removes a pair added before (the window slides past it).
  void remove(const std::array<double, K>& x, double y) {
    for (int a = 0; a < K; ++a) {
      for (int b = 0; b <= a; ++b) {
        xx[a][b] -= x[a] * x[b];
      }
      xy[a] -= x[a] * y;
    }
    yy -= y * y;
    --pairs;
  }
  void add(const NormalEquations& other) {
    for (int a = 0; a < K; ++a) {
      for (int b = 0; b <= a; ++b) {
        xx[a][b] += other.xx[a][b];
      }
      xy[a] += other.xy[a];
    }
    yy += other.yy;
    pairs += other.pairs;
  }
  // The sum of squared errors of coefficients `c`.
  double sse(const std::array<double, K>& c) const {
    double result = yy;
    for (int a = 0; a < K; ++a) {
      result -= 2 * c[a] * xy[a];
      for (int b = 0; b < K; ++b) {
        result += c[a] * c[b] * (a >= b ? xx[a][b] : xx[b][a]);
      }
    }
    return result;
  }
  // The ridge solution (penalty `ridge` x each feature's own sum of
  // squares) over the first `k` features; nullopt when singular.
  std::optional<std::array<double, K>> solve(int k, double ridge) const {
    std::array<std::array<double, K + 1>, K> m{};
    for (int a = 0; a < k; ++a) {
      for (int b = 0; b < k; ++b) {
        m[a][b] = a >= b ? xx[a][b] : xx[b][a];
      }
      m[a][a] *= 1 + ridge;
      m[a][k] = xy[a];
    }
    for (int col = 0; col < k; ++col) {
      int pivot = col;
      for (int row = col + 1; row < k; ++row) {
        if (std::abs(m[row][col]) > std::abs(m[pivot][col])) {
          pivot = row;
        }
      }
      if (!(std::abs(m[pivot][col]) > 1e-9 * std::max(1.0, xx[col][col]))) {
        return std::nullopt;
      }
      std::swap(m[col], m[pivot]);
      for (int row = 0; row < k; ++row) {
        if (row == col) {
          continue;
        }
        const double f = m[row][col] / m[col][col];
        for (int c = col; c <= k; ++c) {
          m[row][c] -= f * m[col][c];
        }
      }
    }
    std::array<double, K> result{};
    for (int a = 0; a < k; ++a) {
      result[a] = m[a][k] / m[a][a];
    }
    return result;
  }
};

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

  // Features at each issue step t: its own error, the mean error of the
  // last 3 steps and of the day ending with it, and the day's mean value.
  feature_last_ = residual_[0];
  feature_mean_ = trailing_mean(residual_[0], steps_per_day_);
  feature_short_ = trailing_mean(residual_[0], 3);
  level_ = trailing_mean(values_, steps_per_day_);

  if (options_.fit_days > 0) {
    const int64_t fit_count = ceil_div(n, steps_per_day_) + 1;
    fit(fit_count);
  }
  if (options_.blend_days > 0 && options_.naive_days > 0) {
    fit_blend();
  }
}

void EnsembleModel::fit_blend() {
  constexpr int kWeights = 11;  // 0, 0.1, .., 1.
  const auto n = static_cast<int64_t>(values_.size());
  const int days = static_cast<int>(residual_.size());
  const int64_t leads = days * steps_per_day_;
  const int64_t day_count = ceil_div(n, steps_per_day_);
  std::vector<std::vector<double>> naive_values(
      static_cast<size_t>(days), std::vector<double>(values_.size()));
  for (int d = 1; d <= days; ++d) {
    for (int64_t i = 0; i < n; ++i) {
      naive_values[static_cast<size_t>(d - 1)][static_cast<size_t>(i)] =
          naive(d, i);
    }
  }
  // loss[(target day x days + d - 1) x kWeights + j]: the sum of absolute
  // percentage errors of weight j / 10 at lead day d over the targets of
  // that day (bucketed by the target's day, so a fit reads only known
  // targets).
  std::vector<double> loss(static_cast<size_t>(day_count * days * kWeights),
                           0.0);
  for (int64_t t = 0; t + 1 < n; ++t) {
    const int64_t first_lead =
        std::max(0, options_.blend_from_day - 1) * steps_per_day_ + 1;
    for (int64_t h = first_lead; h <= leads && t + h < n; ++h) {
      const int64_t i = t + h;
      const double a = value(i);
      if (!(a > 0)) {
        continue;  // Unknown, or no percentage error.
      }
      const auto d = static_cast<size_t>(ceil_div(h, steps_per_day_) - 1);
      const double e = a - residual_[d][static_cast<size_t>(i)];
      const double v = naive_values[d][static_cast<size_t>(i)];
      if (std::isnan(e) || std::isnan(v)) {
        continue;
      }
      const double ensemble = corrected(t, h, e);
      double* bucket = &loss[static_cast<size_t>(
          ((i / steps_per_day_) * days + static_cast<int64_t>(d)) * kWeights)];
      const double inverse = 1 / a;
      for (int j = 0; j < kWeights; ++j) {
        const double w = j / static_cast<double>(kWeights - 1);
        bucket[j] += std::abs(w * ensemble + (1 - w) * v - a) * inverse;
      }
    }
  }
  // A running sum over the window of target days [k - blend_days, k);
  // an empty window keeps the ensemble alone.
  std::vector<double> window(static_cast<size_t>(days * kWeights), 0.0);
  blend_.assign(static_cast<size_t>(day_count + 1),
                std::vector<double>(static_cast<size_t>(days), 1.0));
  for (int64_t k = 1; k <= day_count; ++k) {
    const auto add = [&](int64_t day, double sign) {
      for (size_t c = 0; c < window.size(); ++c) {
        window[c] += sign * loss[static_cast<size_t>(day) * window.size() + c];
      }
    };
    add(k - 1, 1);
    if (k - 1 - options_.blend_days >= 0) {
      add(k - 1 - options_.blend_days, -1);
    }
    for (int d = options_.blend_from_day - 1; d < days; ++d) {
      const double* sums = &window[static_cast<size_t>(d * kWeights)];
      if (sums[0] == 0 && sums[kWeights - 1] == 0) {
        continue;
      }
      int best = kWeights - 1;
      for (int j = kWeights - 2; j >= 0; --j) {
        if (sums[j] < sums[best] * (1 - 1e-12)) {
          best = j;
        }
      }
      // Fitted weights generalise worse than equal ones (the forecast
      // combination puzzle): unless the past favours the fit clearly, go
      // halfway from it to equal weights (rounding towards the ensemble).
      constexpr int kEqual = kWeights / 2;
      if (!(sums[best] < (1 - options_.blend_margin) * sums[kEqual])) {
        best = (best + kEqual + 1) / 2;
      }
      blend_[static_cast<size_t>(k)][static_cast<size_t>(d)] =
          best / static_cast<double>(kWeights - 1);
    }
  }
}

double EnsembleModel::corrected(int64_t issue, int64_t lead,
                                double base) const {
  if (fits_.empty()) {
    return std::max(0.0, base);
  }
  // The fit a forecast at this issue uses (see forecast()).
  const auto k = std::min<int64_t>((issue + 1) / steps_per_day_,
                                   static_cast<int64_t>(fits_.size()) - 1);
  const auto& coefficients = fits_[static_cast<size_t>(k)];
  const auto& c = coefficients[static_cast<size_t>(
      std::min<int64_t>(lead, static_cast<int64_t>(coefficients.size()) - 1))];
  const auto at = [issue](const std::vector<double>& feature) {
    const double v = feature[static_cast<size_t>(issue)];
    return std::isnan(v) ? 0.0 : v;
  };
  const double level = level_[static_cast<size_t>(issue)];
  const double shape = std::isnan(level) ? 0.0 : base - level;
  return std::max(0.0, base + c[0] * at(feature_last_) +
                           c[1] * at(feature_mean_) +
                           c[2] * at(feature_short_) + c[3] * shape);
}

double EnsembleModel::blend_weight(TimePoint now, int lead_day) const {
  if (blend_.empty()) {
    return 1.0;
  }
  const int64_t n = known_steps(now);
  const auto k = std::min<int64_t>(n / steps_per_day_,
                                   static_cast<int64_t>(blend_.size()) - 1);
  const auto& weights = blend_[static_cast<size_t>(k)];
  const auto d =
      std::clamp<int64_t>(lead_day, 1, static_cast<int64_t>(weights.size()));
  return weights[static_cast<size_t>(d - 1)];
}

void EnsembleModel::fit(int64_t fit_count) {
  // Fixed-size sums per feature count: the 4-feature sums cost three times
  // the 2-feature ones, and the fit is most of the model's build time.
  switch (std::clamp(options_.features, 1, kMaxFeatures)) {
    case 1:
      return fit_with<1>(fit_count);
    case 2:
      return fit_with<2>(fit_count);
    case 3:
      return fit_with<3>(fit_count);
    default:
      return fit_with<4>(fit_count);
  }
}

template <int K>
void EnsembleModel::fit_with(int64_t fit_count) {
  const int64_t leads = std::max(1, options_.max_lead_days) * steps_per_day_;
  const int64_t window = options_.fit_days * steps_per_day_;
  const int64_t holdout =
      std::min<int64_t>(options_.holdout_days, options_.fit_days / 2) *
      steps_per_day_;
  constexpr int k = K;
  const auto n = static_cast<int64_t>(values_.size());
  fits_.assign(static_cast<size_t>(fit_count),
               std::vector<Coefficients>(static_cast<size_t>(leads + 1),
                                         Coefficients{}));
  for (int64_t h = 1; h <= leads; ++h) {
    const auto& target = residual_[static_cast<size_t>(
        std::min<int64_t>(ceil_div(h, steps_per_day_),
                          static_cast<int64_t>(residual_.size())) -
        1)];
    // The pair of issue step t: features and target; false if unknown.
    const auto pair = [&](int64_t t, std::array<double, K>& x, double& y) {
      const auto ti = static_cast<size_t>(t);
      const auto target_index = static_cast<size_t>(t + h);
      y = target[target_index];
      x[0] = feature_last_[ti];
      if constexpr (K > 1) {
        x[1] = feature_mean_[ti];
      }
      if constexpr (K > 2) {
        x[2] = feature_short_[ti];
      }
      if constexpr (K > 3) {
        x[3] = values_[target_index] - y - level_[ti];  // baseline - level
      }
      bool known = !std::isnan(y);
      for (int f = 0; f < K; ++f) {
        known = known && !std::isnan(x[f]);
      }
      return known;
    };
    // Sums over issue steps [lo, hi), slid forward as the cutoff grows
    // (each issue is added and removed once, instead of summing every
    // window anew: the windows of consecutive days overlap in all but one
    // day).
    struct Range {
      NormalEquations<K> sums;
      int64_t lo = 0;
      int64_t hi = 0;
    };
    const auto slide = [&](Range& range, int64_t lo, int64_t hi) {
      std::array<double, K> x{};
      double y = 0;
      for (int64_t t = range.hi; t < hi; ++t) {
        if (pair(t, x, y)) {
          range.sums.add(x, y);
        }
      }
      range.hi = std::max(range.hi, hi);
      for (int64_t t = range.lo; t < std::min(lo, range.hi); ++t) {
        if (pair(t, x, y)) {
          range.sums.remove(x, y);
        }
      }
      range.lo = std::max(range.lo, lo);
    };
    Range early;
    Range late;
    for (int64_t c = 0; c < fit_count; ++c) {
      const int64_t cutoff = c * steps_per_day_;
      const int64_t last_issue = std::min(cutoff, n) - h - 1;
      if (last_issue < 0) {
        continue;
      }
      const int64_t first_issue = std::max<int64_t>(0, last_issue - window + 1);
      const int64_t late_from = std::max(first_issue, last_issue - holdout + 1);
      slide(early, first_issue, late_from);
      slide(late, late_from, last_issue + 1);
      NormalEquations<K> both = early.sums;
      both.add(late.sums);
      if (both.pairs < steps_per_day_) {
        continue;  // Too few to fit: no correction at this lead.
      }
      auto solution = both.solve(k, options_.ridge);
      if (!solution) {
        continue;
      }
      double scale = 1;
      if (holdout > 0 && late.sums.pairs >= steps_per_day_ &&
          early.sums.pairs >= steps_per_day_) {
        // The factor s minimising the held-out error of s x (the fit
        // without the held-out days), clamped to [0, 1].
        auto held = early.sums.solve(k, options_.ridge);
        if (!held) {
          continue;
        }
        const std::array<double, K> zero{};
        const double base = late.sums.sse(zero);
        // sse(s c) = yy - 2 s (c . xy) + s^2 c'XXc.
        double cxy = 0;
        for (int a = 0; a < k; ++a) {
          cxy += (*held)[a] * late.sums.xy[a];
        }
        const double quad = late.sums.sse(*held) - base + 2 * cxy;
        scale = quad > 0 ? std::clamp(cxy / quad, 0.0, 1.0) : 0.0;
      }
      auto& result = fits_[static_cast<size_t>(c)][static_cast<size_t>(h)];
      for (int a = 0; a < k; ++a) {
        result[a] = scale * (*solution)[a];
      }
    }
  }
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

double EnsembleModel::naive(int d, int64_t i) const {
  return lagged_mean(values_, i, steps_per_day_, d, options_.naive_days,
                     options_.naive_decay);
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
  const std::vector<double>* weights = nullptr;
  if (!blend_.empty()) {
    const auto k = std::min<int64_t>(n / steps_per_day_,
                                     static_cast<int64_t>(blend_.size()) - 1);
    weights = &blend_[static_cast<size_t>(k)];
  }

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
    const double base = baseline(d, i);
    std::optional<double> out;
    if (!std::isnan(base)) {
      double v = corrected(issue, lead, base);
      if (weights != nullptr) {
        const double w = (*weights)[static_cast<size_t>(
            std::min<int64_t>(d, static_cast<int64_t>(weights->size())) - 1)];
        const double seasonal = naive(d, i);
        if (w < 1 && !std::isnan(seasonal)) {
          v = w * v + (1 - w) * seasonal;
        }
      }
      out = v;
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
