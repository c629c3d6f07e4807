// SPDX-License-Identifier: Apache-2.0
// The constrained pause-resume programme on instances too large for the
// brute force in optimizer_property_test.cc (hundreds of cells, up to 60
// work cells, so the vectorised rows, their padding and the ring wrap all
// matter), against a plain run-by-run reference written independently here.
#include "scheduler/pause_resume.h"

#include <limits>
#include <optional>
#include <random>

#include <gtest/gtest.h>

namespace lowcarb::scheduler {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kStep = 900;

// The least cost of `work` cells in runs of at least `min_cells`, pauses
// unlimited, no overhead: g[i][k] = best over cells [0, i) with k taken and
// every run finished; a run [i - L, i) follows an unused cell (or the start).
// O(n K^2). +inf when nothing fits.
double reference_cost(const std::vector<double>& cost, int work,
                      int min_cells) {
  const int n = static_cast<int>(cost.size());
  std::vector<double> prefix(cost.size() + 1, 0);
  std::vector<int> bad(cost.size() + 1, 0);
  for (int c = 0; c < n; ++c) {
    prefix[c + 1] = prefix[c] + (cost[c] == kInf ? 0 : cost[c]);
    bad[c + 1] = bad[c] + (cost[c] == kInf ? 1 : 0);
  }
  std::vector<std::vector<double>> g(n + 1,
                                     std::vector<double>(work + 1, kInf));
  g[0][0] = 0;
  for (int i = 1; i <= n; ++i) {
    for (int k = 0; k <= work; ++k) {
      double best = g[i - 1][k];
      for (int length = min_cells; length <= std::min(k, i); ++length) {
        const int from = i - length;
        if (bad[i] != bad[from]) {
          continue;
        }
        const double before =
            from == 0 ? (k == length ? 0 : kInf) : g[from - 1][k - length];
        best = std::min(best, before + prefix[i] - prefix[from]);
      }
      g[i][k] = best;
    }
  }
  return g[n][work];
}

TEST(PauseResumeTest, MinChunkProgrammeMatchesARunByRunReferenceOnLargeGrids) {
  std::mt19937_64 rng(2026);
  int solved = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int cells = 50 + static_cast<int>(rng() % 250);
    const int work = 1 + static_cast<int>(rng() % 60);
    const int min_cells = 1 + static_cast<int>(rng() % 8);
    std::vector<Piece> pieces;
    std::vector<double> cost;
    for (int c = 0; c < cells; ++c) {
      // The first and last cells are usable so the range is [0, n) cells.
      const bool usable = c == 0 || c == cells - 1 || rng() % 100 >= 3;
      const double value = static_cast<double>(rng() % 300);
      cost.push_back(usable ? value * kStep : kInf);
      if (usable) {
        pieces.push_back({c * kStep, (c + 1) * kStep, value});
      }
    }
    for (size_t c = 1; c < pieces.size(); ++c) {
      ASSERT_GE(pieces[c].start, pieces[c - 1].end);
    }
    const PauseResumeOptions options{min_cells * kStep, -1, 0};

    const auto got = best_segments(pieces, work * kStep, options);
    const double want = reference_cost(cost, work, std::min(min_cells, work));

    ASSERT_EQ(want != kInf, got.has_value()) << "trial " << trial;
    if (!got) {
      continue;
    }
    ++solved;
    ASSERT_EQ(want, got->value_seconds) << "trial " << trial;
    ASSERT_EQ(work * kStep, got->run_seconds) << "trial " << trial;
    for (const auto& segment : got->segments) {
      ASSERT_GE(segment.end - segment.start, std::min(min_cells, work) * kStep);
    }
  }
  EXPECT_GT(solved, 40);
}

TEST(PauseResumeTest, RepeatedCallsOnOneThreadGiveTheSameAnswer) {
  // The programme reuses per-thread buffers: a large call between two equal
  // small ones must not leak state into the second.
  std::vector<Piece> small;
  std::vector<Piece> large;
  for (int64_t c = 0; c < 40; ++c) {
    small.push_back({c * kStep, (c + 1) * kStep, double((c * 37) % 11)});
  }
  for (int64_t c = 0; c < 2000; ++c) {
    large.push_back({c * kStep, (c + 1) * kStep, double((c * 13) % 17)});
  }
  const PauseResumeOptions options{3 * kStep, 2, kStep};

  const auto first = best_segments(small, 9 * kStep, options);
  const auto between = best_segments(large, 40 * kStep, options);
  const auto second = best_segments(small, 9 * kStep, options);

  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(between.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->value_seconds, second->value_seconds);
  ASSERT_EQ(first->segments.size(), second->segments.size());
  for (size_t s = 0; s < first->segments.size(); ++s) {
    EXPECT_EQ(first->segments[s].start, second->segments[s].start);
    EXPECT_EQ(first->segments[s].end, second->segments[s].end);
  }
}

}  // namespace
}  // namespace lowcarb::scheduler
