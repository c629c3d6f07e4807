// SPDX-License-Identifier: Apache-2.0
#include "common/time_format.h"

#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint utc(const char* text) { return *parse_time(text); }

TEST(TimeFormatTest, ParsesZuluAndOffsets) {
  auto zulu = parse_time("2026-11-23T14:00:00Z");
  auto plus_one = parse_time("2026-11-23T14:00:00+01:00");
  auto compact = parse_time("2026-11-23T14:00+0100");
  auto minus = parse_time("2026-11-23T08:00:00-05:00");

  ASSERT_OK(zulu);
  ASSERT_OK(plus_one);
  ASSERT_OK(compact);
  ASSERT_OK(minus);
  EXPECT_EQ("2026-11-23T14:00:00Z", format_utc(*zulu));
  EXPECT_EQ("2026-11-23T13:00:00Z", format_utc(*plus_one));
  EXPECT_EQ(*plus_one, *compact);
  EXPECT_EQ("2026-11-23T13:00:00Z", format_utc(*minus));
}

TEST(TimeFormatTest, TruncatesFractionalSeconds) {
  EXPECT_EQ("2026-01-01T00:00:05Z",
            format_utc(utc("2026-01-01T00:00:05.999Z")));
}

TEST(TimeFormatTest, OffsetCrossesDateLine) {
  EXPECT_EQ("2026-12-31T23:30:00Z",
            format_utc(utc("2027-01-01T09:30:00+10:00")));
}

TEST(TimeFormatTest, RejectsMissingOffsetUnlessAskedToAssumeUtc) {
  auto strict = parse_time("2022-01-01 00:00:00");
  auto lenient = parse_time("2022-01-01 00:00:00", MissingOffset::kAssumeUtc);

  ASSERT_FALSE(strict);
  EXPECT_EQ(ErrorCode::kInvalidArgument, strict.error().code);
  EXPECT_NE(std::string::npos, strict.error().message.find("offset"));
  ASSERT_OK(lenient);
  EXPECT_EQ("2022-01-01T00:00:00Z", format_utc(*lenient));
}

TEST(TimeFormatTest, AcceptsLeapDayOnlyInLeapYears) {
  EXPECT_OK(parse_time("2024-02-29T12:00:00Z"));
  EXPECT_FALSE(parse_time("2023-02-29T12:00:00Z"));
  EXPECT_FALSE(parse_time("2100-02-29T12:00:00Z"));
  EXPECT_OK(parse_time("2000-02-29T12:00:00Z"));
  EXPECT_EQ(utc("2024-03-01T00:00:00Z") - utc("2024-02-28T00:00:00Z"),
            hours(48));
}

TEST(TimeFormatTest, RejectsInvalidStringsWithTheText) {
  const char* bad[] = {"",
                       "tomorrow",
                       "2026-13-01T00:00:00Z",
                       "2026-11-31T00:00:00Z",
                       "2026-11-23T25:00:00Z",
                       "2026-11-23T14:60:00Z",
                       "2026-11-23T14:00:00+25:00",
                       "2026-11-23T14:00:00Zjunk",
                       "2026-11-23T14",
                       "26-11-23T14:00:00Z"};
  for (const char* text : bad) {
    auto parsed = parse_time(text);
    EXPECT_FALSE(parsed) << text;
    if (!parsed) {
      EXPECT_NE(std::string::npos, parsed.error().message.find(text)) << text;
    }
  }
}

TEST(TimeFormatTest, EndOfDayMidnight) {
  EXPECT_EQ(utc("2026-11-24T00:00:00Z"), utc("2026-11-23T24:00:00Z"));
}

TEST(TimeFormatTest, DateAloneIsMidnightUtc) {
  EXPECT_EQ("2026-11-23T00:00:00Z", format_utc(utc("2026-11-23")));
}

TEST(DurationTest, ParsesCompactForms) {
  EXPECT_EQ(seconds(90), *parse_duration("90s"));
  EXPECT_EQ(minutes(45), *parse_duration("45m"));
  EXPECT_EQ(hours(2), *parse_duration("2h"));
  EXPECT_EQ(minutes(90), *parse_duration("1h30m"));
  EXPECT_EQ(hours(24), *parse_duration("1d"));
  EXPECT_EQ(hours(26), *parse_duration("1d2h"));
  EXPECT_EQ(hours(24 * 7), *parse_duration("1w"));
  EXPECT_EQ(seconds(3600), *parse_duration("3600"));
}

TEST(DurationTest, ParsesIso8601Forms) {
  EXPECT_EQ(hours(26), *parse_duration("P1DT2H"));
  EXPECT_EQ(minutes(90), *parse_duration("PT1H30M"));
  EXPECT_EQ(seconds(45), *parse_duration("PT45S"));
  EXPECT_EQ(hours(24 * 7), *parse_duration("P1W"));
}

