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

TEST(StringsTest, SplitDirectiveWordsGroupsQuotesAndStopsAtAComment) {
  using V = std::vector<std::string>;
  EXPECT_EQ((V{"--job-name", "a b", "-N", "2"}),
            split_directive_words(" --job-name \"a b\"\t-N 2"));
  EXPECT_EQ((V{"--comment=it's", "x"}),
            split_directive_words("--comment=\"it's\" 'x'"));
  EXPECT_EQ((V{"--time=10", "a#b"}),
            split_directive_words("--time=10 a#b # the rest is a comment"));
  EXPECT_EQ((V{"''"}), split_directive_words("\"''\""));
  EXPECT_EQ(V{}, split_directive_words("  # only a comment"));
}

}  // namespace
}  // namespace lowcarb
