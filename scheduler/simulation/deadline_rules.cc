// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/deadline_rules.h"

#include <chrono>

#include <fmt/format.h>

#include "common/strings.h"
#include "common/time_format.h"

namespace lowcarb::scheduler::simulation {
namespace {

bool qualifies(DeadlineRule rule, unsigned weekday) {
  switch (rule) {
    case DeadlineRule::kNextWorkday:
      return weekday >= 1 && weekday <= 5;
    case DeadlineRule::kSemiWeekly:
      return weekday == 1 || weekday == 4;
  }
  return false;
}

}  // namespace

Result<DeadlineRule> deadline_rule_from_string(std::string_view text) {
  std::string lower = to_lower(trim(text));
  if (lower == "next-workday") {
    return DeadlineRule::kNextWorkday;
  }
  if (lower == "semi-weekly") {
    return DeadlineRule::kSemiWeekly;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown deadline rule '" + std::string(text) +
                        "' (known: next-workday, semi-weekly)");
}

Result<TimePoint> rule_deadline(DeadlineRule rule, TimePoint submit,
                                Duration duration, std::string_view time_zone) {
  const TimePoint finish = submit + duration;
  auto local = to_local(finish, time_zone);
  if (!local) {
    return tl::unexpected(local.error());
  }
  if (rule == DeadlineRule::kNextWorkday && qualifies(rule, local->weekday)) {
    int minute_of_day = local->hour * 60 + local->minute;
    if (minute_of_day >= 9 * 60 && minute_of_day <= 17 * 60) {
      return finish;  // Finished during working hours: needed at once.
    }
  }
  // Walk calendar days in local terms so a DST change in between moves the
  // UTC instant, not the local 09:00.
  using namespace std::chrono;
  sys_days day = sys_days(year_month_day(year(local->year), month(local->month),
                                         std::chrono::day(local->day)));
  for (int step = 0; step <= 14; ++step) {
    sys_days candidate = day + days(step);
    if (!qualifies(rule, weekday(candidate).c_encoding())) {
      continue;
    }
    year_month_day date(candidate);
    LocalTime nine;
    nine.year = static_cast<int>(date.year());
    nine.month = static_cast<unsigned>(date.month());
    nine.day = static_cast<unsigned>(date.day());
    nine.hour = 9;
    auto instant = from_local(nine, time_zone);
    if (!instant) {
      return tl::unexpected(instant.error());
    }
    if (*instant >= finish) {
      return *instant;
    }
  }
  return make_error(
      ErrorCode::kInternal,
      fmt::format("no rule deadline within 14 days of {}", format_utc(finish)));
}

Status assign_deadlines(Workload& workload, const DeadlineOptions& options) {
  for (auto& job : workload.jobs) {
    if (job.deadline && !options.override_trace_deadlines) {
      continue;
    }
    if (options.slack) {
      job.deadline = job.submit + job.duration + *options.slack;
    } else if (options.rule) {
      auto deadline = rule_deadline(*options.rule, job.submit, job.duration,
                                    options.time_zone);
      if (!deadline) {
        return make_error(deadline.error().with_context(
            fmt::format("{}:{}: deadline rule", workload.source, job.line)));
      }
      job.deadline = *deadline;
    } else {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}:{}: job {} has no deadline: give --slack DUR or "
                      "--deadline-rule next-workday|semi-weekly",
                      workload.source, job.line, job.id));
    }
  }
  return {};
}

}  // namespace lowcarb::scheduler::simulation
