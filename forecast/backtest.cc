// SPDX-License-Identifier: Apache-2.0
#include "forecast/backtest.h"

#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "common/time_format.h"
#include "forecast/resample.h"

namespace lowcarb::forecast {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Mean of values[first, first + count), NaN if any is NaN or out of range.
double window_mean(const std::vector<double>& values, int64_t first,
                   int64_t count) {
  if (first < 0 || first + count > static_cast<int64_t>(values.size())) {
    return kNaN;
  }
  double sum = 0;
  for (int64_t i = first; i < first + count; ++i) {
    sum += values[static_cast<size_t>(i)];
  }
  return sum / static_cast<double>(count);  // NaN propagates.
}

bool multiple_of(Duration value, Duration step) {
  return value.count() > 0 && value.count() % step.count() == 0;
}

struct FlexibleSums {
  size_t decisions = 0;
  double savings = 0;
  double oracle = 0;
};

}  // namespace

Result<BacktestScore> run_backtest(const IntensitySeries& actual,
                                   const std::string& forecaster,
                                   const ForecastFunction& forecast,
                                   const BacktestOptions& options) {
  const Duration step = options.step;
  if (step.count() <= 0 || !multiple_of(options.horizon, step) ||
      !multiple_of(options.issue_every, step)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("backtest: the horizon ({}) and the issue "
                                  "spacing ({}) must be positive multiples of "
                                  "the step ({})",
                                  format_duration(options.horizon),
                                  format_duration(options.issue_every),
                                  format_duration(step)));
  }
  for (const auto& length : options.job_lengths) {
    if (!multiple_of(length, step)) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("backtest: job length {} is not a positive "
                      "multiple of the step {}",
                      format_duration(length), format_duration(step)));
    }
  }
  for (const auto& slack : options.slacks) {
    if (slack.count() < 0 || slack.count() % step.count() != 0) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("backtest: slack {} is not a multiple of "
                      "the step {}",
                      format_duration(slack), format_duration(step)));
    }
  }
  if (actual.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("backtest: {} has no points", actual.zone));
  }

  // Actuals on the grid; NaN where unknown.
  const IntensitySeries grid = resample(actual, step);
  const TimePoint origin = grid.begin_time();
  std::vector<double> truth;
  truth.reserve(grid.points.size());
  for (const auto& point : grid.points) {
    truth.push_back(point.gco2_per_kwh ? *point.gco2_per_kwh : kNaN);
  }
  const auto size = static_cast<int64_t>(truth.size());
  const int64_t horizon_steps = options.horizon / step;
  const int64_t every_steps = options.issue_every / step;
  const int64_t steps_per_day = std::max<int64_t>(1, Duration{86400} / step);
  const int64_t first_issue =
      (floor_to_step(origin + options.warmup + step - Duration{1}, step) -
       origin) /
      step;
  if (first_issue + horizon_steps > size) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("backtest: {} spans {} to {}, too short for {} of warm-up "
                    "and one {} forecast",
                    actual.zone, format_utc(actual.begin_time()),
                    format_utc(actual.end_time()),
                    format_duration(options.warmup),
                    format_duration(options.horizon)));
  }

  const auto blocks =
      static_cast<size_t>((horizon_steps + steps_per_day - 1) / steps_per_day);
  std::vector<double> abs_error(blocks, 0.0);
  std::vector<double> abs_truth(blocks, 0.0);
  std::vector<double> ape(blocks, 0.0);
  std::vector<size_t> ape_count(blocks, 0);
  std::vector<size_t> count(blocks, 0);
  std::vector<FlexibleSums> flexible(options.job_lengths.size() *
                                     options.slacks.size());

  BacktestScore score;
  score.forecaster = forecaster;
  std::vector<double> predicted(static_cast<size_t>(horizon_steps));
  for (int64_t issue = first_issue; issue + horizon_steps <= size;
       issue += every_steps) {
    const TimePoint now = origin + step * issue;
    auto result = forecast(now, options.horizon);
    if (!result) {
      ++score.failed_issues;
      continue;
    }
    if (score.issues == 0) {
      score.first_issue = now;
    }
    score.last_issue = now;
    ++score.issues;
    std::fill(predicted.begin(), predicted.end(), kNaN);
    for (const auto& point : result->points) {
      if (!point.gco2_per_kwh || point.start < now ||
          (point.start - now) % step != Duration{0} ||
          point.end - point.start != step) {
        continue;  // Not on the grid: not scored.
      }
      const int64_t lead = (point.start - now) / step;
      if (lead < horizon_steps) {
        predicted[static_cast<size_t>(lead)] = *point.gco2_per_kwh;
      }
    }
    for (int64_t lead = 0; lead < horizon_steps; ++lead) {
      const double f = predicted[static_cast<size_t>(lead)];
      const double a = truth[static_cast<size_t>(issue + lead)];
      if (std::isnan(f) || std::isnan(a)) {
        continue;
      }
      const auto block = static_cast<size_t>(lead / steps_per_day);
      ++count[block];
      abs_error[block] += std::abs(f - a);
      abs_truth[block] += std::abs(a);
      if (a > 0) {
        ape[block] += std::abs(f - a) / a;
        ++ape_count[block];
      }
    }
    size_t slot = 0;
    for (const auto& length : options.job_lengths) {
      const int64_t job = length / step;
      for (const auto& slack : options.slacks) {
        FlexibleSums& sums = flexible[slot++];
        const int64_t starts = slack / step;
        const double at_once = window_mean(truth, issue, job);
        if (std::isnan(at_once) || issue + starts + job > size) {
          continue;
        }
        double best_actual = at_once;
        bool complete = true;
        std::optional<int64_t> chosen;
        double chosen_forecast = 0;
        for (int64_t s = 0; s <= starts; ++s) {
          const double a = window_mean(truth, issue + s, job);
          if (std::isnan(a)) {
            complete = false;
            break;
          }
          best_actual = std::min(best_actual, a);
          if (s + job <= horizon_steps) {
            const double f = window_mean(predicted, s, job);
            if (!std::isnan(f) && (!chosen || f < chosen_forecast)) {
              chosen = s;
              chosen_forecast = f;
            }
          }
        }
        if (!complete) {
          continue;
        }
        const double picked =
            chosen ? window_mean(truth, issue + *chosen, job) : at_once;
        ++sums.decisions;
        sums.savings += at_once - picked;
        sums.oracle += at_once - best_actual;
      }
    }
  }

  for (size_t b = 0; b < blocks; ++b) {
    LeadBlockScore block;
    block.day = static_cast<int>(b + 1);
    block.points = count[b];
    block.mape =
        ape_count[b] > 0 ? ape[b] / static_cast<double>(ape_count[b]) : kNaN;
    block.wape = abs_truth[b] > 0 ? abs_error[b] / abs_truth[b] : kNaN;
    score.blocks.push_back(block);
  }
  size_t slot = 0;
  for (const auto& length : options.job_lengths) {
    for (const auto& slack : options.slacks) {
      const FlexibleSums& sums = flexible[slot++];
      FlexibleStartScore flex;
      flex.job = length;
      flex.slack = slack;
      flex.decisions = sums.decisions;
      flex.savings = sums.savings;
      flex.oracle_savings = sums.oracle;
      flex.captured = sums.oracle > 0 ? sums.savings / sums.oracle : kNaN;
      score.flexible.push_back(flex);
    }
  }
  return score;
}

}  // namespace lowcarb::forecast
