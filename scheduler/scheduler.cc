// SPDX-License-Identifier: Apache-2.0
#include "scheduler/scheduler.h"

#include <algorithm>
#include <deque>
#include <iterator>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "scheduler/safe_resume.h"
#include "scheduler/zone_capacity.h"

namespace lowcarb::scheduler {
namespace {

using executors::RunState;

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = get_logger("scheduler");
  return instance;
}

JobState job_state_for(RunState state) {
  switch (state) {
    case RunState::kSucceeded:
      return JobState::kSucceeded;
    case RunState::kCancelled:
      return JobState::kCancelled;
    default:
      return JobState::kFailed;
  }
}

bool same_points(const forecast::IntensitySeries& a,
                 const forecast::IntensitySeries& b) {
  return a.points == b.points && a.provider == b.provider && a.stale == b.stale;
}

}  // namespace

Scheduler::Scheduler(JobStore& store, forecast::ForecastProvider& forecasts,
                     std::map<std::string, executors::Executor*> executors,
                     Tracker& tracker, SchedulerOptions options)
    : store_(store),
      forecasts_(forecasts),
      executors_(std::move(executors)),
      tracker_(tracker),
      options_(std::move(options)) {
  for (const auto& zone : options_.zones) {
    any_capacity_ = any_capacity_ || zone.capacity > 0;
  }
}

const config::ZoneConfig* Scheduler::zone_config(
    const std::string& zone) const {
  for (const auto& z : options_.zones) {
    if (z.id == zone) {
      return &z;
    }
  }
  return nullptr;
}

std::vector<std::string> Scheduler::zones_of(const JobSpec& spec) const {
  if (!spec.zones.empty()) {
    return spec.zones;
  }
  std::vector<std::string> ids;
  for (const auto& z : options_.zones) {
    ids.push_back(z.id);
  }
  return ids;
}

std::string Scheduler::executor_of(const JobSpec& spec,
                                   const std::string& zone) const {
  if (!spec.executor.empty() && spec.executor != "slurm") {
    return spec.executor;
  }
  const auto* z = zone_config(zone);
  if (z && !z->executor.empty()) {
    return z->executor;
  }
  return spec.executor.empty() ? "local" : spec.executor;
}

executors::Executor* Scheduler::executor_named(const std::string& name) const {
  auto it = executors_.find(name);
  return it == executors_.end() ? nullptr : it->second;
}

Policy Scheduler::policy_of(const JobSpec& spec) const {
  return options_.policy_override ? *options_.policy_override : spec.policy;
}

void Scheduler::invalidate_forecasts() { zone_forecasts_.clear(); }

void Scheduler::fetch_forecast(const std::string& zone, TimePoint now) {
  // Far enough ahead for every job that may run in the zone (a job due in
  // 70 h needs 70 h), in whole hours so repeated asks match a cache entry.
  Duration horizon = options_.horizon;
  // The latest deadline from the index, not a walk over every job.
  if (auto it = zone_deadlines_.find(zone); it != zone_deadlines_.end()) {
    horizon = std::max(horizon, *it->second.rbegin() - now);
  }
  // No provider forecasts further than a week; asking more only costs.
  horizon = std::min<Duration>(
      std::chrono::ceil<std::chrono::hours>(horizon),
      std::max<Duration>(options_.horizon, std::chrono::hours(7 * 24)));
  auto series = forecasts_.forecast(zone, now, horizon);
  auto& entry = zone_forecasts_[zone];
  entry.fetched_at = now;
  if (!series) {
    ++forecast_errors_[zone];
    logger()->warn("forecast for {} unavailable: {}", zone,
                   redact(series.error().message));
    return;  // Keep the previous series; it ages into staleness.
  }
  series->zone = zone;
  if (!entry.ok || !same_points(entry.series, *series)) {
    forecasts_changed_ = true;
  }
  entry.series = std::move(*series);
  entry.ok = true;
}

void Scheduler::refresh_forecasts(TimePoint now, bool force) {
  if (!force && !refresh_due(now)) {
    return;  // Nothing to fetch: skip the walk over every job.
  }
  // The zones of the active jobs, from the index (a walk over every job
  // was most of an overloaded simulation's time).
  std::vector<std::string> zones;
  zones.reserve(zone_refs_.size());
  for (const auto& [zone, count] : zone_refs_) {
    zones.push_back(zone);
  }
  for (const auto& zone : zones) {
    auto it = zone_forecasts_.find(zone);
    if (force || it == zone_forecasts_.end() ||
        now - it->second.fetched_at >= options_.forecast_refresh) {
      fetch_forecast(zone, now);
    }
  }
}

const forecast::IntensitySeries* Scheduler::forecast_for(
    const std::string& zone, TimePoint now) {
  auto it = zone_forecasts_.find(zone);
  if (it == zone_forecasts_.end() ||
      (!it->second.ok &&
       now - it->second.fetched_at >= options_.forecast_refresh)) {
    fetch_forecast(zone, now);
    it = zone_forecasts_.find(zone);
  }
  if (!it->second.ok) {
    return nullptr;
  }
  auto& series = it->second.series;
  // A forecast we could not refresh for too long is stale: the optimizer
  // then runs the job by its latest safe start instead of trusting it.
  if (now - series.generated_at > options_.max_forecast_age &&
      series.kind.horizon != forecast::Horizon::kAnnualAverage) {
    series.stale = true;
  }
  return &series;
}

ResumeLimits Scheduler::resume_limits(const Job& job) const {
  ResumeLimits limits;
  limits.earliest = job.spec.earliest;
  limits.deadline = job.spec.deadline;
  limits.safety_margin = options_.safety_margin;
  limits.resume_overhead = job.spec.resume_overhead + options_.resume_overhead;
  limits.min_chunk = job.spec.min_chunk;
  limits.max_pauses = job.spec.max_pauses;
  return limits;
}

ResumeProgress Scheduler::progress_of(const Job& job,
                                      std::optional<TimePoint> now) const {
  ResumeProgress progress;
  progress.work = job.spec.duration;
  progress.run_time = job.run_time;
  progress.pauses = job.segment;
  // A job saving a checkpoint (kPausing) is metered from running_since but
  // makes no progress.
  const bool working =
      job.running_since.has_value() && job.state != JobState::kPausing;
  progress.running = working;
  if (now && working && *now > *job.running_since) {
    progress.chunk = *now - *job.running_since;
    progress.run_time += progress.chunk;
  }
  return progress;
}

