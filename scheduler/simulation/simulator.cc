// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/simulator.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/strings.h"
#include "data/catalogue.h"
#include "scheduler/memory_job_store.h"
#include "scheduler/scheduler.h"
#include "scheduler/simulation/simulated_executor.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler::simulation {
namespace {

constexpr const char* kExecutorName = "simulated";
constexpr size_t kMaxErrors = 5;
// "Never" for refresh periods and forecast ages, far from overflow.
constexpr Duration kForever = std::chrono::hours(24 * 365 * 100);

struct PolicyName {
  SimPolicy policy;
  const char* name;
};
constexpr PolicyName kPolicyNames[] = {
    {SimPolicy::kRunNow, "run-now"},
    {SimPolicy::kFlexibleStart, "flexible-start"},
    {SimPolicy::kThreshold, "threshold"},
    {SimPolicy::kPauseResume, "pause-resume"},
    {SimPolicy::kSpatial, "spatial"},
    {SimPolicy::kOracle, "oracle"},
};

double job_power(const WorkloadJob& job, const SimulationOptions& options) {
  if (job.power_watts) {
    return *job.power_watts;
  }
  if (options.power_watts > 0) {
    return options.power_watts;
  }
  return std::max(1, job.cpus) * options.watts_per_core;
}

}  // namespace

const char* to_string(SimPolicy policy) {
  for (const auto& entry : kPolicyNames) {
    if (entry.policy == policy) {
      return entry.name;
    }
  }
  return "?";
}

Result<SimPolicy> sim_policy_from_string(std::string_view text) {
  std::vector<std::string> names;
  for (const auto& entry : kPolicyNames) {
    if (iequals(trim(text), entry.name)) {
      return entry.policy;
    }
    names.push_back(entry.name);
  }
  return make_error(
      ErrorCode::kInvalidArgument,
      fmt::format("unknown policy '{}'{} (known: {})", text,
                  did_you_mean(text, names), fmt::join(names, ", ")));
}

Result<std::vector<SimPolicy>> sim_policies_from_string(std::string_view text) {
  std::vector<SimPolicy> policies;
  for (const auto& name : split(text, ',')) {
    auto policy = sim_policy_from_string(name);
    if (!policy) {
      return tl::unexpected(policy.error());
    }
    policies.push_back(*policy);
  }
  if (policies.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no policy given");
  }
  return policies;
}

ClippedWorkload clip_to_trace(const Workload& workload,
                              const TraceIntensityHistory& trace) {
  ClippedWorkload out;
  out.workload.source = workload.source;
  out.workload.skipped = workload.skipped;
  TimePoint begin = trace.common_begin();
  TimePoint end = trace.common_end();
  for (const auto& job : workload.jobs) {
    LOWCARB_ASSERT(job.deadline.has_value());
    if (job.submit < begin || *job.deadline > end) {
      ++out.dropped;
      continue;
    }
    out.workload.jobs.push_back(job);
  }
  return out;
}

