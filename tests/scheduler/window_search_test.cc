// SPDX-License-Identifier: Apache-2.0
// The window search's two paths (regular runs by boundaries only, any run by
// the merged candidate scan) must agree exactly, and pieces_in must read only
// the points that touch its range.
#include "scheduler/window_search.h"

#include <random>

#include <gtest/gtest.h>

namespace lowcarb::scheduler {
namespace {

// A regular run of `count` pieces of `step` seconds with integer values (so
// every integral is exact and ties are real ties).
std::vector<Piece> regular_run(std::mt19937_64& rng, int count, int64_t step) {
  std::vector<Piece> pieces;
  int64_t t = 1'767'225'600;
  for (int i = 0; i < count; ++i) {
    pieces.push_back({t, t + step, static_cast<double>(rng() % 20)});
    t += step;
  }
  return pieces;
}

// The same signal with piece `at` split in two, which makes the run
// irregular and sends best_window down the general path.
std::vector<Piece> split_at(const std::vector<Piece>& pieces, size_t at) {
  std::vector<Piece> out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i == at) {
      const int64_t middle = pieces[i].start + 60;
      out.push_back({pieces[i].start, middle, pieces[i].value});
      out.push_back({middle, pieces[i].end, pieces[i].value});
    } else {
      out.push_back(pieces[i]);
    }
  }
  return out;
}

TEST(BestWindowTest, RegularAndGeneralPathsAgreeIncludingTies) {
  std::mt19937_64 rng(4);
  int compared = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int64_t step = 300 * static_cast<int64_t>(1 + rng() % 4);
    const int count = 2 + static_cast<int>(rng() % 60);
    const auto pieces = regular_run(rng, count, step);
    const auto general = split_at(pieces, rng() % pieces.size());
    const int64_t duration =
        step * static_cast<int64_t>(1 + rng() % static_cast<uint64_t>(count));
    // Bounds on the grid (the fast path) or the whole run.
    const int64_t lo =
        pieces.front().start + step * static_cast<int64_t>(rng() % 3);
    const int64_t hi =
        pieces.back().end - step * static_cast<int64_t>(rng() % 3);

    const auto fast = best_window(pieces, lo, hi, duration);
    const auto slow = best_window(general, lo, hi, duration);

    ASSERT_EQ(slow.has_value(), fast.has_value()) << "trial " << trial;
    if (fast) {
      ++compared;
      ASSERT_EQ(slow->start, fast->start) << "trial " << trial;
      ASSERT_EQ(slow->mean, fast->mean) << "trial " << trial;
    }
  }
  EXPECT_GT(compared, 1500);
}

TEST(BestWindowTest, FlatSignalTiesGoToTheEarliestStartOnBothPaths) {
  std::vector<Piece> pieces;
  for (int64_t i = 0; i < 10; ++i) {
    pieces.push_back({i * 300, (i + 1) * 300, 100});
  }
  const auto fast = best_window(pieces, 600, 3000, 900);
  const auto slow = best_window(split_at(pieces, 5), 600, 3000, 900);

  ASSERT_TRUE(fast.has_value());
  ASSERT_TRUE(slow.has_value());
  EXPECT_EQ(600, fast->start);
  EXPECT_EQ(600, slow->start);
  EXPECT_EQ(100, fast->mean);
}

TEST(PiecesInTest, ReadsOnlyTheRangeOfALongSeriesAndMatchesAFullScan) {
  forecast::IntensitySeries series;
  const TimePoint origin{std::chrono::seconds{1'767'225'600}};
  for (int i = 0; i < 20'000; ++i) {
    std::optional<double> value;
    if (i % 7 != 3) {
      value = static_cast<double>(i % 500);
    }
    series.points.push_back({origin + std::chrono::minutes(5 * i),
                             origin + std::chrono::minutes(5 * (i + 1)),
                             value});
  }
  const int64_t from = to_seconds(origin) + 5'000 * 300 + 17;
  const int64_t to = from + 86'400;

  std::vector<Piece> reused(3, Piece{1, 2, 3});  // Cleared by pieces_in.
  pieces_in(series, from, to, reused);

  // The full scan, written out: every valued point clipped to the range.
  std::vector<Piece> want;
  for (const auto& point : series.points) {
    const int64_t start = std::max(to_seconds(point.start), from);
    const int64_t end = std::min(to_seconds(point.end), to);
    if (point.gco2_per_kwh && end > start) {
      want.push_back({start, end, *point.gco2_per_kwh});
    }
  }
  ASSERT_EQ(want.size(), reused.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].start, reused[i].start);
    EXPECT_EQ(want[i].end, reused[i].end);
    EXPECT_EQ(want[i].value, reused[i].value);
  }
  // Point 5000 (valued) holds `from`; the range's last point is a null.
  EXPECT_EQ(from, reused.front().start);
  EXPECT_GT(want.size(), 200u);  // About 6 in 7 of 289 points.
}

}  // namespace
}  // namespace lowcarb::scheduler