Duration Scheduler::remaining(const Job& job) const {
  return time_to_finish(progress_of(job), resume_limits(job));
}

TimePoint Scheduler::latest_safe_start(const Job& job) const {
  // Never earlier than the earliest start: a tight job starts at once.
  return latest_safe_resume(progress_of(job), resume_limits(job));
}

void Scheduler::run_to_end(Job& job, TimePoint now, const std::string& why) {
  const Duration left =
      time_to_finish(progress_of(job, now), resume_limits(job));
  const TimePoint from = job.running_since.value_or(now);
  const std::vector<Segment> segments = {{from, now + left}};
  if (!job.plan) {
    job.plan.emplace();
    job.plan->zone = job.zone;
  }
  if (job.plan->segments == segments) {
    return;
  }
  job.plan->segments = segments;
  job.plan->reason = "latest-safe-resume";
  logger()->info("job {}: runs to the end by {} ({})", job.id,
                 format_utc(now + left), why);
  save(job, now, "runs to the end: " + why);
}

bool Scheduler::keep_running_if_planned(Job& job, TimePoint now) {
  // The job as if its current segment ended now and the next began at once
  // (no pause, so no resume to pay for).
  Job probe = job;
  probe.run_time += now - *job.running_since;
  probe.running_since = now;
  auto plan = make_plan(probe, now);
  if (!plan || plan->start() > now || plan->zone != job.zone) {
    return false;
  }
  job.plan = std::move(*plan);
  save(job, now, "keeps running: the re-plan runs it now");
  return true;
}

int Scheduler::capacity_of(const std::string& zone) const {
  const auto* config = zone_config(zone);
  return config ? config->capacity : 0;
}

bool Scheduler::holds_slot(const Job& job) {
  return job.state == JobState::kStarting || job.state == JobState::kRunning ||
         job.state == JobState::kPausing || job.state == JobState::kResuming;
}

std::vector<Segment> Scheduler::zone_occupancy(const std::string& zone,
                                               const std::string& except_id,
                                               TimePoint now) const {
  std::vector<Segment> occupied;
  for (const auto& [id, other] : active_) {
    if (id == except_id || other.zone != zone) {
      continue;
    }
    if (holds_slot(other)) {
      // Until its expected end; an overrunning job holds its slot a while.
      Duration left = std::max(
          remaining(other) -
              (other.running_since ? now - *other.running_since : Duration(0)),
          Duration(std::chrono::minutes(5)));
      occupied.push_back({now, now + left});
    } else if (other.plan && !other.held &&
               (other.state == JobState::kQueued ||
                other.state == JobState::kPaused)) {
      if (planning_round_ && !planning_round_->contains(id) &&
          !queue_planned(other)) {
        continue;  // Re-planned later in this round, in deadline order.
      }
      for (const auto& segment : other.plan->segments) {
        if (segment.end > now) {
          occupied.push_back({std::max(segment.start, now), segment.end});
        }
      }
    }
  }
  return occupied;
}

bool Scheduler::has_free_slot(const Job& job) const {
  const int capacity = capacity_of(job.zone);
  if (capacity <= 0) {
    return true;
  }
  // From the index's per-zone count (O(log zones)); the job itself does not
  // count against its own slot.
  int taken = slots_taken(job.zone);
  if (auto self = index_.find(job.id);
      self != index_.end() && self->second.slot_zone == job.zone) {
    --taken;
  }
  return taken < capacity;
}

Result<Plan> Scheduler::make_plan(const Job& job, TimePoint now) {
  Policy policy = policy_of(job.spec);
  auto zones = zones_of(job.spec);
  if (zones.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no zones configured");
  }
  bool spatial = policy == Policy::kSpatial ||
                 (policy == Policy::kAuto && zones.size() > 1);
  if (!spatial) {
    zones.resize(1);
  }
  Duration duration = remaining(job);
  if (duration <= Duration(0)) {
    duration = Duration(1);  // Overran its estimate: treat as nearly done.
  }
  TimePoint earliest = std::max(now, job.spec.earliest);
  TimePoint deadline = std::max(job.spec.deadline, earliest + duration);

  std::vector<ZoneOption> options;
  // Forecasts with the zone's full times blanked out; a deque keeps the
  // addresses the options point to.
  std::deque<forecast::IntensitySeries> masked;
  for (const auto& zone : zones) {
    ZoneOption option;
    option.zone = zone;
    if (policy != Policy::kRunNow) {
      option.series = forecast_for(zone, now);
      const int capacity = capacity_of(zone);
      if (option.series && capacity > 0) {
        auto full = full_spans(zone_occupancy(zone, job.id, now), capacity);
        if (!full.empty()) {
          masked.push_back(without_spans(*option.series, full));
          option.series = &masked.back();
        }
      }
    }
    if (const auto* z = zone_config(zone)) {
      option.priority = z->priority;
      option.penalty_gco2_per_kwh = z->penalty_gco2_per_kwh;
      option.penalty_percent = z->penalty_percent;
      option.allowed_hours = z->allowed_hours;
      if (!z->time_zone.empty()) {
        option.time_zone = z->time_zone;
      }
    }
    if (options_.min_confidence > 0 && options_.forecast_error) {
      option.forecast_mae = options_.forecast_error(zone);
    }
    options.push_back(std::move(option));
  }
  if (policy == Policy::kRunNow) {
    Plan plan;
    plan.zone = zones.front();
    plan.run_now_zone = zones.front();
    plan.segments = {{earliest, earliest + duration}};
    plan.reason = "run-now";
    return plan;
  }
  PlanRequest request;
  request.now = now;
  request.earliest = earliest;
  request.deadline = deadline;
  request.duration = duration;
  request.power_watts = job.spec.power_watts > 0 ? job.spec.power_watts
                                                 : options_.default_power_watts;
  request.interruptible = policy == Policy::kPauseResume ||
                          (policy == Policy::kAuto && job.spec.interruptible);
  request.min_chunk = std::min(job.spec.min_chunk, duration);
  // Counted across re-plans: the pauses already made, and every further
  // pause's resume.
  request.max_pauses = pauses_left(progress_of(job), resume_limits(job));
  request.pause_overhead = resume_limits(job).resume_overhead;
  if (policy == Policy::kThreshold || job.spec.threshold_gco2_per_kwh) {
    request.threshold_gco2_per_kwh = job.spec.threshold_gco2_per_kwh
                                         ? job.spec.threshold_gco2_per_kwh
                                         : options_.threshold_gco2_per_kwh;
    if (!request.threshold_gco2_per_kwh) {
      request.threshold_percentile = options_.threshold_percentile;
    }
  }
  request.safety_margin = options_.safety_margin;
  request.min_confidence = options_.min_confidence;
  return plan_job(request, options);
}

