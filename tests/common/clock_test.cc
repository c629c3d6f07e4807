// SPDX-License-Identifier: Apache-2.0
#include "common/clock.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lowcarb {
namespace {

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(*parse_time("2026-11-23T00:00:00Z"));

  clock.advance(std::chrono::hours(2));
  auto after_advance = clock.now();
  clock.set(*parse_time("2027-01-01T00:00:00Z"));

  EXPECT_EQ("2026-11-23T02:00:00Z", format_utc(after_advance));
  EXPECT_EQ("2027-01-01T00:00:00Z", format_utc(clock.now()));
}

TEST(SystemClockTest, IsAfterThisCodeWasWritten) {
  SystemClock clock;

  EXPECT_GT(clock.now(), *parse_time("2024-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace lowcarb
