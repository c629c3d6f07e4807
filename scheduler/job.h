// SPDX-License-Identifier: Apache-2.0
// Jobs: what a user asked for (JobSpec), where it stands (JobState), and what
// the scheduler decided and did (Job). Value types; no behaviour beyond
// validation and (de)serialisation.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "executors/executor.h"
#include "scheduler/optimizer.h"

namespace lowcarb::scheduler {

enum class JobState {
  kQueued,    // Planned, waiting for its start.
  kStarting,  // Written before the executor is asked to start it.
  kRunning,
  kPausing,  // Written before the executor is asked to pause it.
  kPaused,
  kResuming,  // Written before the executor is asked to resume it.
  kSucceeded,
  kFailed,
  kCancelled,
};

const char* to_string(JobState state);
Result<JobState> job_state_from_string(const std::string& text);
bool is_terminal(JobState state);

// How the scheduler chooses a job's plan. Production jobs get a policy from
// their spec; the simulator sets it to compare policies on the same trace.
enum class Policy {
  kAuto,           // From the spec: pause-resume if interruptible, else
                   // flexible-start (with threshold if one is given), over
                   // all the job's zones.
  kRunNow,         // Start at submission in the first zone (the baseline).
  kFlexibleStart,  // Best contiguous window, first zone only.
  kThreshold,      // Start now if clean enough, else best window.
  kPauseResume,    // Best set of segments, first zone only.
  kSpatial,        // Best zone and window among the job's zones.
};

const char* to_string(Policy policy);
Result<Policy> policy_from_string(const std::string& text);

struct JobSpec {
  std::string name;
  unsigned uid = 0;  // The submitting user.
  unsigned gid = 0;
  std::string user;  // User name, for display.
  std::vector<std::string> argv;
  std::string shell_command;
  std::string sbatch_script;
  std::vector<std::string> sbatch_options;
  std::string working_dir;
  std::map<std::string, std::string> env;
  // The client's id for the submission ("" = none): unique per uid, so a
  // retried submit with the same id finds the job the first one created.
  std::string request_id;

  Duration duration{0};  // Estimated run time.
  TimePoint submitted_at;
  TimePoint earliest;              // Never start before this.
  TimePoint deadline;              // Must have finished by this.
  std::vector<std::string> zones;  // Allowed zones, preferred first; empty =
                                   // every configured zone.
  std::string executor;            // "local", "slurm:<cluster>", "" = the
                                   // zone's executor.
  bool interruptible = false;
  executors::PauseMode pause_mode = executors::PauseMode::kStop;
  Duration min_chunk{0};
  int max_pauses = -1;
  // Running time each resume after a pause costs before work continues (a
  // checkpoint restart reloading state); the latest-safe-resume rule counts
  // it (scheduler/safe_resume.h). 0 = free, as SIGCONT is.
  Duration resume_overhead{0};
  std::optional<double> threshold_gco2_per_kwh;
  double power_watts = 0;  // Declared power; 0 = measure or model.
  std::string hardware;    // Hardware spec, e.g. "gpu: A100 x 4".
  Policy policy = Policy::kAuto;
  // Capacity zones: admit the job even when the queue planner finds its
  // deadline cannot be met with the slots left (a warning instead of an
  // error; see queue_planner.h).
  bool allow_late = false;

  // Checks the fields that do not need the configuration: a command, a
  // positive duration, earliest + duration <= deadline.
  Status validate() const;
};

// One lowcarb job with everything the scheduler knows about it.
struct Job {
  std::string id;
  JobSpec spec;
  JobState state = JobState::kQueued;
  std::optional<Plan> plan;
  std::string forecast_provider;  // Who served the forecast of the plan.
  std::optional<executors::ExecutorHandle> handle;
  std::string executor;  // Resolved executor name.
  std::string zone;      // Where it runs (or will).
  int segment = 0;       // Index of the current or next run segment: the
                         // pauses lowcarb has made so far.
  int restarts = 0;      // Checkpoint restarts so far.
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  std::optional<int> exit_code;
  Duration run_time{0};  // Running time accumulated (excludes pauses).
  std::optional<TimePoint> running_since;  // Start of the current segment.
  bool held = false;  // Paused or held by its user: the planner leaves it.
  std::string message;
  int64_t version = 0;  // Bumped by the store on every update.
};

// JSON (de)serialisation, used by the store and the API.
std::string spec_to_json(const JobSpec& spec);
Result<JobSpec> spec_from_json(const std::string& json);
std::string plan_to_json(const Plan& plan);
// format_utc(t) ("2026-12-02T20:00:00Z"), without its ostringstream: plan
// times are formatted for every job of a re-plan.
std::string format_plan_time(TimePoint t);
Result<Plan> plan_from_json(const std::string& json);
std::string handle_to_text(const executors::ExecutorHandle& handle);
Result<executors::ExecutorHandle> handle_from_text(const std::string& text);

}  // namespace lowcarb::scheduler