void Scheduler::replan(Job& job, TimePoint now) {
  if (job.held) {
    return;
  }
  auto plan = make_plan(job, now);
  if (!plan) {
    logger()->warn("job {}: re-plan failed, keeping the old plan: {}", job.id,
                   plan.error().message);
    return;
  }
  adopt_plan(job, std::move(*plan), now);
}

Scheduler::DoneGrams Scheduler::done_grams(const Job& job) {
  // A job that runs adds rows as it goes; one that waits does not.
  const bool waiting = !job.running_since.has_value();
  if (auto it = done_grams_.find(job.id); waiting && it != done_grams_.end()) {
    return it->second;
  }
  DoneGrams done;
  auto rows = store_.ledger(LedgerFilter{job.id, {}, {}});
  if (!rows) {
    logger()->warn("job {}: read ledger: {}", job.id, rows.error().message);
    return done;  // Not cached: asked again at the next re-plan.
  }
  for (const auto& row : *rows) {
    done.grams += row.grams;
    done.run_now_grams += row.counterfactual_grams;
  }
  if (waiting) {
    done_grams_[job.id] = done;
  }
  return done;
}

void Scheduler::adopt_plan(Job& job, Plan new_plan, TimePoint now) {
  auto plan = &new_plan;
  if (job.run_time > Duration(0)) {
    const DoneGrams done = done_grams(job);
    plan->done_grams = done.grams;
    plan->done_run_now_grams = done.run_now_grams;
  }
  ++replanned_;
  if (job.plan && job.plan->segments == plan->segments &&
      job.plan->zone == plan->zone) {
    job.plan = std::move(*plan);  // Same decision; refreshed expectations.
    reindex(job.id);
    return;
  }
  TimePoint old_start = job.plan ? job.plan->start() : now;
  std::string old_zone = job.plan ? job.plan->zone : "";
  // A deferred backend job stays in its zone's executor; a zone change means
  // cancelling and resubmitting, which we only do while nothing started.
  if (job.handle && plan->zone != job.zone) {
    logger()->info(
        "job {}: greener zone {} found but job is already "
        "submitted to {}; keeping {}",
        job.id, plan->zone, job.executor, job.zone);
    return;
  }
  job.plan = std::move(*plan);
  job.zone = job.plan->zone;
  job.executor = executor_of(job.spec, job.zone);
  if (job.handle && job.state == JobState::kQueued) {
    if (auto* executor = executor_named(job.executor)) {
      if (auto s = executor->reschedule(*job.handle, job.plan->start()); !s) {
        logger()->warn("job {}: could not move start on {}: {}", job.id,
                       job.executor, s.error().message);
      }
    }
  }
  ++replans_moved_;
  // Per job at debug level only (tick() logs a summary per round): at
  // 100,000 jobs the formatting alone was a visible share of a re-plan, so
  // it is skipped unless the line is written.
  if (logger()->should_log(spdlog::level::debug)) {
    logger()->debug(
        "job {}: re-planned {} -> zone {} start {} (was {} {}), expected "
        "{:.1f} g/kWh vs run-now {:.1f}, reason {}",
        job.id, to_string(job.state), job.zone, format_utc(job.plan->start()),
        old_zone, format_utc(old_start), job.plan->expected_gco2_per_kwh,
        job.plan->run_now_gco2_per_kwh, job.plan->reason);
  }
  save_plan(job, now,
            "re-planned: start " + format_plan_time(job.plan->start()) +
                " in " + job.zone);
}

bool Scheduler::save_plan(Job& job, TimePoint now, const std::string& note) {
  if (unsaved_.count(job.id)) {
    return save(job, now, note);
  }
  reindex(job.id);
  if (auto status = store_.update_plan(job, now, note); !status) {
    logger()->error(
        "job {}: could not record '{}': {}; trying again at the "
        "next tick",
        job.id, note, status.error().message);
    unsaved_[job.id] = note;  // Retried as a full save().
    return false;
  }
  ++job.version;
  return true;
}

bool Scheduler::save(Job& job, TimePoint now, const std::string& note) {
  // Every change worth saving is one the next-event index must see.
  reindex(job.id);
  auto status = store_.update(job, now, note);
  if (!status) {
    logger()->error(
        "job {}: could not record '{}': {}; trying again at the "
        "next tick",
        job.id, note, status.error().message);
    unsaved_[job.id] = note;
    return false;
  }
  unsaved_.erase(job.id);
  ++job.version;
  return true;
}

