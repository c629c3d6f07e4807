// SPDX-License-Identifier: Apache-2.0
// Deadlines for traces that have none: a fixed slack after the job's run
// time, or the Let's Wait Awhile rules (Wiesner et al., Middleware'21;
// strategy.py of dos-group/lets-wait-awhile), applied to the job's original
// finish time f = submit + duration in the zone's local time:
//   - next-workday: the result is needed at the next working time. If f is
//     in working hours (Monday-Friday 09:00-17:00) the deadline is f itself
//     (no slack); otherwise it is 09:00 of the first Monday-Friday at or
//     after f.
//   - semi-weekly: 09:00 of the first Monday or Thursday at or after f.
// (The published code sends a Friday-evening job to Saturday 09:00; we take
// the next workday, Monday.) Public holidays are ignored. Pure functions;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/simulation/workload.h"

namespace lowcarb::scheduler::simulation {

enum class DeadlineRule { kNextWorkday, kSemiWeekly };

// "next-workday" or "semi-weekly".
Result<DeadlineRule> deadline_rule_from_string(std::string_view text);

// The deadline `rule` gives a job submitted at `submit` that runs for
// `duration`, in IANA time zone `time_zone`. Errors only for an unknown zone.
Result<TimePoint> rule_deadline(DeadlineRule rule, TimePoint submit,
                                Duration duration, std::string_view time_zone);

struct DeadlineOptions {
  std::optional<Duration> slack;     // deadline = submit + duration + slack.
  std::optional<DeadlineRule> rule;  // Used when `slack` is not set.
  std::string time_zone = "UTC";     // For `rule`.
  // Overwrite deadlines the trace has. Default: keep them.
  bool override_trace_deadlines = false;
};

// Gives every job of `workload` without a deadline one from `options`.
// kInvalidArgument naming the first job (file:line) left without a deadline
// when neither `slack` nor `rule` is set.
Status assign_deadlines(Workload& workload, const DeadlineOptions& options);

}  // namespace lowcarb::scheduler::simulation
