// SPDX-License-Identifier: Apache-2.0
// plan_to_json() writes the plan with fmt (issue 12: 100,000 plans per
// re-plan); these tests hold it to what nlohmann::json wrote before, so
// stored plans stay readable both ways.
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "scheduler/job.h"

namespace lowcarb::scheduler {
namespace {

using nlohmann::json;

// The plan as the nlohmann::json writer built it (the reference format).
json reference(const Plan& plan) {
  json j;
  j["zone"] = plan.zone;
  json segments = json::array();
  for (const auto& s : plan.segments) {
    segments.push_back(
        {{"start", format_utc(s.start)}, {"end", format_utc(s.end)}});
  }
  j["segments"] = segments;
  j["expected_gco2_per_kwh"] = plan.expected_gco2_per_kwh;
  j["expected_grams"] = plan.expected_grams;
  j["run_now_zone"] = plan.run_now_zone;
  j["run_now_gco2_per_kwh"] = plan.run_now_gco2_per_kwh;
  j["run_now_grams"] = plan.run_now_grams;
  j["savings_percent"] = plan.savings_percent;
  j["reason"] = plan.reason;
  return j;
}

Plan sample(double value) {
  Plan plan;
  plan.zone = "DE";
  const TimePoint start = *parse_time("2026-12-03T04:05:06Z");
  plan.segments = {{start, start + std::chrono::hours(2)},
                   {start + std::chrono::hours(5),
                    start + std::chrono::hours(6) + std::chrono::seconds(7)}};
  plan.expected_gco2_per_kwh = value;
  plan.expected_grams = value * 3.7;
  plan.run_now_zone = "FR";
  plan.run_now_gco2_per_kwh = -value;
  plan.run_now_grams = 12.0;
  plan.savings_percent = value / 7;
  plan.reason = "best-window";
  return plan;
}

void expect_same_plan(const Plan& want, const Plan& got) {
  EXPECT_EQ(want.zone, got.zone);
  EXPECT_EQ(want.segments, got.segments);
  EXPECT_EQ(want.expected_gco2_per_kwh, got.expected_gco2_per_kwh);
  EXPECT_EQ(want.expected_grams, got.expected_grams);
  EXPECT_EQ(want.run_now_zone, got.run_now_zone);
  EXPECT_EQ(want.run_now_gco2_per_kwh, got.run_now_gco2_per_kwh);
  EXPECT_EQ(want.run_now_grams, got.run_now_grams);
  EXPECT_EQ(want.savings_percent, got.savings_percent);
  EXPECT_EQ(want.reason, got.reason);
}

TEST(PlanJsonTest, WritesWhatTheJsonLibraryWroteAndReadsItBack) {
  std::mt19937_64 random(12);
  std::uniform_real_distribution<double> mantissa(-1000, 1000);
  std::uniform_int_distribution<int> exponent(-12, 22);
  std::vector<double> values = {0.0, 12.0, 0.1, 1e-7, 1e16, 1e300, 5e-324};
  for (int i = 0; i < 200; ++i) {
    values.push_back(mantissa(random) * std::pow(10.0, exponent(random)));
  }
  for (double value : values) {
    SCOPED_TRACE(value);
    Plan plan = sample(value);
    const std::string text = plan_to_json(plan);

    json parsed = json::parse(text);
    EXPECT_EQ(reference(plan).dump(), parsed.dump());
    EXPECT_TRUE(parsed["run_now_grams"].is_number_float()) << text;
    auto back = plan_from_json(text);
    ASSERT_TRUE(back) << back.error().message;
    expect_same_plan(plan, *back);
  }
}

// done_grams (a paused job's emissions so far) is written only when set, in
// the library's key order, and read back; plans without it are unchanged.
TEST(PlanJsonTest, DoneGramsIsWrittenInKeyOrderOnlyWhenSet) {
  Plan plan = sample(42.5);
  const std::string without = plan_to_json(plan);
  plan.done_grams = 12.25;
  const std::string with = plan_to_json(plan);

  json expected = reference(plan);
  expected["done_grams"] = 12.25;
  expected["done_run_now_grams"] = 0.0;
  EXPECT_EQ(expected.dump(), with);
  EXPECT_EQ(reference(sample(42.5)).dump(), without);
  EXPECT_EQ(std::string::npos, without.find("done_grams"));
  auto back = plan_from_json(with);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(12.25, back->done_grams);
  EXPECT_EQ(0.0, back->done_run_now_grams);
  expect_same_plan(plan, *back);
}

TEST(PlanJsonTest, StringsThatNeedEscapingRoundTrip) {
  Plan plan = sample(42.5);
  plan.reason = "quote \" backslash \\ newline \n tab \t bell \x07 é";
  plan.zone = "US-\"x\"";

  const std::string text = plan_to_json(plan);

  EXPECT_EQ(reference(plan).dump(), json::parse(text).dump());
  auto back = plan_from_json(text);
  ASSERT_TRUE(back) << back.error().message;
  expect_same_plan(plan, *back);
}

TEST(PlanJsonTest, NonFiniteNumbersAreWrittenAsTheJsonLibraryDid) {
  Plan plan = sample(1.0);
  plan.savings_percent = std::numeric_limits<double>::quiet_NaN();
  plan.expected_grams = std::numeric_limits<double>::infinity();

  const std::string text = plan_to_json(plan);

  EXPECT_EQ(reference(plan).dump(), text);
}

TEST(PlanJsonTest, PlanTimesAreFormattedAsFormatUtcDoes) {
  std::vector<TimePoint> times = {
      TimePoint{},
      *parse_time("2024-02-29T23:59:59Z"),
      *parse_time("2026-12-31T00:00:00Z"),
      *parse_time("2100-03-01T12:34:56Z"),
      TimePoint{} - std::chrono::hours(24 * 365 * 3000),  // Year -1030.
      TimePoint{} + std::chrono::hours(24 * 366 * 9000),  // Beyond 9999.
  };
  std::mt19937_64 random(7);
  std::uniform_int_distribution<int64_t> seconds(0, int64_t{4102444800});
  for (int i = 0; i < 500; ++i) {
    times.push_back(TimePoint{} + std::chrono::seconds(seconds(random)));
  }
  for (TimePoint t : times) {
    EXPECT_EQ(format_utc(t), format_plan_time(t));
  }
}

}  // namespace
}  // namespace lowcarb::scheduler