TEST(DurationTest, RejectsBadDurations) {
  for (const char* text :
       {"", "-5m", "5", "h", "5x", "P1M", "P1Y", "1.5h", "PT", "P", "1h30"}) {
    if (std::string(text) == "5") {
      continue;  // Plain numbers are seconds.
    }
    EXPECT_FALSE(parse_duration(text)) << text;
  }
}

TEST(DurationTest, FormatsShortestForm) {
  EXPECT_EQ("0s", format_duration(seconds(0)));
  EXPECT_EQ("1h30m", format_duration(minutes(90)));
  EXPECT_EQ("1d2h", format_duration(hours(26)));
  EXPECT_EQ("45s", format_duration(seconds(45)));
}

TEST(TimeSpecTest, ParsesNowAndRelativeTimes) {
  TimePoint now = utc("2026-11-23T14:00:00Z");

  EXPECT_EQ(now, *parse_time_spec("now", now));
  EXPECT_EQ(now + hours(12), *parse_time_spec("+12h", now));
  EXPECT_EQ(now - minutes(30), *parse_time_spec("-30m", now));
  EXPECT_EQ(utc("2026-11-24T09:00:00Z"),
            *parse_time_spec("2026-11-24T10:00:00+01:00", now));
  EXPECT_FALSE(parse_time_spec("+soon", now));
  EXPECT_FALSE(parse_time_spec("2026-11-24 10:00", now));
}

TEST(LocalTimeTest, LondonSpringForwardDay) {
  // 2026-03-29: clocks go from 01:00 GMT to 02:00 BST.
  auto before = to_local(utc("2026-03-29T00:30:00Z"), "Europe/London");
  auto after = to_local(utc("2026-03-29T01:30:00Z"), "Europe/London");

  ASSERT_OK(before);
  ASSERT_OK(after);
  EXPECT_EQ(0, before->hour);
  EXPECT_EQ(seconds(0), before->utc_offset);
  EXPECT_EQ(2, after->hour);
  EXPECT_EQ(hours(1), after->utc_offset);
  // The local day has 23 hours.
  auto midnight =
      from_local({2026, 3, 29, 0, 0, 0, 0, seconds(0)}, "Europe/London");
  auto next =
      from_local({2026, 3, 30, 0, 0, 0, 0, seconds(0)}, "Europe/London");
  ASSERT_OK(midnight);
  ASSERT_OK(next);
  EXPECT_EQ(hours(23), *next - *midnight);
}

TEST(LocalTimeTest, LondonGapTimeMovesForward) {
  // 01:30 local does not exist on 2026-03-29; it becomes 02:30 BST.
  auto in_gap =
      from_local({2026, 3, 29, 0, 1, 30, 0, seconds(0)}, "Europe/London");

  ASSERT_OK(in_gap);
  EXPECT_EQ("2026-03-29T01:30:00Z", format_utc(*in_gap));
}

TEST(LocalTimeTest, NewYorkFallBackDay) {
  // 2026-11-01: 02:00 EDT becomes 01:00 EST; the local day has 25 hours.
  auto midnight =
      from_local({2026, 11, 1, 0, 0, 0, 0, seconds(0)}, "America/New_York");
  auto next =
      from_local({2026, 11, 2, 0, 0, 0, 0, seconds(0)}, "America/New_York");
  auto repeated =
      from_local({2026, 11, 1, 0, 1, 30, 0, seconds(0)}, "America/New_York");

  ASSERT_OK(midnight);
  ASSERT_OK(next);
  ASSERT_OK(repeated);
  EXPECT_EQ(hours(25), *next - *midnight);
  // The earlier of the two 01:30s is chosen: 01:30 EDT = 05:30Z.
  EXPECT_EQ("2026-11-01T05:30:00Z", format_utc(*repeated));
}

TEST(LocalTimeTest, NewYorkSpringForward) {
  auto local = to_local(utc("2026-03-08T07:30:00Z"), "America/New_York");

  ASSERT_OK(local);
  EXPECT_EQ(3, local->hour);
  EXPECT_EQ(hours(-4), local->utc_offset);
  EXPECT_EQ(0u, local->weekday);  // A Sunday.
}

TEST(LocalTimeTest, UnknownZoneIsAnError) {
  auto local = to_local(utc("2026-03-08T07:30:00Z"), "Mars/Olympus_Mons");

  ASSERT_FALSE(local);
  EXPECT_NE(std::string::npos, local.error().message.find("Mars/Olympus_Mons"));
  EXPECT_FALSE(is_valid_time_zone("Europe/Londn"));
  EXPECT_TRUE(is_valid_time_zone("Europe/London"));
}

}  // namespace
}  // namespace lowcarb
