// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/nvml_meter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lowcarb::executors {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(NvmlMeterTest, MissingLibraryIsUnavailableWithTheReason) {
  auto meter = NvmlMeter::create("libnvidia-ml-does-not-exist.so.1");

  ASSERT_FALSE(meter);
  EXPECT_EQ(ErrorCode::kUnavailable, meter.error().code);
  EXPECT_THAT(meter.error().message,
              HasSubstr("libnvidia-ml-does-not-exist.so.1"));
  EXPECT_THAT(meter.error().message, HasSubstr("no GPU energy is measured"));
}

TEST(NvmlMeterTest, DefaultLibraryOnAMachineWithoutNvidiaDriver) {
  auto meter = NvmlMeter::create();
  if (meter) {
    GTEST_SKIP() << "this machine has NVML with " << (*meter)->device_count()
                 << " GPU(s)";
  }

  EXPECT_EQ(ErrorCode::kUnavailable, meter.error().code);
  EXPECT_THAT(meter.error().message, HasSubstr("NVML"));
}

TEST(CudaVisibleDevicesTest, ParsesIndicesAndUuids) {
  auto refs = parse_cuda_visible_devices(" 1, GPU-8f3c2b, 3 ");

  ASSERT_EQ(3u, refs.size());
  EXPECT_EQ(1, refs[0].index);
  EXPECT_EQ("GPU-8f3c2b", refs[1].uuid);
  EXPECT_FALSE(refs[1].index);
  EXPECT_EQ(3, refs[2].index);
}

TEST(CudaVisibleDevicesTest, StopsAtTheFirstInvalidEntryLikeCuda) {
  EXPECT_EQ(2u, parse_cuda_visible_devices("0,1,-1,2").size());
  EXPECT_EQ(1u, parse_cuda_visible_devices("0,bogus,2").size());
}

TEST(CudaVisibleDevicesTest, EmptyOrNoDevFilesMeansNoGpu) {
  EXPECT_TRUE(parse_cuda_visible_devices("").empty());
  EXPECT_TRUE(parse_cuda_visible_devices("NoDevFiles").empty());
}

TEST(CudaVisibleDevicesTest, ResolvesUuidPrefixesAndDropsUnknowns) {
  const std::vector<std::string> uuids = {"GPU-aaaa-1111", "GPU-bbbb-2222",
                                          "GPU-bbbc-3333"};

  auto indices = resolve_gpu_indices(
      parse_cuda_visible_devices("GPU-aaaa,2,7,GPU-bbb,0"), uuids);

  // GPU-bbb is ambiguous, 7 does not exist, 0 repeats GPU-aaaa.
  EXPECT_THAT(indices, ElementsAre(0, 2));
}

TEST(GpuAttributionTest, SharedGpuIsSplitEquallyAmongItsJobs) {
  auto joules = attribute_gpu_energy({100, 60, 40}, {{0}, {1, 0}, {}});

  ASSERT_EQ(3u, joules.size());
  EXPECT_DOUBLE_EQ(50, joules[0]);
  EXPECT_DOUBLE_EQ(110, joules[1]);
  EXPECT_DOUBLE_EQ(0, joules[2]);
}

}  // namespace
}  // namespace lowcarb::executors
