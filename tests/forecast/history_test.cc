// SPDX-License-Identifier: Apache-2.0
#include <cmath>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/history_forecaster.h"
#include "forecast/history_store.h"
#include "forecast/intensity_file.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;

const TimePoint kStart = *parse_time("2026-01-01T00:00:00Z");

// Hourly observations for `days` days from kStart, value(hour index).
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

double pattern(int hour_index) { return 100 + 10 * (hour_index % 24); }

std::unique_ptr<Database> memory_db() { return *Database::open(":memory:"); }

TEST(HistoryStoreTest, UpsertsByZoneKindAndStart) {
  auto db = memory_db();
  auto store = HistoryStore::open(*db);
  ASSERT_OK(store);
  auto first = hourly("DE", 1, [](int) { return 100.0; });
  auto second = hourly("DE", 1, [](int h) { return h < 12 ? 200.0 : 300.0; });
  auto lifecycle = first;
  lifecycle.kind.scope = Scope::kLifecycle;

  ASSERT_OK((*store)->append(first));
  ASSERT_OK((*store)->append(second));
  ASSERT_OK((*store)->append(lifecycle));
  auto range = (*store)->range("DE", first.kind, kStart, kStart + hours(24));

  ASSERT_OK(range);
  ASSERT_EQ(24u, range->points.size());
  EXPECT_EQ(200, range->points[0].gco2_per_kwh);
  EXPECT_EQ(300, range->points[23].gco2_per_kwh);
  EXPECT_EQ("history", range->provider);
  auto kinds = (*store)->kinds("DE");
  ASSERT_OK(kinds);
  EXPECT_EQ(2u, kinds->size());
  EXPECT_EQ(std::vector<std::string>{"DE"}, *(*store)->zones());
}

TEST(HistoryStoreTest, RangeReturnsPointsOverlappingTheInterval) {
  auto db = memory_db();
  auto store = *HistoryStore::open(*db);
  auto series = hourly("GB", 1, [](int h) { return double(h); });
  series.points[5].gco2_per_kwh.reset();
  ASSERT_OK(store->append(series));

  auto range = store->range("GB", series.kind, kStart + minutes(270),
                            kStart + minutes(420));

  ASSERT_OK(range);
  ASSERT_EQ(3u, range->points.size());  // 04:00, 05:00 (null), 06:00.
  EXPECT_EQ(kStart + hours(4), range->points[0].start);
  EXPECT_EQ(std::nullopt, range->points[1].gco2_per_kwh);
  EXPECT_EQ(6, range->points[2].gco2_per_kwh);
}

TEST(HistoryStoreTest, LongPointsAreStoredAsDayLongPieces) {
  auto db = memory_db();
  auto store = *HistoryStore::open(*db);
  IntensitySeries week;
  week.zone = "FR";
  week.points.push_back({kStart, kStart + hours(24 * 7), 50.0});

  auto written = store->append(week);
  auto range = store->range("FR", week.kind, kStart + hours(24 * 6 + 1),
                            kStart + hours(24 * 6 + 2));

  ASSERT_OK(written);
  EXPECT_EQ(7u, *written);
  ASSERT_OK(range);
  ASSERT_EQ(1u, range->points.size());
  EXPECT_EQ(50, range->points[0].gco2_per_kwh);
}