Result<Job> Scheduler::submit(JobSpec spec, TimePoint now) {
  if (auto s = spec.validate(); !s) {
    return make_error(s.error());
  }
  std::vector<std::string> known;
  for (const auto& z : options_.zones) {
    known.push_back(z.id);
  }
  for (const auto& zone : spec.zones) {
    if (!zone_config(zone)) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("unknown zone '{}'{} (configured: {})", zone,
                      did_you_mean(zone, known), fmt::join(known, ", ")));
    }
  }
  if (spec.deadline <= now) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("deadline {} is in the past (now {})",
                                  format_utc(spec.deadline), format_utc(now)));
  }
  if (std::max(now, spec.earliest) + spec.duration > spec.deadline) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("infeasible: {} of work starting now ({}) ends after the "
                    "deadline {}",
                    format_duration(spec.duration), format_utc(now),
                    format_utc(spec.deadline)));
  }
  spec.submitted_at = now;
  Job job;
  job.spec = std::move(spec);
  job.state = JobState::kQueued;
  job.zone = zones_of(job.spec).empty() ? "" : zones_of(job.spec).front();
  auto plan =
      queue_planned(job) ? admit_to_queue(job, now) : make_plan(job, now);
  if (!plan) {
    return make_error(plan.error());
  }
  job.plan = std::move(*plan);
  job.zone = job.plan->zone;
  job.executor = executor_of(job.spec, job.zone);
  if (!executor_named(job.executor)) {
    std::vector<std::string> names;
    for (const auto& [name, e] : executors_) {
      names.push_back(name);
    }
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("unknown executor '{}'{} (available: {})", job.executor,
                    did_you_mean(job.executor, names), fmt::join(names, ", ")));
  }
  const auto* series = forecast_for(job.zone, now);
  job.forecast_provider = series ? series->provider : "none";
  auto stored = store_.insert(job, now);
  if (!stored) {
    return make_error(stored.error().with_context("store new job"));
  }
  job = std::move(*stored);
  logger()->info(
      "job {}: submitted by uid {}: {} of work, deadline {}; plan zone {} "
      "start {}, expected {:.1f} g/kWh vs run-now {:.1f} ({:.1f}% saved), "
      "provider {}, reason {}",
      job.id, job.spec.uid, format_duration(job.spec.duration),
      format_utc(job.spec.deadline), job.zone, format_utc(job.plan->start()),
      job.plan->expected_gco2_per_kwh, job.plan->run_now_gco2_per_kwh,
      job.plan->savings_percent, job.forecast_provider, job.plan->reason);
  auto& active = active_[job.id] = job;
  reindex(active.id);
  // A backend that can hold a job until its start time gets it now.
  auto* executor = executor_named(active.executor);
  if (executor->defers_start()) {
    start_job(active, now, "deferred submission");
    if (active.state == JobState::kFailed) {
      // The backend refused it (sbatch said why): the submit fails too.
      std::string refused = fmt::format("job {}: {} refused it: {}", active.id,
                                        active.executor, active.message);
      forget_if_ended(active.id);
      return make_error(ErrorCode::kInvalidArgument, std::move(refused));
    }
  }
  Job submitted = active;
  forget_if_ended(submitted.id);
  return submitted;
}

executors::LaunchSpec Scheduler::launch_spec(const Job& job) const {
  executors::LaunchSpec spec;
  spec.job_id = job.id;
  spec.name = job.spec.name.empty() ? "lowcarb-" + job.id : job.spec.name;
  spec.argv = job.spec.argv;
  spec.shell_command = job.spec.shell_command;
  spec.sbatch_script = job.spec.sbatch_script;
  spec.sbatch_options = job.spec.sbatch_options;
  spec.working_dir = job.spec.working_dir;
  spec.env = job.spec.env;
  spec.uid = job.spec.uid;
  spec.gid = job.spec.gid;
  spec.expected_duration = job.spec.duration;
  spec.deadline = job.spec.deadline;
  spec.interruptible = job.spec.interruptible;
  spec.pause_mode = job.spec.pause_mode;
  spec.segment = job.restarts;
  return spec;
}

void Scheduler::start_job(Job& job, TimePoint now, const std::string& why) {
  auto* executor = executor_named(job.executor);
  if (!executor) {
    job.state = JobState::kFailed;
    job.message = "executor " + job.executor + " is not configured";
    job.ended_at = now;
    save(job, now, job.message);
    return;
  }
  bool deferred = executor->defers_start();
  TimePoint begin =
      deferred && job.plan ? std::max(now, job.plan->start()) : now;
  // Durable intent first: after a crash, recover() asks the executor whether
  // this launch happened before starting it again.
  job.state = JobState::kStarting;
  if (!save(job, now, "starting: " + why)) {
    job.state = JobState::kQueued;
    return;
  }
  auto handle = executor->start(launch_spec(job), begin);
  if (!handle) {
    bool retry = handle.error().code == ErrorCode::kUnavailable ||
                 handle.error().code == ErrorCode::kTimeout;
    logger()->error("job {}: {} could not start it: {}{}", job.id, job.executor,
                    handle.error().message, retry ? " (will retry)" : "");
    if (retry) {
      job.state = JobState::kQueued;
      save(job, now, "start failed, will retry: " + handle.error().message);
      return;
    }
    job.state = JobState::kFailed;
    job.ended_at = now;
    job.message = handle.error().message;
    save(job, now, "start failed: " + handle.error().message);
    return;
  }
  job.handle = *handle;
  if (deferred) {
    // The backend starts it at `begin`; poll_job() notices when it runs.
    job.state = JobState::kQueued;
    save(job, now,
         fmt::format("handed to {} to begin at {}", job.executor,
                     format_utc(begin)));
    return;
  }
  job.state = JobState::kRunning;
  if (!job.started_at) {
    job.started_at = now;
  }
  job.running_since = now;
  logger()->info(
      "job {}: started in {} on {} ({}); expected {:.1f} g/kWh, run-now "
      "{:.1f}",
      job.id, job.zone, job.executor, why,
      job.plan ? job.plan->expected_gco2_per_kwh : 0.0,
      job.plan ? job.plan->run_now_gco2_per_kwh : 0.0);
  save(job, now, "started: " + why);
}

void Scheduler::finish_job(Job& job, const executors::RunStatus& status,
                           TimePoint now) {
  TimePoint ended = status.ended_at ? std::min(*status.ended_at, now) : now;
  if (job.running_since && ended < *job.running_since) {
    // The backend's end time is from another clock than ours (a daemon run
    // with --clock-speed): the end is when we learnt of it.
    ended = now;
  }
  if (job.running_since) {
    ended = std::max(ended, *job.running_since);
    tracker_.sample(job, ended);
    job.run_time += ended - *job.running_since;
    job.running_since.reset();
  }
  tracker_.stop(job.id);
  job.state = job_state_for(status.state);
  job.ended_at = ended;
  job.exit_code = status.exit_code;
  job.message = status.message;
  if (!job.started_at && status.started_at) {
    job.started_at = status.started_at;
  }
  logger()->info("job {}: {} ({}) after {} of running", job.id,
                 to_string(job.state), status.message,
                 format_duration(job.run_time));
  save(job, now,
       std::string("finished: ") + executors::to_string(status.state) +
           (status.message.empty() ? "" : " " + status.message));
  // The job leaves active_ in forget_if_ended(), once no caller holds it.
}

