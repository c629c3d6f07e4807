// SPDX-License-Identifier: Apache-2.0
#include "scheduler/capacity_planner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>

#include "scheduler/window_search.h"

namespace lowcarb::scheduler {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}
int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// The series as cells of `step` seconds from `origin`.
struct Grid {
  int64_t origin = 0;
  int64_t step = 0;
  std::vector<double> value;   // Per cell; NaN where unknown.
  std::vector<double> prefix;  // Sum of value * step over known cells.
  std::vector<int32_t> unknown_prefix;
};

// A job in cell units.
struct CellJob {
  int64_t first = 0;   // Earliest start cell.
  int64_t last = -1;   // Latest start cell.
  int64_t length = 0;  // Cells.
  double kw = 1;
};

class Planner {
 public:
  Planner(const Grid& grid, int slots)
      : grid_(grid), used_(grid.value.size(), 0), slots_(slots) {}

  double cost(int64_t start, int64_t length) const {
    return grid_.prefix[static_cast<size_t>(start + length)] -
           grid_.prefix[static_cast<size_t>(start)];
  }

  // The cheapest start whose cells are all known and (if `respect_capacity`)
  // have a free slot; ties to the earliest.
  std::optional<int64_t> best_start(const CellJob& job,
                                    bool respect_capacity) const {
    if (job.last < job.first) {
      return std::nullopt;
    }
    auto blocked = [&](int64_t c) {
      const size_t i = static_cast<size_t>(c);
      return std::isnan(grid_.value[i]) ||
             (respect_capacity && used_[i] >= slots_);
    };
    int64_t blocked_in_window = 0;
    for (int64_t c = job.first; c < job.first + job.length; ++c) {
      blocked_in_window += blocked(c) ? 1 : 0;
    }
    std::optional<int64_t> best;
    double best_cost = 0;
    for (int64_t s = job.first;; ++s) {
      if (blocked_in_window == 0) {
        const double c = cost(s, job.length);
        if (!best || c < best_cost - 1e-9 * std::abs(best_cost)) {
          best = s;
          best_cost = c;
        }
      }
      if (s == job.last) {
        break;
      }
      blocked_in_window -= blocked(s) ? 1 : 0;
      blocked_in_window += blocked(s + job.length) ? 1 : 0;
    }
    return best;
  }

  void occupy(int64_t start, int64_t length, int delta) {
    for (int64_t c = start; c < start + length; ++c) {
      used_[static_cast<size_t>(c)] += delta;
    }
  }

 private:
  const Grid& grid_;
  std::vector<int> used_;
  int slots_;
};

}  // namespace

