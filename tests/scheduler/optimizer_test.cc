// SPDX-License-Identifier: Apache-2.0
// Edge cases of the optimizer: windows at the edges of the range, partial
// intervals, nulls and gaps, thresholds, missing and stale forecasts, zones
// with penalties, priorities, kinds and allowed hours (DST days).
#include "scheduler/optimizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"
#include "tests/scheduler/optimizer_reference.h"

namespace lowcarb::scheduler {
namespace {

using namespace std::chrono_literals;
using reference::regular_series;

TimePoint at(const char* text) { return *parse_time(text); }

const TimePoint kStart = at("2026-01-05T00:00:00Z");

// 00:00 50, 01:00 40, 02:00 10, 03:00 20, 04:00 60, 05:00 30 (hourly).
forecast::IntensitySeries hourly(const std::string& zone = "A") {
  return regular_series(zone, kStart, 1h, {50, 40, 10, 20, 60, 30});
}

PlanRequest request(Duration duration, TimePoint deadline) {
  PlanRequest r;
  r.now = kStart;
  r.earliest = kStart;
  r.deadline = deadline;
  r.duration = duration;
  return r;
}

TEST(BestContiguousWindowTest, FindsLowestMeanWindow) {
  auto window = best_contiguous_window(hourly(), kStart, kStart + 6h, 2h);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 2h, window->start);
  EXPECT_EQ(kStart + 4h, window->end);
  EXPECT_DOUBLE_EQ(15.0, window->mean_gco2_per_kwh);
}

TEST(BestContiguousWindowTest, UsesPartialIntervalsAtBothEnds) {
  // 90 minutes: best is 01:30..03:00 = (40*30 + 10*60) / 90 = 20, or
  // 02:00..03:30 = (10*60 + 20*30)/90 = 13.33.
  auto window = best_contiguous_window(hourly(), kStart, kStart + 6h, 90min);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 2h, window->start);
  EXPECT_NEAR(40.0 / 3.0, window->mean_gco2_per_kwh, 1e-12);
}

TEST(BestContiguousWindowTest, StartsOffGridWhenEarliestIsOffGrid) {
  auto window =
      best_contiguous_window(hourly(), kStart + 2h + 17min, kStart + 6h, 1h);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 2h + 17min, window->start);
  EXPECT_NEAR((10.0 * 43 + 20.0 * 17) / 60, window->mean_gco2_per_kwh, 1e-12);
}

TEST(BestContiguousWindowTest, DurationEqualToTheRangeHasOneWindow) {
  auto window = best_contiguous_window(hourly(), kStart + 1h, kStart + 3h, 2h);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 1h, window->start);
  EXPECT_DOUBLE_EQ(25.0, window->mean_gco2_per_kwh);
}

TEST(BestContiguousWindowTest, DeadlineOnABoundaryAllowsTheLastInterval) {
  auto series = regular_series("A", kStart, 1h, {50, 40, 10});

  auto window = best_contiguous_window(series, kStart, kStart + 3h, 1h);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 2h, window->start);
}

TEST(BestContiguousWindowTest, TiesGoToTheEarliestStart) {
  auto series = regular_series("A", kStart, 30min, {20, 10, 10, 30, 10, 10});

  auto window = best_contiguous_window(series, kStart, kStart + 3h, 1h);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 30min, window->start);
}

TEST(BestContiguousWindowTest, NeverUsesNullsOrGaps) {
  auto series = regular_series("A", kStart, 1h, {50, 1, std::nullopt, 2, 40});
  series.points.erase(series.points.begin() + 3);  // A gap at 03:00.
  series.points.push_back({kStart + 5h, kStart + 6h, 45});

  auto window = best_contiguous_window(series, kStart, kStart + 6h, 2h);

  ASSERT_OK(window);
  EXPECT_EQ(kStart, window->start);  // 50+1 beats 40+45; nothing spans 02..04.
  EXPECT_DOUBLE_EQ(25.5, window->mean_gco2_per_kwh);
}

TEST(BestContiguousWindowTest, IgnoresZeroLengthIntervals) {
  auto series = hourly();
  series.points.insert(series.points.begin() + 2,
                       {kStart + 2h, kStart + 2h, 0.0});

  auto window = best_contiguous_window(series, kStart, kStart + 6h, 2h);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 2h, window->start);
  EXPECT_DOUBLE_EQ(15.0, window->mean_gco2_per_kwh);
}

