// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/trace_intensity_history.h"

#include <algorithm>

namespace lowcarb::scheduler::simulation {
namespace {

// Index of the first point whose end is after `time`.
size_t first_ending_after(const std::vector<forecast::IntensityPoint>& points,
                          TimePoint time) {
  return static_cast<size_t>(
      std::upper_bound(points.begin(), points.end(), time,
                       [](TimePoint t, const forecast::IntensityPoint& p) {
                         return t < p.end;
                       }) -
      points.begin());
}

}  // namespace

TraceIntensityHistory::TraceIntensityHistory(
    std::vector<forecast::IntensitySeries> series) {
  for (auto& one : series) {
    if (zones_.count(one.zone)) {
      continue;
    }
    ZoneData data;
    data.value_seconds.reserve(one.points.size() + 1);
    data.covered_seconds.reserve(one.points.size() + 1);
    data.value_seconds.push_back(0);
    data.covered_seconds.push_back(0);
    for (const auto& point : one.points) {
      long long length = (point.end - point.start).count();
      bool known = point.gco2_per_kwh.has_value();
      data.value_seconds.push_back(data.value_seconds.back() +
                                   (known ? *point.gco2_per_kwh * length : 0));
      data.covered_seconds.push_back(data.covered_seconds.back() +
                                     (known ? length : 0));
    }
    order_.push_back(one.zone);
    std::string zone = one.zone;
    data.series = std::move(one);
    zones_.emplace(zone, std::move(data));
  }
}

std::pair<double, long long> TraceIntensityHistory::integrate(
    const ZoneData& data, TimePoint from, TimePoint to) const {
  const auto& points = data.series.points;
  if (points.empty() || to <= from) {
    return {0, 0};
  }
  // Whole points inside, plus the partial ones at either end.
  size_t first = first_ending_after(points, from);
  size_t last = first_ending_after(points, to);  // Point containing `to`.
  if (first >= points.size()) {
    return {0, 0};
  }
  auto partial = [&](size_t index, TimePoint lo, TimePoint hi) {
    const auto& point = points[index];
    TimePoint start = std::max(lo, point.start);
    TimePoint end = std::min(hi, point.end);
    if (end <= start || !point.gco2_per_kwh) {
      return std::pair<double, long long>{0, 0};
    }
    long long length = (end - start).count();
    return std::pair<double, long long>{*point.gco2_per_kwh * length, length};
  };
  if (first == last) {
    return partial(first, from, to);
  }
  auto head = partial(first, from, to);
  double value = head.first;
  long long covered = head.second;
  // Points first+1 .. last-1 lie wholly inside.
  value += data.value_seconds[last] - data.value_seconds[first + 1];
  covered += data.covered_seconds[last] - data.covered_seconds[first + 1];
  if (last < points.size()) {
    auto tail = partial(last, from, to);
    value += tail.first;
    covered += tail.second;
  }
  return {value, covered};
}

std::optional<double> TraceIntensityHistory::mean(const std::string& zone,
                                                  TimePoint from,
                                                  TimePoint to) const {
  auto it = zones_.find(zone);
  if (it == zones_.end()) {
    return std::nullopt;
  }
  auto [value, covered] = integrate(it->second, from, to);
  if (covered <= 0) {
    return std::nullopt;
  }
  return value / static_cast<double>(covered);
}

std::optional<RealizedIntensity> TraceIntensityHistory::realized(
    const std::string& zone, TimePoint from, TimePoint to) {
  auto value = mean(zone, from, to);
  if (!value) {
    return std::nullopt;
  }
  return RealizedIntensity{*value, "trace/observed"};
}

const forecast::IntensitySeries* TraceIntensityHistory::series(
    const std::string& zone) const {
  auto it = zones_.find(zone);
  return it == zones_.end() ? nullptr : &it->second.series;
}

std::vector<forecast::IntensityPoint> TraceIntensityHistory::points_between(
    const std::string& zone, TimePoint from, TimePoint to) const {
  auto it = zones_.find(zone);
  if (it == zones_.end() || to <= from) {
    return {};
  }
  const auto& points = it->second.series.points;
  size_t first = first_ending_after(points, from);
  std::vector<forecast::IntensityPoint> out;
  for (size_t i = first; i < points.size() && points[i].start < to; ++i) {
    out.push_back(points[i]);
  }
  return out;
}

std::vector<std::string> TraceIntensityHistory::zones() const { return order_; }

TimePoint TraceIntensityHistory::common_begin() const {
  TimePoint begin{};
  bool first = true;
  for (const auto& [zone, data] : zones_) {
    if (data.series.empty()) {
      continue;
    }
    if (first || data.series.begin_time() > begin) {
      begin = data.series.begin_time();
    }
    first = false;
  }
  return begin;
}

TimePoint TraceIntensityHistory::common_end() const {
  TimePoint end{};
  bool first = true;
  for (const auto& [zone, data] : zones_) {
    if (data.series.empty()) {
      continue;
    }
    if (first || data.series.end_time() < end) {
      end = data.series.end_time();
    }
    first = false;
  }
  return end;
}

}  // namespace lowcarb::scheduler::simulation
