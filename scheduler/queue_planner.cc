// SPDX-License-Identifier: Apache-2.0
#include "scheduler/queue_planner.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>

namespace lowcarb::scheduler {
namespace {

int64_t seconds_of(TimePoint t) { return t.time_since_epoch().count(); }

int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// A job in cell units. Cell c covers [origin + c*step, origin + (c+1)*step).
struct CellJob {
  int64_t ready = 0;       // max(now, earliest), seconds.
  int64_t duration = 0;    // Seconds.
  int64_t first = 0;       // Cell holding `ready`: the first start cell.
  int64_t last = -1;       // Last start cell that keeps the slack reserve.
  int64_t hard_last = -1;  // Last start cell that meets the deadline.
  double kw = 1;
  TimePoint deadline;
};

class Grid {
 public:
  Grid(int64_t origin, int64_t step, int slots)
      : origin_(origin), step_(step), slots_(slots) {}

  int64_t origin() const { return origin_; }
  int64_t step() const { return step_; }

  // Fills cell costs from `series` over [0, cells).
  void load(const forecast::IntensitySeries* series, int64_t cells) {
    std::vector<double> sum(static_cast<size_t>(cells), 0.0);
    std::vector<int64_t> covered(static_cast<size_t>(cells), 0);
    double max_value = 0;
    if (series) {
      for (const auto& point : series->points) {
        if (!point.gco2_per_kwh) {
          continue;
        }
        const double v = *point.gco2_per_kwh;
        max_value = std::max(max_value, v);
        const int64_t ps = seconds_of(point.start);
        const int64_t pe = seconds_of(point.end);
        const int64_t c0 = std::max<int64_t>(0, floor_div(ps - origin_, step_));
        const int64_t c1 = std::min(cells, ceil_div(pe - origin_, step_));
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t cs = origin_ + c * step_;
          const int64_t overlap = std::min(pe, cs + step_) - std::max(ps, cs);
          if (overlap > 0) {
            sum[static_cast<size_t>(c)] += v * static_cast<double>(overlap);
            covered[static_cast<size_t>(c)] += overlap;
          }
        }
      }
    }
    penalty_ = max_value > 0 ? 10 * max_value : 1000.0;
    prefix_.assign(1, 0.0);
    known_prefix_.assign(1, 0.0);
    known_count_.assign(1, 0);
    used_.clear();
    for (int64_t c = 0; c < cells; ++c) {
      const bool known = covered[static_cast<size_t>(c)] >= step_;
      const double value =
          known ? sum[static_cast<size_t>(c)] / static_cast<double>(step_)
                : penalty_;
      append(value, known);
    }
  }

  // Makes cells [0, n) exist (new ones have no forecast).
  void ensure(int64_t n) {
    while (size() < n) {
      append(penalty_, false);
    }
  }

  // The first cell >= c with a free slot. A union-find over full cells
  // (path halving), so EDF placement skips a run of full cells in near
  // constant time instead of scanning it job after job. Valid while cells
  // only fill; a release (add with delta < 0) rebuilds it on next use.
  int64_t next_open(int64_t c) {
    if (!open_valid_) {
      open_.resize(static_cast<size_t>(size()) + 1);
      for (int64_t i = 0; i <= size(); ++i) {
        open_[static_cast<size_t>(i)] = i < size() && full(i) ? i + 1 : i;
      }
      open_valid_ = true;
    }
    ensure(c + 1);
    while (open_[static_cast<size_t>(c)] != c) {
      const int64_t up = open_[static_cast<size_t>(c)];
      open_[static_cast<size_t>(c)] = open_[static_cast<size_t>(up)];
      c = up;
      ensure(c + 1);
    }
    return c;
  }

