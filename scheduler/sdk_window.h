// SPDX-License-Identifier: Apache-2.0
// Carbon Aware SDK compatibility: the exact semantics of the SDK's
// `/emissions/forecasts/current` post-processing (v1.8,
// ForecastHandler.ProcessAndValidateForecast): default and validate
// dataStartAt/dataEndAt, filter the points, the rolling average of
// `windowSize` anchored at dataStartAt and sliding by the first point's
// duration, and `optimalDataPoints` = every window with the minimum value
// (all ties, in time order). Quirks kept on purpose, because clients compare
// our answers with the SDK's:
//   - without windowSize the raw points are returned, including a point that
//     starts exactly at dataEndAt (the filter keeps Time <= dataEndAt);
//   - the first window is emitted even when it ends after dataEndAt (the
//     bound is checked only before the second and later windows);
//   - averages use .NET arithmetic: each term is `rating * TimeSpan` rounded
//     to whole 100 ns ticks (banker's rounding), divided by the total ticks.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb::scheduler::sdk {

// The SDK's EmissionsData: a value over [time, time + duration).
struct EmissionsData {
  TimePoint time;
  Duration duration{0};
  double rating = 0;  // gCO2eq/kWh.
};

struct ForecastQuery {
  std::vector<EmissionsData> forecast;  // Chronological, as the source gave.
  std::optional<TimePoint> data_start_at;
  std::optional<TimePoint> data_end_at;
  std::optional<Duration> window_size;  // The `windowSize` minutes, as time.
};

struct ForecastAnswer {
  TimePoint data_start_at;
  TimePoint data_end_at;
  Duration window_size{0};  // The first window's duration; 0 when none.
  std::vector<EmissionsData> forecast_data;
  std::vector<EmissionsData> optimal_data_points;
};

// kInvalidArgument, like the SDK's 400 answers, with the SDK's messages
// ("dataStartAt out of range", "dataEndAt out of range", "dataStartAt must
// be earlier than dataEndAt", joined by "; "), or when the data is not
// continuous where the SDK throws.
Result<ForecastAnswer> process_forecast(const ForecastQuery& query);

}  // namespace lowcarb::scheduler::sdk
