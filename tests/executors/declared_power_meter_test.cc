// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/declared_power_meter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/catalogue.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using ::testing::HasSubstr;

const TimePoint kStart{Duration{1'800'000'000}};

TEST(DeclaredPowerTest, PowerWattsWinsOverHardware) {
  auto power = resolve_declared_power(350.0, "gpu: A100 x 4", "");

  ASSERT_OK(power);
  EXPECT_DOUBLE_EQ(350, power->watts);
  EXPECT_FALSE(power->gpu);
}

TEST(DeclaredPowerTest, GpuSpecResolvesThroughTheHardwareTable) {
  const auto* a100 = data::find_hardware("A100");
  ASSERT_NE(nullptr, a100);

  auto power = resolve_declared_power(std::nullopt, "gpu: A100 x 4", "");

  ASSERT_OK(power);
  EXPECT_DOUBLE_EQ(4 * a100->tdp_watts, power->watts);
  EXPECT_TRUE(power->gpu);
  EXPECT_THAT(power->origin, HasSubstr("A100"));
}

TEST(DeclaredPowerTest, UnknownHardwareIsAnErrorNamingTheSpec) {
  auto power = resolve_declared_power(std::nullopt, "gpu: Z9000 x 2", "");

  ASSERT_FALSE(power);
  EXPECT_EQ(ErrorCode::kInvalidArgument, power.error().code);
  EXPECT_THAT(power.error().message, HasSubstr("gpu: Z9000 x 2"));
}

TEST(DeclaredPowerTest, NothingDeclaredIsAnError) {
  EXPECT_FALSE(resolve_declared_power(std::nullopt, "", ""));
}

TEST(DeclaredPowerMeterTest, CountsOnlyRunningTime) {
  DeclaredPowerMeter meter(DeclaredPower{100, "test", true}, kStart);

  auto first = meter.sample(kStart + Duration{10});   // 10 s running.
  meter.set_running(false, kStart + Duration{15});    // +5 s, then paused.
  auto second = meter.sample(kStart + Duration{60});  // Paused throughout.
  meter.set_running(true, kStart + Duration{100});
  auto third = meter.sample(kStart + Duration{130});  // 30 s running.

  ASSERT_OK(first);
  ASSERT_OK(second);
  ASSERT_OK(third);
  EXPECT_DOUBLE_EQ(1000, first->joules_gpu);
  EXPECT_EQ(kStart, first->start);
  EXPECT_DOUBLE_EQ(500, second->joules_gpu);
  EXPECT_DOUBLE_EQ(3000, third->joules_gpu);
  EXPECT_EQ("declared", third->source);
  EXPECT_EQ(kStart + Duration{60}, third->start);
}

}  // namespace
}  // namespace lowcarb::executors
