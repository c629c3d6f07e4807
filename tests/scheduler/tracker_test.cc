// SPDX-License-Identifier: Apache-2.0
#include "scheduler/tracker.h"

#include <gtest/gtest.h>

#include "common/time_format.h"
#include "scheduler/memory_job_store.h"
#include "tests/fakes/test_support.h"

// g++ 12 at -O3 reports a short std::string member of a default-constructed
// Job (Job::zone) as maybe-uninitialized inside char_traits::copy after the
// assignment above it: a known false positive of its SSO analysis.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace lowcarb::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kMidnight = *parse_time("2026-11-23T00:00:00Z");

// Hourly intensities per zone: value = base + hour index.
class HourlyHistory final : public IntensityHistory {
 public:
  std::optional<RealizedIntensity> realized(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override {
    double base = zone == "DE" ? 400 : 100;
    double weighted = 0;
    for (TimePoint t = from; t < to;) {
      TimePoint hour_start = std::chrono::floor<hours>(t);
      TimePoint next = std::min(to, hour_start + hours(1));
      double value = base + (hour_start - kMidnight) / hours(1);
      weighted += value * static_cast<double>((next - t).count());
      t = next;
    }
    return RealizedIntensity{
        weighted / static_cast<double>((to - from).count()),
        zone + "/observed"};
  }
};

TEST(TrackerTest, EmissionsAcrossIntervalBoundariesMatchHandComputation) {
  MemoryJobStore store;
  HourlyHistory history;
  DeclaredPowerMeter meter(0);
  Tracker tracker(store, history, meter, 1.5, "DE");
  Job job;
  job.id = "1";
  job.zone = "FR";
  job.spec.zones = {"DE", "FR"};
  job.spec.power_watts = 1000;
  job.spec.submitted_at = kMidnight;
  job.running_since = kMidnight + hours(5) + minutes(30);

  // 05:30-06:30 in FR: 30 min at 105 and 30 min at 106 g/kWh.
  ASSERT_OK(tracker.sample(job, kMidnight + hours(6) + minutes(30)));

  auto ledger = *store.ledger({});
  ASSERT_EQ(1u, ledger.size());
  const auto& r = ledger[0];
  EXPECT_DOUBLE_EQ(3.6e6, r.joules());  // 1 kW for 1 h.
  EXPECT_DOUBLE_EQ(105.5, r.gco2_per_kwh);
  EXPECT_DOUBLE_EQ(1.0 * 1.5 * 105.5, r.grams);  // kWh x PUE x intensity
  // Counterfactual: the same hour of running from submission (00:00-01:00)
  // in the first-listed zone DE: 400 g/kWh.
  EXPECT_DOUBLE_EQ(400, r.counterfactual_gco2_per_kwh);
  EXPECT_DOUBLE_EQ(1.5 * 400, r.counterfactual_grams);
  EXPECT_EQ("declared", r.meter_source);
  EXPECT_EQ("FR/observed", r.intensity_source);
}

TEST(TrackerTest,
     ConsecutiveSamplesDoNotOverlapAndPausesShiftTheCounterfactual) {
  MemoryJobStore store;
  HourlyHistory history;
  DeclaredPowerMeter meter(0);
  Tracker tracker(store, history, meter, 1.0, "DE");
  Job job;
  job.id = "1";
  job.zone = "DE";
  job.spec.power_watts = 500;
  job.spec.submitted_at = kMidnight;
  job.running_since = kMidnight + hours(2);
  ASSERT_OK(tracker.sample(job, kMidnight + hours(2) + minutes(30)));
  ASSERT_OK(tracker.sample(job, kMidnight + hours(3)));
  tracker.stop(job.id);
  // Paused 03:00-10:00; one hour already done.
  job.run_time = hours(1);
  job.running_since = kMidnight + hours(10);

  ASSERT_OK(tracker.sample(job, kMidnight + hours(11)));

  auto ledger = *store.ledger({});
  ASSERT_EQ(3u, ledger.size());
  EXPECT_EQ(ledger[0].end, ledger[1].start);
  EXPECT_DOUBLE_EQ(410, ledger[2].gco2_per_kwh);
  // Its counterfactual is the job's second running hour from submission.
  EXPECT_DOUBLE_EQ(401, ledger[2].counterfactual_gco2_per_kwh);
  auto totals = tracker.totals("1");
  EXPECT_DOUBLE_EQ(2 * 0.5 * 3.6e6, totals.joules);
  EXPECT_DOUBLE_EQ(0.5 * (402 + 410) - 0.5 * (400 + 401),
                   totals.grams - totals.counterfactual_grams);
  EXPECT_GT(totals.counterfactual_grams, 0);
}

}  // namespace
}  // namespace lowcarb::scheduler
