// SPDX-License-Identifier: Apache-2.0
#include "forecast/series_validation.h"

#include <cmath>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const TimePoint kStart = *parse_time("2026-11-23T12:00:00Z");

IntensitySeries hourly(std::vector<std::optional<double>> values) {
  IntensitySeries series;
  series.zone = "DE";
  series.provider = "em";
  for (size_t i = 0; i < values.size(); ++i) {
    const TimePoint t = kStart + hours(static_cast<int>(i));
    series.points.push_back({t, t + hours(1), values[i]});
  }
  return series;
}

TEST(CheckSeriesTest, ACleanSeriesPassesWithoutWarnings) {
  auto checked = check_series(hourly({100, 200, 300}));

  ASSERT_OK(checked);
  EXPECT_TRUE(checked->warnings.empty());
  EXPECT_EQ(hourly({100, 200, 300}).points, checked->series.points);
}

TEST(CheckSeriesTest, NonFiniteNegativeAndAbsurdValuesBecomeNullsWithAWarning) {
  auto checked = check_series(
      hourly({100, std::numeric_limits<double>::quiet_NaN(),
              std::numeric_limits<double>::infinity(), -5, 1e300, 5000, 250}));

  ASSERT_OK(checked);
  const auto& points = checked->series.points;
  ASSERT_THAT(points, SizeIs(7));
  EXPECT_EQ(100, points[0].gco2_per_kwh);
  EXPECT_FALSE(points[1].gco2_per_kwh);
  EXPECT_FALSE(points[2].gco2_per_kwh);
  EXPECT_FALSE(points[3].gco2_per_kwh);
  EXPECT_FALSE(points[4].gco2_per_kwh);
  EXPECT_EQ(5000, points[5].gco2_per_kwh);  // The limit itself is allowed.
  EXPECT_EQ(250, points[6].gco2_per_kwh);
  // Three listed (zone, provider and time named), the fourth counted.
  ASSERT_THAT(checked->warnings, SizeIs(4));
  EXPECT_THAT(checked->warnings[0], HasSubstr("forecast for DE from em"));
  EXPECT_THAT(checked->warnings[0], HasSubstr("2026-11-23T13:00:00Z"));
  EXPECT_THAT(checked->warnings[0], HasSubstr("not a finite number"));
  EXPECT_THAT(checked->warnings[2], HasSubstr("negative"));
  EXPECT_THAT(checked->warnings[3], HasSubstr("1 more values rejected"));
}

TEST(CheckSeriesTest, TheAbsurdLimitIsConfigurable) {
  SeriesLimits limits;
  limits.max_gco2_per_kwh = 900;

  auto checked = check_series(hourly({100, 901}), limits);

  ASSERT_OK(checked);
  EXPECT_FALSE(checked->series.points[1].gco2_per_kwh);
  EXPECT_THAT(checked->warnings[0], HasSubstr("above 900 g/kWh"));
}

TEST(CheckSeriesTest, AnAllNullSeriesIsAFailure) {
  auto checked = check_series(hourly({std::nullopt, std::nullopt}));

  ASSERT_FALSE(checked);
  EXPECT_EQ(ErrorCode::kUnavailable, checked.error().code);
  EXPECT_THAT(checked.error().message, HasSubstr("DE"));
  EXPECT_THAT(checked.error().message, HasSubstr("no usable value"));
}

TEST(CheckSeriesTest, ASeriesOfOnlyRejectedValuesIsAFailure) {
  auto checked = check_series(hourly({-1, 1e300}));

  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error().message, HasSubstr("all null or rejected"));
}

TEST(CheckSeriesTest, AnEmptySeriesIsAFailure) {
  EXPECT_FALSE(check_series(hourly({})));
}

TEST(CheckSeriesTest, ConflictingDuplicatesKeepTheFirstAndWarn) {
  auto series = hourly({100, 200});
  series.points.push_back({kStart, kStart + hours(1), 999});  // Conflicts.
  series.points.push_back(series.points[1]);                  // Identical.

  auto checked = check_series(series);

  ASSERT_OK(checked);
  ASSERT_THAT(checked->series.points, SizeIs(2));
  EXPECT_EQ(100, checked->series.points[0].gco2_per_kwh);
  EXPECT_EQ(200, checked->series.points[1].gco2_per_kwh);
  ASSERT_THAT(checked->warnings, SizeIs(1));
  EXPECT_THAT(checked->warnings[0],
              HasSubstr("conflicting values 100 and 999"));
  EXPECT_THAT(checked->warnings[0], HasSubstr("2026-11-23T12:00:00Z"));
}

TEST(CheckSeriesTest, ADuplicateWithAValueReplacesANullFirst) {
  auto series = hourly({std::nullopt, 200});
  series.points.push_back({kStart, kStart + hours(1), 150});

  auto checked = check_series(series);

  ASSERT_OK(checked);
  EXPECT_EQ(150, checked->series.points[0].gco2_per_kwh);
}

TEST(CheckSeriesTest, MixedResolutionsAreFlagged) {
  auto series = hourly({100, 200});
  const TimePoint t = series.points.back().end;
  series.points.push_back({t, t + minutes(15), 300});

  auto checked = check_series(series);

  ASSERT_OK(checked);
  ASSERT_THAT(checked->warnings, SizeIs(1));
  EXPECT_THAT(checked->warnings[0], HasSubstr("mixed interval lengths"));
}

TEST(CheckSeriesTest, SortsUnsortedPoints) {
  auto series = hourly({100, 200, 300});
  std::swap(series.points[0], series.points[2]);

  auto checked = check_series(series);

  ASSERT_OK(checked);
  EXPECT_EQ(hourly({100, 200, 300}).points, checked->series.points);
}

}  // namespace
}  // namespace lowcarb::forecast
