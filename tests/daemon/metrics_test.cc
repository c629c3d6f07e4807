// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/metrics.h"

#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lowcarb::scheduler::api {
namespace {

using ::testing::HasSubstr;

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");

MetricsSnapshot snapshot() {
  MetricsSnapshot s;
  s.now = kNow;
  s.started_at = kNow - std::chrono::minutes(5);
  s.stats.jobs_by_state = {{"queued", 3}, {"running", 1}};
  s.stats.planned_grams = 1500;
  s.stats.run_now_grams = 2500;
  s.stats.forecast_fetched_at = {{"DE", kNow - std::chrono::seconds(90)}};
  s.stats.forecast_errors = {{"DE", 2}};
  s.realized_grams = 400;
  s.counterfactual_grams = 1000;
  s.metered_joules = 7.2e6;
  s.requests_by_op = {{"submit", 4}};
  s.request_errors = 1;
  return s;
}

TEST(MetricsTest, EveryMetricHasHelpAndTypeBeforeItsSamples) {
  std::istringstream lines(format_prometheus(snapshot()));
  std::string line;
  std::string typed;  // The metric name of the last # TYPE line.
  int samples = 0;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) {
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      typed = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(typed, name) << line;
    ++samples;
  }
  EXPECT_GT(samples, 10);
}

TEST(MetricsTest, ReportsJobsByStateWithZerosForActiveStates) {
  std::string text = format_prometheus(snapshot());

  EXPECT_THAT(text, HasSubstr("lowcarb_jobs{state=\"queued\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_jobs{state=\"running\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_jobs{state=\"paused\"} 0\n"));
}

TEST(MetricsTest, ReportsEmissionsInKilograms) {
  std::string text = format_prometheus(snapshot());

  EXPECT_THAT(text, HasSubstr("lowcarb_planned_emissions_kg 1.5\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_run_now_emissions_kg 2.5\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_realized_emissions_kg_total 0.4\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_saved_emissions_kg_total 0.6\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_metered_energy_joules_total 7200000\n"));
}

TEST(MetricsTest, ReportsForecastAgeAndErrorsPerZone) {
  std::string text = format_prometheus(snapshot());

  EXPECT_THAT(text,
              HasSubstr("lowcarb_forecast_age_seconds{zone=\"DE\"} 90\n"));
  EXPECT_THAT(text,
              HasSubstr("lowcarb_forecast_errors_total{zone=\"DE\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_uptime_seconds 300\n"));
}

TEST(MetricsTest, EscapesLabelValues) {
  auto s = snapshot();
  s.stats.forecast_errors = {{"we\"ird\\zone\n", 1}};

  std::string text = format_prometheus(s);

  EXPECT_THAT(text, HasSubstr("zone=\"we\\\"ird\\\\zone\\n\"} 1\n"));
}

}  // namespace
}  // namespace lowcarb::scheduler::api
