// SPDX-License-Identifier: Apache-2.0
// The Scheduler's queue planning for zones with capacity (see
// queue_planner.h for the method and its guarantee, ARCHITECTURE.md
// "Capacity" for where it sits). Kept apart from scheduler.cc so the
// per-job planning loop stays readable.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/time_format.h"
#include "scheduler/queue_planner.h"
#include "scheduler/scheduler.h"

namespace lowcarb::scheduler {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = get_logger("scheduler");
  return instance;
}

constexpr int kReplanPasses = 2;  // Local-search passes per re-plan round.
// Late-tail jobs planned per slot and round: more than can start before the
// next round unless jobs are much shorter than a round.
constexpr int kTailHeadPerSlot = 2;

struct ZoneQueue {
  std::vector<QueuedJob> jobs;
  std::vector<Segment> busy;
};

}  // namespace

bool Scheduler::queue_planned(const Job& job) const {
  if (job.held ||
      (job.state != JobState::kQueued && job.state != JobState::kPaused)) {
    return false;
  }
  const auto* zone = zone_config(job.zone);
  if (!zone || zone->capacity <= 0 || !zone->allowed_hours.empty()) {
    return false;
  }
  if (job.spec.threshold_gco2_per_kwh) {
    return false;
  }
  switch (policy_of(job.spec)) {
    case Policy::kFlexibleStart:
    case Policy::kPauseResume:
      return true;
    case Policy::kAuto:
      return zones_of(job.spec).size() == 1;
    default:
      return false;  // Run-now, threshold and spatial plan job by job.
  }
}

namespace {

QueuedJob queued_job_of(const Job& job, Duration margin, double default_watts,
                        Duration remaining) {
  QueuedJob q;
  q.id = job.id;
  q.duration = std::max(remaining, Duration(1));
  q.earliest = job.spec.earliest;
  q.deadline = job.spec.deadline;
  q.margin = margin;
  const double watts =
      job.spec.power_watts > 0 ? job.spec.power_watts : default_watts;
  q.power_watts = watts > 0 ? watts : 1000;
  if (job.plan) {
    q.current_start = job.plan->start();
  }
  return q;
}

// The zone's queue-planned jobs (and `incoming`, last) and the slots the
// rest of the zone's work takes, from `members` (Scheduler::zone_members():
// the parked slot tail of per-job jobs is left out, so an overloaded
// run-now queue is not walked).
template <typename IsQueued, typename Remaining>
ZoneQueue collect_queue(const std::map<std::string, Job>& active,
                        const std::vector<std::string>& members,
                        const std::string& zone, const Job* incoming,
                        TimePoint now, Duration margin, double default_watts,
                        IsQueued is_queued, Remaining remaining) {
  ZoneQueue queue;
  auto add_job = [&](const Job& job) {
    queue.jobs.push_back(
        queued_job_of(job, margin, default_watts, remaining(job)));
  };
  for (const auto& id : members) {
    const Job& job = active.at(id);
    if (job.zone != zone || (incoming && id == incoming->id)) {
      continue;
    }
    if (is_queued(job)) {
      add_job(job);
    } else if (job.state == JobState::kStarting ||
               job.state == JobState::kRunning ||
               job.state == JobState::kPausing ||
               job.state == JobState::kResuming) {
      // Until its expected end; an overrunning job holds its slot a while.
      const Duration ran =
          job.running_since ? now - *job.running_since : Duration(0);
      const Duration left =
          std::max(remaining(job) - ran, Duration(std::chrono::minutes(5)));
      queue.busy.push_back({now, now + left});
    } else if (job.plan && !job.held &&
               (job.state == JobState::kQueued ||
                job.state == JobState::kPaused)) {
      for (const auto& segment : job.plan->segments) {
        if (segment.end > now) {
          queue.busy.push_back({std::max(segment.start, now), segment.end});
        }
      }
    }
  }
  if (incoming) {
    add_job(*incoming);
  }
  return queue;
}

Plan plan_of(const QueuedPlacement& placement, const QueuedJob& job,
             const std::string& zone, const forecast::IntensitySeries* series,
             TimePoint now) {
  Plan plan;
  plan.zone = zone;
  plan.run_now_zone = zone;
  plan.segments = {{placement.start, placement.end}};
  plan.expected_gco2_per_kwh = placement.mean_gco2_per_kwh;
  plan.expected_grams = placement.expected_grams;
  plan.reason = placement.late             ? "queue-late"
                : placement.forecast_known ? "queue"
                                           : "queue-no-forecast";
  const TimePoint ready = std::max(now, job.earliest);
  plan.run_now_known = false;
  if (series) {
    if (auto window = best_contiguous_window(
            *series, ready, ready + job.duration, job.duration)) {
      plan.run_now_known = true;
      plan.run_now_gco2_per_kwh = window->mean_gco2_per_kwh;
      plan.run_now_grams = job.power_watts / 1000.0 *
                           window->mean_gco2_per_kwh *
                           static_cast<double>(job.duration.count()) / 3600.0;
    }
  }
  if (plan.run_now_known && plan.run_now_gco2_per_kwh > 0 &&
      placement.forecast_known) {
    plan.savings_percent =
        100.0 * (plan.run_now_gco2_per_kwh - plan.expected_gco2_per_kwh) /
        plan.run_now_gco2_per_kwh;
  }
  return plan;
}

}  // namespace

