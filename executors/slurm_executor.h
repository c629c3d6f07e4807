// SPDX-License-Identifier: Apache-2.0
// An Executor that runs jobs on one Slurm cluster through its CLI (sbatch,
// squeue, scontrol, scancel, sacct), called only through a ProcessRunner
// with argv (no shell), the cluster's SLURM_CONF and TZ=UTC. Jobs are keyed
// by (cluster, Slurm job id): ExecutorHandle{"slurm", cluster name, id}; a
// handle of another cluster is rejected. Each job carries
// --comment=lowcarb:<job id> so adopt_by_tag() finds it after a restart.
//
// Slurm holds a deferred job itself (--begin), so defers_start() is true.
// lowcarb passes no --deadline (Slurm would end a job lowcarb started in
// time whose start plus time limit passes it): the scheduler enforces the
// deadline by reschedule() (StartTime=now) at the latest safe start.
//
// live_usage() and allocation() feed the daemon's Slurm meter: sstat for
// running steps, sacct for the final totals when there is accounting.
//
// Finished jobs leave squeue after MinJobAge; poll() then reads the final
// state from sacct when the cluster has accounting (slurmdbd), else from the
// jobcomp/filetxt log (SlurmClusterConfig::jobcomp_log or JobCompLoc from
// `scontrol show config`), else `scontrol show job`; with none of them the
// job is kLost.
//
// Thread-safe (an internal mutex guards the cached site facts).
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "executors/executor.h"
#include "executors/process_runner.h"
#include "executors/slurm_output.h"
#include "executors/slurm_script.h"

namespace lowcarb::executors {

// How pause(kStop) holds a job.
enum class SlurmPauseMethod {
  kSuspend,      // scontrol suspend/resume: operators and admins only.
  kRequeueHold,  // Checkpoint signal, scontrol requeuehold, later release.
  kSignal,       // scancel --signal=STOP|CONT --full: CPUs stay allocated.
};
const char* to_string(SlurmPauseMethod method);

// Picks the pause method: `configured` ("suspend", "requeuehold", "signal")
// wins; "auto" (or anything else) gives kSuspend when we run as root or as
// the cluster's SlurmUser (the only users allowed to suspend without
// slurmdbd) and kSignal otherwise.
SlurmPauseMethod choose_pause_method(const std::string& configured,
                                     unsigned uid, const std::string& user_name,
                                     const std::string& slurm_user);

// What a job has used so far, for the daemon's meter (scheduler/job_meters.h).
struct SlurmLiveUsage {
  // The steps running now (sstat). Empty when none runs: the job is pending,
  // between steps, or over.
  std::vector<SlurmStepUsage> steps;
  // The job's final totals from sacct, once it ended on a cluster with
  // accounting (slurmdbd); nullopt otherwise.
  std::optional<JobUsage> final_usage;
  // From the cluster's AcctGatherEnergyType: whether energy figures are
  // measured at all, and whether they include the nodes' GPUs.
  bool energy_gathered = false;
  bool energy_covers_gpus = false;
};

// Who we run as and what TZ the jobs should see. Unset fields are read from
// the process (geteuid, the passwd entry, $TZ) at construction.
struct SlurmExecutorOptions {
  std::optional<unsigned> uid;
  std::optional<std::string> user_name;
  // The TZ jobs inherit (Slurm commands themselves run with TZ=UTC).
  // nullopt = read $TZ; "" = pass no TZ to jobs.
  std::optional<std::string> job_tz;
  // Root of the per-cluster output directories; "" = <TMPDIR or
  // /tmp>/lowcarb-slurm-<euid>. Must be traversable by job owners when we
  // are root (the executor adds o+x to it).
  std::string log_dir;
};

class SlurmExecutor final : public Executor {
 public:
  // `runner` must outlive the executor.
  SlurmExecutor(config::SlurmClusterConfig cluster, ProcessRunner& runner,
                SlurmExecutorOptions options = {});

  std::string name() const override { return "slurm"; }
  bool defers_start() const override { return true; }

  // Submits with sbatch, deferred to `begin` (--begin in UTC). sbatch
  // failures carry sbatch's message; an unreachable controller is
  // kUnavailable, a rejected request kInvalidArgument.
  Result<ExecutorHandle> start(const LaunchSpec& spec,
                               TimePoint begin) override;

  // scontrol update StartTime=<begin>. kConflict if the job already started.
  Status reschedule(const ExecutorHandle& handle, TimePoint begin) override;

  // The job's state from squeue, or its completion record once it has left
  // squeue. kUnavailable when the controller cannot be reached (the mapping
  // stays valid; retry later).
  Result<RunStatus> poll(const ExecutorHandle& handle) override;

