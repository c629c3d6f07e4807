// SPDX-License-Identifier: Apache-2.0
// The daemon's wiring: every forecast the App's chain serves is stored in
// the forecast archive of its real state database.
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/forecast_archive.h"
#include "scheduler/app.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

TEST(AppForecastArchiveTest, ServedForecastsAreStoredWithTheirIssueTime) {
  lowcarb::testing::ScopedTempDir dir;
  config::Config config;
  config.state_dir = dir.file("state");
  config::ZoneConfig zone;
  zone.id = "DE";
  config.zones.push_back(zone);
  const TimePoint now = *parse_time("2026-11-23T18:00:00Z");
  ManualClock clock{now};
  {
    auto app = App::create(config, clock,
                           AppOptions{lowcarb::testing::lowcarb_binary()});
    ASSERT_OK(app);
    auto served =
        (*app)->forecasts().forecast("DE", now, std::chrono::hours(24));
    ASSERT_OK(served);
    ASSERT_FALSE(served->points.empty());
  }
  auto db = *Database::open(dir.file("state") + "/lowcarb.db");
  auto rows = db->query(
      "SELECT zone, issued_s, COUNT(*) FROM forecast_archive GROUP BY zone, "
      "issued_s");
  ASSERT_OK(rows);
  ASSERT_EQ(1u, rows->size());
  EXPECT_EQ("DE", (*rows)[0].text(0));
  EXPECT_EQ(now.time_since_epoch().count(), (*rows)[0].integer(1));
  EXPECT_GE((*rows)[0].integer(2), 24);
}

}  // namespace
}  // namespace lowcarb::scheduler
