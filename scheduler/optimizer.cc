// SPDX-License-Identifier: Apache-2.0
// Methods (see window_search.h and pause_resume.h for the proofs and
// complexities): contiguous windows by candidate starts over a running
// integral, O(n); pause-and-resume by cheapest time first (exact,
// unconstrained) or a dynamic programme over grid cells (constrained); space
// by running the same search per zone on its allowed-hours pieces and
// comparing penalised means.
#include "scheduler/optimizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/time_format.h"
#include "scheduler/pause_resume.h"
#include "scheduler/window_search.h"

namespace lowcarb::scheduler {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

// The most pieces best_contiguous_window keeps buffered per thread (a year
// at 5 minutes, 2.5 MB).
constexpr size_t kKeepPieces = 105'120;

// One zone's best option, scored for comparison.
struct Candidate {
  size_t zone_index = 0;
  std::vector<Span> segments;
  double value_seconds = 0;  // Real (unpenalised) integral.
  int64_t run_seconds = 0;
  double score = 0;  // Penalised, proportional to emissions.
  std::string reason;
};

double penalised(const ZoneOption& zone, double mean) {
  return (mean + zone.penalty_gco2_per_kwh) *
         (1.0 + zone.penalty_percent / 100.0);
}

std::string describe(TimePoint time) { return format_utc(time); }

// The time-weighted `percentile` (0..100) of the values in `pieces`.
double time_weighted_percentile(std::vector<Piece> pieces, double percentile) {
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& a, const Piece& b) { return a.value < b.value; });
  int64_t total = 0;
  for (const auto& piece : pieces) {
    total += piece.end - piece.start;
  }
  const double target = static_cast<double>(total) * percentile / 100.0;
  int64_t seen = 0;
  for (const auto& piece : pieces) {
    seen += piece.end - piece.start;
    if (static_cast<double>(seen) >= target) {
      return piece.value;
    }
  }
  return pieces.empty() ? 0.0 : pieces.back().value;
}

// The value of the piece containing `t`, if any.
std::optional<double> value_at(const std::vector<Piece>& pieces, int64_t t) {
  auto it = std::upper_bound(
      pieces.begin(), pieces.end(), t,
      [](int64_t time, const Piece& piece) { return time < piece.start; });
  if (it == pieces.begin()) {
    return std::nullopt;
  }
  --it;
  if (t < it->end) {
    return it->value;
  }
  return std::nullopt;
}

Result<TimePoint> local_instant(sys_days day, int hour, const std::string& tz) {
  if (hour >= 24) {
    day += days{hour / 24};
    hour %= 24;
  }
  const year_month_day ymd{day};
  LocalTime local;
  local.year = static_cast<int>(ymd.year());
  local.month = static_cast<unsigned>(ymd.month());
  local.day = static_cast<unsigned>(ymd.day());
  local.hour = hour;
  return from_local(local, tz);
}

// The time-weighted mean of `mae_by_day` (index = whole days after `now`,
// the last entry beyond its end) over `segments`.
double mean_error(const std::vector<double>& mae_by_day, int64_t now,
                  const std::vector<Span>& segments) {
  constexpr int64_t kDaySeconds = 86400;
  double sum = 0;
  int64_t seconds = 0;
  for (const auto& span : segments) {
    for (int64_t t = span.start; t < span.end;) {
      const int64_t day = std::max<int64_t>(0, (t - now) / kDaySeconds);
      const int64_t day_end = now + (day + 1) * kDaySeconds;
      const int64_t until = std::min(span.end, std::max(day_end, t + 1));
      const auto index = static_cast<size_t>(
          std::min<int64_t>(day, static_cast<int64_t>(mae_by_day.size()) - 1));
      sum += mae_by_day[index] * static_cast<double>(until - t);
      seconds += until - t;
      t = until;
    }
  }
  return seconds > 0 ? sum / static_cast<double>(seconds) : 0.0;
}

}  // namespace

