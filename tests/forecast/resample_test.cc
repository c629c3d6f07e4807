// SPDX-License-Identifier: Apache-2.0
#include "forecast/resample.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::minutes;
using ::testing::ElementsAre;

TimePoint at(const char* text) { return *parse_time(text); }

// 2026-01-01T00:00Z plus `m` minutes.
TimePoint t(int m) { return at("2026-01-01T00:00:00Z") + minutes(m); }

IntensityPoint p(int from_min, int to_min, std::optional<double> value) {
  return {t(from_min), t(to_min), value};
}

IntensitySeries series_of(std::vector<IntensityPoint> points) {
  IntensitySeries series;
  series.zone = "DE";
  series.provider = "test";
  series.points = std::move(points);
  return series;
}

TEST(ResampleTest, AveragesFifteenMinuteStepsIntoAnHour) {
  auto s = series_of({p(0, 15, 100), p(15, 30, 200), p(30, 45, 300),
                      p(45, 60, 400), p(60, 75, 10), p(75, 90, 20),
                      p(90, 105, 30), p(105, 120, 40)});

  auto out = resample(s, minutes(60));

  EXPECT_THAT(out.points, ElementsAre(p(0, 60, 250), p(60, 120, 25)));
  EXPECT_EQ("DE", out.zone);
  EXPECT_EQ("test", out.provider);
}

TEST(ResampleTest, AveragesFiveMinuteStepsIntoFifteen) {
  auto s = series_of({p(0, 5, 10), p(5, 10, 20), p(10, 15, 30), p(15, 20, 40),
                      p(20, 25, 50), p(25, 30, 60)});

  auto out = resample(s, minutes(15));

  EXPECT_THAT(out.points, ElementsAre(p(0, 15, 20), p(15, 30, 50)));
}

TEST(ResampleTest, ThirtyMinuteNullCarriesNoWeightAndIsReportedAsGap) {
  auto s = series_of({p(0, 30, 100), p(30, 60, std::nullopt), p(60, 90, 300),
                      p(90, 120, 500)});

  auto out = resample(s, minutes(60));

  EXPECT_THAT(out.points, ElementsAre(p(0, 60, 100), p(60, 120, 400)));
  EXPECT_THAT(find_gaps(s), ElementsAre(Gap{t(30), t(60)}));
}

TEST(ResampleTest, IrregularSpacingIsTimeWeighted) {
  // 40 min at 60 then 50 min at 150: the first hour is (60*40 + 150*20)/60.
  auto s = series_of({p(0, 40, 60), p(40, 90, 150)});

  auto out = resample(s, minutes(60));

  ASSERT_EQ(2u, out.points.size());
  EXPECT_DOUBLE_EQ(90.0, *out.points[0].gco2_per_kwh);
  EXPECT_DOUBLE_EQ(150.0, *out.points[1].gco2_per_kwh);
}

TEST(ResampleTest, HoleBetweenPointsStaysNullAndIsOneGap) {
  auto s = series_of({p(0, 60, 100), p(180, 240, 200)});

  auto out = resample(s, minutes(60));

  EXPECT_THAT(out.points,
              ElementsAre(p(0, 60, 100), p(60, 120, std::nullopt),
                          p(120, 180, std::nullopt), p(180, 240, 200)));
  EXPECT_THAT(find_gaps(s), ElementsAre(Gap{t(60), t(180)}));
  EXPECT_THAT(find_gaps(out), ElementsAre(Gap{t(60), t(180)}));
}

TEST(ResampleTest, HoleAndNullNextToEachOtherMergeIntoOneGap) {
  auto s = series_of({p(0, 15, 1), p(15, 30, std::nullopt), p(45, 60, 2),
                      p(60, 75, std::nullopt)});

  EXPECT_THAT(find_gaps(s), ElementsAre(Gap{t(15), t(45)}, Gap{t(60), t(75)}));
}

TEST(ResampleTest, GridIsAlignedToMultiplesOfTheStep) {
  auto s = series_of({p(30, 60, 80), p(60, 90, 40)});

  auto out = resample(s, minutes(60));

  EXPECT_THAT(out.points, ElementsAre(p(0, 60, 80), p(60, 120, 40)));
}

TEST(ResampleTest, UpsamplingRepeatsAKnownValueWithinItsInterval) {
  auto s = series_of({p(0, 60, 100)});

  auto out = resample(s, minutes(30));

  EXPECT_THAT(out.points, ElementsAre(p(0, 30, 100), p(30, 60, 100)));
}

TEST(ResampleTest, EmptySeriesGivesEmptySeriesAndNoGaps) {
  EXPECT_TRUE(resample(series_of({}), minutes(60)).empty());
  EXPECT_TRUE(find_gaps(series_of({})).empty());
}

TEST(NormalisePointsTest, SortsByStart) {
  auto out = normalise_points({p(60, 120, 2), p(0, 60, 1)});

  EXPECT_THAT(out, ElementsAre(p(0, 60, 1), p(60, 120, 2)));
}

TEST(NormalisePointsTest, LaterListedDuplicateWins) {
  auto out = normalise_points({p(0, 60, 1), p(0, 60, 2)});

  EXPECT_THAT(out, ElementsAre(p(0, 60, 2)));
}

TEST(NormalisePointsTest, LaterListedPointSplitsTheEarlierOne) {
  auto out = normalise_points({p(0, 120, 1), p(60, 90, 2)});

  EXPECT_THAT(out, ElementsAre(p(0, 60, 1), p(60, 90, 2), p(90, 120, 1)));
}

TEST(NormalisePointsTest, LaterListedPointCoveringEarlierOnesReplacesThem) {
  auto out = normalise_points({p(30, 60, 5), p(60, 90, 6), p(0, 120, 1)});

  EXPECT_THAT(out, ElementsAre(p(0, 120, 1)));
}

TEST(NormalisePointsTest, OverlappingTailIsTrimmed) {
  auto out = normalise_points({p(0, 60, 1), p(45, 105, 2)});

  EXPECT_THAT(out, ElementsAre(p(0, 45, 1), p(45, 105, 2)));
}

TEST(NormalisePointsTest, DropsZeroAndNegativeLengthPoints) {
  auto out = normalise_points({p(0, 0, 1), p(10, 5, 2), p(0, 60, 3)});

  EXPECT_THAT(out, ElementsAre(p(0, 60, 3)));
}

TEST(InferStepTest, UsesTheMedianSpacing) {
  EXPECT_EQ(minutes(15), infer_step({t(0), t(15), t(30), t(90), t(105)}));
  EXPECT_EQ(minutes(60), infer_step({t(120), t(0), t(60), t(60)}));
}

TEST(InferStepTest, PrefersTheFinerStepOnATie) {
  EXPECT_EQ(minutes(15), infer_step({t(0), t(30), t(45)}));
}

TEST(InferStepTest, NeedsTwoDistinctInstants) {
  EXPECT_EQ(std::nullopt, infer_step({}));
  EXPECT_EQ(std::nullopt, infer_step({t(0), t(0)}));
}

}  // namespace
}  // namespace lowcarb::forecast
