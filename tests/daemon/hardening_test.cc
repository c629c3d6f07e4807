// SPDX-License-Identifier: Apache-2.0
// The request hardening pieces on their own: the JSON depth pre-scan and the
// accept loop's back-off decisions.
#include <cerrno>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scheduler/api/accept_backoff.h"
#include "scheduler/api/json_depth.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::api {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(JsonDepthTest, CountsNestingOfArraysAndObjects) {
  EXPECT_EQ(0u, json_nesting_depth("42"));
  EXPECT_EQ(1u, json_nesting_depth(R"({"op":"ping"})"));
  EXPECT_EQ(3u, json_nesting_depth(R"({"a":[{"b":1}],"c":[]})"));
  EXPECT_EQ(100000u, json_nesting_depth(std::string(100000, '[')));
}

TEST(JsonDepthTest, BracketsInsideStringsDoNotCount) {
  EXPECT_EQ(1u, json_nesting_depth(R"({"s":"[[[[{{{{"})"));
  EXPECT_EQ(1u, json_nesting_depth(R"({"s":"quote \" [[[["})"));
  EXPECT_EQ(1u, json_nesting_depth(R"({"s":"backslash \\","t":1})"));
  EXPECT_EQ(2u, json_nesting_depth(R"({"s":"\\",  "t":[1]})"));
}

TEST(JsonDepthTest, CheckRefusesBeyondTheLimitWithAClearError) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  const std::string deep = std::string(65, '[') + std::string(65, ']');

  EXPECT_OK(check_json_depth(ok));
  auto refused = check_json_depth(deep);
  ASSERT_FALSE(refused);
  EXPECT_EQ(ErrorCode::kInvalidArgument, refused.error().code);
  EXPECT_THAT(refused.error().message, HasSubstr("deeper than 64 levels"));
}

boost::system::error_code system_error(int value) {
  return {value, boost::system::system_category()};
}

TEST(AcceptBackoffTest, OutOfDescriptorsWaitsLongerEachTimeAndLogsOnce) {
  AcceptBackoff backoff;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::chrono::milliseconds> delays;
  int logged = 0;
  for (int i = 0; i < 8; ++i) {
    auto decision = backoff.on_error(system_error(EMFILE), now, "sock");
    delays.push_back(decision.delay);
    logged += decision.log.empty() ? 0 : 1;
  }
  std::string recovered = backoff.on_success("sock");
  std::string quiet = backoff.on_success("sock");

  EXPECT_EQ(100ms, delays[0]);
  EXPECT_EQ(200ms, delays[1]);
  EXPECT_EQ(2000ms, delays.back());  // Capped.
  EXPECT_EQ(1, logged);
  EXPECT_THAT(recovered, HasSubstr("works again after 8 failed attempts"));
  EXPECT_EQ("", quiet);
  // A new episode starts from the shortest wait again.
  EXPECT_EQ(100ms, backoff.on_error(system_error(ENFILE), now, "sock").delay);
}

TEST(AcceptBackoffTest, OtherErrorsRetryAtOnceAndLogAtMostOncePerSecond) {
  AcceptBackoff backoff;
  const auto now = std::chrono::steady_clock::now();
  auto first = backoff.on_error(system_error(ECONNABORTED), now, "sock");
  auto second =
      backoff.on_error(system_error(ECONNABORTED), now + 10ms, "sock");
  auto later =
      backoff.on_error(system_error(ECONNABORTED), now + 1100ms, "sock");

  EXPECT_EQ(0ms, first.delay);
  EXPECT_THAT(first.log, HasSubstr("accept on sock"));
  EXPECT_EQ("", second.log);
  EXPECT_NE("", later.log);
}

}  // namespace
}  // namespace lowcarb::scheduler::api
