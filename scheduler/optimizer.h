// SPDX-License-Identifier: Apache-2.0
// The optimizer: given forecasts for the allowed zones and a job's duration,
// earliest start and deadline, choose when and where it runs so expected
// emissions are minimal and the deadline is never missed. Pure code: no I/O,
// no clock (time is passed in). Thread-safe (no shared state).
//
// NOTE: this header states the API other modules build on (planner,
// simulator, CLI); see the implementation for the methods and their proofs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "forecast/intensity_series.h"

namespace lowcarb::scheduler {

struct Segment {
  TimePoint start;
  TimePoint end;
  bool operator==(const Segment&) const = default;
};

// A contiguous window and its time-weighted mean intensity.
struct Window {
  TimePoint start;
  TimePoint end;
  double mean_gco2_per_kwh = 0;
};

// The lowest-mean window [start, start + duration) with earliest <= start and
// start + duration <= latest_end, exact for piecewise-constant series, ties
// to the earliest start. O(n). Intervals without a value are never chosen.
// kNotFound when no window fits inside the series' known values.
Result<Window> best_contiguous_window(const forecast::IntensitySeries& series,
                                      TimePoint earliest, TimePoint latest_end,
                                      Duration duration);

// One zone the job may run in, with its preferences.
struct ZoneOption {
  std::string zone;
  const forecast::IntensitySeries* series = nullptr;  // May be null/empty.
  int priority = 0;
  double penalty_gco2_per_kwh = 0;
  double penalty_percent = 0;
  std::vector<config::HourRange> allowed_hours;  // Local hours in time_zone.
  std::string time_zone = "UTC";
  // The measured mean absolute error of this zone's forecasts (g/kWh) per
  // lead day (index 0 = leads [0, 24 h)); leads past the end use the last
  // entry. Empty = not measured (PlanRequest::min_confidence ignores it).
  std::vector<double> forecast_mae;
};

struct PlanRequest {
  TimePoint now;
  TimePoint earliest;
  TimePoint deadline;
  Duration duration{0};
  double power_watts = 0;  // For expected grams; 0 = intensities only.
  bool interruptible = false;
  Duration min_chunk{0};       // Interruptible: shortest run segment.
  int max_pauses = -1;         // Interruptible: -1 = unlimited.
  Duration pause_overhead{0};  // Extra run time per pause.
  std::optional<double> threshold_gco2_per_kwh;  // Start now if at/below.
  std::optional<double> threshold_percentile;    // 0..100 of the forecast.
  Duration safety_margin{0};  // latest safe start = deadline - duration - this.
  // z >= 0; 0 = off. A plan that defers or moves the job is kept only when
  // its predicted saving per kWh (run-now mean minus planned mean) exceeds
  // z x the chosen zone's measured forecast MAE averaged over the job's
  // lead times; otherwise the job runs now in the first zone (reason
  // "low-confidence"). A saving the forecast's own error could explain is
  // not worth the delay.
  double min_confidence = 0;
};

struct Plan {
  std::string zone;
  std::vector<Segment> segments;  // One for contiguous plans.
  double expected_gco2_per_kwh = 0;
  double expected_grams = 0;
  std::string run_now_zone;  // The first-listed zone.
  double run_now_gco2_per_kwh = 0;
  double run_now_grams = 0;
  double savings_percent = 0;
  // Why: "best-window", "pause-resume", "threshold", "low-confidence" (see
  // PlanRequest::min_confidence), "no-forecast", "stale-forecast" (the
  // last two start by the latest safe start).
  std::string reason;
  // Zones skipped and why (stale, no data, signal kind not comparable with
  // the first zone's), for the CLI and the logs.
  std::vector<std::string> warnings;
  bool run_now_known = true;  // False when the baseline window has no data.
  // Emissions the job's earlier run segments already realized when this
  // plan was made (from the ledger): a paused job's plan covers only the
  // work left, so the whole job's expectation is done_grams +
  // expected_grams. Set by the scheduler, 0 for a job that never ran.
  // done_run_now_grams: the same segments' run-now counterfactual (the
  // ledger's).
  double done_grams = 0;
  double done_run_now_grams = 0;

  TimePoint start() const { return segments.front().start; }
  TimePoint end() const { return segments.back().end; }
};

// Plans one job across `zones` (first = run-now baseline zone).
// kInvalidArgument when the job cannot meet its deadline
// (earliest + duration > deadline).
//
// The job never starts before max(now, earliest). Segments end by
// deadline - safety_margin (by the deadline when the margin would make the
// job infeasible), so the latest safe start is a hard bound even when the
// forecast ends early. Zones whose series is missing, empty, stale, or of a
// kind not comparable with the first zone that has data are skipped (noted
// in Plan::warnings). With no usable zone the plan starts at the latest safe
// start in the first zone ("no-forecast" / "stale-forecast"). Penalties
// steer the choice only; the expected values are the real forecast values.
// Ties (within rounding noise) go to the lower priority value, then the
// earlier start, then the earlier-listed zone.
Result<Plan> plan_job(const PlanRequest& request,
                      const std::vector<ZoneOption>& zones);

// The allowed local hours of a zone as UTC spans [start, end) inside
// [from, to), sorted and merged; DST-correct (a local hour that does not
// exist is skipped, a repeated one counts twice). Empty `hours` = all of
// [from, to). kInvalidArgument for an unknown `time_zone`.
struct UtcSpan {
  TimePoint start;
  TimePoint end;
  bool operator==(const UtcSpan&) const = default;
};
Result<std::vector<UtcSpan>> allowed_spans(
    const std::vector<config::HourRange>& hours, const std::string& time_zone,
    TimePoint from, TimePoint to);

}  // namespace lowcarb::scheduler
