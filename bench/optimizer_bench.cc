// SPDX-License-Identifier: Apache-2.0
// Optimizer benchmarks (Google Benchmark). Figures go to BENCHMARKS.md
// ("## Optimizer") with the command; nothing here is asserted.
//
// Series are synthetic but shaped like a grid signal: a daily cycle plus a
// weekly drift plus deterministic noise, in 5-minute steps.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "scheduler/optimizer.h"
#include "scheduler/pause_resume.h"
#include "scheduler/window_search.h"

namespace lowcarb::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = TimePoint{std::chrono::seconds{1'767'225'600}};

forecast::IntensitySeries make_series(int points, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 15);
  forecast::IntensitySeries series;
  series.zone = "Z" + std::to_string(seed);
  series.kind.horizon = forecast::Horizon::kForecast;
  const double kPi = 3.14159265358979;
  for (int i = 0; i < points; ++i) {
    const double day =
        std::sin(2 * kPi * i / 288.0 + static_cast<double>(seed));
    const double week = std::sin(2 * kPi * i / 2016.0);
    const double value =
        std::max(5.0, 250 + 120 * day + 60 * week + noise(rng));
    series.points.push_back(
        {kStart + i * 5min, kStart + (i + 1) * 5min, value});
  }
  return series;
}

// Contiguous window over the whole series (building pieces included).
void BM_ContiguousWindow(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto series = make_series(n, 1);
  const TimePoint end = kStart + n * 5min;
  for (auto _ : state) {
    auto window = best_contiguous_window(series, kStart, end, 4h);
    benchmark::DoNotOptimize(window);
  }
  state.SetComplexityN(n);
}
BENCHMARK(BM_ContiguousWindow)
    ->Arg(288)
    ->Arg(2016)
    ->Arg(105120)
    ->Complexity(benchmark::oN);

// The same through plan_job (one zone, baseline and savings included).
void BM_PlanJobOneZone(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto series = make_series(n, 1);
  PlanRequest request;
  request.now = request.earliest = kStart;
  request.deadline = kStart + n * 5min;
  request.duration = 4h;
  request.power_watts = 300;
  std::vector<ZoneOption> zones(1);
  zones[0].zone = "Z";
  zones[0].series = &series;
  for (auto _ : state) {
    auto plan = plan_job(request, zones);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanJobOneZone)->Arg(288)->Arg(2016);

// Pause-resume with a 30-minute minimum chunk on a week at 5 minutes
// (2,016 cells). Args: duration in cells (5 min each), max pauses (-1 =
// unlimited).
void BM_PauseResumeMinChunk(benchmark::State& state) {
  const auto series = make_series(2016, 2);
  const auto pieces = pieces_in(series, INT64_MIN, INT64_MAX);
  const int64_t duration = state.range(0) * 300;
  const PauseResumeOptions options{1800, static_cast<int>(state.range(1)), 0};
  for (auto _ : state) {
    auto choice = best_segments(pieces, duration, options);
    benchmark::DoNotOptimize(choice);
  }
  state.counters["states"] =
      static_cast<double>(2016 * (state.range(0) + 1) *
                          (state.range(1) < 0 ? 1 : state.range(1) + 1));
}
BENCHMARK(BM_PauseResumeMinChunk)
    ->Args({12, -1})
    ->Args({24, -1})
    ->Args({48, -1})
    ->Args({48, 3});

// Unconstrained pause-resume (cheapest time first) on the same week.
void BM_PauseResumeUnconstrained(benchmark::State& state) {
  const auto series = make_series(2016, 2);
  const auto pieces = pieces_in(series, INT64_MIN, INT64_MAX);
  for (auto _ : state) {
    auto choice = cheapest_time(pieces, 4 * 3600);
    benchmark::DoNotOptimize(choice);
  }
}
BENCHMARK(BM_PauseResumeUnconstrained);

// Space and time: 10 zones x 2,016 points, with penalties on half of them.
void BM_JointPlanTenZones(benchmark::State& state) {
  std::vector<forecast::IntensitySeries> series;
  for (int z = 0; z < 10; ++z) {
    series.push_back(make_series(2016, 10 + static_cast<uint64_t>(z)));
  }
  std::vector<ZoneOption> zones;
  for (int z = 0; z < 10; ++z) {
    ZoneOption option;
    option.zone = series[z].zone;
    option.series = &series[z];
    option.penalty_percent = z % 2 == 0 ? 0 : 10;
    zones.push_back(option);
  }
  PlanRequest request;
  request.now = request.earliest = kStart;
  request.deadline = kStart + 2016 * 5min;
  request.duration = 4h;
  for (auto _ : state) {
    auto plan = plan_job(request, zones);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_JointPlanTenZones);

}  // namespace
}  // namespace lowcarb::scheduler

BENCHMARK_MAIN();
