// SPDX-License-Identifier: Apache-2.0
// The scheduler owns the queue: it plans submitted jobs with the optimizer,
// re-plans them when forecasts change, and at the planned times starts,
// pauses and resumes them through the executors, recording every transition
// in the JobStore *before* acting on it so a crash never loses a job or
// starts one twice. It is passive: the daemon's event loop or the
// simulator's virtual clock calls tick(now). Not thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "executors/executor.h"
#include "forecast/forecast_provider.h"
#include "scheduler/job.h"
#include "scheduler/job_store.h"
#include "scheduler/optimizer.h"
#include "scheduler/safe_resume.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler {

struct SchedulerOptions {
  // The zones jobs may use, in preference order (first = home zone).
  std::vector<config::ZoneConfig> zones;
  Duration forecast_refresh{std::chrono::minutes(15)};  // Re-fetch period.
  Duration replan_period{std::chrono::minutes(15)};
  Duration horizon{std::chrono::hours(48)};
  Duration safety_margin{std::chrono::minutes(10)};
  // Running time every resume costs on this installation's backends (a
  // Slurm requeue being placed again), added to the job's own
  // JobSpec::resume_overhead by the latest-safe-resume rule.
  Duration resume_overhead{0};
  Duration max_forecast_age{std::chrono::hours(6)};
  Duration sample_period{std::chrono::seconds(10)};
  // Overrides every job's policy (the simulator compares policies).
  std::optional<Policy> policy_override;
  // Planning for run-now uses no forecast at all.
  double default_power_watts = 0;
  std::optional<double> threshold_gco2_per_kwh;
  std::optional<double> threshold_percentile;
  // PlanRequest::min_confidence (0 = off) and where the measured forecast
  // MAE per lead day of a zone comes from (empty = not measured).
  double min_confidence = 0;
  std::function<std::vector<double>(const std::string& zone)> forecast_error;
};

// Counts for /metrics and the simulator.
struct SchedulerStats {
  std::map<std::string, int> jobs_by_state;
  double planned_grams = 0;  // Expected, queued and running jobs.
  double run_now_grams = 0;  // Their run-now baselines.
  std::map<std::string, TimePoint> forecast_fetched_at;  // By zone.
  std::map<std::string, int> forecast_errors;            // By zone.
};

// A user's request to act on a job; root (uid 0) may act on any job.
struct Requester {
  unsigned uid = 0;
  bool is_root() const { return uid == 0; }
};

class Scheduler {
 public:
  // `executors` maps executor names ("local", "slurm:<cluster>") to
  // executors; all references must outlive the scheduler.
  Scheduler(JobStore& store, forecast::ForecastProvider& forecasts,
            std::map<std::string, executors::Executor*> executors,
            Tracker& tracker, SchedulerOptions options);

  // Loads the active jobs from the store after a restart: re-adopts running
  // ones through their executors, resolves half-done transitions, re-plans
  // the rest. Jobs past their latest safe start start at the next tick.
  Status recover(TimePoint now);

  // Validates, plans and stores a new job. kInvalidArgument names the bad
  // field (unknown zone, infeasible deadline, missing command).
  Result<Job> submit(JobSpec spec, TimePoint now);

  Status cancel(const std::string& job_id, const Requester& who, TimePoint now);
  Status pause(const std::string& job_id, const Requester& who, TimePoint now);
  Status resume(const std::string& job_id, const Requester& who, TimePoint now);

  // Does everything that is due at `now`: refresh forecasts, re-plan, start,
  // pause, resume, poll, meter.
  void tick(TimePoint now);

  // The earliest time after `now` at which tick() has something planned to
  // do (a start, a segment boundary, a forecast refresh, a poll of a running
  // job when `include_polls`). The daemon arms its timer with it; the
  // simulator jumps its clock to it.
  // O(log n): read from the next-event index (scheduler_index.cc).
  TimePoint next_event(TimePoint now, bool include_polls) const;
  // The same answer by a walk over every active job: the reference the
  // index is tested against (O(n); not for the event loop).
  TimePoint next_event_by_scan(TimePoint now, bool include_polls) const;
  // The active jobs tick(now) acts on between re-plans (the others wait
  // for a later start), in id order: from the index, O(due + running).
  // Queued jobs of a capacity zone that are due but wait for a slot (the
  // slot tail) are named only as many as the zone has free slots, earliest
  // (deadline, id) first: in an overloaded zone the tail is most of the
  // queue, and it can only wait (issue 13).
  std::vector<std::string> due_jobs(TimePoint now) const;
  // The same by a walk over every active job (reference for tests).
  std::vector<std::string> due_jobs_by_scan(TimePoint now) const;
  // Jobs of `zone` holding one of its slots (starting, running, pausing,
  // resuming): O(log zones), from the index; has_free_slot() reads it.
  int slots_taken(const std::string& zone) const;
  // The same by a walk over every active job (reference for tests).
  int slots_taken_by_scan(const std::string& zone) const;