Result<std::vector<UtcSpan>> allowed_spans(
    const std::vector<config::HourRange>& hours, const std::string& time_zone,
    TimePoint from, TimePoint to) {
  std::vector<UtcSpan> spans;
  if (to <= from) {
    return spans;
  }
  if (hours.empty()) {
    spans.push_back({from, to});
    return spans;
  }
  auto first = to_local(from - days{1}, time_zone);
  auto last = to_local(to + days{1}, time_zone);
  if (!first || !last) {
    return make_error(ErrorCode::kInvalidArgument,
                      "allowed hours: unknown time zone '" + time_zone + "'");
  }
  const sys_days first_day{std::chrono::year{first->year} /
                           std::chrono::month{first->month} /
                           std::chrono::day{first->day}};
  const sys_days last_day{std::chrono::year{last->year} /
                          std::chrono::month{last->month} /
                          std::chrono::day{last->day}};
  for (sys_days day = first_day; day <= last_day; day += days{1}) {
    for (const auto& range : hours) {
      if (range.start_hour < 0 || range.start_hour > 23 || range.end_hour < 0 ||
          range.end_hour > 24) {
        return make_error(
            ErrorCode::kInvalidArgument,
            "allowed hours: range " + std::to_string(range.start_hour) + "-" +
                std::to_string(range.end_hour) + " is outside 0-24");
      }
      const int end_hour = range.end_hour > range.start_hour
                               ? range.end_hour
                               : range.end_hour + 24;  // Wraps midnight.
      auto start = local_instant(day, range.start_hour, time_zone);
      auto end = local_instant(day, end_hour, time_zone);
      if (!start || !end) {
        return make_error(
            ErrorCode::kInvalidArgument,
            "allowed hours: cannot convert local time in '" + time_zone + "'");
      }
      const TimePoint clipped_start = std::max(*start, from);
      const TimePoint clipped_end = std::min(*end, to);
      if (clipped_end > clipped_start) {
        spans.push_back({clipped_start, clipped_end});
      }
    }
  }
  std::sort(spans.begin(), spans.end(), [](const UtcSpan& a, const UtcSpan& b) {
    return a.start < b.start;
  });
  std::vector<UtcSpan> merged;
  for (const auto& span : spans) {
    if (!merged.empty() && span.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, span.end);
    } else {
      merged.push_back(span);
    }
  }
  return merged;
}

Result<Window> best_contiguous_window(const forecast::IntensitySeries& series,
                                      TimePoint earliest, TimePoint latest_end,
                                      Duration duration) {
  if (duration.count() <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "best window: duration must be positive");
  }
  const int64_t lo = to_seconds(earliest);
  const int64_t hi = to_seconds(latest_end);
  // A per-thread buffer: repeated queries (the CLI's forecast view, the
  // planner) neither allocate nor fault in fresh pages for long series.
  thread_local std::vector<Piece> pieces;
  pieces_in(series, lo, hi, pieces);
  const auto choice = best_window(pieces, lo, hi, duration.count());
  if (pieces.capacity() > kKeepPieces) {
    pieces = std::vector<Piece>{};
  }
  if (!choice) {
    return make_error(ErrorCode::kNotFound,
                      "best window: no " + format_duration(duration) +
                          " window with known values for zone '" + series.zone +
                          "' between " + describe(earliest) + " and " +
                          describe(latest_end));
  }
  return Window{from_seconds(choice->start),
                from_seconds(choice->start + duration.count()), choice->mean};
}

