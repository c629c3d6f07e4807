// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/trace_intensity_history.h"

#include <gtest/gtest.h>

#include "tests/simulation/sim_test_util.h"

namespace lowcarb::scheduler::simulation {
namespace {

using namespace std::chrono_literals;

TEST(TraceIntensityHistoryTest, RealizedIsTheTimeWeightedMean) {
  TraceIntensityHistory trace({hourly_series("DE", {100, 200, 400, 800})});
  TimePoint t0 = sim_t0();

  auto whole = trace.realized("DE", t0 + 1h, t0 + 3h);
  auto partial = trace.realized("DE", t0 + 30min, t0 + 2h + 15min);
  auto inside = trace.realized("DE", t0 + 10min, t0 + 20min);

  ASSERT_TRUE(whole && partial && inside);
  EXPECT_DOUBLE_EQ(300.0, whole->gco2_per_kwh);
  // 30 min at 100, 60 at 200, 15 at 400 over 105 min.
  EXPECT_DOUBLE_EQ((30 * 100.0 + 60 * 200.0 + 15 * 400.0) / 105.0,
                   partial->gco2_per_kwh);
  EXPECT_DOUBLE_EQ(100.0, inside->gco2_per_kwh);
  EXPECT_EQ("trace/observed", whole->source);
}

TEST(TraceIntensityHistoryTest, GapsAndUnknownZonesHaveNoValue) {
  auto series = hourly_series("GB", {100, 200, 300});
  series.points[1].gco2_per_kwh.reset();
  TraceIntensityHistory trace({series});
  TimePoint t0 = sim_t0();

  auto across_gap = trace.realized("GB", t0, t0 + 3h);

  ASSERT_TRUE(across_gap);
  EXPECT_DOUBLE_EQ(200.0, across_gap->gco2_per_kwh);  // Gap not counted.
  EXPECT_FALSE(trace.realized("GB", t0 + 1h, t0 + 2h));
  EXPECT_FALSE(trace.realized("FR", t0, t0 + 1h));
  EXPECT_FALSE(trace.realized("GB", t0 + 5h, t0 + 6h));
}

TEST(TraceIntensityHistoryTest, CommonSpanIsWhereEveryZoneHasData) {
  auto late = hourly_series("FR", {1, 2, 3});
  for (auto& point : late.points) {
    point.start += 1h;
    point.end += 1h;
  }
  TraceIntensityHistory trace({hourly_series("DE", {1, 2, 3, 4, 5}), late});

  EXPECT_EQ(sim_t0() + 1h, trace.common_begin());
  EXPECT_EQ(sim_t0() + 4h, trace.common_end());
  EXPECT_EQ((std::vector<std::string>{"DE", "FR"}), trace.zones());
}

TEST(TraceIntensityHistoryTest, PointsBetweenReturnsOverlappingPoints) {
  TraceIntensityHistory trace({hourly_series("DE", {1, 2, 3, 4, 5})});

  auto points = trace.points_between("DE", sim_t0() + 90min, sim_t0() + 3h);

  ASSERT_EQ(2u, points.size());
  EXPECT_EQ(sim_t0() + 1h, points[0].start);
  EXPECT_EQ(3.0, points[1].gco2_per_kwh);
}

}  // namespace
}  // namespace lowcarb::scheduler::simulation
