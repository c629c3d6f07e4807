// SPDX-License-Identifier: Apache-2.0
// Parsers for the Slurm CLI output lowcarb relies on: sbatch --parsable,
// squeue -h -o with a fixed format and epoch times, scontrol show job -o,
// scontrol show config, the jobcomp/filetxt log, sacct --parsable2 and
// sstat --parsable2.
// Also the mapping from Slurm job states to RunState and from Slurm error
// text to ErrorCode. Pure functions, thread-safe; tests feed them recorded
// output (../shared/data/slurm, ../shared/data/workloads).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "executors/executor.h"

namespace lowcarb::executors {

// `sbatch --parsable` prints "<job id>[;<cluster>]".
struct SubmittedJob {
  std::string job_id;
  std::string cluster;  // "" when Slurm did not print one.
};
Result<SubmittedJob> parse_sbatch_parsable(std::string_view out);

// The squeue format lowcarb asks for (squeue -h -o kSqueueFormat, with
// SLURM_TIME_FORMAT=%s): id|state|start epoch|end epoch|reason|comment. The
// comment is last because it is free text.
inline constexpr const char* kSqueueFormat = "%i|%T|%S|%e|%r|%k";

struct SqueueRow {
  std::string job_id;
  std::string state;               // "PENDING", "RUNNING", "SUSPENDED", ...
  std::optional<TimePoint> start;  // Expected start while pending.
  std::optional<TimePoint> end;    // Expected end while running.
  std::string reason;              // "BeginTime", "JobHeldUser", "None", ...
  std::string comment;
};

// Parses every line of squeue output in kSqueueFormat. Errors name the line.
Result<std::vector<SqueueRow>> parse_squeue(std::string_view out);

// "Key=Value Key=Value ..." as printed by `scontrol show job -o`,
// `scontrol show config` ("Key = Value" lines) and the jobcomp/filetxt log.
// A word without '=' is appended (with its space) to the previous value.
std::map<std::string, std::string> parse_key_values(std::string_view line);

// A finished (or still known) job's final record, from scontrol show job -o,
// the jobcomp log or sacct.
struct CompletionRecord {
  std::string job_id;
  std::string state;  // "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", ...
  std::string reason;
  std::optional<int> exit_code;  // From ExitCode "<code>:<signal>".
  std::optional<int> signal;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
};

// One line of `scontrol show job -o J` (run with TZ=UTC).
Result<CompletionRecord> parse_scontrol_job(std::string_view out);

// The last record of job `job_id` in jobcomp/filetxt log text (one
// "JobId=... JobState=... ExitCode=c:s ..." line per finished job; times in
// the controller's time zone, which the test cluster and lowcarb's docs
// require to be UTC). kNotFound when the log has no line for the job.
Result<CompletionRecord> parse_jobcomp(std::string_view text,
                                       std::string_view job_id);

// The JobIds of the jobcomp/filetxt lines in `text` whose Name is exactly
// `name`, in the log's order (repeats for requeued runs kept).
std::vector<std::string> jobcomp_ids_named(std::string_view text,
                                           std::string_view name);

// "ExitCode=3:0" -> exit 3, signal 0. nullopt pair on bad text.
std::pair<std::optional<int>, std::optional<int>> parse_exit_code(
    std::string_view text);

// The parts of `scontrol show config` lowcarb uses.
struct SlurmSiteInfo {
  std::string cluster_name;
  std::string slurm_user;               // "root" from "root(0)".
  std::string accounting_storage_type;  // "accounting_storage/none" = no sacct.
  std::string job_comp_type;            // "jobcomp/filetxt" ...
  std::string job_comp_loc;
  // AcctGatherEnergyType: "acct_gather_energy/none" (or "") = no energy.
  std::string energy_plugin;
  bool gathers_energy() const {
    return !energy_plugin.empty() && energy_plugin != "acct_gather_energy/none";
  }
  // RAPL counts CPU packages and DRAM only; the node-level plugins (ipmi,
  // xcc, pm_counters) count the whole node, GPUs included.
  bool energy_covers_gpus() const {
    return gathers_energy() && energy_plugin != "acct_gather_energy/rapl";
  }
  bool has_accounting() const {
    return !accounting_storage_type.empty() &&
           accounting_storage_type != "accounting_storage/none";
  }
};
SlurmSiteInfo parse_show_config(std::string_view out);

// sacct --parsable2 --noheader output: one record per line, fields named by
// `fields` (the --format list, in order). Lines with the wrong number of
// fields are errors naming the line number.
using SacctRecord = std::map<std::string, std::string>;
Result<std::vector<SacctRecord>> parse_sacct(
    std::string_view out, const std::vector<std::string>& fields);

// Resource use of a job from accounting, summed over its steps.
struct JobUsage {
  double cpu_seconds = 0;  // TotalCPU (user + system CPU time).
  std::optional<double> cpu_time_allocated_seconds;  // CPUTimeRAW / CPUTime.
  std::optional<double> energy_joules;  // ConsumedEnergyRaw, if gathered.
};

// Usage of job `job_id` from sacct records: the allocation line ("J") and
// its steps ("J.batch", "J.0", ...). TotalCPU is taken from the allocation
// line (which Slurm fills with the sum of its steps) or summed over steps
// when absent there; energy likewise. kNotFound when no line has the job.
Result<JobUsage> usage_from_sacct(const std::vector<SacctRecord>& records,
                                  std::string_view job_id);

// What one running step has used so far, from `sstat -a -j J --noheader
// --parsable2 --format=<sstat_fields()>` (slurm_commands.h). sstat only
// lists steps that are running: a step that ended is gone from its output.
struct SlurmStepUsage {
  std::string step_id;     // "12.batch", "12.0", "12.extern".
  double cpu_seconds = 0;  // CPU time of all the step's tasks (1 s steps).
  uint64_t rss_bytes = 0;  // Memory the step's tasks hold now.
  // ConsumedEnergyRaw: node-level energy since the step began; nullopt when
  // sstat prints none (or Slurm's "no value").
  std::optional<double> energy_joules;
};

// Parses sstat output for job `job_id` (lines of other jobs are skipped).
// Fields are named by `fields`, in order; CPU time comes from
// TRESUsageInTot's cpu= (all tasks), else AveCPU x NTasks. Errors name the
// line. Empty output (sstat prints "No steps running" on stderr and exits 0)
// is an empty list.
Result<std::vector<SlurmStepUsage>> parse_sstat(
    std::string_view out, std::string_view job_id,
    const std::vector<std::string>& fields);

// The resources Slurm gave a job, from `scontrol show job -o J`.
struct SlurmAllocation {
  int cpus = 0;            // NumCPUs.
  int gpus = 0;            // gres/gpu in TRES.
  std::string gpu_type;    // "a100" from gres/gpu:a100=N; "" when untyped.
  bool exclusive = false;  // OverSubscribe=NO (sbatch --exclusive): the
                           // nodes run this job only.
  int restarts = 0;        // Restarts: a requeued job counts CPU from zero.
};
Result<SlurmAllocation> parse_allocation(std::string_view out);

// RunState of a Slurm job state name. `reason` tells held pending jobs
// (paused by lowcarb through requeuehold) from deferred ones.
RunState run_state_from_slurm(std::string_view state, std::string_view reason);

// ErrorCode for the stderr of a failed Slurm command: kUnavailable for a
// controller that cannot be reached, kNotFound for an unknown job id,
// kConflict for a job in the wrong state, kPermissionDenied, kInvalidArgument
// for rejected requests; kUnavailable otherwise.
ErrorCode classify_slurm_error(std::string_view err);

// True when squeue/scontrol say the job id is not (or no longer) known.
bool is_unknown_job_error(std::string_view err);

}  // namespace lowcarb::executors
