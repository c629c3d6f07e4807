// SPDX-License-Identifier: Apache-2.0
// The backtest's metrics on synthetic series whose answers are known by
// hand: a perfect, a flat and an inverted forecast.
#include "forecast/backtest.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;

const TimePoint kStart = *parse_time("2026-01-01T00:00:00Z");

// 200 gCO2eq/kWh for hours 0-11 of each day, 100 for hours 12-23.
double square(TimePoint t) {
  const auto hour = ((t - kStart) / hours(1)) % 24;
  return hour < 12 ? 200.0 : 100.0;
}

IntensitySeries observed(int days) {
  IntensitySeries series;
  series.zone = "XX";
  series.kind = {Basis::kAverage, Scope::kDirect, Horizon::kObserved};
  for (int h = 0; h < days * 24; ++h) {
    const TimePoint t = kStart + hours(h);
    series.points.push_back({t, t + hours(1), square(t)});
  }
  return series;
}

// A forecast function whose value at each hour is f(actual value).
template <typename F>
ForecastFunction from_truth(F f) {
  return [f](TimePoint now, Duration horizon) -> Result<IntensitySeries> {
    IntensitySeries series;
    series.zone = "XX";
    for (TimePoint t = now; t < now + horizon; t += hours(1)) {
      series.points.push_back({t, t + hours(1), f(square(t))});
    }
    return series;
  };
}

BacktestOptions small_options() {
  BacktestOptions options;
  options.warmup = hours(24);
  options.job_lengths = {hours(1), hours(3)};
  options.slacks = {hours(12), hours(24)};
  return options;
}

TEST(BacktestTest, PerfectForecastHasNoErrorAndCapturesEverything) {
  auto score =
      run_backtest(observed(10), "perfect",
                   from_truth([](double a) { return a; }), small_options());

  ASSERT_OK(score);
  // Issues from day 1 while issue + 96 h <= 10 days: 24 * (10 - 1 - 4) + 1.
  EXPECT_EQ(121u, score->issues);
  EXPECT_EQ(kStart + hours(24), score->first_issue);
  EXPECT_EQ(kStart + hours(24 * 6), score->last_issue);
  ASSERT_EQ(4u, score->blocks.size());
  for (const auto& block : score->blocks) {
    EXPECT_EQ(121u * 24, block.points);
    EXPECT_DOUBLE_EQ(0, block.mape);
    EXPECT_DOUBLE_EQ(0, block.wape);
  }
  ASSERT_EQ(4u, score->flexible.size());
  for (const auto& flex : score->flexible) {
    EXPECT_GT(flex.oracle_savings, 0);
    EXPECT_DOUBLE_EQ(1.0, flex.captured);
  }
}

TEST(BacktestTest, FlatForecastCapturesNothingAndHasKnownErrors) {
  auto score =
      run_backtest(observed(10), "flat",
                   from_truth([](double) { return 150.0; }), small_options());

  ASSERT_OK(score);
  for (const auto& block : score->blocks) {
    // |error| is 50 everywhere; each day holds 12 hours of 200 and 12 of
    // 100: MAPE = (0.25 + 0.5) / 2, WAPE = 50 / 150.
    EXPECT_NEAR(0.375, block.mape, 1e-12);
    EXPECT_NEAR(1.0 / 3.0, block.wape, 1e-12);
  }
  for (const auto& flex : score->flexible) {
    // Ties go to the earliest start: the job starts at once.
    EXPECT_DOUBLE_EQ(0, flex.savings);
    EXPECT_DOUBLE_EQ(0, flex.captured);
  }
}

TEST(BacktestTest, InvertedForecastLosesWhatTheOracleGains) {
  auto score = run_backtest(observed(10), "inverted",
                            from_truth([](double a) { return 300.0 - a; }),
                            small_options());

  ASSERT_OK(score);
  // 1 h jobs: every 13-hour start range holds a 100 and a 200 hour. Starting
  // at a 200 hour the oracle saves 100 and the inverted forecast 0; at a 100
  // hour the oracle saves 0 and the inverted forecast loses 100.
  const auto& one_hour_12h_slack = score->flexible[0];
  EXPECT_EQ(hours(1), one_hour_12h_slack.job);
  EXPECT_EQ(hours(12), one_hour_12h_slack.slack);
  EXPECT_EQ(121u, one_hour_12h_slack.decisions);
  EXPECT_NEAR(-1.0, one_hour_12h_slack.captured, 0.02);
  for (const auto& block : score->blocks) {
    EXPECT_NEAR(100.0 / 150.0, block.wape, 1e-12);
  }
}

TEST(BacktestTest, FailedForecastsAreCountedAndSkipped) {
  auto perfect = from_truth([](double a) { return a; });
  int calls = 0;
  auto flaky = [&](TimePoint now, Duration horizon) -> Result<IntensitySeries> {
    if (calls++ % 2 == 1) {
      return make_error(ErrorCode::kUnavailable, "down");
    }
    return perfect(now, horizon);
  };

  auto score = run_backtest(observed(10), "flaky", flaky, small_options());

  ASSERT_OK(score);
  EXPECT_EQ(61u, score->issues);
  EXPECT_EQ(60u, score->failed_issues);
  EXPECT_DOUBLE_EQ(1.0, score->flexible[0].captured);
}

TEST(BacktestTest, TooShortASeriesIsAnErrorNamingTheZone) {
  auto score =
      run_backtest(observed(3), "perfect",
                   from_truth([](double a) { return a; }), small_options());

  ASSERT_FALSE(score);
  EXPECT_EQ(ErrorCode::kInvalidArgument, score.error().code);
  EXPECT_THAT(score.error().message, HasSubstr("XX"));
  EXPECT_THAT(score.error().message, HasSubstr("too short"));
}

TEST(BacktestTest, JobLengthsMustBeWholeSteps) {
  auto options = small_options();
  options.job_lengths = {std::chrono::minutes(90)};

  auto score = run_backtest(observed(10), "perfect",
                            from_truth([](double a) { return a; }), options);

  ASSERT_FALSE(score);
  EXPECT_THAT(score.error().message, HasSubstr("1h30m"));
}

}  // namespace
}  // namespace lowcarb::forecast
