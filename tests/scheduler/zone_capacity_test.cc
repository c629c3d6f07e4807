// SPDX-License-Identifier: Apache-2.0
#include "scheduler/zone_capacity.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lowcarb::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint t0 = *parse_time("2026-03-29T00:00:00Z");

TEST(FullSpansTest, CountsOverlapsAgainstTheCapacity) {
  std::vector<Segment> occupied = {
      {t0, t0 + hours(3)},
      {t0 + hours(1), t0 + hours(2)},
      {t0 + hours(1) + minutes(30), t0 + hours(4)}};

  auto two = full_spans(occupied, 2);
  ASSERT_EQ(1u, two.size());
  EXPECT_EQ((UtcSpan{t0 + hours(1), t0 + hours(3)}), two[0]);

  auto three = full_spans(occupied, 3);
  ASSERT_EQ(1u, three.size());
  EXPECT_EQ((UtcSpan{t0 + hours(1) + minutes(30), t0 + hours(2)}), three[0]);

  EXPECT_TRUE(full_spans(occupied, 4).empty());
}

TEST(FullSpansTest, BackToBackJobsMakeOneSpanAndASlotFreedAtTIsFreeAtT) {
  std::vector<Segment> occupied = {{t0, t0 + hours(1)},
                                   {t0 + hours(1), t0 + hours(2)}};
  auto spans = full_spans(occupied, 1);
  ASSERT_EQ(1u, spans.size());
  EXPECT_EQ((UtcSpan{t0, t0 + hours(2)}), spans[0]);
  // Capacity 2: never full although the segments touch.
  EXPECT_TRUE(full_spans(occupied, 2).empty());
}

forecast::IntensitySeries hourly(std::vector<double> values) {
  forecast::IntensitySeries series;
  series.zone = "DE";
  for (size_t i = 0; i < values.size(); ++i) {
    series.points.push_back({t0 + hours(i), t0 + hours(i + 1), values[i]});
  }
  return series;
}

TEST(WithoutSpansTest, CutsPointsAtSpanBoundariesAndBlanksInside) {
  auto series = hourly({10, 20, 30});
  std::vector<UtcSpan> blocked = {{t0 + minutes(30), t0 + minutes(90)},
                                  {t0 + hours(2) + minutes(15), t0 + hours(5)}};

  auto masked = without_spans(series, blocked);

  std::vector<forecast::IntensityPoint> expected = {
      {t0, t0 + minutes(30), 10},
      {t0 + minutes(30), t0 + hours(1), std::nullopt},
      {t0 + hours(1), t0 + minutes(90), std::nullopt},
      {t0 + minutes(90), t0 + hours(2), 20},
      {t0 + hours(2), t0 + hours(2) + minutes(15), 30},
      {t0 + hours(2) + minutes(15), t0 + hours(3), std::nullopt}};
  EXPECT_EQ(expected, masked.points);
  EXPECT_EQ("DE", masked.zone);
}

TEST(WithoutSpansTest, NoSpansLeavesTheSeriesAlone) {
  auto series = hourly({10, 20});
  EXPECT_EQ(series.points, without_spans(series, {}).points);
}

TEST(WithoutSpansTest, TheOptimizerAvoidsBlankedTime) {
  auto series = hourly({50, 10, 10, 40, 60});
  auto masked =
      without_spans(series, full_spans({{t0 + hours(1), t0 + hours(2)}}, 1));

  auto window = best_contiguous_window(masked, t0, t0 + hours(5), hours(1));

  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(t0 + hours(2), window->start);
}

}  // namespace
}  // namespace lowcarb::scheduler
