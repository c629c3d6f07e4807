// SPDX-License-Identifier: Apache-2.0
// Randomised property tests: the optimizer against the brute-force
// references in optimizer_reference.h on thousands of seeded random series
// (steps of 5/15/30/60 minutes and irregular, nulls, gaps, off-grid bounds).
// Integer values and whole seconds keep every integral exact in a double, so
// the tests can demand exact equality, ties included.
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scheduler/optimizer.h"
#include "scheduler/pause_resume.h"
#include "scheduler/window_search.h"
#include "tests/fakes/test_support.h"
#include "tests/scheduler/optimizer_reference.h"

namespace lowcarb::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kOrigin = TimePoint{std::chrono::seconds{1'767'225'600}};

struct RandomSeries {
  forecast::IntensitySeries series;
  int64_t begin = 0;
  int64_t end = 0;
};

// A random series: regular (5/15/30/60 min) or irregular steps, integer
// values (or real values when `integer` is false), some nulls, some gaps.
RandomSeries random_series(std::mt19937_64& rng, int points, bool integer) {
  static const int64_t kSteps[] = {300, 900, 1800, 3600};
  std::uniform_int_distribution<int> pick(0, 4);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> value(0, 500);
  std::uniform_real_distribution<double> real(0, 500);
  std::uniform_int_distribution<int64_t> irregular(1, 120);
  const int kind = pick(rng);
  RandomSeries out;
  out.series.zone = "R";
  int64_t t = kOrigin.time_since_epoch().count() + pick(rng) * 60;
  out.begin = t;
  for (int i = 0; i < points; ++i) {
    const int64_t step = kind < 4 ? kSteps[kind] : irregular(rng) * 60;
    if (percent(rng) < 4) {
      t += step;  // A gap.
    }
    std::optional<double> v;
    if (percent(rng) >= 6) {
      v = integer ? static_cast<double>(value(rng)) : real(rng);
    }
    out.series.points.push_back({from_seconds(t), from_seconds(t + step), v});
    t += step;
  }
  out.end = t;
  return out;
}

TEST(OptimizerPropertyTest, ContiguousWindowMatchesBruteForceExactly) {
  std::mt19937_64 rng(20261123);
  int found = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto r = random_series(rng, 4 + static_cast<int>(rng() % 40), true);
    const int64_t span = r.end - r.begin;
    std::uniform_int_distribution<int64_t> offset(-600, span);
    int64_t lo = r.begin + offset(rng);
    int64_t hi = r.begin + offset(rng);
    if (hi < lo) {
      std::swap(lo, hi);
    }
    const int64_t duration =
        1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(span / 2 + 1));

    auto got = best_contiguous_window(r.series, from_seconds(lo),
                                      from_seconds(hi), Duration{duration});
    // Brute force: every candidate plus a lattice of starts for small ranges.
    const int64_t lattice = (hi - lo) / 400 + 1;
    auto want = reference::best_window(r.series, lo, hi, duration, lattice);

    ASSERT_EQ(want.has_value(), got.has_value())
        << "trial " << trial << " lo " << lo << " hi " << hi << " d "
        << duration;
    if (!want) {
      continue;
    }
    ++found;
    ASSERT_EQ(from_seconds(want->start), got->start) << "trial " << trial;
    ASSERT_EQ(want->mean, got->mean_gco2_per_kwh) << "trial " << trial;
  }
  EXPECT_GT(found, 1000);  // The generator must exercise real windows.
}

TEST(OptimizerPropertyTest, ContiguousWindowOnRealValuesIsWithinRounding) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 1000; ++trial) {
    auto r = random_series(rng, 10 + static_cast<int>(rng() % 200), false);
    const int64_t duration = 300 + static_cast<int64_t>(rng() % 20000);

    auto got = best_contiguous_window(r.series, from_seconds(r.begin),
                                      from_seconds(r.end), Duration{duration});
    auto want =
        reference::best_window(r.series, r.begin, r.end, duration, 0, 1e-12);

    ASSERT_EQ(want.has_value(), got.has_value()) << "trial " << trial;
    if (want) {
      ASSERT_NEAR(want->mean, got->mean_gco2_per_kwh, 1e-9 * want->mean + 1e-9)
          << "trial " << trial;
      // The reported mean is the real mean of the reported window.
      const auto real =
          reference::mean_over(r.series, got->start.time_since_epoch().count(),
                               got->end.time_since_epoch().count());
      ASSERT_TRUE(real.has_value());
      ASSERT_NEAR(*real, got->mean_gco2_per_kwh, 1e-9 * *real + 1e-9);
    }
  }
}

// A grid series of `cells` cells of 15 minutes for the pause-resume checks.
struct CellCase {
  std::vector<std::optional<double>> costs;  // value x 900 s.
  forecast::IntensitySeries series;
};

CellCase random_cells(std::mt19937_64& rng, int cells) {
  CellCase out;
  std::vector<std::optional<double>> values;
  for (int i = 0; i < cells; ++i) {
    std::optional<double> v;
    if (rng() % 100 >= 10) {
      v = static_cast<double>(rng() % 100);
    }
    values.push_back(v);
    out.costs.push_back(v ? std::optional<double>(*v * 900) : std::nullopt);
  }
  out.series = reference::regular_series("R", kOrigin, 15min, values);
  return out;
}