void Scheduler::discard(const std::string& id) {
  const std::string job_id = id;  // As in forget_if_ended().
  active_.erase(job_id);
  unindex(job_id);
  last_sample_.erase(job_id);
  done_grams_.erase(job_id);
  unsaved_.erase(job_id);
}

void Scheduler::forget_if_ended(const std::string& id) {
  // A copy: callers may pass the job's own id, which erasing it frees.
  const std::string job_id = id;
  auto it = active_.find(job_id);
  // A job whose end could not be written (a full disk) stays until it is.
  if (it != active_.end() && is_terminal(it->second.state) &&
      !unsaved_.count(job_id)) {
    last_sample_.erase(job_id);
    done_grams_.erase(job_id);
    active_.erase(it);
    unindex(job_id);
  }
}

std::optional<executors::RunStatus> Scheduler::poll_live(Job& job,
                                                         TimePoint now) {
  auto* executor = executor_named(job.executor);
  if (!executor || !job.handle) {
    return std::nullopt;
  }
  auto status = executor->poll(*job.handle);
  if (!status) {
    logger()->warn("job {}: poll on {} failed: {}", job.id, job.executor,
                   status.error().message);
    return std::nullopt;
  }
  if (executors::is_terminal(status->state)) {
    finish_job(job, *status, now);
    return std::nullopt;
  }
  return *status;
}

void Scheduler::poll_job(Job& job, TimePoint now) {
  auto status = poll_live(job, now);
  if (!status) {
    return;
  }
  if (status->state == RunState::kRunning && job.state == JobState::kQueued) {
    // A deferred backend job began (at its planned time, or earlier if the
    // backend chose so).
    TimePoint began =
        status->started_at ? std::min(*status->started_at, now) : now;
    job.state = JobState::kRunning;
    job.started_at = job.started_at ? job.started_at : began;
    job.running_since = began;
    save(job, now, "running on " + job.executor);
  } else if (status->state == RunState::kPaused &&
             job.state == JobState::kRunning) {
    tracker_.sample(job, now);
    if (job.running_since) {
      job.run_time += now - *job.running_since;
    }
    job.running_since.reset();
    tracker_.stop(job.id);
    job.state = JobState::kPaused;
    job.held = true;  // Paused outside lowcarb: leave it to its owner.
    save(job, now, "paused outside lowcarb");
  } else if (status->state == RunState::kRunning &&
             job.state == JobState::kPaused) {
    job.state = JobState::kRunning;
    job.running_since = now;
    job.held = false;
    save(job, now, "resumed outside lowcarb");
  }
  if (!status->message.empty() && status->message != job.message) {
    job.message = status->message;
    logger()->warn("job {}: {}", job.id, status->message);
  }
}

void Scheduler::end_metering(Job& job, TimePoint now) {
  if (job.running_since) {
    tracker_.sample(job, now);
    job.running_since.reset();
  }
  tracker_.stop(job.id);
  last_sample_.erase(job.id);
  done_grams_.erase(job.id);  // The segment added to it.
}

void Scheduler::pause_job(Job& job, TimePoint now, const std::string& why) {
  auto* executor = executor_named(job.executor);
  if (!executor || !job.handle) {
    return;
  }
  tracker_.sample(job, now);
  if (job.running_since) {
    job.run_time += now - *job.running_since;
  }
  // Progress (run_time) stops here. A checkpoint pause keeps the job working
  // while it saves its state, so its metering goes on through kPausing, as a
  // run segment that starts now, until the job has gone (step()).
  const bool saves_first =
      job.spec.pause_mode == executors::PauseMode::kCheckpoint &&
      job.running_since.has_value();
  if (saves_first) {
    job.running_since = now;
  } else {
    tracker_.stop(job.id);
    job.running_since.reset();
  }
  job.state = JobState::kPausing;
  if (!save(job, now, "pausing: " + why)) {
    return;
  }
  auto status = executor->pause(*job.handle, job.spec.pause_mode);
  if (!status) {
    logger()->error("job {}: pause failed, it keeps running: {}", job.id,
                    status.error().message);
    job.state = JobState::kRunning;
    job.running_since = now;
    save(job, now, "pause failed: " + status.error().message);
    return;
  }
  if (job.spec.pause_mode == executors::PauseMode::kCheckpoint) {
    // The job saves its state in its own time (up to the executor's grace
    // period): it stays kPausing and step() completes the pause once the
    // backend says so, so the loop never waits for a checkpoint.
    if (auto polled = executor->poll(*job.handle); polled && polled->pausing) {
      pausing_why_[job.id] = why;
      last_sample_[job.id] = now;
      logger()->info("job {}: pausing ({}): {}", job.id, why, polled->message);
      return;
    }
  }
  end_metering(job, now);
  job.state = JobState::kPaused;
  ++job.segment;
  if (job.spec.pause_mode == executors::PauseMode::kCheckpoint) {
    ++job.restarts;
  }
  logger()->info("job {}: paused ({}), {} of {} done", job.id, why,
                 format_duration(job.run_time),
                 format_duration(job.spec.duration));
  save(job, now, "paused: " + why);
  if (!job.held) {
    replan(job, now);
  }
}

void Scheduler::resume_job(Job& job, TimePoint now, const std::string& why) {
  auto* executor = executor_named(job.executor);
  if (!executor || !job.handle) {
    return;
  }
  job.state = JobState::kResuming;
  if (!save(job, now, "resuming: " + why)) {
    return;
  }
  auto handle =
      executor->resume(*job.handle, launch_spec(job), job.spec.pause_mode);
  if (!handle) {
    logger()->error("job {}: resume failed: {}", job.id,
                    handle.error().message);
    job.state = JobState::kPaused;
    save(job, now, "resume failed: " + handle.error().message);
    return;
  }
  job.handle = *handle;
  job.state = JobState::kRunning;
  job.running_since = now;
  logger()->info("job {}: resumed ({})", job.id, why);
  save(job, now, "resumed: " + why);
}

