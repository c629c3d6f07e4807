// SPDX-License-Identifier: Apache-2.0
// Builders of the exact Slurm command lines lowcarb runs (sbatch, scontrol,
// squeue, scancel, sacct, sstat), as ProcessRunner Commands: argv without a
// shell, SLURM_CONF of the cluster and TZ=UTC (see slurm_time.h) in the
// environment, the program taken from the cluster's bin_dir when set. Pure
// functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "executors/executor.h"
#include "executors/process_runner.h"

namespace lowcarb::executors {

// The --comment tag that finds a lowcarb job again after a restart.
std::string slurm_comment_tag(const std::string& job_id);

// Quotes `argv` for /bin/sh so that `sh -c` runs exactly that argv.
std::string shell_quote(const std::vector<std::string>& argv);

// The sbatch --time value in whole minutes: `expected` x `factor`, rounded
// up, at least 1. nullopt when `expected` is zero (the partition default).
std::optional<long long> slurm_time_limit_minutes(Duration expected,
                                                  double factor);

// What the executor decided around one submission (see SlurmExecutor).
struct SbatchPlan {
  // --export-file: a file holding the job's whole environment
  // (sbatch_export_file()), written by the caller and readable by the user
  // sbatch runs as. With --export=ALL Slurm then gives the job exactly
  // these variables plus its own SLURM_* ones: nothing of the daemon's.
  std::string export_file;
  // --output/--error; "" = none (the script's own, or Slurm's default).
  std::string stdout_path;
  std::string stderr_path;
  // The script or the extra options set --time: lowcarb adds none.
  bool user_sets_time = false;
  // Run sbatch as this uid/gid (setpriv --reuid --regid --init-groups), so
  // that Slurm checks and runs the job as its owner; nullopt = as we are.
  std::optional<unsigned> run_as_uid;
  std::optional<unsigned> run_as_gid;
  // PATH of sbatch's own environment (which holds nothing else of ours).
  std::string path = "/usr/local/bin:/usr/bin:/bin";
};

// The text of the --export-file for `spec`: spec.env, LOWCARB_JOB_ID,
// SLURM_JOB_NAME (the --job-name),
// LOWCARB_RESUME=1 after a checkpoint, and TZ=`inherited_tz` unless spec.env
// has a TZ (the Slurm client itself runs with TZ=UTC to parse --begin), as
// NAME=value entries each ended by a NUL byte, so any value (commas,
// spaces, newlines) passes unchanged. kInvalidArgument names the variable
// (never its value) whose name is empty or holds '=' or NUL, or whose value
// holds NUL.
Result<std::string> sbatch_export_file(
    const LaunchSpec& spec, const std::optional<std::string>& inherited_tz);

// sbatch --parsable for `spec` deferred to `begin` (--begin, UTC). Runs
// spec.sbatch_script (with spec.sbatch_options) or, otherwise, spec.argv or
// spec.shell_command through --wrap. Always --comment, --job-name,
// --open-mode=append, --export=ALL with --export-file=plan.export_file;
// --time (expected duration x time_limit_factor) unless the user set one;
// never --deadline (Slurm would end a job whose start plus time limit
// passes it, even one lowcarb started in time: lowcarb enforces deadlines
// by releasing deferred jobs at their latest safe start); --requeue and
// --signal for interruptible checkpoint jobs. The command's environment is
// exactly SLURM_CONF, TZ=UTC and PATH (Command::inherit_environment false).
// kInvalidArgument when there is nothing to run or no export file.
Result<Command> sbatch_command(const config::SlurmClusterConfig& cluster,
                               const LaunchSpec& spec, TimePoint begin,
                               const SbatchPlan& plan);

// scontrol update JobId=J StartTime=<UTC>.
Command update_start_command(const config::SlurmClusterConfig& cluster,
                             const std::string& job_id, TimePoint begin);

// squeue -h -t all -j J -o kSqueueFormat (SLURM_TIME_FORMAT=%s).
Command squeue_job_command(const config::SlurmClusterConfig& cluster,
                           const std::string& job_id);

// squeue -h -t all -o kSqueueFormat: every job the controller knows.
Command squeue_all_command(const config::SlurmClusterConfig& cluster);

// scontrol show job -o J.
Command show_job_command(const config::SlurmClusterConfig& cluster,
                         const std::string& job_id);

// scontrol show config.
Command show_config_command(const config::SlurmClusterConfig& cluster);

// grep '^JobId=J ' <log>: the job's lines in the jobcomp/filetxt log.
Command jobcomp_grep_command(const config::SlurmClusterConfig& cluster,
                             const std::string& log_path,
                             const std::string& job_id);

// The --job-name the scheduler gives a job the user did not name
// ("lowcarb-<job_id>"): with the comment tag, how an ended job is found in
// records that keep no comment (the jobcomp/filetxt log).
std::string slurm_default_job_name(const std::string& job_id);

// grep -a -F ' Name=<name> ' <log>: the jobcomp/filetxt lines of the jobs
// named `name` (one per run; a requeued job has several).
Command jobcomp_name_grep_command(const config::SlurmClusterConfig& cluster,
                                  const std::string& log_path,
                                  const std::string& name);

// sacct --allusers --allocations --starttime=now-<days>days --noheader
// --parsable2 --format=JobIDRaw,JobName,Comment: recent jobs with the fields
// that identify a lowcarb job (Comment is empty unless slurm.conf has
// AccountingStoreFlags=job_comment).
Command sacct_find_command(const config::SlurmClusterConfig& cluster, int days);

// The sacct fields lowcarb asks for, in order.
const std::vector<std::string>& sacct_fields();

// sacct -j J --noheader --parsable2 --format=<sacct_fields()>.
Command sacct_command(const config::SlurmClusterConfig& cluster,
                      const std::string& job_id);

// The sstat fields lowcarb asks for, in order (all valid on Slurm 22.05,
// whose sstat has no TotalCPU).
const std::vector<std::string>& sstat_fields();

// sstat -a -j J --noheader --parsable2 --format=<sstat_fields()>: the
// running steps of job J (every step, not only the batch step).
Command sstat_command(const config::SlurmClusterConfig& cluster,
                      const std::string& job_id);

// scontrol <verb> J: suspend, resume, requeuehold, hold, release.
Command scontrol_job_command(const config::SlurmClusterConfig& cluster,
                             const std::string& verb,
                             const std::string& job_id);

// Who receives a signal sent with scancel.
enum class SignalTarget {
  kBatchShell,  // --batch: the batch script's shell only.
  kAllSteps,    // --full: the batch shell and every step.
};

// scancel --signal=<signal> --batch|--full J.
Command scancel_signal_command(const config::SlurmClusterConfig& cluster,
                               const std::string& job_id,
                               const std::string& signal, SignalTarget target);

// scancel J.
Command scancel_command(const config::SlurmClusterConfig& cluster,
                        const std::string& job_id);

}  // namespace lowcarb::executors
