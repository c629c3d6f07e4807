// SPDX-License-Identifier: Apache-2.0
#include "scheduler/scaled_clock.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lowcarb::scheduler {
namespace {

const TimePoint kStart = *parse_time("2026-11-23T12:00:00Z");

TEST(ScaledClockTest, StartsAtTheBaseClocksTime) {
  ManualClock base(kStart);

  ScaledClock clock(base, 3600);

  // At most a few seconds of scaled time pass while the test runs.
  EXPECT_GE(clock.now(), kStart);
  EXPECT_LT(clock.now(), kStart + std::chrono::minutes(5));
}

TEST(ScaledClockTest, AnHourAheadIsAboutOneRealSecondAtSpeed3600) {
  ManualClock base(kStart);
  ScaledClock clock(base, 3600);

  auto wait = clock.real_time_until(kStart + std::chrono::hours(1));

  EXPECT_LE(wait, std::chrono::seconds(1));
  EXPECT_GT(wait, std::chrono::milliseconds(900));
}

TEST(ScaledClockTest, PastTimesNeedNoWait) {
  ManualClock base(kStart);
  ScaledClock clock(base, 10);

  EXPECT_EQ(std::chrono::nanoseconds(0),
            clock.real_time_until(kStart - std::chrono::hours(1)));
}

}  // namespace
}  // namespace lowcarb::scheduler