void Scheduler::step(Job& job, TimePoint now) {
  switch (job.state) {
    case JobState::kQueued: {
      if (job.handle) {
        // Deferred on its backend: watch it, and enforce the deadline
        // ourselves (Slurm does not for deferred jobs).
        poll_job(job, now);
        if (job.state == JobState::kQueued && !job.held && job.plan &&
            now >= latest_safe_start(job) && job.plan->start() > now) {
          auto* executor = executor_named(job.executor);
          if (executor && executor->reschedule(*job.handle, now)) {
            job.plan->segments = {{now, now + remaining(job)}};
            job.plan->reason = "latest-safe-resume";
            save(job, now, "released at its latest safe start");
          }
        }
        return;
      }
      if (job.held) {
        return;
      }
      if (!job.plan) {
        replan(job, now);
      }
      if (!job.plan) {
        if (now >= latest_safe_start(job)) {
          run_to_end(job, now, "no plan; latest safe start reached");
          start_job(job, now, "no plan; latest safe start reached");
        }
        return;
      }
      // A queue plan keeps the deadline where the slots allow; a job it
      // cannot serve waits for its planned slot instead of taking one
      // planned for a job that can still make it (queue_planner.h).
      const TimePoint safe_start =
          queue_planned(job) ? TimePoint::max() : latest_safe_start(job);
      const bool due = now >= job.plan->start() || now >= safe_start;
      if (due && !has_free_slot(job)) {
        // Every slot of the zone is taken (a job overran its estimate):
        // wait for one; a completion wakes the loop.
        logger()->debug("job {}: due but {} has no free slot", job.id,
                        job.zone);
        return;
      }
      if (now >= job.plan->start()) {
        start_job(job, now, "planned start " + format_utc(job.plan->start()));
      } else if (now >= safe_start) {
        run_to_end(job, now, "latest safe start reached");
        start_job(job, now, "latest safe start reached");
      }
      return;
    }
    case JobState::kStarting:
      // A launch interrupted by a failed write: try again.
      if (!job.handle) {
        start_job(job, now, "retrying interrupted start");
      } else {
        job.state = JobState::kRunning;
        save(job, now, "start confirmed");
      }
      return;
    case JobState::kRunning: {
      poll_job(job, now);
      if (job.state != JobState::kRunning) {
        return;
      }
      auto& last = last_sample_[job.id];
      if (now - last >= options_.sample_period) {
        tracker_.sample(job, now);
        last = now;
      }
      bool interruptible =
          job.spec.interruptible || policy_of(job.spec) == Policy::kPauseResume;
      if (interruptible && !job.held && job.plan &&
          job.plan->segments.size() > 1 &&
          now >= job.plan->segments.front().end) {
        // The latest-safe-resume rule decides whether the planned pause may
        // happen; if not, the job runs to the end.
        const auto verdict =
            may_pause(progress_of(job, now), resume_limits(job), now);
        if (verdict == PauseVerdict::kAllowed) {
          if (!keep_running_if_planned(job, now)) {
            pause_job(job, now,
                      "segment ended at " +
                          format_utc(job.plan->segments.front().end));
          }
        } else if (verdict != PauseVerdict::kWorkDone) {
          run_to_end(job, now, std::string("no pause: ") + to_string(verdict));
        }
      }
      return;
    }
    case JobState::kPaused:
      poll_job(job, now);
      if (job.state != JobState::kPaused || job.held) {
        return;
      }
      if ((job.plan && now >= job.plan->start()) ||
          now >= latest_safe_start(job)) {
        if (!has_free_slot(job)) {
          return;
        }
      }
      if (job.plan && now >= job.plan->start()) {
        resume_job(job, now,
                   "planned segment " + format_utc(job.plan->start()));
      } else if (now >= latest_safe_start(job)) {
        run_to_end(job, now, "latest safe resume reached");
        resume_job(job, now, "latest safe resume reached");
      }
      return;
    case JobState::kPausing:
    case JobState::kResuming: {
      // Interrupted transitions (the daemon died between the store write and
      // the end of the action): the backend says whether the action
      // happened; one that did not is done again, as the store asked.
      // (recover() already settled checkpoint resumes through find().)
      // A checkpoint pause in progress (pause_job() returned while the job
      // saves its state) ends the same way, once the backend says paused.
      auto status = poll_live(job, now);
      if (!status) {
        pausing_why_.erase(job.id);
        return;
      }
      const bool paused = status->state == RunState::kPaused;
      if (job.state == JobState::kPausing) {
        if (status->pausing) {
          // Still saving (the executor bounds it by its grace): metered as
          // it runs.
          auto& last = last_sample_[job.id];
          if (now - last >= options_.sample_period) {
            tracker_.sample(job, now);
            last = now;
          }
          return;
        }
        if (paused) {
          if (pausing_why_.count(job.id) == 0) {
            // Settled after a restart: when the job went is not known, so
            // the save is not metered further (a declared-power meter would
            // count the daemon's downtime as the job's).
            job.running_since.reset();
          }
          end_metering(job, now);
          job.state = JobState::kPaused;
          ++job.segment;  // As pause_job() does once the pause is done.
          if (job.spec.pause_mode == executors::PauseMode::kCheckpoint) {
            ++job.restarts;  // As pause_job() does once the pause is done.
          }
          auto why = pausing_why_.extract(job.id);
          logger()->info("job {}: paused ({}), {} of {} done", job.id,
                         why ? why.mapped() : "confirmed after a restart",
                         format_duration(job.run_time),
                         format_duration(job.spec.duration));
          save(job, now, why ? "paused: " + why.mapped() : "pause confirmed");
          if (!job.held) {
            replan(job, now);  // As pause_job() does once the pause is done.
          }
        } else {
          job.state = JobState::kRunning;
          job.running_since = now;
          pause_job(job, now, "retrying interrupted pause");
        }
      } else if (paused) {
        job.state = JobState::kPaused;
        resume_job(job, now, "retrying interrupted resume");
      } else {
        job.state = JobState::kRunning;
        job.running_since = now;
        save(job, now, "resume confirmed");
      }
      return;
    }
    case JobState::kSucceeded:
    case JobState::kFailed:
    case JobState::kCancelled:
      return;  // tick() forgets it.
  }
}