  // The job, if the requester may see it.
  Result<Job> job(const std::string& job_id, const Requester& who);
  const std::map<std::string, Job>& active_jobs() const { return active_; }
  // The ids of `zone`'s active jobs its queue planning must see (all but
  // the parked run-now and per-job jobs of its slot tail), from the index.
  std::vector<std::string> zone_members(const std::string& zone) const;
  // The first `n` ids of `zone`'s late tail, earliest (deadline, id) first.
  std::vector<std::string> late_tail_head(const std::string& zone,
                                          size_t n) const;
  size_t late_tail_size(const std::string& zone) const;
  // Orders job ids newest (highest number) first: numeric ids by length,
  // then by text.
  struct NewestFirst {
    bool operator()(const std::string& a, const std::string& b) const {
      return a.size() != b.size() ? a.size() > b.size() : a > b;
    }
  };
  // The ids of active_jobs(), newest first (`list` reads the newest few
  // without walking all).
  const std::set<std::string, NewestFirst>& active_newest_first() const {
    return newest_;
  }
  SchedulerStats stats() const;

  // Forget cached forecasts so the next tick re-fetches (config reload).
  void invalidate_forecasts();

  // Forgets a submitted job whose insert was undone (its store batch failed
  // to commit). Only for jobs nothing was done for yet.
  void discard(const std::string& job_id);
  // What the job's executor is (or was) given to run it: also how its
  // Slurm output paths are found (App::log_path()).
  executors::LaunchSpec launch_spec(const Job& job) const;

 private:
  struct ZoneForecast {
    forecast::IntensitySeries series;
    TimePoint fetched_at;
    bool ok = false;
  };

  const config::ZoneConfig* zone_config(const std::string& zone) const;
  std::vector<std::string> zones_of(const JobSpec& spec) const;
  std::string executor_of(const JobSpec& spec, const std::string& zone) const;
  executors::Executor* executor_named(const std::string& name) const;
  Policy policy_of(const JobSpec& spec) const;

  void fetch_forecast(const std::string& zone, TimePoint now);
  void refresh_forecasts(TimePoint now, bool force);
  const forecast::IntensitySeries* forecast_for(const std::string& zone,
                                                TimePoint now);
  // Capacity (slots per zone; 0 = unlimited), see zone_capacity.h.
  int capacity_of(const std::string& zone) const;
  static bool holds_slot(const Job& job);
  std::vector<Segment> zone_occupancy(const std::string& zone,
                                      const std::string& except_id,
                                      TimePoint now) const;
  bool has_free_slot(const Job& job) const;
  Result<Plan> make_plan(const Job& job, TimePoint now);
  void replan(Job& job, TimePoint now);
  // Makes `plan` the job's plan (reschedules a deferred backend job, logs,
  // saves) unless it is the same decision.
  void adopt_plan(Job& job, Plan plan, TimePoint now);
  // The grams and run-now grams the job's ledger holds (cached while the
  // job waits, until its next segment ends).
  struct DoneGrams {
    double grams = 0;
    double run_now_grams = 0;
  };
  DoneGrams done_grams(const Job& job);

