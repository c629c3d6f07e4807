// SPDX-License-Identifier: Apache-2.0
// History forecaster benchmarks (Google Benchmark): building the ensemble
// model over a year of hourly data, one 96 h forecast, and a whole backtest
// (hourly issue times over the year). Figures go to BENCHMARKS.md
// ("## Forecast backtest") with the command; nothing here is asserted.
// The series is synthetic: a daily cycle, a weekly drift and AR(1) noise.
#include <cmath>
#include <numbers>
#include <random>

#include <benchmark/benchmark.h>

#include "forecast/backtest.h"
#include "forecast/ensemble_forecaster.h"
#include "forecast/history_forecaster.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;

const TimePoint kStart = TimePoint{std::chrono::seconds{1'640'995'200}};

IntensitySeries year() {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 20);
  IntensitySeries series;
  series.zone = "Z";
  series.kind.horizon = Horizon::kObserved;
  double deviation = 0;
  for (int h = 0; h < 24 * 365; ++h) {
    deviation = 0.95 * deviation + noise(rng);
    const double value =
        300 + 80 * std::sin(2 * std::numbers::pi * (h % 24) / 24.0) +
        40 * std::sin(2 * std::numbers::pi * h / 168.0) + deviation;
    series.points.push_back(
        {kStart + hours(h), kStart + hours(h + 1), std::max(0.0, value)});
  }
  return series;
}

void BM_EnsembleBuildYear(benchmark::State& state) {
  const auto series = year();
  for (auto _ : state) {
    EnsembleModel model(series, EnsembleOptions{});
    benchmark::DoNotOptimize(model);
  }
}
BENCHMARK(BM_EnsembleBuildYear)->Unit(benchmark::kMillisecond);

void BM_EnsembleForecast96h(benchmark::State& state) {
  const auto series = year();
  EnsembleModel model(series, EnsembleOptions{});
  TimePoint now = kStart + hours(24 * 200);
  for (auto _ : state) {
    auto forecast = model.forecast(now, hours(96));
    benchmark::DoNotOptimize(forecast);
  }
}
BENCHMARK(BM_EnsembleForecast96h)->Unit(benchmark::kMicrosecond);

// state.range(0): 0 = seasonal naive, 1 = ensemble (model build included).
void BM_BacktestYear(benchmark::State& state) {
  const auto series = year();
  for (auto _ : state) {
    std::unique_ptr<ForecastProvider> provider;
    if (state.range(0) == 0) {
      provider = HistoryForecaster::from_series({series});
    } else {
      provider = EnsembleForecaster::from_series({series});
    }
    auto score =
        run_backtest(series, "bench", [&](TimePoint now, Duration horizon) {
          return provider->forecast("Z", now, horizon);
        });
    benchmark::DoNotOptimize(score);
  }
}
BENCHMARK(BM_BacktestYear)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lowcarb::forecast

BENCHMARK_MAIN();
