// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/trace_forecast_provider.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"
#include "tests/simulation/sim_test_util.h"

namespace lowcarb::scheduler::simulation {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(TraceForecastProviderTest, PerfectReturnsTheActualValuesOfTheHorizon) {
  TraceIntensityHistory trace({hourly_series("DE", {10, 20, 30, 40, 50})});
  TraceForecastProvider provider(trace, {});

  auto forecast = provider.forecast("DE", sim_t0() + 1h, 2h);

  ASSERT_OK(forecast);
  ASSERT_EQ(2u, forecast->points.size());
  EXPECT_EQ(20.0, forecast->points[0].gco2_per_kwh);
  EXPECT_EQ(30.0, forecast->points[1].gco2_per_kwh);
  EXPECT_EQ(forecast::Horizon::kForecast, forecast->kind.horizon);
  EXPECT_EQ(sim_t0() + 1h, forecast->generated_at);
}

TEST(TraceForecastProviderTest, UnknownZoneIsNotFound) {
  TraceIntensityHistory trace({hourly_series("DE", {10})});
  TraceForecastProvider provider(trace, {});

  auto forecast = provider.forecast("XX", sim_t0(), 1h);

  ASSERT_FALSE(forecast);
  EXPECT_EQ(ErrorCode::kNotFound, forecast.error().code);
}

TEST(TraceForecastProviderTest, NoisyForecastsAreDeterministicBySeed) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(3))});
  auto spec = *forecast_spec_from_string("noisy:0.05", 42);
  TraceForecastProvider first(trace, spec);
  TraceForecastProvider again(trace, spec);
  TraceForecastProvider other(trace,
                              *forecast_spec_from_string("noisy:0.05", 43));

  auto a = first.forecast("DE", sim_t0(), 48h);
  auto b = again.forecast("DE", sim_t0(), 48h);
  auto c = other.forecast("DE", sim_t0(), 48h);

  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(c);
  EXPECT_EQ(a->points, b->points);
  EXPECT_NE(a->points, c->points);
}

TEST(TraceForecastProviderTest, NoiseHasTheRequestedRelativeSpread) {
  TraceIntensityHistory trace({hourly_series("DE", {100})});
  TraceForecastProvider provider(trace,
                                 *forecast_spec_from_string("noisy:5%", 7));
  double sum = 0;
  double sum_squares = 0;
  const int n = 20000;

  for (int i = 0; i < n; ++i) {
    double e = provider.noise_factor("DE", sim_t0() + std::chrono::hours(i),
                                     sim_t0()) -
               1.0;
    sum += e;
    sum_squares += e * e;
  }

  double mean = sum / n;
  double sd = std::sqrt(sum_squares / n - mean * mean);
  EXPECT_NEAR(0.0, mean, 0.002);
  EXPECT_NEAR(0.05, sd, 0.002);
}

TEST(TraceForecastProviderTest,
     ForecastsIssuedAtDifferentTimesHaveFreshErrors) {
  TraceIntensityHistory trace({hourly_series("DE", daily_cycle(2))});
  TraceForecastProvider provider(trace,
                                 *forecast_spec_from_string("noisy:0.1", 1));

  double issued_now = provider.noise_factor("DE", sim_t0() + 5h, sim_t0());
  double issued_later =
      provider.noise_factor("DE", sim_t0() + 5h, sim_t0() + 1h);

  EXPECT_NE(issued_now, issued_later);
}

TEST(TraceForecastProviderTest, HistoryForecastNeverReadsTheFuture) {
  // Five quiet days, then a spike: a forecast issued before the spike
  // cannot contain it.
  auto values = std::vector<double>(24 * 5, 100.0);
  values.insert(values.end(), 24, 900.0);
  TraceIntensityHistory trace({hourly_series("DE", values)});
  TraceForecastProvider provider(trace,
                                 *forecast_spec_from_string("history", 1));

  auto forecast = provider.forecast("DE", sim_t0() + 24h * 5, 24h);

  ASSERT_OK(forecast);
  ASSERT_FALSE(forecast->points.empty());
  for (const auto& point : forecast->points) {
    ASSERT_TRUE(point.gco2_per_kwh);
    EXPECT_LT(*point.gco2_per_kwh, 200.0);
  }
}

TEST(TraceForecastProviderTest, ParsesForecastSpecs) {
  EXPECT_EQ(ForecastMode::kPerfect,
            forecast_spec_from_string("perfect", 1)->mode);
  EXPECT_DOUBLE_EQ(0.05, forecast_spec_from_string("noisy:0.05", 1)->sigma);
  EXPECT_DOUBLE_EQ(0.05, forecast_spec_from_string("noisy:5%", 1)->sigma);
  auto bad = forecast_spec_from_string("noisy:-1", 1);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("noisy:-1"));
  EXPECT_FALSE(forecast_spec_from_string("oracle", 1));
}

}  // namespace
}  // namespace lowcarb::scheduler::simulation
