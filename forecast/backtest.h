// SPDX-License-Identifier: Apache-2.0
// Replaying a forecaster over a recorded series: at every issue time the
// forecaster is asked for a forecast (it must use only the past; the
// forecasters in this folder guarantee it), and the forecast is scored
// against what happened:
//   - per lead-time block (day 1 = leads [0, 24 h), day 2, ...): MAPE (mean
//     of |forecast - actual| / actual over points with actual > 0) and WAPE
//     (sum |forecast - actual| / sum actual, robust for low-carbon zones);
//   - flexible start: a job of length L that may start anywhere in [t, t +
//     slack] on the step grid starts where the forecast's mean over the job
//     is lowest (ties to the earliest). Its saving is actual(start at t) -
//     actual(chosen start); the oracle's is actual(start at t) - min over
//     starts of actual. The captured share is the sum of savings over the
//     sum of oracle savings (1 = perfect, 0 = no better than starting at
//     once, negative = worse).
// Pure functions; thread-safe if the forecast function is.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct BacktestOptions {
  Duration step{3600};          // Grid of actuals and starts. 1 h.
  Duration horizon{96 * 3600};  // Forecast asked at each issue. 96 h.
  Duration issue_every{3600};   // Issue spacing. 1 h.
  Duration warmup{14 * 86400};  // History before the first issue. 14 d.
  std::vector<Duration> job_lengths{Duration{3600}, Duration{3 * 3600},
                                    Duration{6 * 3600}};
  std::vector<Duration> slacks{Duration{12 * 3600}, Duration{24 * 3600}};
};

struct LeadBlockScore {
  int day = 0;        // 1 = leads [0, 24 h).
  size_t points = 0;  // Forecast points with an actual value.
  double mape = 0;    // Fraction (0.1 = 10 %); over points with actual > 0.
  double wape = 0;    // Fraction.
};

struct FlexibleStartScore {
  Duration job{0};
  Duration slack{0};
  size_t decisions = 0;       // Issue times scored.
  double savings = 0;         // Sum over decisions, gCO2eq/kWh of job mean.
  double oracle_savings = 0;  // The same with a perfect forecast.
  // savings / oracle_savings; NaN when the oracle saves nothing.
  double captured = 0;
};

struct BacktestScore {
  std::string forecaster;
  size_t issues = 0;         // Issue times at which a forecast was made.
  size_t failed_issues = 0;  // Issue times at which the forecaster failed.
  TimePoint first_issue;
  TimePoint last_issue;
  std::vector<LeadBlockScore> blocks;
  std::vector<FlexibleStartScore> flexible;  // Job-major, slack-minor.
};

// The forecast at `now` for `horizon`.
using ForecastFunction =
    std::function<Result<IntensitySeries>(TimePoint now, Duration horizon)>;

// Replays `forecast` over `actual` at issue times every options.issue_every
// from begin + warmup (on the step grid) while issue + horizon <= end.
// kInvalidArgument when the series is too short for one issue or an option
// is not positive/does not divide into steps. Forecasts that fail count in
// failed_issues and are skipped.
Result<BacktestScore> run_backtest(const IntensitySeries& actual,
                                   const std::string& forecaster,
                                   const ForecastFunction& forecast,
                                   const BacktestOptions& options = {});

}  // namespace lowcarb::forecast
