// SPDX-License-Identifier: Apache-2.0
// A line-by-line restatement of the SDK's C# (IntervalHelper.FilterByDuration,
// EmissionsDataExtensions.RollingAverage and AverageOverPeriod,
// ForecastHandler.ProcessAndValidateForecast); keep it that way so a diff
// against the SDK stays readable.
#include "scheduler/sdk_window.h"

#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>

#include "common/time_format.h"

namespace lowcarb::scheduler::sdk {
namespace {

constexpr int64_t kTicksPerSecond = 10'000'000;  // .NET TimeSpan ticks.

int64_t ticks(Duration d) { return d.count() * kTicksPerSecond; }

Error invalid(const std::string& message) {
  return Error{ErrorCode::kInvalidArgument,
               "Invalid EmissionsForecast: " + message};
}

// AverageOverPeriod. .NET evaluates `rating * (upper - lower) / total` as
// (double * TimeSpan) -> TimeSpan rounded to ticks, then TimeSpan / TimeSpan.
Result<double> average_over_period(const std::deque<EmissionsData>& data,
                                   TimePoint start, TimePoint end) {
  double rating = 0.0;
  const int64_t total = ticks(end - start);
  if (data.empty()) {
    return rating;
  }
  const bool reverse = data.size() > 1 && data[0].time > data[1].time;
  bool start_covered = false;
  bool end_covered = false;
  const EmissionsData* previous = nullptr;
  for (const auto& current : data) {
    const TimePoint current_end = current.time + current.duration;
    if (previous != nullptr) {
      const bool continuous =
          reverse ? previous->time == current.time + current.duration
                  : current.time == previous->time + previous->duration;
      if (!continuous) {
        return tl::unexpected(invalid(
            "AverageOverPeriod requires continuous chronological data; gap "
            "before " +
            format_utc(current.time)));
      }
    }
    if (current_end > start && current.time < end) {
      const TimePoint lower = start >= current.time ? start : current.time;
      const TimePoint upper = end < current_end ? end : current_end;
      const double scaled =
          std::nearbyint(static_cast<double>(ticks(upper - lower)) *
                         current.rating);  // Math.Round: ties to even.
      rating += scaled / static_cast<double>(total);
    }
    if (!start_covered) {
      start_covered = start >= current.time && start < current_end;
    }
    if (!end_covered) {
      end_covered = end <= current_end && end > current.time;
    }
    previous = &current;
  }
  if (!start_covered || !end_covered) {
    return tl::unexpected(invalid("Period out of range: " + format_utc(start) +
                                  " through " + format_utc(end)));
  }
  return rating;
}

Result<std::vector<EmissionsData>> rolling_average(
    const std::vector<EmissionsData>& data, Duration window_size,
    TimePoint data_start_at, TimePoint data_end_at) {
  std::vector<EmissionsData> out;
  if (data.empty()) {
    return out;
  }
  if (window_size.count() == 0) {
    return data;
  }
  size_t next = 0;
  const EmissionsData* current = &data[next++];
  const EmissionsData* last = nullptr;
  const Duration tick_size = current->duration;
  if (tick_size.count() <= 0) {
    return tl::unexpected(invalid("RollingAverage tickSize must be > 0"));
  }
  if (data_start_at < current->time) {
    data_start_at = current->time;
  }
  std::deque<EmissionsData> queue;
  TimePoint window_start = data_start_at;
  TimePoint window_end = window_start + window_size;
  while (current != nullptr) {
    while (current != nullptr && window_end > current->time) {
      if (window_start <= current->time + current->duration) {
        queue.push_back(*current);
      }
      last = current;
      current = next < data.size() ? &data[next++] : nullptr;
    }
    if (last != nullptr && last->time + last->duration >= window_end) {
      auto average = average_over_period(queue, window_start, window_end);
      if (!average) {
        return tl::unexpected(average.error());
      }
      out.push_back({window_start, window_end - window_start, *average});
    }
    window_start = window_start + tick_size;
    window_end = window_start + window_size;
    if (window_end > data_end_at) {
      break;
    }
    if (queue.empty()) {  // Queue<T>.Peek() throws on an empty queue.
      return tl::unexpected(invalid("Queue empty"));
    }
    while (!queue.empty() &&
           queue.front().time + queue.front().duration < window_start) {
      queue.pop_front();
    }
  }
  return out;
}

}  // namespace

Result<ForecastAnswer> process_forecast(const ForecastQuery& query) {
  if (query.forecast.empty()) {
    return tl::unexpected(invalid("the forecast has no data points"));
  }
  const auto& first = query.forecast.front();
  const auto& last = query.forecast.back();
  ForecastAnswer answer;
  answer.data_start_at = query.data_start_at.value_or(first.time);
  answer.data_end_at = query.data_end_at.value_or(last.time + last.duration);

  std::string messages;
  auto add = [&messages](const char* message) {
    messages += messages.empty() ? "" : "; ";
    messages += message;
  };
  if (answer.data_start_at < first.time) {
    add("dataStartAt out of range");
  }
  if (answer.data_end_at > last.time + last.duration) {
    add("dataEndAt out of range");
  }
  if (answer.data_start_at >= answer.data_end_at) {
    add("dataStartAt must be earlier than dataEndAt");
  }
  if (!messages.empty()) {
    return tl::unexpected(invalid(messages));
  }

  std::vector<EmissionsData> filtered;
  for (const auto& d : query.forecast) {
    if (d.time + d.duration >= answer.data_start_at &&
        d.time <= answer.data_end_at) {
      filtered.push_back(d);
    }
  }
  auto averaged =
      rolling_average(filtered, query.window_size.value_or(Duration{0}),
                      answer.data_start_at, answer.data_end_at);
  if (!averaged) {
    return tl::unexpected(averaged.error());
  }
  answer.forecast_data = std::move(*averaged);
  if (!answer.forecast_data.empty()) {
    double best = answer.forecast_data.front().rating;
    for (const auto& d : answer.forecast_data) {
      best = d.rating < best ? d.rating : best;
    }
    for (const auto& d : answer.forecast_data) {
      if (d.rating == best) {  // Exact, as the SDK compares.
        answer.optimal_data_points.push_back(d);
      }
    }
    answer.window_size = answer.forecast_data.front().duration;
  }
  return answer;
}

}  // namespace lowcarb::scheduler::sdk
