// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/node_energy_split.h"

#include <gtest/gtest.h>

namespace lowcarb::executors {
namespace {

TEST(NodeEnergySplitTest, SplitsInProportionToCpuTime) {
  auto shares = split_node_energy(1000, {{"a", 3}, {"b", 1}});

  ASSERT_EQ(2u, shares.size());
  EXPECT_EQ("a", shares[0].job_id);
  EXPECT_DOUBLE_EQ(750, shares[0].joules);
  EXPECT_DOUBLE_EQ(250, shares[1].joules);
}

TEST(NodeEnergySplitTest, LeavesOtherProcessesShareUnattributed) {
  auto shares = split_node_energy(1000, {{"a", 2}, {"b", 3}}, 10);

  EXPECT_DOUBLE_EQ(200, shares[0].joules);
  EXPECT_DOUBLE_EQ(300, shares[1].joules);
}

TEST(NodeEnergySplitTest, NodeTotalBelowJobSumIsIgnored) {
  auto shares = split_node_energy(100, {{"a", 1}, {"b", 1}}, 0.5);

  EXPECT_DOUBLE_EQ(50, shares[0].joules);
  EXPECT_DOUBLE_EQ(50, shares[1].joules);
}

TEST(NodeEnergySplitTest, IdleJobsShareEqually) {
  auto shares = split_node_energy(90, {{"a", 0}, {"b", 0}, {"c", 0}});

  ASSERT_EQ(3u, shares.size());
  for (const auto& share : shares) {
    EXPECT_DOUBLE_EQ(30, share.joules);
  }
}

TEST(NodeEnergySplitTest, NegativeCpuCountsAsZeroAndNoJobsGiveNothing) {
  auto shares = split_node_energy(100, {{"a", -5}, {"b", 2}});

  EXPECT_DOUBLE_EQ(0, shares[0].joules);
  EXPECT_DOUBLE_EQ(100, shares[1].joules);
  EXPECT_TRUE(split_node_energy(100, {}).empty());
}

}  // namespace
}  // namespace lowcarb::executors