  // kStop: pause_method(); kCheckpoint: the checkpoint signal to the batch
  // shell, then scontrol requeuehold (Slurm then sends SIGTERM and, after
  // KillWait, SIGKILL: jobs should save state on either signal). With the
  // signal method Slurm still lists the job as RUNNING; poll() reports it
  // kPaused until resume() (this executor instance remembers it).
  Status pause(const ExecutorHandle& handle, PauseMode mode) override;

  // Undoes pause() with the same method and returns the same handle (a
  // requeued Slurm job keeps its id; it sees SLURM_RESTART_COUNT > 0).
  Result<ExecutorHandle> resume(const ExecutorHandle& handle,
                                const LaunchSpec& spec,
                                PauseMode mode) override;

  // scancel J. A job Slurm no longer knows or that already ended is not an
  // error.
  Status cancel(const ExecutorHandle& handle) override;

  // scontrol hold J: a pending (deferred) job stays pending until
  // release(). kConflict when it already started.
  Status hold(const ExecutorHandle& handle) override;

  // scontrol release J, then StartTime=`begin`.
  Status release(const ExecutorHandle& handle, TimePoint begin) override;

  // The newest job squeue lists (in any state) tagged
  // --comment=lowcarb:<job_id>; a requeued job keeps its id, so `segment`
  // does not matter. A job that ended and left squeue (MinJobAge) before
  // the restart is looked up in what the cluster keeps of ended jobs: sacct
  // (with slurmdbd; by Comment when AccountingStoreFlags=job_comment, else
  // by the default job name lowcarb-<job_id>, over the last kFindDays days),
  // else the jobcomp/filetxt log (by the default job name: a job the user
  // named is not found there). poll() then reports its real end. nullopt
  // when none of them knows it.
  Result<std::optional<ExecutorHandle>> find(const std::string& job_id,
                                             int segment) override;

  // find(job_id, 0).
  Result<std::optional<ExecutorHandle>> adopt_by_tag(const std::string& job_id);

  // The file Slurm writes the job's stdout (or stderr) to: the spec's path,
  // the script's own #SBATCH --output/--error (patterns %j %x %u expanded
  // with `native_id`; stderr goes to the output file when only --output is
  // given), else the executor's per-cluster, per-user file.
  std::string output_path(const LaunchSpec& spec, const std::string& native_id,
                          bool stderr_stream);

  // CPU time and energy of a job from sacct. kUnavailable when the cluster
  // keeps no accounting (no slurmdbd).
  Result<JobUsage> usage(const ExecutorHandle& handle);

  // What the job's running steps have used so far (sstat -a, which needs no
  // slurmdbd); once no step runs and the cluster keeps accounting, the
  // job's final totals from sacct. kUnavailable when sstat cannot reach the
  // controller.
  Result<SlurmLiveUsage> live_usage(const ExecutorHandle& handle);

  // The CPUs and GPUs Slurm gave the job (scontrol show job -o); kNotFound
  // once the controller forgot it (MinJobAge after it ended).
  Result<SlurmAllocation> allocation(const ExecutorHandle& handle);

  // How pause(kStop) works on this cluster; decided on first use (asks
  // `scontrol show config` for SlurmUser) and logged once.
  SlurmPauseMethod pause_method();

  const config::SlurmClusterConfig& cluster() const { return cluster_; }

 private:
  Result<ProcessResult> run_ok(const Command& command, const std::string& what);
  // The job owner's uid and gid: the spec's when we are root, else ours.
  std::pair<unsigned, unsigned> owner_of(const LaunchSpec& spec) const;
  // <log_dir>/<cluster>/<uid>, created owned by the job's owner, 0700.
  Result<std::string> owner_dir(const LaunchSpec& spec);
  SbatchDirectives directives_of(const LaunchSpec& spec) const;
  Result<SlurmSiteInfo> site_info();
  Status check_handle(const ExecutorHandle& handle) const;
  Result<RunStatus> completion_status(const std::string& job_id);
  // find()'s look-up of an ended job (see there): the newest Slurm id.
  Result<std::optional<long long>> find_ended(const std::string& job_id);
  // How far back find() asks sacct.
  static constexpr int kFindDays = 30;
  RunStatus status_from_record(const CompletionRecord& record);

  const config::SlurmClusterConfig cluster_;
  ProcessRunner& runner_;
  unsigned uid_ = 0;
  std::string user_name_;
  std::optional<std::string> job_tz_;
  std::string log_dir_;
  std::string path_;

  std::mutex mutex_;
  std::optional<SlurmSiteInfo> site_;
  std::optional<SlurmPauseMethod> pause_method_;
  std::set<std::string> cancelled_by_us_;
  // Jobs we sent SIGSTOP: Slurm keeps listing them as RUNNING.
  std::set<std::string> stopped_by_us_;
};

}  // namespace lowcarb::executors