  // Queue planning of capacity zones (scheduler_queue.cc, queue_planner.h):
  // a queued or paused job with a contiguous policy in a zone with slots is
  // planned with its zone's whole queue instead of on its own.
  bool queue_planned(const Job& job) const;
  // Re-plans the queue of every capacity zone (the re-plan round).
  void replan_queues(TimePoint now);
  // Admission of a new queue-planned job: its plan, with the queue re-planned
  // around it when needed. kInvalidArgument when its deadline (or another
  // queued job's) cannot be met with the slots left, unless
  // spec.allow_late (then a warning in the plan).
  Result<Plan> admit_to_queue(const Job& job, TimePoint now);
  // The latest-safe-resume rule's view of a job (scheduler/safe_resume.h):
  // its limits, and its progress at the start of its current segment or, with
  // `now`, at `now`.
  ResumeLimits resume_limits(const Job& job) const;
  ResumeProgress progress_of(const Job& job,
                             std::optional<TimePoint> now = {}) const;
  // The latest safe (re)start of a queued or paused job.
  TimePoint latest_safe_start(const Job& job) const;
  // Running time still needed from the start of the current segment (for a
  // queued or paused job: from its (re)start), resume overheads included.
  Duration remaining(const Job& job) const;
  // The rule overrides the plan: one segment from now to the end.
  void run_to_end(Job& job, TimePoint now, const std::string& why);
  // At a planned pause of a running job: re-plans as if it continued and
  // keeps it running when that plan runs it now. True when it kept running.
  bool keep_running_if_planned(Job& job, TimePoint now);

  // The next-event index (scheduler_index.cc): brings job `id`'s entries in
  // step with its state, plan and held flag (drops them when it left
  // active_). Called by save() (every transition and re-plan is saved), by
  // adopt_plan() and after every step(), submit and recover, so it is never
  // behind a change tick() or next_event() could miss.
  void reindex(const std::string& id);
  void unindex(const std::string& id);
  // Whether tick() between re-plans leaves `job` alone at `now`.
  bool waiting_at(const Job& job, TimePoint now) const;
  // A queued job that, once due, can start only when its capacity zone has
  // a free slot (no backend handle, not held, planned, zone with slots).
  bool waits_for_capacity(const Job& job) const;
  // A queue-planned job in its zone's late tail (plan reason "queue-tail"):
  // it can no longer meet its deadline and its planned start is after the
  // next re-plan round. It has no wake and no event: only a re-plan round
  // starts it, placing the tail's head after every job that can still be
  // on time, so the round does not re-place (or save) the whole tail.
  bool in_late_tail(const Job& job) const;
  // Moves the woken jobs (wake <= `now`) that wait for capacity from
  // `wakes_` to their zone's slot tail `tails_`, so later ticks do not walk
  // them. Amortised O(log n) per job.
  void park_woken(TimePoint now);
  // Whether the re-plan round re-plans `job` on its own (make_plan()).
  // A run-now job with a plan is never re-planned: its decision does not
  // depend on the forecast, and in a full zone it only waits for a slot.
  bool replanned_each_round(const Job& job) const;
  // Starts the heads of the slot tails while their zones have free slots.
  void start_from_tails(TimePoint now);
  // True when some zone of an active job is due for a forecast refresh.
  bool refresh_due(TimePoint now) const;

  void step(Job& job, TimePoint now);
  void start_job(Job& job, TimePoint now, const std::string& why);
  // The backend's view of a job that has not ended; nullopt when the poll
  // failed (logged) or the job ended (finish_job done).
  std::optional<executors::RunStatus> poll_live(Job& job, TimePoint now);
  void poll_job(Job& job, TimePoint now);
  // The last ledger interval of a run segment that ends at `now` (a
  // pause): run_time is not changed.
  void end_metering(Job& job, TimePoint now);
  void pause_job(Job& job, TimePoint now, const std::string& why);
  void resume_job(Job& job, TimePoint now, const std::string& why);
  // Records the end; the job stays in active_ (callers may still hold it)
  // until forget_if_ended() drops it.
  void finish_job(Job& job, const executors::RunStatus& status, TimePoint now);
  void forget_if_ended(const std::string& job_id);
  bool save(Job& job, TimePoint now, const std::string& note);
  // save() for a change of plan, zone and executor only (a re-plan): the
  // store's cheap JobStore::update_plan(); a full save() while an earlier
  // write of the job is still owed.
  bool save_plan(Job& job, TimePoint now, const std::string& note);
  Result<Job*> owned_active(const std::string& job_id, const Requester& who);

  JobStore& store_;
  forecast::ForecastProvider& forecasts_;
  std::map<std::string, executors::Executor*> executors_;
  Tracker& tracker_;
  SchedulerOptions options_;