void Scheduler::tick(TimePoint now) {
  for (auto& [name, executor] : executors_) {
    if (executor != nullptr) {
      executor->housekeeping();  // Kills whose grace ran out.
    }
  }
  for (auto pending = unsaved_; const auto& [id, note] : pending) {
    if (auto it = active_.find(id); it == active_.end()) {
      unsaved_.erase(id);
    } else if (save(it->second, now, note)) {
      logger()->info("job {}: recorded '{}' after an earlier failure", id,
                     note);
      forget_if_ended(id);
    }
  }
  refresh_forecasts(now, false);
  bool replan_due = forecasts_changed_ || !last_replan_ ||
                    now - *last_replan_ >= options_.replan_period;
  auto waiting = [&](const Job& job) { return waiting_at(job, now); };
  // Most of a long queue waits for a later start: skip it between
  // re-plans (the simulator ticks at every event of 100,000 jobs); the
  // next-event index names the others without a walk over all.
  // A re-plan round adds the jobs it re-plans one by one; queue-planned
  // jobs are re-planned by replan_queues(), run-now jobs never (they only
  // wait for a slot), so an overloaded round does not walk the slot tail.
  park_woken(now);
  std::vector<std::string> ids = due_jobs(now);
  if (replan_due && !round_replans_.empty()) {
    std::vector<std::string> merged;
    merged.reserve(ids.size() + round_replans_.size());
    std::set_union(ids.begin(), ids.end(), round_replans_.begin(),
                   round_replans_.end(), std::back_inserter(merged));
    ids = std::move(merged);
  }
  // The tick's re-plans are written in one batch (one sync, not one per
  // job); it is committed before any job acts, so a start, pause or end is
  // still recorded durably before it happens.
  bool batch_open = false;
  auto commit_replans = [&] {
    if (!batch_open) {
      return;
    }
    batch_open = false;
    if (auto s = store_.commit_batch(); !s) {
      logger()->error("could not record this tick's re-plans: {}",
                      s.error().message);
      store_.abort_batch();
    }
  };
  if (any_capacity_) {
    // Capacity: plan and start in deadline order, so the tightest jobs get
    // the slots they cannot do without (earliest deadline first); while a
    // re-planning round runs, only the plans already made in it take slots.
    if (replan_due) {
      planning_round_.emplace();
      replan_queues(now);
    }
    // Sorted by (deadline, id) read once per job: in an overloaded queue
    // most jobs are due, and a comparison by lookup costs two map finds.
    std::vector<std::pair<TimePoint, std::string>> by_deadline;
    by_deadline.reserve(ids.size());
    for (auto& id : ids) {
      by_deadline.emplace_back(active_.at(id).spec.deadline, std::move(id));
    }
    std::sort(by_deadline.begin(), by_deadline.end());
    for (size_t i = 0; i < ids.size(); ++i) {
      ids[i] = std::move(by_deadline[i].second);
    }
  }
  // A queued job of a full zone can only wait for a slot (step() would
  // return at once): skipped without a step or a re-index, which in an
  // overloaded queue is most of the due jobs at every event.
  auto waits_for_slot = [&](const Job& job) {
    return any_capacity_ && job.state == JobState::kQueued && !job.handle &&
           !job.held && job.plan && capacity_of(job.zone) > 0 &&
           !has_free_slot(job);
  };
  for (const auto& id : ids) {
    auto it = active_.find(id);
    if (it == active_.end()) {
      continue;
    }
    Job& job = it->second;
    if (replan_due && replanned_each_round(job)) {
      if (!batch_open) {
        batch_open = store_.begin_batch().has_value();
      }
      replan(job, now);
    }
    if (planning_round_) {
      planning_round_->insert(id);
    }
    if (waits_for_slot(job)) {
      continue;
    }
    if (!waiting(job)) {
      commit_replans();
    }
    step(job, now);
    reindex(id);
    forget_if_ended(id);
  }
  commit_replans();
  planning_round_.reset();
  start_from_tails(now);
  if (replan_due) {
    last_replan_ = now;
    forecasts_changed_ = false;
  }
  if (replans_moved_ > 0) {
    logger()->info("re-planned {} jobs: {} moved", replanned_, replans_moved_);
  } else if (replan_due) {
    logger()->debug("re-planned {} jobs: none moved", replanned_);
  }
  replanned_ = 0;
  replans_moved_ = 0;
}

void Scheduler::start_from_tails(TimePoint now) {
  // A slot freed in this tick (a job ended after the tail was read) goes
  // to the tail's head now, not at the next event.
  park_woken(now);
  bool started = true;
  while (started) {
    started = false;
    std::vector<std::string> heads;
    for (const auto& [zone, tail] : tails_) {
      int free = capacity_of(zone) - slots_taken(zone);
      for (auto it = tail.begin(); it != tail.end() && free > 0; ++it, --free) {
        heads.push_back(it->second);
      }
    }
    for (const auto& id : heads) {
      auto it = active_.find(id);
      if (it == active_.end() || !has_free_slot(it->second)) {
        continue;
      }
      const JobState before = it->second.state;
      step(it->second, now);
      started = started || it->second.state != before;
      reindex(id);
      forget_if_ended(id);
    }
  }
}

Result<Job*> Scheduler::owned_active(const std::string& job_id,
                                     const Requester& who) {
  auto it = active_.find(job_id);
  if (it == active_.end()) {
    auto stored = store_.get(job_id);
    if (!stored || (!who.is_root() && stored->spec.uid != who.uid)) {
      return make_error(ErrorCode::kNotFound, "no job " + job_id);
    }
    return make_error(
        ErrorCode::kConflict,
        fmt::format("job {} already {}", job_id, to_string(stored->state)));
  }
  if (!who.is_root() && it->second.spec.uid != who.uid) {
    // Same answer as for a missing job: ids of others' jobs are not leaked.
    return make_error(ErrorCode::kNotFound, "no job " + job_id);
  }
  return &it->second;
}

