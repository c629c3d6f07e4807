// SPDX-License-Identifier: Apache-2.0
#include "config/value_parsers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::config {
namespace {

using ::testing::HasSubstr;

TEST(ParseHourRangeTest, AcceptsHoursWithAndWithoutMinutes) {
  auto night = parse_hour_range("22-06");
  auto lunch = parse_hour_range(" 12:00 - 14:00 ");
  auto day = parse_hour_range("0-24");

  ASSERT_OK(night);
  ASSERT_OK(lunch);
  ASSERT_OK(day);
  EXPECT_EQ(22, night->start_hour);
  EXPECT_EQ(6, night->end_hour);
  EXPECT_EQ(12, lunch->start_hour);
  EXPECT_EQ(14, lunch->end_hour);
  EXPECT_EQ(0, day->start_hour);
  EXPECT_EQ(24, day->end_hour);
}

TEST(ParseHourRangeTest, MidnightAsAnEndMeansTwentyFour) {
  auto evening = parse_hour_range("18-00");

  ASSERT_OK(evening);
  EXPECT_EQ(24, evening->end_hour);
}

TEST(ParseHourRangeTest, RejectsEmptyOutOfRangeAndPartialHours) {
  for (const char* bad : {"22-22", "24-06", "25-07", "9", "9-", "-5",
                          "22:30-06:00", "a-b", "1-2-3", "100-2"}) {
    auto parsed = parse_hour_range(bad);

    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(ErrorCode::kInvalidArgument, parsed.error().code);
    EXPECT_THAT(parsed.error().message,
                HasSubstr(std::string("found \"") + bad + "\""));
  }
}

TEST(ParseHourRangeTest, FormatsWithTwoDigits) {
  EXPECT_EQ("22-06", format_hour_range({22, 6}));
  EXPECT_EQ("00-24", format_hour_range({0, 24}));
}

TEST(ParsePenaltyTest, PlainNumberIsGramsAndPercentIsRelative) {
  auto grams = parse_penalty("25");
  auto percent = parse_penalty("12.5%");

  ASSERT_OK(grams);
  ASSERT_OK(percent);
  EXPECT_EQ(25, grams->gco2_per_kwh);
  EXPECT_EQ(0, grams->percent);
  EXPECT_EQ(12.5, percent->percent);
  EXPECT_EQ(0, percent->gco2_per_kwh);
}

TEST(ParsePenaltyTest, RejectsNegativeAndNonNumeric) {
  for (const char* bad : {"-5", "-5%", "ten", "%", "10 percent"}) {
    EXPECT_FALSE(parse_penalty(bad)) << bad;
  }
}

TEST(ParseDeviceSpecTest, ResolvesGpusFromTheTableTimesTheCount) {
  auto spec = parse_device_spec("gpu: A100 x 4", "");

  ASSERT_OK(spec);
  EXPECT_EQ("gpu", spec->kind);
  EXPECT_EQ("A100", spec->model);
  EXPECT_EQ(4, spec->count);
  EXPECT_EQ(1600, spec->watts);
}

TEST(ParseDeviceSpecTest, AcceptsPlainWatts) {
  for (const char* text : {"350", "350W", "350 W", "350w"}) {
    auto spec = parse_device_spec(text, "");

    ASSERT_OK(spec);
    EXPECT_EQ("watts", spec->kind) << text;
    EXPECT_EQ(350, spec->watts) << text;
  }
}

TEST(ParseDeviceSpecTest, BareCpuUsesTheConfiguredModel) {
  auto spec = parse_device_spec("cpu x 2", "EPYC-7763");
  auto missing = parse_device_spec("cpu", "");

  ASSERT_OK(spec);
  EXPECT_EQ("EPYC-7763", spec->model);
  EXPECT_EQ(560, spec->watts);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("hardware.cpu_model"));
}

TEST(ParseDeviceSpecTest, KeepsTheXInsideModelNames) {
  auto mi = parse_device_spec("gpu: MI250X x 8", "");
  auto rtx = parse_device_spec("RTX4090", "");

  ASSERT_OK(mi);
  ASSERT_OK(rtx);
  EXPECT_EQ("MI250X", mi->model);
  EXPECT_EQ(8, mi->count);
  EXPECT_EQ("RTX-4090", rtx->model);
  EXPECT_EQ(1, rtx->count);
}

TEST(ParseDeviceSpecTest, SuggestsTheClosestModelOfTheRightKind) {
  auto spec = parse_device_spec("cpu: EPYC-776 x 2", "");

  ASSERT_FALSE(spec);
  EXPECT_EQ(
      "expected a CPU model from the hardware table, found \"EPYC-776\", "
      "did you mean 'EPYC-7763'?",
      spec.error().message);
}

TEST(ParseDeviceSpecTest, RejectsZeroCountAndUnknownKind) {
  EXPECT_FALSE(parse_device_spec("gpu: T4 x 0", ""));
  EXPECT_FALSE(parse_device_spec("tpu: v4 x 8", ""));
  EXPECT_FALSE(parse_device_spec("-20W", ""));
  EXPECT_FALSE(parse_device_spec("", ""));
}

}  // namespace
}  // namespace lowcarb::config
