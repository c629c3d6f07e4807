// SPDX-License-Identifier: Apache-2.0
#include "data/catalogue.h"

#include <gtest/gtest.h>

namespace lowcarb::data {
namespace {

TEST(CatalogueTest, FindsZonesByIdAndCloudRegion) {
  const ZoneInfo* by_id = find_zone("de");
  const ZoneInfo* by_region = find_zone("eu-central-1");

  ASSERT_NE(nullptr, by_id);
  EXPECT_EQ("DE", by_id->id);
  EXPECT_EQ(by_id, by_region);
  EXPECT_EQ(nullptr, find_zone("XX-NOWHERE"));
}

TEST(CatalogueTest, FindsHardwareIgnoringSpelling) {
  const HardwareInfo* gpu = find_hardware("a100 80gb sxm");

  ASSERT_NE(nullptr, gpu);
  EXPECT_EQ("gpu", gpu->kind);
  EXPECT_GT(gpu->tdp_watts, 0);
}

}  // namespace
}  // namespace lowcarb::data
