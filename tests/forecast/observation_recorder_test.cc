// SPDX-License-Identifier: Apache-2.0
// The daemon's own observations (forecast/observation_recorder.h) on a real
// SQLite file: a provider without history leaves its nowcasts, and a daemon
// that only fetched forecasts can score them (`forecast --accuracy`).
// tests/forecast_http has the provider-history path over loopback HTTP.
#include "forecast/observation_recorder.h"

#include <cmath>

#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/forecast_archive.h"
#include "forecast/history_store.h"
#include "tests/fakes/test_support.h"
#include "tests/forecast/scripted_provider.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kStart = *parse_time("2026-03-01T00:00:00Z");
const SignalKind kKind{Basis::kAverage, Scope::kDirect, Horizon::kObserved};

class ObservationRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = *Database::open(dir_.file("state.db"));
    store_ = *HistoryStore::open(*db_);
    archive_ = *ForecastArchive::open(*db_);
  }
  ObservationRecorder recorder(ForecastProvider& source) {
    return ObservationRecorder(*store_, source, [](const std::string& name) {
      return name == "remote";
    });
  }
  IntensitySeries stored(TimePoint from, TimePoint to) {
    return *store_->range("DE", kKind, from, to);
  }

  lowcarb::testing::ScopedTempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<ForecastArchive> archive_;
};

TEST_F(ObservationRecorderTest, WithoutProviderHistoryTheNowcastIsStored) {
  testing::ScriptedProvider remote("remote", 100);  // history(): kNotFound.
  remote.set_kind({Basis::kAverage, Scope::kDirect, Horizon::kForecast});
  auto observations = recorder(remote);

  const TimePoint first = kStart + minutes(20);
  auto recorded = observations.record("DE", first,
                                      *remote.forecast("DE", first, hours(24)));
  ASSERT_OK(recorded);
  EXPECT_EQ(ObservationSource::kForecastNowcast, recorded->source);
  EXPECT_EQ(1u, recorded->points);
  // A later fetch in the same interval replaces the nowcast.
  remote.set_value(120);
  const TimePoint second = kStart + minutes(40);
  ASSERT_OK(observations.record("DE", second,
                                *remote.forecast("DE", second, hours(24))));

  auto observed = stored(kStart, kStart + hours(24));
  ASSERT_EQ(1u, observed.points.size());
  EXPECT_EQ(kStart, observed.points[0].start);
  EXPECT_EQ(kStart + hours(1), observed.points[0].end);
  EXPECT_EQ(120.0, *observed.points[0].gco2_per_kwh);
}

TEST_F(ObservationRecorderTest, LocalAndStaleAnswersAreNotRecorded) {
  testing::ScriptedProvider local("history", 100);
  testing::ScriptedProvider remote("remote", 100);
  remote.set_stale(true);
  auto from_local = recorder(local);
  auto from_remote = recorder(remote);
  const TimePoint now = kStart + minutes(20);

  auto a = from_local.record("DE", now, *local.forecast("DE", now, hours(24)));
  auto b =
      from_remote.record("DE", now, *remote.forecast("DE", now, hours(24)));

  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(ObservationSource::kNone, a->source);
  EXPECT_EQ(ObservationSource::kNone, b->source);
  EXPECT_TRUE(stored(kStart - hours(24), kStart + hours(24)).points.empty());
}

// A daemon that fetched a forecast every hour and never imported anything:
// the archive scores its forecasts against its own nowcasts.
TEST_F(ObservationRecorderTest, ForecastsOnlyDaemonCanScoreItsForecasts) {
  testing::ScriptedProvider remote("remote");
  remote.set_kind({Basis::kAverage, Scope::kDirect, Horizon::kForecast});
  auto observations = recorder(remote);
  auto truth = [](int h) { return 200 + 80 * std::sin(h * 0.7); };
  const int fetches = 30;
  for (int h = 0; h < fetches; ++h) {
    const TimePoint now = kStart + hours(h) + minutes(5);
    remote.set_value(truth(h));  // A flat forecast at the current value.
    auto served = remote.forecast("DE", now, hours(24));
    ASSERT_OK(served);
    ASSERT_OK(archive_->record(*served));
    ASSERT_OK(observations.record("DE", now, *served));
  }

  auto rows = archive_->accuracy("DE");

  ASSERT_OK(rows);
  ASSERT_FALSE(rows->empty());
  const AccuracyRow& day1 = (*rows)[0];
  EXPECT_EQ("remote", day1.provider);
  EXPECT_EQ(1, day1.day);
  // Each forecast (issued at hour i + 5 min, value truth(i)) is scored on
  // the nowcasts of hours i .. min(i + 24, fetches - 1): the hour starting
  // 23 h 55 min after the issue is still day 1.
  size_t points = 0;
  double error = 0;
  double total = 0;
  for (int i = 0; i < fetches; ++i) {
    for (int j = i; j < std::min(i + 25, fetches); ++j) {
      ++points;
      error += std::abs(truth(i) - truth(j));
      total += truth(j);
    }
  }
  EXPECT_EQ(points, day1.points);
  EXPECT_NEAR(error / total, day1.wape, 1e-9);
}

}  // namespace
}  // namespace lowcarb::forecast