TEST(PauseResumePropertyTest, DynamicProgrammeMatchesBruteForceOverSubsets) {
  std::mt19937_64 rng(99);
  int solved = 0;
  for (int trial = 0; trial < 2500; ++trial) {
    const int cells = 3 + static_cast<int>(rng() % 12);
    auto c = random_cells(rng, cells);
    const int work = 1 + static_cast<int>(rng() % static_cast<uint64_t>(cells));
    const int min_cells = 1 + static_cast<int>(rng() % 4);
    const int max_pauses = static_cast<int>(rng() % 4) - 1;  // -1..2
    const int overhead = static_cast<int>(rng() % 3);
    const auto pieces = pieces_in(c.series, INT64_MIN, INT64_MAX);
    PauseResumeOptions options{min_cells * 900, max_pauses, overhead * 900};

    auto got = best_segments(pieces, work * 900, options);
    auto want = reference::best_cell_subset(
        c.costs, work, std::min(min_cells, work), max_pauses, overhead);

    ASSERT_EQ(want.has_value(), got.has_value())
        << "trial " << trial << " cells " << cells << " work " << work << " m "
        << min_cells << " p " << max_pauses << " o " << overhead;
    if (!want) {
      continue;
    }
    ++solved;
    ASSERT_EQ(*want, got->value_seconds) << "trial " << trial;
    // The segments satisfy the constraints they were planned under.
    const int pauses = static_cast<int>(got->segments.size()) - 1;
    if (max_pauses >= 0) {
      ASSERT_LE(pauses, max_pauses);
    }
    ASSERT_EQ((work + pauses * overhead) * 900, got->run_seconds);
    for (const auto& segment : got->segments) {
      ASSERT_GE(segment.end - segment.start,
                std::min(min_cells, work) * int64_t{900});
      ASSERT_TRUE(reference::mean_over(c.series, segment.start, segment.end));
    }
  }
  EXPECT_GT(solved, 1000);
}

TEST(PauseResumePropertyTest, CheapestTimeMatchesBruteForceWithoutConstraints) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 1500; ++trial) {
    const int cells = 2 + static_cast<int>(rng() % 13);
    auto c = random_cells(rng, cells);
    const int work = 1 + static_cast<int>(rng() % static_cast<uint64_t>(cells));
    const auto pieces = pieces_in(c.series, INT64_MIN, INT64_MAX);

    auto got = cheapest_time(pieces, work * 900);
    auto want = reference::best_cell_subset(c.costs, work, 1, -1, 0);

    ASSERT_EQ(want.has_value(), got.has_value()) << "trial " << trial;
    if (want) {
      ASSERT_EQ(*want, got->value_seconds) << "trial " << trial;
      ASSERT_EQ(work * 900, got->run_seconds);
    }
  }
}

TEST(PlanJobPropertyTest, PlansMeetDeadlinesAndBeatEveryZonesBestWindow) {
  std::mt19937_64 rng(314);
  for (int trial = 0; trial < 800; ++trial) {
    std::vector<RandomSeries> zones;
    const int zone_count = 1 + static_cast<int>(rng() % 3);
    for (int z = 0; z < zone_count; ++z) {
      zones.push_back(
          random_series(rng, 8 + static_cast<int>(rng() % 30), true));
      zones.back().series.zone = "Z" + std::to_string(z);
    }
    const int64_t begin = zones[0].begin + static_cast<int64_t>(rng() % 3600);
    const int64_t duration = 600 + static_cast<int64_t>(rng() % 14400);
    const int64_t deadline =
        begin + duration + static_cast<int64_t>(rng() % 86400);
    PlanRequest request;
    request.now = from_seconds(begin);
    request.earliest = from_seconds(begin);
    request.deadline = from_seconds(deadline);
    request.duration = Duration{duration};
    request.safety_margin = Duration{static_cast<int64_t>(rng() % 1800)};
    request.interruptible = rng() % 2 == 0;
    if (request.interruptible && rng() % 2 == 0) {
      request.min_chunk = Duration{900 * static_cast<int64_t>(rng() % 4)};
      request.max_pauses = static_cast<int>(rng() % 3);
    }
    std::vector<ZoneOption> options;
    for (const auto& z : zones) {
      options.push_back(reference::zone_option(z.series.zone, &z.series));
    }

    auto plan = plan_job(request, options);

    ASSERT_OK(plan);
    ASSERT_FALSE(plan->segments.empty());
    ASSERT_GE(plan->start(), request.earliest) << "trial " << trial;
    ASSERT_LE(plan->end(), request.deadline) << "trial " << trial;
    int64_t run = 0;
    for (size_t i = 0; i < plan->segments.size(); ++i) {
      const auto& s = plan->segments[i];
      run += (s.end - s.start).count();
      if (i > 0) {
        ASSERT_GT(s.start, plan->segments[i - 1].end);
      }
      if (request.max_pauses >= 0 && request.interruptible) {
        ASSERT_LE(static_cast<int>(plan->segments.size()) - 1,
                  request.max_pauses);
      }
    }
    ASSERT_GE(run, duration);
    if (plan->reason == "no-forecast") {
      continue;
    }
    // No zone offers a better contiguous window inside the plan's bounds.
    int64_t hi = deadline - request.safety_margin.count();
    if (hi - begin < duration) {
      hi = deadline;
    }
    for (const auto& z : zones) {
      auto want = reference::best_window(z.series, begin, hi, duration);
      if (want) {
        ASSERT_LE(plan->expected_gco2_per_kwh, want->mean + 1e-9)
            << "trial " << trial << " zone " << z.series.zone;
      }
    }
  }
}

}  // namespace
}  // namespace lowcarb::scheduler
