// SPDX-License-Identifier: Apache-2.0
#include "scheduler/zone_capacity.h"

#include <algorithm>
#include <utility>

namespace lowcarb::scheduler {

std::vector<UtcSpan> full_spans(const std::vector<Segment>& occupied,
                                int capacity) {
  // Sweep over +1/-1 events; at equal times ends come first, so a slot freed
  // at t can be taken at t.
  std::vector<std::pair<TimePoint, int>> events;
  events.reserve(occupied.size() * 2);
  for (const auto& segment : occupied) {
    if (segment.end > segment.start) {
      events.emplace_back(segment.start, +1);
      events.emplace_back(segment.end, -1);
    }
  }
  std::sort(events.begin(), events.end());
  std::vector<UtcSpan> spans;
  int count = 0;
  TimePoint full_since;
  for (const auto& [time, delta] : events) {
    const bool was_full = count >= capacity;
    count += delta;
    const bool is_full = count >= capacity;
    if (!was_full && is_full) {
      full_since = time;
    } else if (was_full && !is_full && time > full_since) {
      if (!spans.empty() && spans.back().end == full_since) {
        spans.back().end = time;
      } else {
        spans.push_back({full_since, time});
      }
    }
  }
  return spans;
}

forecast::IntensitySeries without_spans(const forecast::IntensitySeries& series,
                                        const std::vector<UtcSpan>& blocked) {
  if (blocked.empty()) {
    return series;
  }
  forecast::IntensitySeries masked = series;
  masked.points.clear();
  masked.points.reserve(series.points.size() + 2 * blocked.size());
  size_t b = 0;
  for (const auto& point : series.points) {
    while (b < blocked.size() && blocked[b].end <= point.start) {
      ++b;
    }
    // Walk the point's extent, cutting it at every blocked span inside it.
    TimePoint cursor = point.start;
    size_t k = b;
    while (cursor < point.end) {
      if (k >= blocked.size() || blocked[k].start >= point.end) {
        masked.points.push_back({cursor, point.end, point.gco2_per_kwh});
        break;
      }
      if (blocked[k].start > cursor) {
        masked.points.push_back({cursor, blocked[k].start, point.gco2_per_kwh});
        cursor = blocked[k].start;
      }
      const TimePoint blocked_end = std::min(blocked[k].end, point.end);
      if (blocked_end > cursor) {
        masked.points.push_back({cursor, blocked_end, std::nullopt});
        cursor = blocked_end;
      }
      if (blocked[k].end <= point.end) {
        ++k;
      }
    }
  }
  return masked;
}

}  // namespace lowcarb::scheduler
