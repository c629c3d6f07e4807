// SPDX-License-Identifier: Apache-2.0
// The ensemble history forecaster: it never reads a value after `now`, it
// recovers a daily + weekly pattern exactly, its fitted deviation term
// helps on an autocorrelated series, and the store-backed and in-memory
// forecasters agree.
#include "forecast/ensemble_forecaster.h"

#include <cmath>
#include <numbers>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/backtest.h"
#include "forecast/history_forecaster.h"
#include "forecast/history_store.h"
#include "forecast/intensity_file.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

// A Thursday.
const TimePoint kStart = *parse_time("2026-01-01T00:00:00Z");

template <typename F>
IntensitySeries hourly(const std::string& zone, int days, F value) {
  IntensitySeries series;
  series.zone = zone;
  series.kind = {Basis::kAverage, Scope::kDirect, Horizon::kObserved};
  for (int h = 0; h < days * 24; ++h) {
    series.points.push_back(
        {kStart + hours(h), kStart + hours(h + 1), value(h)});
  }
  return series;
}

// A daily sine plus lower weekends (days 2 and 3 of each week from kStart).
double daily_weekly(int h) {
  const int hour = h % 24;
  const int day_of_week = (h / 24) % 7;
  const double weekend = (day_of_week == 2 || day_of_week == 3) ? -80 : 0;
  return 300 + 60 * std::sin(2 * std::numbers::pi * hour / 24.0) + weekend;
}

TEST(EnsembleForecasterTest, LessThanADayOfHistoryIsNotFound) {
  auto forecaster =
      EnsembleForecaster::from_series({hourly("DE", 1, daily_weekly)});

  auto early = forecaster->forecast("DE", kStart + hours(23), hours(24));
  auto unknown = forecaster->forecast("FR", kStart + hours(23), hours(24));

  ASSERT_FALSE(early);
  EXPECT_EQ(ErrorCode::kNotFound, early.error().code);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(ErrorCode::kNotFound, unknown.error().code);
}

TEST(EnsembleForecasterTest, RecoversADailyAndWeeklyPattern) {
  const auto observed = hourly("DE", 70, daily_weekly);
  EnsembleOptions options;
  options.weekly_weight = 1;  // The full weekly correction.
  auto ensemble = EnsembleForecaster::from_series({observed}, options);
  auto naive = HistoryForecaster::from_series({observed});
  // Day 63 is day 0 of a week: the 96 h ahead cross a weekend.
  const TimePoint now = kStart + hours(24 * 63 + 5);

  auto forecast = ensemble->forecast("DE", now, hours(96));
  auto baseline = naive->forecast("DE", now, hours(96));

  ASSERT_OK(forecast);
  ASSERT_OK(baseline);
  ASSERT_EQ(96u, forecast->points.size());
  double naive_worst = 0;
  for (size_t i = 0; i < forecast->points.size(); ++i) {
    const int h =
        static_cast<int>((forecast->points[i].start - kStart) / hours(1));
    ASSERT_TRUE(forecast->points[i].gco2_per_kwh);
    EXPECT_NEAR(daily_weekly(h), *forecast->points[i].gco2_per_kwh, 1e-6)
        << "hour " << h;
    naive_worst =
        std::max(naive_worst,
                 std::abs(daily_weekly(h) - *baseline->points[i].gco2_per_kwh));
  }
  // The pattern is not trivial: seasonal naive misses the weekend.
  EXPECT_GT(naive_worst, 20);
}

