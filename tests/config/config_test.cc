// SPDX-License-Identifier: Apache-2.0
#include "config/load_config.h"

#include <gtest/gtest.h>

namespace lowcarb::config {
namespace {

TEST(DefaultConfigTest, NamesItsSource) {
  EXPECT_EQ("<embedded defaults>", default_config().source);
}

}  // namespace
}  // namespace lowcarb::config
