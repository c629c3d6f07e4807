// SPDX-License-Identifier: Apache-2.0
// Plan time of the queue planner (scheduler/queue_planner.h) for 10,000 and
// 100,000 queued jobs: a cold plan (EDF placement + 4 local-search passes,
// with the capacity-free bound) and the Scheduler's re-plan round (warm start
// from the previous plans, 2 passes, no bound). Counters: late jobs, gap to
// the bound, moves. BENCHMARKS.md records the figures.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "scheduler/queue_planner.h"

namespace lowcarb::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = TimePoint{std::chrono::seconds{1'767'225'600}};

// One week at 5 minutes: daily and weekly cycles plus noise.
forecast::IntensitySeries make_series() {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 15);
  forecast::IntensitySeries series;
  series.zone = "Z";
  const double kPi = 3.14159265358979;
  for (int i = 0; i < 2016; ++i) {
    const double day = std::sin(2 * kPi * i / 288.0 + 3);
    const double week = std::sin(2 * kPi * i / 2016.0);
    const double value =
        std::max(5.0, 250 + 120 * day + 60 * week + noise(rng));
    series.points.push_back(
        {kStart + i * 5min, kStart + (i + 1) * 5min, value});
  }
  return series;
}

// `n` jobs of 5 min to 6 h, slack 0 to 24 h, earliest within ~5 days.
std::vector<QueuedJob> make_jobs(int n) {
  std::mt19937_64 rng(11);
  std::vector<QueuedJob> jobs;
  jobs.reserve(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) {
    QueuedJob job;
    job.id = "job" + std::to_string(j);
    job.earliest = kStart + std::chrono::minutes(5 * (rng() % 1400));
    job.duration = std::chrono::minutes(5 * (1 + rng() % 72));
    job.deadline =
        job.earliest + job.duration + std::chrono::minutes(5 * (rng() % 288));
    job.power_watts = 100.0 + static_cast<double>(rng() % 400);
    jobs.push_back(job);
  }
  return jobs;
}

void report(benchmark::State& state, const QueueSchedule& last) {
  state.counters["jobs"] = static_cast<double>(state.range(0));
  state.counters["slots"] = static_cast<double>(state.range(1));
  state.counters["late"] = last.late;
  state.counters["moves"] = last.moves;
  state.counters["passes"] = last.passes;
  if (last.lower_bound_grams > 0) {
    state.counters["gap_pct"] = last.gap_percent;
    state.counters["edf_gap_pct"] = 100.0 *
                                    (last.edf_grams - last.lower_bound_grams) /
                                    last.lower_bound_grams;
  }
}

// Cold: EDF placement, then local search, with the bound.
void BM_QueuePlanCold(benchmark::State& state) {
  const auto series = make_series();
  const auto jobs = make_jobs(static_cast<int>(state.range(0)));
  QueuePlannerOptions options;
  options.slots = static_cast<int>(state.range(1));
  options.warm_start = false;
  QueueSchedule last;
  for (auto _ : state) {
    auto plan = plan_zone_queue(kStart, jobs, {}, &series, options);
    last = *plan;
    benchmark::DoNotOptimize(last);
  }
  report(state, last);
}

// The re-plan round: every job keeps its previous plan if still valid.
void BM_QueueReplanWarm(benchmark::State& state) {
  const auto series = make_series();
  auto jobs = make_jobs(static_cast<int>(state.range(0)));
  QueuePlannerOptions options;
  options.slots = static_cast<int>(state.range(1));
  options.warm_start = false;
  auto first = plan_zone_queue(kStart, jobs, {}, &series, options);
  for (size_t j = 0; j < jobs.size(); ++j) {
    jobs[j].current_start = first->placements[j].start;
  }
  options.warm_start = true;
  options.max_passes = 2;
  options.lower_bound = false;
  QueueSchedule last;
  for (auto _ : state) {
    auto plan = plan_zone_queue(kStart + 5min, jobs, {}, &series, options);
    last = *plan;
    benchmark::DoNotOptimize(last);
  }
  report(state, last);
}

// Overload (issue 13): 10 slots, the queue's jobs (24 h slack) arrived over
// the last 3 days and the plan is made at its end, so about two thirds can
// no longer meet their deadlines and most of the rest are late too.
// state.range(2) = 0: the round as it was, the whole queue planned (warm start,
// 2 passes); 1: the round with the late tail, the jobs that can still be on
// time plus the tail's first 2 per slot by deadline
// (Scheduler::replan_queues()).
void BM_OverloadRound(benchmark::State& state) {
  const auto series = make_series();
  const int n = static_cast<int>(state.range(0));
  const int slots = static_cast<int>(state.range(1));
  std::mt19937_64 rng(13);
  const TimePoint now = kStart + 72h;
  std::vector<QueuedJob> all;
  for (int j = 0; j < n; ++j) {
    QueuedJob job;
    job.id = "job" + std::to_string(j);
    job.earliest = kStart + std::chrono::seconds(rng() % (72 * 3600));
    job.duration = std::chrono::minutes(5 * (1 + rng() % 72));
    job.deadline = job.earliest + job.duration + 24h;
    job.earliest = std::max(job.earliest, now);
    job.current_start = now + std::chrono::minutes(5 * (rng() % 2000));
    all.push_back(job);
  }
  std::vector<QueuedJob> planned;
  std::vector<QueuedJob> tail;
  for (const auto& job : all) {
    (now + job.duration > job.deadline ? tail : planned).push_back(job);
  }
  std::sort(tail.begin(), tail.end(), [](const auto& a, const auto& b) {
    return a.deadline < b.deadline;
  });
  if (state.range(2) == 0) {
    planned = all;
  } else {
    tail.resize(std::min(tail.size(), static_cast<size_t>(2 * slots)));
    planned.insert(planned.end(), tail.begin(), tail.end());
  }
  // The slots are busy for the next hour.
  std::vector<Segment> busy(static_cast<size_t>(slots), Segment{now, now + 1h});
  QueuePlannerOptions options;
  options.slots = slots;
  options.max_passes = 2;
  options.lower_bound = false;
  QueueSchedule last;
  for (auto _ : state) {
    auto plan = plan_zone_queue(now, planned, busy, &series, options);
    last = *plan;
    benchmark::DoNotOptimize(last);
  }
  state.counters["queued"] = n;
  state.counters["planned"] = static_cast<double>(planned.size());
  state.counters["late"] = last.late;
}

BENCHMARK(BM_OverloadRound)
    ->Args({10000, 10, 0})
    ->Args({10000, 10, 1})
    ->Args({100000, 10, 0})
    ->Args({100000, 10, 1})
    ->Unit(benchmark::kMillisecond);

// {jobs, slots}: 800 slots fit 10,000 of these jobs, 8,000 fit 100,000.
BENCHMARK(BM_QueuePlanCold)
    ->Args({10000, 400})
    ->Args({10000, 800})
    ->Args({100000, 4000})
    ->Args({100000, 8000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK(BM_QueueReplanWarm)
    ->Args({10000, 800})
    ->Args({100000, 8000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
}  // namespace lowcarb::scheduler

BENCHMARK_MAIN();