// Values of intervals that end after `now` (changed or removed) do not
// change the forecast, at any grid, with holes and nulls, far enough into
// the series for every part (weekly term, fitted correction) to be active.
TEST(EnsembleForecasterTest, NeverReadsValuesAfterNow) {
  // The default model and the one with every fitted feature and the
  // held-out guard (more features read more of the past).
  EnsembleOptions all_features;
  all_features.features = 4;
  all_features.holdout_days = 14;
  all_features.fit_days = 28;
  for (const auto& options : {EnsembleOptions{}, all_features}) {
    std::mt19937 rng(20261202);
    std::uniform_real_distribution<double> noise(-40, 40);
    std::uniform_int_distribution<int> step_choice(0, 3);
    const Duration steps[] = {minutes(5), minutes(15), minutes(30), hours(1)};

    for (int trial = 0; trial < 12; ++trial) {
      IntensitySeries observed;
      observed.zone = "DE";
      const Duration step = steps[step_choice(rng)];
      const Duration offset = minutes(5 * (trial % 7));
      TimePoint t = kStart + offset;
      double deviation = 0;
      while (t < kStart + hours(24 * 60)) {
        deviation = 0.9 * deviation + noise(rng);
        const bool hole = std::uniform_int_distribution<int>(0, 30)(rng) == 0;
        if (!hole) {
          std::optional<double> v =
              daily_weekly(static_cast<int>((t - kStart) / hours(1))) +
              deviation;
          if (std::uniform_int_distribution<int>(0, 20)(rng) == 0) {
            v.reset();
          }
          observed.points.push_back({t, t + step, v});
        }
        t += step;
      }
      const TimePoint now =
          kStart + hours(24 * 45) +
          Duration{std::uniform_int_distribution<int>(0, 10 * 24 * 3600)(rng)};
      IntensitySeries truncated = observed;
      std::erase_if(truncated.points,
                    [&](const IntensityPoint& p) { return p.end > now; });
      IntensitySeries poisoned = observed;
      for (auto& point : poisoned.points) {
        if (point.end > now) {
          point.gco2_per_kwh = 1e6 + noise(rng);
        }
      }

      auto full = EnsembleForecaster::from_series({observed}, options)
                      ->forecast("DE", now, hours(96));
      auto cut = EnsembleForecaster::from_series({truncated}, options)
                     ->forecast("DE", now, hours(96));
      auto changed = EnsembleForecaster::from_series({poisoned}, options)
                         ->forecast("DE", now, hours(96));

      ASSERT_OK(full);
      ASSERT_OK(cut);
      ASSERT_OK(changed);
      ASSERT_EQ(full->points, changed->points) << "trial " << trial;
      if (offset == Duration{0}) {
        ASSERT_EQ(full->points, cut->points) << "trial " << trial;
      }
    }
  }
}

// On a daily pattern plus an AR(1) deviation, the fitted per-lead term
// predicts the first day better than the profile alone, and the
// benefit fades with lead time.
TEST(EnsembleForecasterTest, FittedDeviationTermHelpsAtShortLeads) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 15);
  std::vector<double> deviation(24 * 120);
  double d = 0;
  for (auto& value : deviation) {
    d = 0.95 * d + noise(rng);
    value = d;
  }
  const auto observed = hourly("GB", 120, [&](int h) {
    return 250 + 50 * std::sin(2 * std::numbers::pi * (h % 24) / 24.0) +
           deviation[static_cast<size_t>(h)];
  });
  EnsembleOptions without_fit;
  without_fit.fit_days = 0;
  auto fitted = EnsembleForecaster::from_series({observed});
  auto profile_only = EnsembleForecaster::from_series({observed}, without_fit);
  BacktestOptions options;
  options.warmup = hours(24 * 40);

  auto a = run_backtest(
      observed, "fitted",
      [&](TimePoint now, Duration horizon) {
        return fitted->forecast("GB", now, horizon);
      },
      options);
  auto b = run_backtest(
      observed, "profile",
      [&](TimePoint now, Duration horizon) {
        return profile_only->forecast("GB", now, horizon);
      },
      options);

  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_LT(a->blocks[0].wape, 0.9 * b->blocks[0].wape);
  EXPECT_LE(a->blocks[3].wape, 1.02 * b->blocks[3].wape);
  // Ranking improves too: more of the oracle's savings for 3 h jobs.
  EXPECT_GT(a->flexible[2].captured, b->flexible[2].captured);
}