Result<QueuePlan> plan_queue(const std::vector<QueueJob>& jobs,
                             const forecast::IntensitySeries& series,
                             const QueueOptions& options) {
  if (options.slots < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "plan queue: slots must be at least 1");
  }
  if (series.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "plan queue: no forecast for zone '" + series.zone + "'");
  }
  Grid grid;
  grid.origin = to_seconds(series.begin_time());
  for (const auto& point : series.points) {
    grid.step = std::gcd(grid.step, to_seconds(point.start) - grid.origin);
    grid.step = std::gcd(grid.step, to_seconds(point.end) - grid.origin);
  }
  if (grid.step <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "plan queue: the series for '" + series.zone +
                          "' has no positive-length points");
  }
  const int64_t cells =
      (to_seconds(series.end_time()) - grid.origin) / grid.step;
  grid.value.assign(static_cast<size_t>(cells),
                    std::numeric_limits<double>::quiet_NaN());
  for (const auto& point : series.points) {
    if (!point.gco2_per_kwh) {
      continue;
    }
    for (int64_t c = (to_seconds(point.start) - grid.origin) / grid.step;
         c < (to_seconds(point.end) - grid.origin) / grid.step; ++c) {
      grid.value[static_cast<size_t>(c)] = *point.gco2_per_kwh;
    }
  }
  grid.prefix.assign(static_cast<size_t>(cells) + 1, 0);
  for (int64_t c = 0; c < cells; ++c) {
    const double v = grid.value[static_cast<size_t>(c)];
    grid.prefix[static_cast<size_t>(c) + 1] =
        grid.prefix[static_cast<size_t>(c)] +
        (std::isnan(v) ? 0.0 : v * static_cast<double>(grid.step));
  }

  std::vector<CellJob> cell_jobs(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& job = jobs[j];
    if (job.duration.count() <= 0 ||
        job.earliest + job.duration > job.deadline) {
      return make_error(ErrorCode::kInvalidArgument,
                        "plan queue: job '" + job.id +
                            "' cannot finish between its earliest start and "
                            "its deadline");
    }
    CellJob& cj = cell_jobs[j];
    cj.length = (job.duration.count() + grid.step - 1) / grid.step;
    cj.first = std::max<int64_t>(
        0, ceil_div(to_seconds(job.earliest) - grid.origin, grid.step));
    const int64_t end_cell = std::min<int64_t>(
        cells, floor_div(to_seconds(job.deadline) - grid.origin, grid.step));
    cj.last = end_cell - cj.length;
    cj.kw = job.power_watts / 1000.0;
  }
  auto grams = [&](size_t j, int64_t first_cell) {
    const double value_seconds =
        grid.prefix[static_cast<size_t>(first_cell + cell_jobs[j].length)] -
        grid.prefix[static_cast<size_t>(first_cell)];
    return cell_jobs[j].kw * value_seconds / 3600.0;
  };

  QueuePlan plan;
  plan.placements.resize(jobs.size());
  Planner free_planner(grid, options.slots);
  for (size_t j = 0; j < jobs.size(); ++j) {
    plan.placements[j].id = jobs[j].id;
    if (auto s = free_planner.best_start(cell_jobs[j], false)) {
      plan.lower_bound_grams += grams(j, *s);
    }
  }

  std::vector<size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return jobs[a].deadline < jobs[b].deadline;
  });
  Planner planner(grid, options.slots);
  std::vector<std::optional<int64_t>> start(jobs.size());
  for (size_t j : order) {
    start[j] = planner.best_start(cell_jobs[j], true);
    if (start[j]) {
      planner.occupy(*start[j], cell_jobs[j].length, +1);
      plan.edf_grams += grams(j, *start[j]);
    }
  }
  for (int pass = 0; pass < options.max_passes; ++pass) {
    ++plan.passes;
    int moved = 0;
    for (size_t j : order) {
      const auto& cj = cell_jobs[j];
      if (start[j]) {
        planner.occupy(*start[j], cj.length, -1);
      }
      const auto candidate = planner.best_start(cj, true);
      if (candidate &&
          (!start[j] || planner.cost(*candidate, cj.length) <
                            planner.cost(*start[j], cj.length) - 1e-9)) {
        start[j] = candidate;
        ++moved;
      }
      if (start[j]) {
        planner.occupy(*start[j], cj.length, +1);
      }
    }
    plan.moves += moved;
    if (moved == 0) {
      break;
    }
  }
  for (size_t j = 0; j < jobs.size(); ++j) {
    Placement& placement = plan.placements[j];
    if (!start[j]) {
      ++plan.unplaced;
      continue;
    }
    const int64_t begin = grid.origin + *start[j] * grid.step;
    const int64_t length = cell_jobs[j].length * grid.step;
    placement.placed = true;
    placement.start = from_seconds(begin);
    placement.end = from_seconds(begin + length);
    placement.expected_gco2_per_kwh =
        planner.cost(*start[j], cell_jobs[j].length) /
        static_cast<double>(length);
    placement.expected_grams = grams(j, *start[j]);
    plan.total_grams += placement.expected_grams;
  }
  plan.gap_percent = plan.lower_bound_grams > 0
                         ? 100.0 * (plan.total_grams - plan.lower_bound_grams) /
                               plan.lower_bound_grams
                         : 0.0;
  return plan;
}

}  // namespace lowcarb::scheduler
