// SPDX-License-Identifier: Apache-2.0
// Stored provider forecasts scored against stored observations, on a real
// SQLite file.
#include "forecast/forecast_archive.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/history_store.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;

const TimePoint kIssued = *parse_time("2026-03-01T00:00:00Z");

// Hourly points from `from` for `count` hours with value f(hour index).
template <typename F>
IntensitySeries series(const std::string& provider, TimePoint from, int count,
                       Horizon horizon, F f) {
  IntensitySeries result;
  result.zone = "DE";
  result.provider = provider;
  result.kind = {Basis::kAverage, Scope::kDirect, horizon};
  result.generated_at = kIssued;
  for (int h = 0; h < count; ++h) {
    result.points.push_back({from + hours(h), from + hours(h + 1), f(h)});
  }
  return result;
}

TEST(ForecastArchiveTest, ScoresPerProviderAndLeadDay) {
  lowcarb::testing::ScopedTempDir dir;
  auto db = *Database::open(dir.file("state.db"));
  auto archive = ForecastArchive::open(*db);
  ASSERT_OK(archive);
  auto history = *HistoryStore::open(*db);
  // Observations: 100 for the first day, 200 for the second.
  ASSERT_OK(
      history->append(series("obs", kIssued, 48, Horizon::kObserved,
                             [](int h) { return h < 24 ? 100.0 : 200.0; })));
  // Provider A: +10 on day 1, -50 on day 2. Provider B: exact on day 1 only
  // (its day 2 has no observation yet: hours 48-71).
  auto a = series("electricitymaps", kIssued, 48, Horizon::kForecast,
                  [](int h) { return h < 24 ? 110.0 : 150.0; });
  auto b = series("watttime", kIssued, 24, Horizon::kForecast,
                  [](int) { return 100.0; });
  auto b_late = series("watttime", kIssued + hours(48), 24, Horizon::kForecast,
                       [](int) { return 300.0; });
  b.points.insert(b.points.end(), b_late.points.begin(), b_late.points.end());

  auto written = (*archive)->record(a);
  ASSERT_OK(written);
  EXPECT_EQ(48u, *written);
  EXPECT_EQ(0u, *(*archive)->record(a));  // The same forecast again: kept once.
  ASSERT_OK((*archive)->record(b));
  auto stale = a;
  stale.provider = "stale";
  stale.stale = true;
  EXPECT_EQ(0u, *(*archive)->record(stale));

  auto rows = (*archive)->accuracy("DE");

  ASSERT_OK(rows);
  ASSERT_EQ(3u, rows->size());
  EXPECT_EQ("electricitymaps", (*rows)[0].provider);
  EXPECT_EQ(1, (*rows)[0].day);
  EXPECT_EQ(24u, (*rows)[0].points);
  EXPECT_NEAR(0.10, (*rows)[0].mape, 1e-12);
  EXPECT_NEAR(0.10, (*rows)[0].wape, 1e-12);
  EXPECT_EQ(2, (*rows)[1].day);
  EXPECT_NEAR(0.25, (*rows)[1].wape, 1e-12);
  EXPECT_EQ("watttime", (*rows)[2].provider);
  EXPECT_EQ(1, (*rows)[2].day);
  EXPECT_DOUBLE_EQ(0, (*rows)[2].wape);
  EXPECT_EQ(std::vector<std::string>{"DE"}, *(*archive)->zones());
  EXPECT_TRUE((*archive)->accuracy("FR")->empty());
}

}  // namespace
}  // namespace lowcarb::forecast
