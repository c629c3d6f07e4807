// SPDX-License-Identifier: Apache-2.0
#include "tests/scheduler/optimizer_reference.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace lowcarb::scheduler::reference {
namespace {

int64_t secs(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

std::optional<double> mean_over(const forecast::IntensitySeries& series,
                                int64_t start, int64_t end) {
  if (end <= start) {
    return std::nullopt;
  }
  double sum = 0;
  int64_t covered = 0;
  for (const auto& point : series.points) {
    const int64_t a = std::max(secs(point.start), start);
    const int64_t b = std::min(secs(point.end), end);
    if (b <= a) {
      continue;
    }
    if (!point.gco2_per_kwh) {
      return std::nullopt;
    }
    sum += *point.gco2_per_kwh * static_cast<double>(b - a);
    covered += b - a;
  }
  if (covered != end - start) {
    return std::nullopt;  // A gap.
  }
  return sum / static_cast<double>(end - start);
}

std::optional<ReferenceWindow> best_window(
    const forecast::IntensitySeries& series, int64_t lo, int64_t hi,
    int64_t duration, int64_t scan_step, double tolerance) {
  std::set<int64_t> starts;
  auto add = [&](int64_t s) {
    if (s >= lo && s + duration <= hi) {
      starts.insert(s);
    }
  };
  add(lo);
  add(hi - duration);
  for (const auto& point : series.points) {
    for (int64_t b : {secs(point.start), secs(point.end)}) {
      add(b);
      add(b - duration);
    }
  }
  if (scan_step > 0) {
    for (int64_t s = lo; s + duration <= hi; s += scan_step) {
      add(s);
    }
  }
  std::optional<ReferenceWindow> best;
  for (int64_t s : starts) {
    const auto mean = mean_over(series, s, s + duration);
    if (!mean) {
      continue;
    }
    if (!best ||
        *mean < best->mean - tolerance * std::max(1.0, std::abs(best->mean))) {
      best = ReferenceWindow{s, *mean};
    }
  }
  return best;
}

std::optional<double> best_cell_subset(
    const std::vector<std::optional<double>>& cell_cost, int work_cells,
    int min_cells, int max_pauses, int overhead_cells) {
  const int n = static_cast<int>(cell_cost.size());
  std::optional<double> best;
  for (uint32_t mask = 1; mask < (1u << n); ++mask) {
    int runs = 0;
    int selected = 0;
    double cost = 0;
    bool valid = true;
    int run_length = 0;
    for (int i = 0; i <= n && valid; ++i) {
      const bool on = i < n && ((mask >> i) & 1u);
      if (on) {
        if (!cell_cost[static_cast<size_t>(i)]) {
          valid = false;
          break;
        }
        cost += *cell_cost[static_cast<size_t>(i)];
        ++selected;
        ++run_length;
      } else if (run_length > 0) {
        // A chunk after a pause must also outlast its restart overhead.
        valid = run_length >= min_cells &&
                (runs == 0 || run_length > overhead_cells);
        ++runs;
        run_length = 0;
      }
    }
    if (!valid || runs == 0) {
      continue;
    }
    if (max_pauses >= 0 && runs - 1 > max_pauses) {
      continue;
    }
    if (selected != work_cells + (runs - 1) * overhead_cells) {
      continue;
    }
    if (!best || cost < *best) {
      best = cost;
    }
  }
  return best;
}

forecast::IntensitySeries regular_series(
    const std::string& zone, TimePoint start, Duration step,
    const std::vector<std::optional<double>>& values) {
  forecast::IntensitySeries series;
  series.zone = zone;
  series.kind.horizon = forecast::Horizon::kForecast;
  series.generated_at = start;
  TimePoint t = start;
  for (const auto& value : values) {
    series.points.push_back({t, t + step, value});
    t += step;
  }
  return series;
}

}  // namespace lowcarb::scheduler::reference
