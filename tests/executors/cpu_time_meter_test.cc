// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/cpu_time_meter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/catalogue.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using ::testing::HasSubstr;

const TimePoint kStart{Duration{1'800'000'000}};

TEST(CpuPowerModelTest, ConfigWattsPerCoreWins) {
  config::HardwareConfig hardware;
  hardware.watts_per_core = 7.5;
  hardware.cpu_model = "EPYC-7742";

  auto model = cpu_power_model(hardware);

  EXPECT_DOUBLE_EQ(7.5, model.watts_per_core);
  EXPECT_THAT(model.watts_per_core_origin, HasSubstr("config"));
}

TEST(CpuPowerModelTest, CpuModelGivesTdpPerCore) {
  config::HardwareConfig hardware;
  hardware.cpu_model = "EPYC-7742";
  const auto* info = data::find_hardware("EPYC-7742");
  ASSERT_NE(nullptr, info);

  auto model = cpu_power_model(hardware);

  EXPECT_DOUBLE_EQ(info->tdp_watts / info->cores, model.watts_per_core);
  EXPECT_THAT(model.watts_per_core_origin, HasSubstr("EPYC-7742"));
}

TEST(CpuPowerModelTest, UnknownModelFallsBackToTheDefault) {
  config::HardwareConfig hardware;
  hardware.cpu_model = "no-such-cpu";

  auto model = cpu_power_model(hardware);

  EXPECT_DOUBLE_EQ(data::default_watts_per_core(), model.watts_per_core);
  EXPECT_DOUBLE_EQ(0.3725, model.memory_watts_per_gb);
}

TEST(CpuTimeEnergyTest, AddsCpuMemoryAndIdleShare) {
  CpuPowerModel model{10, 0.5, 40, "test"};

  auto sample =
      estimate_cpu_time_energy(model, 3.0, 2'000'000'000, Duration{10}, 0.25);

  EXPECT_DOUBLE_EQ(30, sample.joules_cpu);    // 3 s x 10 W
  EXPECT_DOUBLE_EQ(10, sample.joules_ram);    // 2 GB x 0.5 W/GB x 10 s
  EXPECT_DOUBLE_EQ(100, sample.joules_idle);  // 40 W x 0.25 x 10 s
  EXPECT_DOUBLE_EQ(140, sample.joules());
  EXPECT_EQ("cpu-time-model", sample.source);
}

TEST(CpuTimeMeterTest, ReportsEnergyOfTheCpuTimeUsedPerInterval) {
  std::vector<double> cpu = {5.0, 7.0, 6.5};  // 6.5: a process vanished.
  size_t call = 0;
  CpuTimeMeter meter(
      [&](TimePoint) -> Result<TreeUsage> {
        TreeUsage usage;
        usage.cpu_seconds = cpu[call++];
        return usage;
      },
      CpuPowerModel{10, 0, 0, "test"});

  auto first = meter.sample(kStart);
  auto second = meter.sample(kStart + Duration{10});
  auto third = meter.sample(kStart + Duration{20});

  ASSERT_OK(first);
  ASSERT_OK(second);
  ASSERT_OK(third);
  EXPECT_DOUBLE_EQ(0, first->joules());
  EXPECT_DOUBLE_EQ(20, second->joules_cpu);
  EXPECT_EQ(kStart, second->start);
  EXPECT_EQ(kStart + Duration{10}, second->end);
  EXPECT_DOUBLE_EQ(0, third->joules_cpu);
}

TEST(CpuTimeMeterTest, UsageErrorsArePassedOn) {
  CpuTimeMeter meter(
      [](TimePoint) -> Result<TreeUsage> {
        return make_error(ErrorCode::kUnavailable, "no /proc");
      },
      CpuPowerModel{10, 0, 0, "test"});

  auto sample = meter.sample(kStart);

  ASSERT_FALSE(sample);
  EXPECT_EQ("no /proc", sample.error().message);
}

}  // namespace
}  // namespace lowcarb::executors