TEST(HistoryForecasterTest, LessThanADayOfHistoryIsNotFound) {
  auto forecaster = HistoryForecaster::from_series({hourly("DE", 1, pattern)});

  auto early = forecaster->forecast("DE", kStart + hours(23), hours(24));
  auto unknown = forecaster->forecast("FR", kStart + hours(30), hours(24));

  ASSERT_FALSE(early);
  EXPECT_EQ(ErrorCode::kNotFound, early.error().code);
  EXPECT_THAT(early.error().message, HasSubstr("23h of observations"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(ErrorCode::kNotFound, unknown.error().code);
  EXPECT_OK(forecaster->forecast("DE", kStart + hours(24), hours(24)));
}

TEST(HistoryForecasterTest, RepeatsTheDailyPatternBlendedWithTheLastValue) {
  auto forecaster = HistoryForecaster::from_series({hourly("DE", 7, pattern)});
  const TimePoint now = kStart + hours(7 * 24);

  auto series = forecaster->forecast("DE", now, hours(48));

  ASSERT_OK(series);
  EXPECT_EQ("history", series->provider);
  EXPECT_EQ(Horizon::kForecast, series->kind.horizon);
  EXPECT_EQ(now, series->generated_at);
  ASSERT_EQ(48u, series->points.size());
  const double last = pattern(7 * 24 - 1);  // 330 at 23:00.
  for (int k = 0; k < 48; ++k) {
    const double a = std::exp(-k / 3.0);
    const double expected = a * last + (1 - a) * pattern(k);
    EXPECT_NEAR(expected, *series->points[k].gco2_per_kwh, 1e-9) << k;
    EXPECT_EQ(now + hours(k), series->points[k].start);
  }
}

TEST(HistoryForecasterTest, RecentDaysWeighMore) {
  HistoryForecastOptions options;
  options.max_days = 2;
  options.day_decay = 0.5;
  options.blend_time_constant = Duration{0};
  // Day 0 at 200, day 1 at 100: the forecast for day 2 is
  // (1 x 100 + 0.5 x 200) / 1.5.
  auto forecaster = HistoryForecaster::from_series(
      {hourly("DE", 2, [](int h) { return h < 24 ? 200.0 : 100.0; })}, options);

  auto series = forecaster->forecast("DE", kStart + hours(48), hours(24));

  ASSERT_OK(series);
  for (const auto& point : series->points) {
    EXPECT_NEAR(400.0 / 3.0, *point.gco2_per_kwh, 1e-9);
  }
}

TEST(HistoryForecasterTest, StepContainingNowIsForecastNotRead) {
  // The 10:00-11:00 observation is not over at 10:30: it must not be used.
  auto observed = hourly("DE", 2, pattern);
  observed.points.push_back({kStart + hours(48), kStart + hours(49), 9999.0});
  auto forecaster = HistoryForecaster::from_series({observed});

  auto series =
      forecaster->forecast("DE", kStart + hours(48) + minutes(30), hours(3));

  ASSERT_OK(series);
  EXPECT_EQ(kStart + hours(48), series->begin_time());
  for (const auto& point : series->points) {
    EXPECT_LT(*point.gco2_per_kwh, 1000);
  }
}

TEST(HistoryForecasterTest, FarHorizonUsesTheMostRecentDaysAvailable) {
  auto forecaster = HistoryForecaster::from_series({hourly("DE", 1, pattern)});

  auto series = forecaster->forecast("DE", kStart + hours(24), hours(72));

  ASSERT_OK(series);
  ASSERT_EQ(72u, series->points.size());
  EXPECT_NEAR(pattern(5), *series->points[24 + 24 + 5].gco2_per_kwh, 1e-3);
}

// The property the simulator relies on: values of intervals that end after
// `now` (changed or removed) do not change the forecast.
TEST(HistoryForecasterTest, NeverReadsValuesAtOrAfterNow) {
  std::mt19937 rng(20261123);
  std::uniform_real_distribution<double> value(20, 600);
  std::uniform_int_distribution<int> step_choice(0, 3);
  const Duration steps[] = {minutes(5), minutes(15), minutes(30), hours(1)};

  for (int trial = 0; trial < 40; ++trial) {
    IntensitySeries observed;
    observed.zone = "DE";
    const Duration step = steps[step_choice(rng)];
    const Duration offset = minutes(5 * (trial % 7));
    TimePoint t = kStart + offset;
    while (t < kStart + hours(24 * 10)) {
      const bool hole = std::uniform_int_distribution<int>(0, 30)(rng) == 0;
      if (!hole) {
        std::optional<double> v = value(rng);
        if (std::uniform_int_distribution<int>(0, 20)(rng) == 0) {
          v.reset();
        }
        observed.points.push_back({t, t + step, v});
      }
      t += step;
    }
    const TimePoint now =
        kStart + hours(24 * 3) +
        Duration{std::uniform_int_distribution<int>(0, 6 * 24 * 3600)(rng)};
    IntensitySeries truncated = observed;
    std::erase_if(truncated.points,
                  [&](const IntensityPoint& p) { return p.end > now; });
    IntensitySeries scrambled = observed;
    for (auto& point : scrambled.points) {
      if (point.end > now) {
        point.gco2_per_kwh = value(rng);
      }
    }

    auto full = HistoryForecaster::from_series({observed})
                    ->forecast("DE", now, hours(48));
    auto cut = HistoryForecaster::from_series({truncated})
                   ->forecast("DE", now, hours(48));
    auto changed = HistoryForecaster::from_series({scrambled})
                       ->forecast("DE", now, hours(48));

    ASSERT_OK(full);
    ASSERT_OK(cut);
    ASSERT_OK(changed);
    ASSERT_EQ(full->points, changed->points) << "trial " << trial;
    if (offset == Duration{0}) {
      // Points aligned with the model's hours: removing the future is the
      // same as not reading it. (Misaligned, a point that straddles an hour
      // boundary and ends after `now` hides that whole hour.)
      ASSERT_EQ(full->points, cut->points) << "trial " << trial;
    }
  }
}

TEST(HistoryForecasterTest, StoreBackedForecastMatchesTheInMemoryOne) {
  auto db = memory_db();
  auto store = *HistoryStore::open(*db);
  auto observed = hourly("DE", 10, [](int h) { return 50.0 + (h * 37) % 200; });
  ASSERT_OK(store->append(observed));
  HistoryForecaster from_store(
      *store, {Basis::kAverage, Scope::kDirect, Horizon::kObserved});
  auto in_memory = HistoryForecaster::from_series({observed});
  const TimePoint now = kStart + hours(24 * 8) + minutes(20);

  auto a = from_store.forecast("DE", now, hours(48));
  auto b = in_memory->forecast("DE", now, hours(48));

  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->points, b->points);
  EXPECT_EQ(49u, a->points.size());  // 00:00 (containing now) to 00:00.
}

TEST(HistoryForecasterTest, StoreBackedForecasterFallsBackToAnotherKind) {
  auto db = memory_db();
  auto store = *HistoryStore::open(*db);
  auto observed = hourly("CAISO", 3, pattern);
  observed.kind.basis = Basis::kMarginal;
  ASSERT_OK(store->append(observed));
  HistoryForecaster forecaster(
      *store, {Basis::kAverage, Scope::kDirect, Horizon::kObserved});

  auto series = forecaster.forecast("CAISO", kStart + hours(72), hours(24));
  auto none = forecaster.forecast("DE", kStart + hours(72), hours(24));

  ASSERT_OK(series);
  EXPECT_EQ(Basis::kMarginal, series->kind.basis);
  ASSERT_FALSE(none);
  EXPECT_EQ(ErrorCode::kNotFound, none.error().code);
  EXPECT_THAT(none.error().message, HasSubstr("lowcarb forecast import"));
}

TEST(HistoryForecasterTest, ForecastsARealYearAtEveryHour) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto loaded = load_intensity_file(lowcarb::testing::shared_data(
      "intensity/electricitymaps/GB_2022_hourly.csv"));
  ASSERT_OK(loaded);
  auto forecaster = HistoryForecaster::from_series(*loaded);
  const TimePoint begin = (*loaded)[0].begin_time() + hours(24 * 8);

  // A simulator-sized workload: a 48 h forecast at each hour of a month.
  double error_sum = 0;
  int compared = 0;
  for (int h = 0; h < 24 * 30; ++h) {
    const TimePoint now = begin + hours(h);
    auto series = forecaster->forecast("GB", now, hours(48));
    ASSERT_OK(series);
    ASSERT_EQ(48u, series->points.size());
    // The first point against what happened.
    const auto& actual = (*loaded)[0].points[static_cast<size_t>(
        (now - (*loaded)[0].begin_time()) / hours(1))];
    error_sum +=
        std::abs(*series->points[0].gco2_per_kwh - *actual.gco2_per_kwh);
    ++compared;
  }
  // Persistence-dominated first hour: a few percent of GB's ~200 g mean.
  EXPECT_LT(error_sum / compared, 30.0);
}

}  // namespace
}  // namespace lowcarb::forecast
