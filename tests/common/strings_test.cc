// SPDX-License-Identifier: Apache-2.0
#include "common/strings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lowcarb {
namespace {

TEST(StringsTest, SplitKeepsEmptyFields) {
  EXPECT_THAT(split("a,,b,", ','), ::testing::ElementsAre("a", "", "b", ""));
}

TEST(StringsTest, SuggestsCloseNames) {
  std::vector<std::string> keys = {"zones", "providers", "planner", "hardware"};

  EXPECT_EQ("providers", closest_match("provider", keys).value_or(""));
  EXPECT_EQ("zones", closest_match("zone", keys).value_or(""));
  EXPECT_FALSE(closest_match("executors", keys));
  EXPECT_EQ(", did you mean 'hardware'?", did_you_mean("hardwre", keys));
}

TEST(StringsTest, ParsesNumbersStrictly) {
  EXPECT_EQ(1.5, parse_double(" 1.5 ").value_or(0));
  EXPECT_FALSE(parse_double("1.5x"));
  EXPECT_FALSE(parse_double("nan"));
  EXPECT_FALSE(parse_double(""));
  EXPECT_EQ(42, parse_integer("42").value_or(0));
  EXPECT_FALSE(parse_integer("4.2"));
}

}  // namespace
}  // namespace lowcarb