TEST(BestContiguousWindowTest, ReportsNotFoundWhenNothingFits) {
  auto window = best_contiguous_window(hourly(), kStart, kStart + 6h, 7h);

  ASSERT_FALSE(window);
  EXPECT_EQ(ErrorCode::kNotFound, window.error().code);
}

TEST(BestContiguousWindowTest, HandlesAYearAtFiveMinutes) {
  std::vector<std::optional<double>> values;
  for (int i = 0; i < 365 * 288; ++i) {
    values.push_back(200 + (i * 7919) % 301);
  }
  values[200'000 % values.size()] = 1;  // A single clean interval.
  auto series = regular_series("A", kStart, 5min, values);

  auto window =
      best_contiguous_window(series, kStart, kStart + 365 * 24h, 5min);

  ASSERT_OK(window);
  EXPECT_EQ(kStart + 5min * (200'000 % values.size()), window->start);
  EXPECT_DOUBLE_EQ(1.0, window->mean_gco2_per_kwh);
}

TEST(PlanJobTest, RejectsAnInfeasibleJobNamingTheTimes) {
  auto series = hourly();

  auto plan = plan_job(request(3h, kStart + 2h),
                       {reference::zone_option("A", &series)});

  ASSERT_FALSE(plan);
  EXPECT_EQ(ErrorCode::kInvalidArgument, plan.error().code);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("infeasible"));
  EXPECT_THAT(plan.error().message,
              ::testing::HasSubstr("2026-01-05T02:00:00Z"));
}

TEST(PlanJobTest, ReportsBaselineAndSavings) {
  auto series = hourly();
  auto r = request(2h, kStart + 6h);
  r.power_watts = 1000;

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ("A", plan->zone);
  EXPECT_EQ("best-window", plan->reason);
  EXPECT_EQ(kStart + 2h, plan->start());
  EXPECT_DOUBLE_EQ(15.0, plan->expected_gco2_per_kwh);
  EXPECT_DOUBLE_EQ(30.0, plan->expected_grams);  // 15 g/kWh x 2 kWh.
  EXPECT_DOUBLE_EQ(45.0, plan->run_now_gco2_per_kwh);
  EXPECT_DOUBLE_EQ(90.0, plan->run_now_grams);
  EXPECT_NEAR(100.0 * 30 / 45, plan->savings_percent, 1e-9);
}

TEST(PlanJobTest, StartsNowWhenBelowTheThreshold) {
  auto series = hourly();
  auto r = request(1h, kStart + 6h);
  r.threshold_gco2_per_kwh = 55;

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ("threshold", plan->reason);
  EXPECT_EQ(kStart, plan->start());
}

TEST(PlanJobTest, TakesTheBestWindowWhenAboveTheThreshold) {
  auto series = hourly();
  auto r = request(1h, kStart + 6h);
  r.threshold_gco2_per_kwh = 45;

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ("best-window", plan->reason);
  EXPECT_EQ(kStart + 2h, plan->start());
}

TEST(PlanJobTest, PercentileThresholdUsesTheForecastUpToTheDeadline) {
  auto series = regular_series("A", kStart, 1h, {30, 10, 20, 40, 50});
  auto r = request(1h, kStart + 5h);
  r.threshold_percentile = 50;  // Median of {10,20,30,40,50} = 30.

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ("threshold", plan->reason);
}

TEST(PlanJobTest, StartsAtLatestSafeStartWithoutForecast) {
  auto r = request(1h, kStart + 6h);
  r.safety_margin = 10min;

  auto plan = plan_job(r, {reference::zone_option("A", nullptr)});

  ASSERT_OK(plan);
  EXPECT_EQ("no-forecast", plan->reason);
  EXPECT_EQ(kStart + 6h - 1h - 10min, plan->start());
  EXPECT_FALSE(plan->run_now_known);
}

TEST(PlanJobTest, StartsAtLatestSafeStartWhenForecastIsStale) {
  auto series = hourly();
  series.stale = true;

  auto plan = plan_job(request(1h, kStart + 6h),
                       {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ("stale-forecast", plan->reason);
  EXPECT_EQ(kStart + 5h, plan->start());
}

TEST(PlanJobTest, KeepsTheLatestSafeStartWhenTheForecastEndsEarly) {
  // The forecast covers 6 h; the deadline is 8 h away; margin 3 h: the
  // latest safe start is 03:00, so the 05:00 window (30) is not allowed.
  auto series = regular_series("A", kStart, 1h, {50, 40, 45, 44, 60, 1});
  auto r = request(1h, kStart + 8h);
  r.safety_margin = 3h;

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ(kStart + 1h, plan->start());
  EXPECT_LE(plan->start(), r.deadline - r.duration - r.safety_margin);
}

TEST(PlanJobTest, DropsTheMarginRatherThanMissAFeasibleDeadline) {
  auto series = hourly();
  auto r = request(2h, kStart + 2h + 30min);
  r.safety_margin = 1h;

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_LE(plan->end(), r.deadline);
}

TEST(PlanJobTest, PenaltySteersTheChoiceButNotTheReportedValue) {
  auto a = regular_series("A", kStart, 1h, {100, 100, 100});
  auto b = regular_series("B", kStart, 1h, {90, 90, 90});
  ZoneOption zone_b = reference::zone_option("B", &b);
  zone_b.penalty_gco2_per_kwh = 20;

  auto plan = plan_job(request(1h, kStart + 3h),
                       {reference::zone_option("A", &a), zone_b});

  ASSERT_OK(plan);
  EXPECT_EQ("A", plan->zone);

  zone_b.penalty_gco2_per_kwh = 0;
  zone_b.penalty_percent = 5;  // 94.5 < 100.
  plan = plan_job(request(1h, kStart + 3h),
                  {reference::zone_option("A", &a), zone_b});

  ASSERT_OK(plan);
  EXPECT_EQ("B", plan->zone);
  EXPECT_DOUBLE_EQ(90.0, plan->expected_gco2_per_kwh);
  EXPECT_EQ("A", plan->run_now_zone);
  EXPECT_DOUBLE_EQ(100.0, plan->run_now_gco2_per_kwh);
}

TEST(PlanJobTest, LowerPriorityValueBreaksTies) {
  auto a = regular_series("A", kStart, 1h, {80, 80});
  auto b = regular_series("B", kStart, 1h, {80, 80});
  ZoneOption zone_a = reference::zone_option("A", &a);
  zone_a.priority = 2;
  ZoneOption zone_b = reference::zone_option("B", &b);
  zone_b.priority = 1;

  auto plan = plan_job(request(1h, kStart + 2h), {zone_a, zone_b});

  ASSERT_OK(plan);
  EXPECT_EQ("B", plan->zone);
}

TEST(PlanJobTest, SkipsZonesWithIncomparableSignalsAndSaysSo) {
  auto a = regular_series("A", kStart, 1h, {80, 80});
  auto b = regular_series("B", kStart, 1h, {10, 10});
  b.kind.basis = forecast::Basis::kMarginal;

  auto plan = plan_job(
      request(1h, kStart + 2h),
      {reference::zone_option("A", &a), reference::zone_option("B", &b)});

  ASSERT_OK(plan);
  EXPECT_EQ("A", plan->zone);
  ASSERT_EQ(1u, plan->warnings.size());
  EXPECT_THAT(plan->warnings[0], ::testing::HasSubstr("not comparable"));
}

TEST(PlanJobTest, PauseResumeTakesTheCheapestHours) {
  auto series = hourly();
  auto r = request(2h, kStart + 6h);
  r.interruptible = true;

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ("best-window", plan->reason);  // 02:00-04:00 is also cheapest.
  r.duration = 3h;
  plan = plan_job(r, {reference::zone_option("A", &series)});
  ASSERT_OK(plan);
  EXPECT_EQ("pause-resume", plan->reason);
  EXPECT_THAT(plan->segments,
              ::testing::ElementsAre(Segment{kStart + 2h, kStart + 4h},
                                     Segment{kStart + 5h, kStart + 6h}));
  EXPECT_DOUBLE_EQ(20.0, plan->expected_gco2_per_kwh);
}

TEST(PlanJobTest, PauseResumeHonoursMinChunkAndMaxPauses) {
  auto series = regular_series("A", kStart, 1h, {1, 90, 1, 90, 1, 90, 50, 50});
  auto r = request(3h, kStart + 8h);
  r.interruptible = true;
  r.max_pauses = 0;

  auto plan = plan_job(r, {reference::zone_option("A", &series)});

  ASSERT_OK(plan);
  EXPECT_EQ(1u, plan->segments.size());
  r.max_pauses = -1;
  r.min_chunk = 2h;
  plan = plan_job(r, {reference::zone_option("A", &series)});
  ASSERT_OK(plan);
  for (const auto& segment : plan->segments) {
    EXPECT_GE(segment.end - segment.start, 2h);
  }
}

TEST(AllowedSpansTest, SpringForwardDayInLondonHasNoOneOClock) {
  const TimePoint day = at("2026-03-29T00:00:00Z");

  auto spans = allowed_spans({{1, 3}}, "Europe/London", day, day + 24h);

  ASSERT_OK(spans);
  // 01:00 local does not exist; 02:00-03:00 BST = 01:00-02:00 UTC.
  ASSERT_EQ(1u, spans->size());
  EXPECT_EQ(at("2026-03-29T01:00:00Z"), (*spans)[0].start);
  EXPECT_EQ(at("2026-03-29T02:00:00Z"), (*spans)[0].end);
}

TEST(AllowedSpansTest, FallBackDayInLondonRepeatsOneOClock) {
  const TimePoint day = at("2026-10-25T00:00:00Z");

  auto spans = allowed_spans({{1, 3}}, "Europe/London", day - 2h, day + 24h);

  ASSERT_OK(spans);
  // 01:00 BST (00:00 UTC) to 03:00 GMT (03:00 UTC): three real hours.
  ASSERT_EQ(1u, spans->size());
  EXPECT_EQ(at("2026-10-25T00:00:00Z"), (*spans)[0].start);
  EXPECT_EQ(at("2026-10-25T03:00:00Z"), (*spans)[0].end);
}

TEST(AllowedSpansTest, WrappingRangesMergeAcrossMidnight) {
  const TimePoint day = at("2026-01-05T00:00:00Z");

  auto spans = allowed_spans({{22, 6}}, "UTC", day, day + 48h);

  ASSERT_OK(spans);
  ASSERT_EQ(3u, spans->size());
  EXPECT_EQ(day, (*spans)[0].start);
  EXPECT_EQ(day + 6h, (*spans)[0].end);
  EXPECT_EQ(day + 22h, (*spans)[1].start);
  EXPECT_EQ(day + 30h, (*spans)[1].end);
  EXPECT_EQ(day + 46h, (*spans)[2].start);
  EXPECT_EQ(day + 48h, (*spans)[2].end);
}

TEST(AllowedSpansTest, RejectsAnUnknownTimeZone) {
  auto spans = allowed_spans({{1, 3}}, "Mars/Olympus", kStart, kStart + 1h);

  ASSERT_FALSE(spans);
  EXPECT_THAT(spans.error().message, ::testing::HasSubstr("Mars/Olympus"));
}

TEST(PlanJobTest, WindowLiesInsideAllowedLocalHoursOnDstDay) {
  // Cleanest at 00:00-01:00 UTC (00:00 GMT), but only 02:00-05:00 local is
  // allowed on the spring-forward day (01:00-04:00 UTC).
  const TimePoint day = at("2026-03-29T00:00:00Z");
  auto series = regular_series("GB", day, 30min,
                               {1, 1, 50, 40, 30, 20, 45, 35, 60, 60, 5, 5});
  ZoneOption zone = reference::zone_option("GB", &series);
  zone.allowed_hours = {{2, 5}};
  zone.time_zone = "Europe/London";
  PlanRequest r;
  r.now = day;
  r.earliest = day;
  r.deadline = day + 6h;
  r.duration = 1h;

  auto plan = plan_job(r, {zone});

  ASSERT_OK(plan);
  EXPECT_EQ(at("2026-03-29T02:00:00Z"), plan->start());  // 30 + 20.
  EXPECT_GE(plan->start(), at("2026-03-29T01:00:00Z"));
  EXPECT_LE(plan->end(), at("2026-03-29T04:00:00Z"));
}

}  // namespace
}  // namespace lowcarb::scheduler