  int64_t size() const { return static_cast<int64_t>(used_.size()); }
  bool full(int64_t c) const { return used_[static_cast<size_t>(c)] >= slots_; }
  void add(int64_t from, int64_t to, int delta) {
    ensure(to);
    for (int64_t c = std::max<int64_t>(0, from); c < to; ++c) {
      used_[static_cast<size_t>(c)] += delta;
      if (open_valid_ && delta > 0 && full(c)) {
        open_[static_cast<size_t>(c)] = c + 1;
      }
    }
    if (delta < 0) {
      open_valid_ = false;
    }
  }
  // Objective: value * seconds over cells [from, to).
  double cost(int64_t from, int64_t to) const {
    return prefix_[static_cast<size_t>(to)] -
           prefix_[static_cast<size_t>(from)];
  }
  // Objective of the job started at `cell`: value * seconds over exactly
  // the time it runs (the first and last cells prorated).
  double job_cost(const CellJob& job, int64_t cell) const {
    const int64_t begin = start_seconds(job, cell);
    const int64_t end = begin + job.duration;
    const int64_t last = end_cell(job, cell) - 1;
    double total = cost(cell, last + 1);
    auto value = [&](int64_t c) {
      return cost(c, c + 1) / static_cast<double>(step_);
    };
    total -=
        value(cell) * static_cast<double>(begin - (origin_ + cell * step_));
    total -=
        value(last) * static_cast<double>(origin_ + (last + 1) * step_ - end);
    return total;
  }
  double known_sum(int64_t from, int64_t to) const {
    return known_prefix_[static_cast<size_t>(to)] -
           known_prefix_[static_cast<size_t>(from)];
  }
  int64_t known_cells(int64_t from, int64_t to) const {
    return known_count_[static_cast<size_t>(to)] -
           known_count_[static_cast<size_t>(from)];
  }
  void reset_used(const std::vector<int>& base) {
    used_ = base;
    used_.resize(prefix_.size() - 1, 0);
    open_valid_ = false;
  }
  const std::vector<int>& used() const { return used_; }

  int64_t start_seconds(const CellJob& job, int64_t cell) const {
    return std::max(origin_ + cell * step_, job.ready);
  }
  // One past the last cell the job overlaps when it starts at `cell`.
  int64_t end_cell(const CellJob& job, int64_t cell) const {
    return ceil_div(start_seconds(job, cell) + job.duration - origin_, step_);
  }

  // The cheapest start in [job.first, last] whose cells all have a free
  // slot (or all starts when !capacity); ties to the earliest.
  std::optional<int64_t> cheapest(const CellJob& job, int64_t last,
                                  bool capacity) {
    if (last < job.first) {
      return std::nullopt;
    }
    const int64_t from = job.first;
    const int64_t to = end_cell(job, last);
    ensure(to);
    blocked_.assign(static_cast<size_t>(to - from) + 1, 0);
    for (int64_t c = from; c < to; ++c) {
      blocked_[static_cast<size_t>(c - from) + 1] =
          blocked_[static_cast<size_t>(c - from)] +
          ((capacity && full(c)) ? 1 : 0);
    }
    std::optional<int64_t> best;
    double best_cost = 0;
    for (int64_t s = job.first; s <= last; ++s) {
      const int64_t e = end_cell(job, s);
      if (blocked_[static_cast<size_t>(e - from)] !=
          blocked_[static_cast<size_t>(s - from)]) {
        continue;
      }
      const double c = job_cost(job, s);
      if (!best || c < best_cost - 1e-9 * std::abs(best_cost)) {
        best = s;
        best_cost = c;
      }
    }
    return best;
  }

  // The earliest start >= job.first whose cells all have a free slot and
  // that is <= `limit` (nullopt if none); unbounded when limit is nullopt.
  // Full cells are skipped through next_open(), so a late job in an
  // overloaded queue costs O(its length) per gap tried, not a scan of every
  // full cell before the first free run.
  std::optional<int64_t> earliest_fit(const CellJob& job,
                                      std::optional<int64_t> limit) {
    int64_t s = next_open(job.first);
    while (true) {
      if (limit && s > *limit) {
        return std::nullopt;
      }
      const int64_t e = end_cell(job, s);
      ensure(e);
      int64_t c = s + 1;
      while (c < e && !full(c)) {
        ++c;
      }
      if (c == e) {
        return s;
      }
      s = next_open(c);  // Every start up to c overlaps the full cell c.
    }
  }