  std::map<std::string, Job> active_;
  std::map<std::string, ZoneForecast> zone_forecasts_;
  std::map<std::string, int> forecast_errors_;
  std::optional<TimePoint> last_replan_;
  std::optional<TimePoint> last_refresh_;
  std::map<std::string, TimePoint> last_sample_;
  // What each job's earlier segments emitted (ledger sums), for
  // Plan::done_grams; forgotten when a segment ends or the job goes.
  std::map<std::string, DoneGrams> done_grams_;
  // Why a checkpoint pause still in progress was asked for, by job id.
  std::map<std::string, std::string> pausing_why_;
  // Jobs whose last write failed (e.g. a full disk), with its note: written
  // again at every tick; an ended one stays in active_ until it is.
  std::map<std::string, std::string> unsaved_;
  bool forecasts_changed_ = false;
  bool any_capacity_ = false;
  // Jobs re-planned so far in the current capacity round (see tick()).
  std::optional<std::set<std::string>> planning_round_;
  // Plans made and plans changed since the last re-planning round's summary
  // line (one info line per round instead of one per moved job).
  size_t replanned_ = 0;
  size_t replans_moved_ = 0;

  // The next-event index: what each active job contributes, kept by
  // reindex(). `events_` holds next_event()'s timed candidates (planned
  // (re)starts, latest safe starts, planned pauses); `wakes_` the time a
  // waiting queued job stops waiting (tick() visits it from then on);
  // `visit_` the jobs tick() visits every time (running, paused, deferred on
  // a backend, in transition, without a plan); `urgent_` those in a
  // transition (next_event() = now + 1 s); `polled_` those with a backend
  // handle and not held (polled every sample_period).
  struct IndexEntry {
    std::vector<TimePoint> events;
    std::optional<TimePoint> wake;
    bool visit = false;
    bool urgent = false;
    bool polled = false;
    std::vector<std::string> zones;
    TimePoint spec_deadline;               // With `zones`: in zone_deadlines_.
    std::optional<std::string> slot_zone;  // Its zone while it holds a slot.
    // Its zone while waits_for_capacity(); with `parked`, the entry is in
    // tails_[*tail_zone] at (deadline, id) instead of in wakes_.
    std::optional<std::string> tail_zone;
    TimePoint deadline;
    bool parked = false;
    bool round_replan = false;  // In round_replans_.
    bool queue_planned = false;
    bool late_tail = false;  // In late_tails_[zone] at (deadline, id).
    std::string member_zone_for_tail;  // The zone of its late tail.
    // Its zone while the zone's queue planning must see it (in
    // zone_members_): every job but a parked one planned on its own, whose
    // stale plan takes no slot while it waits.
    std::optional<std::string> member_zone;
  };
  void unplace_wake(const IndexEntry& entry, const std::string& id);
  std::map<std::string, IndexEntry> index_;
  std::multiset<std::pair<TimePoint, std::string>> events_;
  std::multiset<std::pair<TimePoint, std::string>> wakes_;
  std::set<std::string> visit_;
  std::set<std::string> urgent_;
  std::set<std::string> polled_;
  std::set<std::string, NewestFirst> newest_;
  std::map<std::string, int> zone_refs_;  // Active jobs per zone.
  // Deadlines of the active jobs per zone (fetch_forecast()'s horizon).
  std::map<std::string, std::multiset<TimePoint>> zone_deadlines_;
  // Slot-holding jobs per zone (IndexEntry::slot_zone), so has_free_slot()
  // does not walk every job of an overloaded queue for every due job.
  std::map<std::string, int> slots_taken_;
  // Per capacity zone, the due jobs waiting for a slot, by (deadline, id).
  std::map<std::string, std::set<std::pair<TimePoint, std::string>>> tails_;
  // Jobs the re-plan round re-plans one by one (replanned_each_round()).
  std::set<std::string> round_replans_;
  // Per zone, the late tail by (deadline, id) (in_late_tail()).
  std::map<std::string, std::set<std::pair<TimePoint, std::string>>>
      late_tails_;
  // Per zone, the jobs with a member_zone: what collect_queue() walks.
  std::map<std::string, std::set<std::string>> zone_members_;
  void erase_late_tail(const std::string& zone, TimePoint deadline,
                       const std::string& id);
  void set_member_zone(IndexEntry& entry, const std::string& id,
                       std::optional<std::string> zone);
};

}  // namespace lowcarb::scheduler