void Scheduler::replan_queues(TimePoint now) {
  for (const auto& zone : options_.zones) {
    if (zone.capacity <= 0) {
      continue;
    }
    auto queue = collect_queue(
        active_, zone_members(zone.id), zone.id, nullptr, now,
        options_.safety_margin, options_.default_power_watts,
        [this](const Job& j) { return queue_planned(j); },
        [this](const Job& j) { return remaining(j); });
    // The late tail's head joins the plan: it is placed after every job
    // that can still be on time, and the ones that then start before the
    // next round leave the tail. The rest of the tail is not planned.
    const size_t members = queue.jobs.size();
    for (const auto& id : late_tail_head(
             zone.id, static_cast<size_t>(kTailHeadPerSlot * zone.capacity))) {
      queue.jobs.push_back(queued_job_of(active_.at(id), options_.safety_margin,
                                         options_.default_power_watts,
                                         remaining(active_.at(id))));
    }
    if (queue.jobs.empty()) {
      continue;
    }
    const auto* series = forecast_for(zone.id, now);
    if (series && series->stale) {
      series = nullptr;  // Not trusted: every job as early as it fits.
    }
    QueuePlannerOptions options;
    options.slots = zone.capacity;
    options.max_passes = kReplanPasses;
    options.lower_bound = false;
    auto schedule =
        plan_zone_queue(now, queue.jobs, queue.busy, series, options);
    if (!schedule) {
      logger()->warn("zone {}: queue re-plan failed, keeping the plans: {}",
                     zone.id, schedule.error().message);
      continue;
    }
    const size_t tail = late_tail_size(zone.id);
    if (schedule->late > 0) {
      logger()->warn(
          "zone {}: {} of {} queued jobs cannot meet their deadlines with {} "
          "slots; they run as early as a slot allows",
          zone.id, schedule->late + tail - (queue.jobs.size() - members),
          members + tail, zone.capacity);
    }
    const TimePoint next_round = now + options_.replan_period;
    for (size_t i = 0; i < queue.jobs.size(); ++i) {
      Job& job = active_.at(queue.jobs[i].id);
      const auto& placement = schedule->placements[i];
      const bool hopeless =
          now + queue.jobs[i].duration > queue.jobs[i].deadline;
      const bool later = placement.start >= next_round;
      if (placement.late && later && !job.handle) {
        if (hopeless) {
          // Into (or left in) the late tail: saved once, when it enters.
          if (!in_late_tail(job)) {
            Plan plan = plan_of(placement, queue.jobs[i], zone.id, series, now);
            plan.reason = "queue-tail";
            adopt_plan(job, std::move(plan), now);
          }
          continue;
        }
        // Late and not starting before the next round either way: the
        // round re-places it then; moving its start now only costs a save.
        if (job.plan && job.plan->reason == "queue-late" &&
            job.plan->start() >= next_round) {
          continue;
        }
      }
      adopt_plan(job, plan_of(placement, queue.jobs[i], zone.id, series, now),
                 now);
    }
  }
}

