// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/deadline_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::simulation {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *parse_time(text); }

TEST(DeadlineRulesTest, NextWorkdayFromFridayEveningSkipsTheWeekend) {
  // Submitted Friday 2022-01-14 17:30 CET, finishes 18:30.
  auto deadline =
      rule_deadline(DeadlineRule::kNextWorkday, at("2022-01-14T16:30:00Z"), 1h,
                    "Europe/Berlin");

  ASSERT_OK(deadline);
  EXPECT_EQ(at("2022-01-17T08:00:00Z"), *deadline);  // Monday 09:00 CET.
}

TEST(DeadlineRulesTest, NextWorkdayBeforeNineIsNineTheSameDay) {
  // Monday 2022-01-17 07:00 CET, finishes 07:30.
  auto deadline =
      rule_deadline(DeadlineRule::kNextWorkday, at("2022-01-17T06:00:00Z"),
                    30min, "Europe/Berlin");

  ASSERT_OK(deadline);
  EXPECT_EQ(at("2022-01-17T08:00:00Z"), *deadline);
}

TEST(DeadlineRulesTest, NextWorkdayFinishingInWorkingHoursHasNoSlack) {
  // Sunday 2022-01-16 23:00 London, 12 h: finishes Monday 11:00.
  auto deadline =
      rule_deadline(DeadlineRule::kNextWorkday, at("2022-01-16T23:00:00Z"), 12h,
                    "Europe/London");

  ASSERT_OK(deadline);
  EXPECT_EQ(at("2022-01-17T11:00:00Z"), *deadline);
}

TEST(DeadlineRulesTest, NextWorkdayFollowsTheSpringDstChange) {
  // Friday 2022-03-25 19:00 CET + 2 h; clocks go forward on Sunday 27 March,
  // so Monday 09:00 is CEST (UTC+2).
  auto deadline =
      rule_deadline(DeadlineRule::kNextWorkday, at("2022-03-25T18:00:00Z"), 2h,
                    "Europe/Berlin");

  ASSERT_OK(deadline);
  EXPECT_EQ(at("2022-03-28T07:00:00Z"), *deadline);
}

TEST(DeadlineRulesTest, SemiWeeklyPicksMondayOrThursdayAcrossAutumnDst) {
  // Tuesday 2022-10-25 (CEST) -> Thursday 27 October 09:00 CEST.
  auto thursday =
      rule_deadline(DeadlineRule::kSemiWeekly, at("2022-10-25T10:00:00Z"), 1h,
                    "Europe/Berlin");
  // Friday 2022-10-28 (CEST) -> Monday 31 October 09:00 CET (DST ended on
  // the 30th).
  auto monday = rule_deadline(DeadlineRule::kSemiWeekly,
                              at("2022-10-28T10:00:00Z"), 1h, "Europe/Berlin");

  ASSERT_OK(thursday);
  ASSERT_OK(monday);
  EXPECT_EQ(at("2022-10-27T07:00:00Z"), *thursday);
  EXPECT_EQ(at("2022-10-31T08:00:00Z"), *monday);
}

TEST(DeadlineRulesTest, UnknownTimeZoneIsAnError) {
  auto deadline = rule_deadline(DeadlineRule::kNextWorkday,
                                at("2022-01-16T23:00:00Z"), 1h, "Mars/Olympus");

  EXPECT_FALSE(deadline);
}

TEST(DeadlineRulesTest, ParsesRuleNames) {
  EXPECT_EQ(DeadlineRule::kNextWorkday,
            *deadline_rule_from_string("next-workday"));
  EXPECT_EQ(DeadlineRule::kSemiWeekly,
            *deadline_rule_from_string("semi-weekly"));
  EXPECT_FALSE(deadline_rule_from_string("weekly"));
}

TEST(DeadlineRulesTest, SlackKeepsTraceDeadlinesAndFillsTheRest) {
  Workload workload;
  workload.source = "jobs.csv";
  workload.jobs.push_back({"a",
                           at("2022-01-01T00:00:00Z"),
                           2h,
                           at("2022-01-01T05:00:00Z"),
                           std::nullopt,
                           0,
                           false,
                           {},
                           2});
  workload.jobs.push_back({"b",
                           at("2022-01-01T00:00:00Z"),
                           2h,
                           std::nullopt,
                           std::nullopt,
                           0,
                           false,
                           {},
                           3});
  DeadlineOptions options;
  options.slack = 24h;

  ASSERT_OK(assign_deadlines(workload, options));

  EXPECT_EQ(at("2022-01-01T05:00:00Z"), workload.jobs[0].deadline);
  EXPECT_EQ(at("2022-01-02T02:00:00Z"), workload.jobs[1].deadline);
}

TEST(DeadlineRulesTest, JobsWithoutDeadlineOrRuleNameTheLine) {
  Workload workload;
  workload.source = "trace.csv";
  workload.jobs.push_back({"7",
                           at("2022-01-01T00:00:00Z"),
                           2h,
                           std::nullopt,
                           std::nullopt,
                           0,
                           false,
                           {},
                           8});

  auto status = assign_deadlines(workload, {});

  ASSERT_FALSE(status);
  EXPECT_THAT(status.error().message, HasSubstr("trace.csv:8"));
  EXPECT_THAT(status.error().message, HasSubstr("--slack"));
}

}  // namespace
}  // namespace lowcarb::scheduler::simulation