Result<SimulationResult> run_simulation(const Workload& workload,
                                        TraceIntensityHistory& trace,
                                        const SimulationOptions& options) {
  auto zones = trace.zones();
  if (zones.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "simulate: no intensity data");
  }
  SimulationResult result;
  result.policy = to_string(options.policy);
  if (workload.jobs.empty()) {
    result.forecast = options.forecast.text();
    return result;
  }
  for (const auto& job : workload.jobs) {
    if (!job.deadline) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}:{}: job {} has no deadline",
                                    workload.source, job.line, job.id));
    }
  }

  const bool oracle = options.policy == SimPolicy::kOracle;
  TimePoint first_submit = workload.jobs.front().submit;
  TimePoint last_deadline = first_submit;
  for (const auto& job : workload.jobs) {
    last_deadline = std::max(last_deadline, *job.deadline);
  }

  ForecastSpec forecast_spec = oracle ? ForecastSpec{} : options.forecast;
  result.forecast = forecast_spec.text();

  ManualClock clock(first_submit);
  SimulatedExecutor executor(clock);
  MemoryJobStore store(KeepLedger::kNo);
  TraceForecastProvider forecasts(trace, forecast_spec);
  DeclaredPowerMeter meter(options.power_watts > 0 ? options.power_watts
                                                   : options.watts_per_core);
  Tracker tracker(store, trace, meter, options.pue, zones.front());

  SchedulerOptions scheduler_options;
  for (const auto& zone : zones) {
    config::ZoneConfig config;
    config.id = zone;
    const auto* info = data::find_zone(zone);
    config.time_zone = info ? info->time_zone : "UTC";
    config.capacity = options.capacity;
    config.executor = kExecutorName;
    scheduler_options.zones.push_back(std::move(config));
  }
  scheduler_options.safety_margin = options.safety_margin;
  // Metering is exact at any period (the trace gives interval means), so
  // sample only at pauses and completions: fewer ledger rows, same totals.
  scheduler_options.sample_period = kForever;
  if (oracle) {
    // One forecast of the whole trace, fetched once and never stale.
    scheduler_options.horizon =
        last_deadline - first_submit + std::chrono::hours(1);
    scheduler_options.forecast_refresh = kForever;
    scheduler_options.replan_period = kForever;
    scheduler_options.max_forecast_age = kForever;
  } else {
    scheduler_options.horizon = options.horizon;
    scheduler_options.forecast_refresh = options.refresh;
    scheduler_options.replan_period = options.refresh;
    scheduler_options.max_forecast_age =
        std::max(options.refresh * 2,
                 std::chrono::duration_cast<Duration>(std::chrono::hours(6)));
  }
  switch (options.policy) {
    case SimPolicy::kRunNow:
      scheduler_options.policy_override = Policy::kRunNow;
      break;
    case SimPolicy::kFlexibleStart:
      scheduler_options.policy_override = Policy::kFlexibleStart;
      break;
    case SimPolicy::kThreshold:
      scheduler_options.policy_override = Policy::kThreshold;
      scheduler_options.threshold_gco2_per_kwh = options.threshold_gco2_per_kwh;
      scheduler_options.threshold_percentile =
          options.threshold_gco2_per_kwh
              ? std::nullopt
              : std::optional<double>(
                    options.threshold_percentile.value_or(25));
      break;
    case SimPolicy::kPauseResume:
      scheduler_options.policy_override = Policy::kPauseResume;
      break;
    case SimPolicy::kSpatial:
      scheduler_options.policy_override = Policy::kSpatial;
      break;
    case SimPolicy::kOracle:
      break;  // Each job's own (kAuto) policy.
  }
  scheduler_options.default_power_watts =
      options.power_watts > 0 ? options.power_watts : options.watts_per_core;

  Scheduler scheduler(store, forecasts, {{kExecutorName, &executor}}, tracker,
                      scheduler_options);

  // Lowcarb job id -> index in the workload.
  std::map<std::string, size_t> index_of;
  std::vector<JobResult> per_job(workload.jobs.size());
  for (size_t i = 0; i < workload.jobs.size(); ++i) {
    const auto& job = workload.jobs[i];
    per_job[i].id = job.id;
    per_job[i].submit = job.submit;
    per_job[i].deadline = *job.deadline;
    per_job[i].duration = job.duration;
    per_job[i].state = "rejected";
  }

  TimePoint now = first_submit;
  size_t next = 0;
  while (true) {
    clock.set(now);
    for (; next < workload.jobs.size() && workload.jobs[next].submit <= now;
         ++next) {
      const auto& job = workload.jobs[next];
      JobSpec spec;
      spec.name = job.id;
      spec.argv = {"simulated-job", job.id};
      spec.duration = job.duration;
      spec.submitted_at = job.submit;
      spec.earliest = job.submit;
      spec.deadline = *job.deadline;
      spec.zones = job.zones;
      spec.executor = kExecutorName;
      spec.interruptible = job.interruptible || options.all_interruptible;
      spec.power_watts = job_power(job, options);
      // Capacity admission would refuse jobs the trace ran anyway: admit
      // them, and count a late one as a missed deadline.
      spec.allow_late = true;
      auto submitted = scheduler.submit(std::move(spec), now);
      if (!submitted) {
        ++result.rejected;
        if (result.errors.size() < kMaxErrors) {
          result.errors.push_back(fmt::format("{}:{}: job {}: {}",
                                              workload.source, job.line, job.id,
                                              submitted.error().message));
        }
        continue;
      }
      index_of[submitted->id] = next;
    }
    scheduler.tick(now);
    ++result.events;

    TimePoint next_time = TimePoint::max();
    if (next < workload.jobs.size()) {
      next_time = workload.jobs[next].submit;
    }
    // A completion changes no decision unless zones have capacity limits:
    // the next tick's poll finishes the job at its exact end (finish_job
    // meters to RunStatus::ended_at), so completions are not events.
    if (options.capacity > 0) {
      if (auto completion = executor.next_completion()) {
        next_time = std::min(next_time, *completion);
      }
    }
    if (!scheduler.active_jobs().empty()) {
      next_time = std::min(next_time, scheduler.next_event(now, false));
    }
    if (next_time == TimePoint::max()) {
      // Only running jobs left and nothing planned: wake at their ends.
      if (auto completion = executor.next_completion()) {
        next_time = *completion;
      } else {
        break;
      }
    }
    // Everything due at `now` was done by this tick; never stand still.
    now = std::max(next_time, now + Duration(1));
  }

  double delay_hours_sum = 0;
  for (const auto& [id, stored] : store.all_jobs()) {
    auto it = index_of.find(stored.id);
    if (it == index_of.end()) {
      continue;
    }
    JobResult& out = per_job[it->second];
    out.zone = stored.zone;
    out.start = stored.started_at;
    out.end = stored.ended_at;
    out.state = lowcarb::scheduler::to_string(stored.state);
    auto totals = tracker.totals(stored.id);
    out.kg = totals.grams / 1000.0;
    out.baseline_kg = totals.counterfactual_grams / 1000.0;
    out.pauses = executor.pauses(stored.id);
    out.missed_deadline = stored.state != JobState::kSucceeded ||
                          !stored.ended_at || *stored.ended_at > out.deadline;
    ++result.jobs;
    result.kg += out.kg;
    result.baseline_kg += out.baseline_kg;
    result.missed_deadlines += out.missed_deadline ? 1 : 0;
    if (stored.ended_at) {
      delay_hours_sum +=
          static_cast<double>(
              (*stored.ended_at - out.submit - out.duration).count()) /
          3600.0;
    }
  }
  result.mean_delay_hours = result.jobs > 0 ? delay_hours_sum / result.jobs : 0;
  // Peak concurrency per zone by a sweep over [start, end) (an upper bound
  // for paused jobs, whose pauses are not subtracted).
  std::map<std::string, std::vector<std::pair<TimePoint, int>>> changes;
  for (const auto& job : per_job) {
    if (job.start && job.end) {
      changes[job.zone].push_back({*job.start, +1});
      changes[job.zone].push_back({*job.end, -1});
    }
  }
  for (auto& [zone, list] : changes) {
    std::sort(list.begin(), list.end());  // Ends (-1) before starts at ties.
    int running = 0;
    int peak = 0;
    for (const auto& change : list) {
      running += change.second;
      peak = std::max(peak, running);
    }
    result.peak_running[zone] = peak;
  }
  result.per_job = std::move(per_job);
  return result;
}

}  // namespace lowcarb::scheduler::simulation