 private:
  void append(double value, bool known) {
    prefix_.push_back(prefix_.back() + value * static_cast<double>(step_));
    known_prefix_.push_back(known_prefix_.back() +
                            (known ? value * static_cast<double>(step_) : 0));
    known_count_.push_back(known_count_.back() + (known ? 1 : 0));
    used_.push_back(0);
    if (open_valid_) {
      open_.push_back(size());  // The new cell is empty; a new sentinel.
    }
  }

  int64_t origin_;
  int64_t step_;
  int slots_;
  double penalty_ = 1000;
  std::vector<double> prefix_;
  std::vector<double> known_prefix_;
  std::vector<int64_t> known_count_;
  std::vector<int> used_;
  std::vector<int64_t> open_;  // next_open()'s union-find; see there.
  bool open_valid_ = false;
  std::vector<int32_t> blocked_;  // Scratch for cheapest().
};

}  // namespace

Result<QueueSchedule> plan_zone_queue(TimePoint now,
                                      const std::vector<QueuedJob>& jobs,
                                      const std::vector<Segment>& busy,
                                      const forecast::IntensitySeries* series,
                                      const QueuePlannerOptions& options) {
  if (options.slots < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "queue planner: slots must be at least 1");
  }
  const int64_t step = options.cell.count();
  if (step <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "queue planner: the cell must be positive");
  }
  const int64_t now_s = seconds_of(now);
  Grid grid(floor_div(now_s, step) * step, step, options.slots);

  std::vector<CellJob> cell_jobs(jobs.size());
  int64_t cells = 1;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& job = jobs[j];
    if (job.duration.count() <= 0) {
      return make_error(
          ErrorCode::kInvalidArgument,
          "queue planner: job '" + job.id + "' has no remaining work to plan");
    }
    CellJob& cj = cell_jobs[j];
    cj.ready = std::max(now_s, seconds_of(job.earliest));
    cj.duration = job.duration.count();
    cj.first = floor_div(cj.ready - grid.origin(), step);
    cj.kw = job.power_watts / 1000.0;
    cj.deadline = job.deadline;
    int64_t deadline = seconds_of(job.deadline) - job.margin.count();
    if (cj.ready + cj.duration > deadline) {
      deadline = seconds_of(job.deadline);  // The margin does not fit.
    }
    auto last_start = [&](int64_t end_by) {
      return cj.ready + cj.duration > end_by
                 ? cj.first - 1
                 : floor_div(end_by - cj.duration - grid.origin(), step);
    };
    cj.hard_last = last_start(deadline);
    // The reserve: a share of the slack the job had when it became ready
    // (earliest to deadline) that carbon placement leaves unused.
    const int64_t slack =
        seconds_of(job.deadline) - seconds_of(job.earliest) - cj.duration;
    const auto reserve =
        static_cast<int64_t>(options.slack_reserve *
                             static_cast<double>(std::max<int64_t>(0, slack)));
    // Past the point where the reserve still fits, the window is the first
    // start alone: the job runs as early as it can.
    cj.last = std::min(cj.hard_last,
                       std::max(cj.first, last_start(deadline - reserve)));
    cells = std::max(cells, ceil_div(std::max(deadline, cj.ready) +
                                         cj.duration - grid.origin(),
                                     step));
  }
  for (const auto& span : busy) {
    if (span.end > now) {
      cells =
          std::max(cells, ceil_div(seconds_of(span.end) - grid.origin(), step));
    }
  }
  if (series && !series->empty()) {
    cells = std::max(
        cells, std::min(cells + 7 * 86400 / step,
                        ceil_div(seconds_of(series->end_time()) - grid.origin(),
                                 step)));
  }
  grid.load(series, cells);
  for (const auto& span : busy) {
    if (span.end > now) {
      grid.add(floor_div(seconds_of(std::max(span.start, now)) - grid.origin(),
                         step),
               ceil_div(seconds_of(span.end) - grid.origin(), step), +1);
    }
  }
  const std::vector<int> base = grid.used();

  std::vector<size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (jobs[a].deadline != jobs[b].deadline) {
      return jobs[a].deadline < jobs[b].deadline;
    }
    return cell_jobs[a].ready < cell_jobs[b].ready;
  });

  QueueSchedule schedule;
  std::vector<int64_t> start(jobs.size(), 0);
  auto grams = [&](size_t j) {
    const auto& cj = cell_jobs[j];
    return cj.kw * grid.job_cost(cj, start[j]) / 3600.0;
  };
  auto occupy = [&](size_t j, int delta) {
    grid.add(start[j], grid.end_cell(cell_jobs[j], start[j]), delta);
  };
  auto is_free = [&](size_t j, int64_t s) {
    const int64_t e = grid.end_cell(cell_jobs[j], s);
    grid.ensure(e);
    for (int64_t c = s; c < e; ++c) {
      if (grid.full(c)) {
        return false;
      }
    }
    return true;
  };

  // Jobs that cannot meet their deadlines, placed last (in deadline order)
  // at their earliest fitting start: placed first, a hopeless job would take
  // the slots of jobs that can still make it (EDF's domino effect in
  // overload).
  auto place_late = [&](const std::vector<size_t>& late) {
    for (size_t j : late) {
      start[j] = *grid.earliest_fit(cell_jobs[j], std::nullopt);
      occupy(j, +1);
    }
  };

  // A valid plan from the previous round: its start cell, if it still
  // fits its window and the capacity.
  auto kept_cell = [&](size_t j) -> std::optional<int64_t> {
    const auto& cj = cell_jobs[j];
    const auto& current = jobs[j].current_start;
    if (!current) {
      return std::nullopt;
    }
    const int64_t cell = floor_div(seconds_of(*current) - grid.origin(), step);
    if (cell >= cj.first && cell <= cj.hard_last &&
        grid.start_seconds(cj, cell) == seconds_of(*current) &&
        is_free(j, cell)) {
      return cell;
    }
    return std::nullopt;
  };
  // A job without a valid plan: its cheapest window that keeps the
  // reserve, else as early as meets the deadline, else late.
  auto place_new = [&](size_t j, std::vector<size_t>& late) {
    const auto& cj = cell_jobs[j];
    auto s = grid.cheapest(cj, cj.last, true);
    if (!s) {
      s = grid.earliest_fit(cj, cj.hard_last);  // Into the reserve.
    }
    if (!s) {
      late.push_back(j);
      return;
    }
    start[j] = *s;
    occupy(j, +1);
  };
  // Warm start, `kept_first`: every valid plan is kept before the others
  // are placed, so a job that must move cannot take the cells of one whose
  // plan still holds. Else in deadline order, each keeping its plan if
  // valid (a tight newcomer may then push a loose job off its plan).
  // Returns the number of late jobs.
  auto warm_pass = [&](bool kept_first) {
    grid.reset_used(base);
    std::vector<bool> kept(jobs.size(), false);
    std::vector<size_t> late;
    if (kept_first) {
      for (size_t j : order) {
        if (const auto cell = kept_cell(j)) {
          start[j] = *cell;
          occupy(j, +1);
          kept[j] = true;
        }
      }
    }
    for (size_t j : order) {
      if (kept[j]) {
        continue;
      }
      if (const auto cell = kept_first ? std::nullopt : kept_cell(j)) {
        start[j] = *cell;
        occupy(j, +1);
      } else {
        place_new(j, late);
      }
    }
    place_late(late);
    return late.size();
  };
  // Keeps `start` (and the grid) as they are or restores `saved`.
  auto restore = [&](const std::vector<int64_t>& saved) {
    start = saved;
    grid.reset_used(base);
    for (size_t j = 0; j < jobs.size(); ++j) {
      occupy(j, +1);
    }
  };

  // Late jobs that would be on time if they had a slot from their first
  // start: only these can another placement bring back on time. (Without
  // them the warm start is kept: in an overloaded zone the hopeless jobs
  // would otherwise make every round pay for three placements.)
  auto fixable = [&]() {
    for (size_t j = 0; j < jobs.size(); ++j) {
      const auto& cj = cell_jobs[j];
      if (start[j] > cj.hard_last && cj.hard_last >= cj.first) {
        return true;
      }
    }
    return false;
  };

  std::optional<size_t> warm_late;
  if (options.warm_start) {
    warm_late = warm_pass(true);
    if (*warm_late > 0 && fixable()) {
      const std::vector<int64_t> kept_first = start;
      const size_t in_order = warm_pass(false);
      if (in_order < *warm_late) {
        warm_late = in_order;
      } else {
        restore(kept_first);
      }
    }
  }
  if (!warm_late || (*warm_late > 0 && fixable())) {
    // EDF placement: the reference the guarantee is stated against. Kept
    // only if it has fewer late jobs than the warm start, so: whenever EDF
    // meets every deadline, so does the result.
    const std::vector<int64_t> warm = start;
    grid.reset_used(base);
    std::vector<size_t> late;
    for (size_t j : order) {
      const auto& cj = cell_jobs[j];
      if (const auto s = grid.earliest_fit(cj, cj.hard_last)) {
        start[j] = *s;
        occupy(j, +1);
      } else {
        late.push_back(j);
      }
    }
    place_late(late);
    for (size_t j = 0; j < jobs.size(); ++j) {
      schedule.edf_grams += grams(j);
    }
    if (warm_late && *warm_late <= late.size()) {
      restore(warm);  // No better for deadlines: keep the plans.
    } else {
      schedule.cold_start = warm_late.has_value();
    }
  }

  for (int pass = 0; pass < options.max_passes; ++pass) {
    ++schedule.passes;
    int moved = 0;
    for (size_t j : order) {
      const auto& cj = cell_jobs[j];
      const bool late = start[j] > cj.hard_last;
      if (late && cj.hard_last < cj.first) {
        continue;  // Late wherever it goes: keep it where EDF put it.
      }
      // A late job may move to any start that meets its deadline; one that
      // EDF put past its reserve may move only earlier or into the reserve-
      // keeping window; the others stay inside that window.
      const int64_t last =
          late ? cj.hard_last
               : std::max(cj.last, std::min(start[j], cj.hard_last));
      occupy(j, -1);
      const auto candidate = grid.cheapest(cj, last, true);
      if (candidate && (late || grid.job_cost(cj, *candidate) <
                                    grid.job_cost(cj, start[j]) - 1e-9)) {
        start[j] = *candidate;
        ++moved;
      }
      occupy(j, +1);
    }
    schedule.moves += moved;
    if (moved == 0) {
      break;
    }
  }

  schedule.placements.resize(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& cj = cell_jobs[j];
    QueuedPlacement& p = schedule.placements[j];
    p.id = jobs[j].id;
    p.start = TimePoint(Duration(grid.start_seconds(cj, start[j])));
    p.end = p.start + jobs[j].duration;
    p.late = start[j] > cj.hard_last;
    const int64_t e = grid.end_cell(cj, start[j]);
    const int64_t known = grid.known_cells(start[j], e);
    p.forecast_known = known == e - start[j];
    p.mean_gco2_per_kwh = known > 0 ? grid.known_sum(start[j], e) /
                                          static_cast<double>(known * step)
                                    : 0.0;
    p.expected_grams =
        cj.kw * p.mean_gco2_per_kwh * static_cast<double>(cj.duration) / 3600.0;
    schedule.late += p.late ? 1 : 0;
    schedule.total_grams += grams(j);
  }
  if (options.lower_bound) {
    for (size_t j = 0; j < jobs.size(); ++j) {
      const auto& cj = cell_jobs[j];
      const int64_t s =
          grid.cheapest(cj, cj.hard_last, false).value_or(start[j]);
      schedule.lower_bound_grams += cj.kw * grid.job_cost(cj, s) / 3600.0;
    }
    schedule.gap_percent =
        schedule.lower_bound_grams > 0
            ? 100.0 * (schedule.total_grams - schedule.lower_bound_grams) /
                  schedule.lower_bound_grams
            : 0.0;
  }
  return schedule;
}

}  // namespace lowcarb::scheduler
