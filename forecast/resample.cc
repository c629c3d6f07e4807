// SPDX-License-Identifier: Apache-2.0
#include "forecast/resample.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "common/assert.h"

namespace lowcarb::forecast {

namespace {

bool is_normalised(const std::vector<IntensityPoint>& points) {
  for (size_t i = 0; i < points.size(); ++i) {
    if (points[i].end <= points[i].start) {
      return false;
    }
    if (i > 0 && points[i].start < points[i - 1].end) {
      return false;
    }
  }
  return true;
}

}  // namespace

TimePoint floor_to_step(TimePoint time, Duration step) {
  LOWCARB_ASSERT(step.count() > 0);
  const auto t = time.time_since_epoch().count();
  const auto s = step.count();
  auto q = t / s;
  if (t % s != 0 && t < 0) {
    --q;
  }
  return TimePoint{Duration{q * s}};
}

std::vector<IntensityPoint> normalise_points(
    std::vector<IntensityPoint> points) {
  if (is_normalised(points)) {
    return points;
  }
  // Paint the points in listing order onto a map of disjoint intervals keyed
  // by start; each new point erases what it covers.
  std::map<TimePoint, IntensityPoint> painted;
  for (const auto& point : points) {
    if (point.end <= point.start) {
      continue;
    }
    auto it = painted.lower_bound(point.start);
    if (it != painted.begin()) {
      auto previous = std::prev(it);
      if (previous->second.end > point.start) {
        it = previous;
      }
    }
    std::optional<IntensityPoint> right;
    while (it != painted.end() && it->second.start < point.end) {
      const IntensityPoint old = it->second;
      it = painted.erase(it);
      if (old.start < point.start) {
        painted.emplace(old.start, IntensityPoint{old.start, point.start,
                                                  old.gco2_per_kwh});
      }
      if (old.end > point.end) {
        right = IntensityPoint{point.end, old.end, old.gco2_per_kwh};
      }
    }
    if (right) {
      painted.emplace(right->start, *right);
    }
    painted.emplace(point.start, point);
  }
  std::vector<IntensityPoint> out;
  out.reserve(painted.size());
  for (auto& [start, point] : painted) {
    out.push_back(point);
  }
  return out;
}

void normalise_series(IntensitySeries& series) {
  series.points = normalise_points(std::move(series.points));
}

std::optional<Duration> infer_step(std::vector<TimePoint> starts) {
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  if (starts.size() < 2) {
    return std::nullopt;
  }
  std::vector<Duration> spacings;
  spacings.reserve(starts.size() - 1);
  for (size_t i = 1; i < starts.size(); ++i) {
    spacings.push_back(starts[i] - starts[i - 1]);
  }
  // The lower median: with as many 15-minute as 30-minute spacings the finer
  // step is kept, so no known value is stretched over a hole.
  const size_t middle = (spacings.size() - 1) / 2;
  std::nth_element(spacings.begin(),
                   spacings.begin() + static_cast<std::ptrdiff_t>(middle),
                   spacings.end());
  return spacings[middle];
}

IntensitySeries resample(const IntensitySeries& series, Duration step) {
  LOWCARB_ASSERT(step.count() > 0);
  IntensitySeries out = series;
  out.points.clear();
  if (series.empty()) {
    return out;
  }
  const TimePoint grid_begin = floor_to_step(series.begin_time(), step);
  TimePoint grid_end = floor_to_step(series.end_time(), step);
  if (grid_end < series.end_time()) {
    grid_end += step;
  }
  const auto cells = static_cast<size_t>((grid_end - grid_begin) / step);
  std::vector<double> weighted_sum(cells, 0.0);
  std::vector<double> weight(cells, 0.0);
  for (const auto& point : series.points) {
    if (!point.gco2_per_kwh) {
      continue;
    }
    auto cell = static_cast<size_t>((point.start - grid_begin) / step);
    for (; cell < cells; ++cell) {
      const TimePoint cell_start = grid_begin + step * static_cast<long>(cell);
      const TimePoint cell_end = cell_start + step;
      if (cell_start >= point.end) {
        break;
      }
      const TimePoint from = std::max(cell_start, point.start);
      const TimePoint to = std::min(cell_end, point.end);
      if (to > from) {
        const auto seconds = static_cast<double>((to - from).count());
        weighted_sum[cell] += *point.gco2_per_kwh * seconds;
        weight[cell] += seconds;
      }
    }
  }
  out.points.reserve(cells);
  for (size_t cell = 0; cell < cells; ++cell) {
    const TimePoint start = grid_begin + step * static_cast<long>(cell);
    std::optional<double> value;
    if (weight[cell] > 0) {
      value = weighted_sum[cell] / weight[cell];
    }
    out.points.push_back({start, start + step, value});
  }
  return out;
}

std::vector<Gap> find_gaps(const IntensitySeries& series) {
  std::vector<Gap> gaps;
  if (series.empty()) {
    return gaps;
  }
  TimePoint cursor = series.begin_time();
  for (const auto& point : series.points) {
    if (!point.gco2_per_kwh) {
      continue;
    }
    if (point.start > cursor) {
      gaps.push_back({cursor, point.start});
    }
    cursor = std::max(cursor, point.end);
  }
  if (cursor < series.end_time()) {
    gaps.push_back({cursor, series.end_time()});
  }
  return gaps;
}

}  // namespace lowcarb::forecast
