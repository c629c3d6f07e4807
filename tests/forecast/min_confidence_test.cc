// SPDX-License-Identifier: Apache-2.0
// planner.min_confidence: a zone whose measured forecast error could explain
// the predicted saving does not defer (scheduler/optimizer.h
// PlanRequest::min_confidence), and the option's configuration.
#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "config/load_config.h"
#include "forecast/forecast_archive.h"
#include "forecast/history_store.h"
#include "scheduler/optimizer.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = *parse_time("2026-01-05T00:00:00Z");

// Hourly values from kStart.
forecast::IntensitySeries hourly(const std::vector<double>& values) {
  forecast::IntensitySeries series;
  series.zone = "A";
  series.provider = "test";
  series.kind = {forecast::Basis::kAverage, forecast::Scope::kDirect,
                 forecast::Horizon::kForecast};
  series.generated_at = kStart;
  for (size_t h = 0; h < values.size(); ++h) {
    const TimePoint t = kStart + std::chrono::hours(h);
    series.points.push_back({t, t + 1h, values[h]});
  }
  return series;
}

// 48 h at 200 g/kWh, except hour `cheap` at 200 - `saving`.
std::vector<double> flat_with_dip(int cheap, double saving) {
  std::vector<double> values(48, 200.0);
  values[static_cast<size_t>(cheap)] = 200.0 - saving;
  return values;
}

Result<Plan> plan(const forecast::IntensitySeries& series,
                  std::vector<double> mae, double z) {
  PlanRequest request;
  request.now = kStart;
  request.earliest = kStart;
  request.deadline = kStart + 48h;
  request.duration = 1h;
  request.min_confidence = z;
  ZoneOption zone;
  zone.zone = "A";
  zone.series = &series;
  zone.forecast_mae = std::move(mae);
  return plan_job(request, {zone});
}

TEST(MinConfidenceTest, OffByDefaultTheDipIsTaken) {
  const auto series = hourly(flat_with_dip(5, 30));
  auto planned = plan(series, {100.0}, PlanRequest{}.min_confidence);
  ASSERT_OK(planned);
  EXPECT_EQ(kStart + 5h, planned->start());
  EXPECT_EQ("best-window", planned->reason);
}

TEST(MinConfidenceTest, SavingWithinTheErrorRunsNow) {
  const auto series = hourly(flat_with_dip(5, 30));
  auto planned = plan(series, {40.0}, 1.0);  // 30 <= 1 x 40.
  ASSERT_OK(planned);
  EXPECT_EQ(kStart, planned->start());
  EXPECT_EQ("low-confidence", planned->reason);
  ASSERT_FALSE(planned->warnings.empty());
  EXPECT_NE(std::string::npos, planned->warnings.back().find("30.0"));
}

TEST(MinConfidenceTest, SavingAboveTheErrorDefers) {
  const auto series = hourly(flat_with_dip(5, 30));
  auto planned = plan(series, {20.0}, 1.0);  // 30 > 1 x 20.
  ASSERT_OK(planned);
  EXPECT_EQ(kStart + 5h, planned->start());
  EXPECT_EQ("best-window", planned->reason);
  // z scales the bar: 30 <= 2 x 20.
  auto stricter = plan(series, {20.0}, 2.0);
  ASSERT_OK(stricter);
  EXPECT_EQ("low-confidence", stricter->reason);
}

TEST(MinConfidenceTest, UnmeasuredZoneIsNotAffected) {
  const auto series = hourly(flat_with_dip(5, 30));
  auto planned = plan(series, {}, 3.0);
  ASSERT_OK(planned);
  EXPECT_EQ(kStart + 5h, planned->start());
}

TEST(MinConfidenceTest, ErrorAtTheJobsLeadDayCounts) {
  // Day 1 well forecast (MAE 10), day 2 badly (MAE 50): the same 30 g/kWh
  // dip is taken at hour 5 and not at hour 30.
  const std::vector<double> mae{10.0, 50.0};
  const auto early = hourly(flat_with_dip(5, 30));
  const auto late = hourly(flat_with_dip(30, 30));

  auto a = plan(early, mae, 1.0);
  auto b = plan(late, mae, 1.0);

  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(kStart + 5h, a->start());
  EXPECT_EQ("low-confidence", b->reason);
  EXPECT_EQ(kStart, b->start());
}

TEST(MinConfidenceTest, ConfigKeyParsesAndRejectsNegative) {
  auto config =
      config::parse_config("planner:\n  min_confidence: 1.5\n", "test.yaml");
  ASSERT_OK(config);
  EXPECT_EQ(1.5, config->planner.min_confidence);
  EXPECT_EQ(0.0, config::default_config().planner.min_confidence);
  auto bad =
      config::parse_config("planner:\n  min_confidence: -1\n", "test.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(std::string::npos, bad.error().message.find("min_confidence"));
}

TEST(MinConfidenceTest, ArchiveGivesTheMostScoredProvidersMaePerDay) {
  lowcarb::testing::ScopedTempDir dir;
  auto db = *Database::open(dir.file("state.db"));
  auto archive = *forecast::ForecastArchive::open(*db);
  auto history = *forecast::HistoryStore::open(*db);
  forecast::IntensitySeries observed = hourly(std::vector<double>(48, 100.0));
  observed.kind.horizon = forecast::Horizon::kObserved;
  ASSERT_OK(history->append(observed));
  // "a": +10 on day 1, -30 on day 2 (48 points); "b": 24 points only.
  std::vector<double> a_values(48);
  for (size_t h = 0; h < 48; ++h) {
    a_values[h] = h < 24 ? 110.0 : 70.0;
  }
  auto a = hourly(a_values);
  a.provider = "a";
  auto b = hourly(std::vector<double>(24, 500.0));
  b.provider = "b";
  ASSERT_OK(archive->record(a));
  ASSERT_OK(archive->record(b));

  auto mae = archive->mae_by_lead_day("A");

  ASSERT_OK(mae);
  ASSERT_EQ(2u, mae->size());
  EXPECT_DOUBLE_EQ(10.0, (*mae)[0]);
  EXPECT_DOUBLE_EQ(30.0, (*mae)[1]);
}

}  // namespace
}  // namespace lowcarb::scheduler