Result<Plan> plan_job(const PlanRequest& request,
                      const std::vector<ZoneOption>& zones) {
  if (zones.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "plan: no zones to plan in");
  }
  if (request.duration.count() <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "plan: duration must be positive");
  }
  if (request.min_chunk.count() < 0 || request.pause_overhead.count() < 0 ||
      request.safety_margin.count() < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "plan: min-chunk, pause overhead and safety margin must "
                      "not be negative");
  }
  if (request.threshold_percentile && (*request.threshold_percentile < 0 ||
                                       *request.threshold_percentile > 100)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "plan: threshold percentile must be within 0..100");
  }
  const TimePoint floor = std::max(request.now, request.earliest);
  if (floor + request.duration > request.deadline) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "plan: infeasible job: it needs " + format_duration(request.duration) +
            " but only " +
            format_duration(std::max(Duration{0}, request.deadline - floor)) +
            " lie between its earliest start " + describe(floor) +
            " and its deadline " + describe(request.deadline));
  }
  const int64_t lo = to_seconds(floor);
  const int64_t duration = request.duration.count();
  // The margin is kept when the job still fits; it never makes a feasible
  // job infeasible.
  int64_t hi = to_seconds(request.deadline) - request.safety_margin.count();
  if (hi - lo < duration) {
    hi = to_seconds(request.deadline);
  }

  Plan plan;
  plan.run_now_zone = zones.front().zone;

  // Which zones have data we may compare.
  const forecast::SignalKind* reference_kind = nullptr;
  std::vector<bool> usable(zones.size(), false);
  bool any_stale = false;
  for (size_t z = 0; z < zones.size(); ++z) {
    const auto* series = zones[z].series;
    if (series == nullptr || series->empty()) {
      plan.warnings.push_back("zone " + zones[z].zone + ": no forecast");
      continue;
    }
    if (series->stale) {
      any_stale = true;
      plan.warnings.push_back("zone " + zones[z].zone +
                              ": forecast is stale; not used");
      continue;
    }
    if (reference_kind == nullptr) {
      reference_kind = &series->kind;
    } else if (!series->kind.comparable_with(*reference_kind)) {
      plan.warnings.push_back(
          "zone " + zones[z].zone + ": signal " +
          forecast::to_string(series->kind) + " is not comparable with " +
          forecast::to_string(*reference_kind) + "; skipped");
      continue;
    }
    usable[z] = true;
  }

  // Full-range pieces per zone (for expected values and the baseline).
  std::vector<std::vector<Piece>> all_pieces(zones.size());
  for (size_t z = 0; z < zones.size(); ++z) {
    if (zones[z].series != nullptr) {
      all_pieces[z] =
          pieces_in(*zones[z].series, lo, to_seconds(request.deadline));
    }
  }

  auto finish = [&](size_t zone_index, std::vector<Span> segments,
                    std::string reason) -> Result<Plan> {
    const auto& pieces = all_pieces[zone_index];
    plan.zone = zones[zone_index].zone;
    plan.reason = std::move(reason);
    double value_seconds = 0;
    int64_t covered = 0;
    int64_t run = 0;
    plan.segments.clear();
    for (const auto& span : segments) {
      plan.segments.push_back(
          {from_seconds(span.start), from_seconds(span.end)});
      const auto integral = integrate(pieces, span.start, span.end);
      value_seconds += integral.value_seconds;
      covered += integral.covered_seconds;
      run += span.end - span.start;
    }
    plan.expected_gco2_per_kwh =
        covered > 0 ? value_seconds / static_cast<double>(covered) : 0.0;
    const double kw = request.power_watts / 1000.0;
    plan.expected_grams =
        plan.expected_gco2_per_kwh * kw * static_cast<double>(run) / 3600.0;
    const auto baseline = integrate(all_pieces[0], lo, lo + duration);
    plan.run_now_known = baseline.covered_seconds > 0;
    plan.run_now_gco2_per_kwh =
        plan.run_now_known ? baseline.value_seconds /
                                 static_cast<double>(baseline.covered_seconds)
                           : plan.expected_gco2_per_kwh;
    plan.run_now_grams =
        plan.run_now_gco2_per_kwh * kw * static_cast<double>(duration) / 3600.0;
    const double run_now_total =
        plan.run_now_gco2_per_kwh * static_cast<double>(duration);
    const double expected_total =
        plan.expected_gco2_per_kwh * static_cast<double>(run);
    plan.savings_percent =
        plan.run_now_known && run_now_total > 0
            ? 100.0 * (run_now_total - expected_total) / run_now_total
            : 0.0;
    return plan;
  };

  // Threshold start: clean enough now in the first zone.
  if ((request.threshold_gco2_per_kwh || request.threshold_percentile) &&
      usable[0]) {
    const auto current = value_at(all_pieces[0], lo);
    double threshold = std::numeric_limits<double>::infinity();
    if (request.threshold_gco2_per_kwh) {
      threshold = *request.threshold_gco2_per_kwh;
    }
    if (request.threshold_percentile) {
      threshold = std::min(
          threshold, time_weighted_percentile(all_pieces[0],
                                              *request.threshold_percentile));
    }
    if (current && *current <= threshold) {
      return finish(0, {{lo, lo + duration}}, "threshold");
    }
  }

  const PauseResumeOptions pause_options{request.min_chunk.count(),
                                         request.max_pauses,
                                         request.pause_overhead.count()};
  std::optional<Candidate> best;
  for (size_t z = 0; z < zones.size(); ++z) {
    if (!usable[z]) {
      continue;
    }
    const ZoneOption& zone = zones[z];
    auto pieces = pieces_in(*zone.series, lo, hi);
    if (!zone.allowed_hours.empty()) {
      auto spans = allowed_spans(zone.allowed_hours, zone.time_zone,
                                 from_seconds(lo), from_seconds(hi));
      if (!spans) {
        return make_error(spans.error().with_context("zone " + zone.zone));
      }
      std::vector<Span> seconds;
      for (const auto& span : *spans) {
        seconds.push_back({to_seconds(span.start), to_seconds(span.end)});
      }
      pieces = restrict_to(pieces, seconds);
    }
    Candidate candidate;
    candidate.zone_index = z;
    bool found = false;
    if (const auto window = best_window(pieces, lo, hi, duration)) {
      candidate.segments = {{window->start, window->start + duration}};
      candidate.value_seconds = window->mean * static_cast<double>(duration);
      candidate.run_seconds = duration;
      candidate.reason = "best-window";
      found = true;
    }
    if (request.interruptible) {
      const auto segments =
          pause_options.unconstrained()
              ? cheapest_time(pieces, duration)
              : best_segments(pieces, duration, pause_options);
      // The contiguous window satisfies every constraint, so it stays when
      // it is at least as good.
      if (segments && (!found || segments->value_seconds <
                                     candidate.value_seconds * (1 - 1e-12))) {
        candidate.segments = segments->segments;
        candidate.value_seconds = segments->value_seconds;
        candidate.run_seconds = segments->run_seconds;
        candidate.reason =
            segments->segments.size() > 1 ? "pause-resume" : "best-window";
        found = true;
      }
    }
    if (!found) {
      plan.warnings.push_back("zone " + zone.zone +
                              ": no window with known values before the "
                              "latest safe start");
      continue;
    }
    const double mean =
        candidate.value_seconds / static_cast<double>(candidate.run_seconds);
    candidate.score =
        penalised(zone, mean) * static_cast<double>(candidate.run_seconds);
    if (!best) {
      best = std::move(candidate);
      continue;
    }
    const double noise =
        1e-12 * std::max(std::abs(candidate.score), std::abs(best->score));
    const bool tie = std::abs(candidate.score - best->score) <= noise;
    const auto& best_zone = zones[best->zone_index];
    const bool better = tie ? (zone.priority < best_zone.priority ||
                               (zone.priority == best_zone.priority &&
                                candidate.segments.front().start <
                                    best->segments.front().start))
                            : candidate.score < best->score;
    if (better) {
      best = std::move(candidate);
    }
  }
  if (best && request.min_confidence > 0 && usable[0]) {
    const auto& chosen = zones[best->zone_index];
    const bool moves =
        best->zone_index != 0 || best->segments.front().start > lo;
    const auto baseline = integrate(all_pieces[0], lo, lo + duration);
    if (moves && !chosen.forecast_mae.empty() &&
        baseline.covered_seconds == duration) {
      const double run_now =
          baseline.value_seconds / static_cast<double>(duration);
      const double planned =
          best->value_seconds / static_cast<double>(best->run_seconds);
      const double mae = mean_error(chosen.forecast_mae,
                                    to_seconds(request.now), best->segments);
      if (run_now - planned <= request.min_confidence * mae) {
        plan.warnings.push_back(fmt::format(
            "zone {}: predicted saving {:.1f} g/kWh is within {} x the "
            "measured forecast error {:.1f} g/kWh; running now",
            chosen.zone, run_now - planned, request.min_confidence, mae));
        return finish(0, {{lo, lo + duration}}, "low-confidence");
      }
    }
  }
  if (best) {
    return finish(best->zone_index, best->segments, best->reason);
  }
  // No forecast to plan with: start by the latest safe start so the
  // deadline holds, in the first zone.
  const int64_t latest_safe_start = hi - duration;
  return finish(0, {{latest_safe_start, latest_safe_start + duration}},
                any_stale ? "stale-forecast" : "no-forecast");
}

}  // namespace lowcarb::scheduler