Result<Plan> Scheduler::admit_to_queue(const Job& job, TimePoint now) {
  const auto* zone = zone_config(job.zone);
  const auto* series = forecast_for(job.zone, now);
  if (series && series->stale) {
    series = nullptr;
  }
  const auto queue = collect_queue(
      active_, zone_members(job.zone), job.zone, &job, now,
      options_.safety_margin, options_.default_power_watts,
      [this](const Job& j) { return queue_planned(j); },
      [this](const Job& j) { return remaining(j); });
  const size_t self = queue.jobs.size() - 1;
  // Incremental admission first: the newcomer alone, in the capacity the
  // current plans leave free. When it meets its deadline there, nobody
  // moves, nobody is made late, and this is what the full plan's warm start
  // (valid plans kept first) would give it, at O(queue) instead of planning
  // the whole queue (and saving every job that plan moves) at each arrival.
  // The plans of late jobs are left out of the occupancy when they start
  // after the next re-plan round: the round places late jobs after all the
  // on-time ones anyway (queue_planner.h), so they cannot keep the
  // newcomer's cells. A late plan starting before the round still counts.
  {
    const TimePoint next_round =
        last_replan_ ? *last_replan_ + options_.replan_period : now;
    std::vector<Segment> taken = queue.busy;
    for (size_t i = 0; i < self; ++i) {
      const auto& plan = active_.at(queue.jobs[i].id).plan;
      if (!plan ||
          (plan->reason == "queue-late" && plan->start() >= next_round)) {
        continue;
      }
      for (const auto& segment : plan->segments) {
        if (segment.end > now) {
          taken.push_back({std::max(segment.start, now), segment.end});
        }
      }
    }
    QueuePlannerOptions options;
    options.slots = zone->capacity;
    options.max_passes = 0;
    options.lower_bound = false;
    const std::vector<QueuedJob> alone = {queue.jobs[self]};
    if (auto fit = plan_zone_queue(now, alone, taken, series, options);
        fit && !fit->placements.front().late) {
      return plan_of(fit->placements.front(), queue.jobs[self], job.zone,
                     series, now);
    }
  }
  auto plan_queue = [&]() {
    QueuePlannerOptions options;
    options.slots = zone->capacity;
    options.max_passes = 0;  // The round's local search does the rest.
    options.lower_bound = false;
    return plan_zone_queue(now, queue.jobs, queue.busy, series, options);
  };
  // What admitting it costs the deadlines (empty: nothing).
  auto problem_of = [&](const QueueSchedule& schedule) -> std::string {
    const auto& mine = schedule.placements[self];
    if (mine.late) {
      return fmt::format(
          "deadline {} cannot be met with the capacity left in zone {} ({} "
          "slots, {} queued, {} running or planned elsewhere): the earliest "
          "free slot ends the job at {}",
          format_utc(job.spec.deadline), job.zone, zone->capacity,
          queue.jobs.size() - 1, queue.busy.size(), format_utc(mine.end));
    }
    // Others made late: late now, on time in their plans so far (no second
    // plan of the queue without the newcomer: in an overloaded zone every
    // admission would pay for two).
    size_t made_late = 0;
    for (size_t i = 0; schedule.late > 0 && i < self; ++i) {
      const auto& before = active_.at(queue.jobs[i].id).plan;
      made_late += schedule.placements[i].late &&
                           !(before && before->reason == "queue-late")
                       ? 1
                       : 0;
    }
    if (made_late == 0) {
      return "";
    }
    return fmt::format(
        "admitting it would make {} queued job(s) in zone {} miss their "
        "deadlines ({} slots)",
        made_late, job.zone, zone->capacity);
  };
  auto schedule = plan_queue();
  if (!schedule) {
    return make_error(schedule.error());
  }
  const std::string problem = problem_of(*schedule);
  const auto& mine = schedule->placements[self];
  if (!problem.empty() && !job.spec.allow_late) {
    return make_error(ErrorCode::kInvalidArgument,
                      "infeasible with capacity: " + problem +
                          " (submit with --allow-late to queue it anyway)");
  }
  // Others move when the newcomer took their cells or EDF took over.
  for (size_t i = 0; i < self; ++i) {
    if (queue.jobs[i].current_start == schedule->placements[i].start) {
      continue;
    }
    Job& other = active_.at(queue.jobs[i].id);
    adopt_plan(
        other,
        plan_of(schedule->placements[i], queue.jobs[i], job.zone, series, now),
        now);
  }
  Plan plan = plan_of(mine, queue.jobs[self], job.zone, series, now);
  if (!problem.empty()) {
    plan.warnings.push_back(problem + " (admitted with --allow-late)");
  }
  return plan;
}

}  // namespace lowcarb::scheduler