Result<Job> Scheduler::job(const std::string& job_id, const Requester& who) {
  auto it = active_.find(job_id);
  Result<Job> found =
      it != active_.end() ? Result<Job>(it->second) : store_.get(job_id);
  if (!found || (!who.is_root() && found->spec.uid != who.uid)) {
    return make_error(ErrorCode::kNotFound, "no job " + job_id);
  }
  return found;
}

Status Scheduler::cancel(const std::string& job_id, const Requester& who,
                         TimePoint now) {
  auto found = owned_active(job_id, who);
  if (!found) {
    return make_error(found.error());
  }
  Job& job = **found;
  if (job.handle) {
    auto* executor = executor_named(job.executor);
    if (executor) {
      if (auto s = executor->cancel(*job.handle); !s) {
        return make_error(s.error().with_context("cancel job " + job_id));
      }
    }
  }
  executors::RunStatus status;
  status.state = RunState::kCancelled;
  status.message = fmt::format("cancelled by uid {}", who.uid);
  finish_job(job, status, now);
  forget_if_ended(job_id);
  return {};
}

Status Scheduler::pause(const std::string& job_id, const Requester& who,
                        TimePoint now) {
  auto found = owned_active(job_id, who);
  if (!found) {
    return make_error(found.error());
  }
  Job& job = **found;
  if (job.held) {
    return make_error(ErrorCode::kConflict,
                      "job " + job_id + " is already held");
  }
  job.held = true;
  if (job.state == JobState::kRunning) {
    pause_job(job, now, fmt::format("paused by uid {}", who.uid));
    if (is_terminal(job.state)) {  // It ended meanwhile.
      forget_if_ended(job_id);
      return make_error(ErrorCode::kConflict,
                        "could not pause job " + job_id + ": it has ended");
    }
    // kPausing: a checkpoint is being saved; step() completes the pause.
    if (job.state != JobState::kPaused && job.state != JobState::kPausing) {
      job.held = false;
      save(job, now, "pause failed");
      return make_error(ErrorCode::kUnavailable,
                        "could not pause job " + job_id);
    }
    return {};
  }
  if (job.handle && job.state == JobState::kQueued) {
    // Handed to a deferring backend (Slurm --begin): hold it there too.
    if (auto* executor = executor_named(job.executor)) {
      if (auto s = executor->hold(*job.handle); !s) {
        job.held = false;
        return make_error(s.error().with_context("pause job " + job_id));
      }
    }
  }
  save(job, now, fmt::format("held by uid {}", who.uid));
  return {};
}

Status Scheduler::resume(const std::string& job_id, const Requester& who,
                         TimePoint now) {
  auto found = owned_active(job_id, who);
  if (!found) {
    return make_error(found.error());
  }
  Job& job = **found;
  if (!job.held) {
    return make_error(ErrorCode::kConflict,
                      "job " + job_id + " is not paused or held by a user");
  }
  job.held = false;
  if (job.state == JobState::kPaused) {
    resume_job(job, now, fmt::format("resumed by uid {}", who.uid));
    forget_if_ended(job_id);
    return {};
  }
  save(job, now, fmt::format("released by uid {}", who.uid));
  replan(job, now);
  if (job.handle && job.state == JobState::kQueued) {
    if (auto* executor = executor_named(job.executor)) {
      const TimePoint begin = job.plan ? std::max(now, job.plan->start()) : now;
      if (auto s = executor->release(*job.handle, begin); !s) {
        job.held = true;
        save(job, now, "release failed: " + s.error().message);
        return make_error(s.error().with_context("resume job " + job_id));
      }
    }
  }
  return {};
}

Status Scheduler::recover(TimePoint now) {
  auto jobs = store_.active_jobs();
  if (!jobs) {
    return make_error(jobs.error().with_context("recover jobs"));
  }
  for (auto& stored : *jobs) {
    auto& job = active_[stored.id] = std::move(stored);
    reindex(job.id);
    auto* executor = executor_named(job.executor);
    if (!executor) {
      logger()->error("job {}: executor {} is no longer configured", job.id,
                      job.executor);
      continue;
    }
    if (job.state == JobState::kStarting ||
        (job.state == JobState::kResuming &&
         job.spec.pause_mode == executors::PauseMode::kCheckpoint)) {
      // Did the launch happen before the crash? Ask the backend.
      auto found = executor->find(job.id, job.restarts);
      if (found && *found && job.state == JobState::kStarting &&
          executor->defers_start()) {
        // Submitted before the crash (Slurm): the backend holds it until
        // its begin time; poll_job() sees it start.
        job.handle = **found;
        job.state = JobState::kQueued;
        save(job, now,
             "recovered: adopted " + job.handle->native_id +
                 " submitted before the crash");
      } else if (found && *found) {
        job.handle = **found;
        job.state = JobState::kRunning;
        if (!job.started_at) {
          job.started_at = now;
        }
        job.running_since = now;
        save(job, now, "recovered: launch had happened");
      } else if (found) {
        job.state = job.state == JobState::kStarting ? JobState::kQueued
                                                     : JobState::kPaused;
        save(job, now, "recovered: launch had not happened");
      } else {
        logger()->warn(
            "job {}: cannot tell whether its launch happened ({}); "
            "starting it again",
            job.id, found.error().message);
        job.state = job.state == JobState::kStarting ? JobState::kQueued
                                                     : JobState::kPaused;
        save(job, now, "recovered: launch unknown, retrying");
      }
    }
    if (job.handle && job.state != JobState::kQueued) {
      poll_job(job, now);
    }
    logger()->info("job {}: recovered in state {}", job.id,
                   to_string(job.state));
    reindex(job.id);
    forget_if_ended(job.id);  // Ended while we were down.
  }
  refresh_forecasts(now, true);
  forecasts_changed_ = true;  // Re-plan everything at the next tick.
  return {};
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats stats;
  for (const auto& [id, job] : active_) {
    ++stats.jobs_by_state[to_string(job.state)];
    if (job.plan) {
      stats.planned_grams += job.plan->expected_grams;
      stats.run_now_grams += job.plan->run_now_grams;
    }
  }
  for (const auto& [zone, entry] : zone_forecasts_) {
    stats.forecast_fetched_at[zone] = entry.fetched_at;
  }
  stats.forecast_errors = forecast_errors_;
  return stats;
}

}  // namespace lowcarb::scheduler