// The blend weight per lead day follows the component whose past
// percentage errors were lower: seasonal naive when the daily shape flips
// every four weeks (its 7-day memory catches up two weeks before the
// 21-day profile does), the ensemble on a fixed shape plus noise (its
// longer profile averages more of the noise out). With the default margin
// the small advantage on the noisy series only moves the weight halfway
// from equal weights. Days 1-2 are never blended.
TEST(EnsembleForecasterTest, BlendWeightFollowsTheMoreAccurateComponent) {
  const auto flipping = hourly("GB", 180, [](int h) {
    const double sign = (h / 24 / 28) % 2 == 0 ? 1.0 : -1.0;
    return 300 + sign * 100 * std::sin(2 * std::numbers::pi * (h % 24) / 24.0);
  });
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 40);
  const auto noisy = hourly("GB", 180, [&](int h) {
    return 300 + 100 * std::sin(2 * std::numbers::pi * (h % 24) / 24.0) +
           noise(rng);
  });
  EnsembleOptions pure_fit;
  pure_fit.blend_margin = 0;
  const TimePoint now = kStart + hours(24 * 170);

  const EnsembleModel flipping_model(flipping, pure_fit);
  const EnsembleModel noisy_model(noisy, pure_fit);
  const EnsembleModel noisy_default(noisy, EnsembleOptions{});
  EnsembleOptions no_blend;
  no_blend.blend_days = 0;
  const EnsembleModel unblended(flipping, no_blend);

  for (int day = 3; day <= 4; ++day) {
    EXPECT_LE(flipping_model.blend_weight(now, day), 0.2) << "day " << day;
    EXPECT_GE(noisy_model.blend_weight(now, day), 0.8) << "day " << day;
    EXPECT_GT(noisy_default.blend_weight(now, day), 0.5) << "day " << day;
    EXPECT_LT(noisy_default.blend_weight(now, day),
              noisy_model.blend_weight(now, day))
        << "day " << day;
    EXPECT_EQ(1.0, unblended.blend_weight(now, day)) << "day " << day;
  }
  EXPECT_EQ(1.0, flipping_model.blend_weight(now, 1));
  EXPECT_EQ(1.0, flipping_model.blend_weight(now, 2));
}

TEST(EnsembleForecasterTest, StoreBackedForecastMatchesTheInMemoryOne) {
  auto db = *Database::open(":memory:");
  auto store = *HistoryStore::open(*db);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> noise(-30, 30);
  auto observed =
      hourly("DE", 120, [&](int h) { return daily_weekly(h) + noise(rng); });
  ASSERT_OK(store->append(observed));
  EnsembleForecaster from_store(
      *store, {Basis::kAverage, Scope::kDirect, Horizon::kObserved});
  const TimePoint now = kStart + hours(24 * 110) + minutes(20);
  std::erase_if(observed.points,
                [&](const IntensityPoint& p) { return p.end > now; });
  auto in_memory = EnsembleForecaster::from_series({observed});

  auto a = from_store.forecast("DE", now, hours(96));
  auto b = in_memory->forecast("DE", now, hours(96));

  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_EQ(a->points.size(), b->points.size());
  for (size_t i = 0; i < a->points.size(); ++i) {
    EXPECT_EQ(a->points[i].start, b->points[i].start);
    EXPECT_NEAR(*a->points[i].gco2_per_kwh, *b->points[i].gco2_per_kwh, 1e-6);
  }
  EXPECT_EQ(97u, a->points.size());  // The hour containing now, then 96.
}

// A real year: better than seasonal naive on every lead day's error and on the
// share of savings captured by 3 h jobs with 24 h slack (EVALUATION.md has all
// zones).
TEST(EnsembleForecasterTest, BeatsSeasonalNaiveOnARealYear) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto loaded = load_intensity_file(lowcarb::testing::shared_data(
      "intensity/electricitymaps/DE-LU_2022_hourly.csv"));
  ASSERT_OK(loaded);
  const auto& series = (*loaded)[0];
  auto naive = HistoryForecaster::from_series(*loaded);
  auto ensemble = EnsembleForecaster::from_series(*loaded);
  BacktestOptions options;
  options.issue_every = hours(5);

  auto a = run_backtest(
      series, "seasonal-naive",
      [&](TimePoint now, Duration horizon) {
        return naive->forecast(series.zone, now, horizon);
      },
      options);
  auto b = run_backtest(
      series, "ensemble",
      [&](TimePoint now, Duration horizon) {
        return ensemble->forecast(series.zone, now, horizon);
      },
      options);

  ASSERT_OK(a);
  ASSERT_OK(b);
  // Better at every lead day, days 3-4 included (issue 15's goal; the
  // 7-day profile of the first ensemble was worse there, and MAPE at days
  // 3-4 is what the blend with seasonal naive keeps below naive's).
  ASSERT_EQ(a->blocks.size(), b->blocks.size());
  for (size_t day = 0; day < a->blocks.size(); ++day) {
    EXPECT_LT(b->blocks[day].wape, a->blocks[day].wape) << "day " << day + 1;
    EXPECT_LT(b->blocks[day].mape, a->blocks[day].mape) << "day " << day + 1;
  }
  // Job 3 h, slack 24 h.
  ASSERT_EQ(hours(3), b->flexible[3].job);
  ASSERT_EQ(hours(24), b->flexible[3].slack);
  EXPECT_GT(b->flexible[3].captured, a->flexible[3].captured);
}

}  // namespace
}  // namespace lowcarb::forecast
