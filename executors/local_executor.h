// SPDX-License-Identifier: Apache-2.0
// Jobs as local processes. Each job runs under `lowcarb exec-wrapper` (see
// exec_wrapper.h) in its own session and process group, detached from the
// daemon, with stdout/stderr appended to per-job log files. The handle's
// native_id is "<pid>:<start ticks>" of the wrapper; every signal is preceded
// by a check that the start time still matches, so a recycled pid is never
// signalled. A small run record per handle under <state_dir>/local/ and the
// wrapper's status file under <state_dir>/jobs/<job_id>/status-<segment>.json
// let a new LocalExecutor (after a daemon restart) adopt running jobs and
// learn how finished ones ended.
//
// Launches are durable first, so that find() can tell after a crash at any
// point whether a launch ran: (1) an intent file jobs/<id>/intent-<n>.json
// before anything is spawned; (2) the run record, written once the new
// process is identified but before it may exec (ProcessSpawner's
// on_identified; if the daemon dies first, the process exits unexec'ed);
// (3) the wrapper's started file jobs/<id>/started-<n>.json, written before
// it forks the job; (4) the status file when the job ends. All are written
// with write_file_durably().
//
// Pause modes and what they cost:
//  - stop: SIGSTOP/SIGCONT to the whole process group. Instant and needs no
//    cooperation, but the stopped processes keep their memory, open files,
//    locks, GPU memory and any licences; only CPU time (and most CPU power)
//    is saved.
//  - checkpoint: the configured signal (default SIGTERM) goes to the wrapper,
//    which forwards it to the job; the job saves its state and exits within
//    the grace period. pause() returns at once: until the process group has
//    gone, poll() says kRunning with RunStatus::pausing ("pausing: saving
//    its checkpoint"), then kPaused. A group still alive when the grace runs
//    out is killed by housekeeping(), like a cancel, and the segment still
//    counts as paused: whether its checkpoint is complete is the job's
//    business (resume() starts the next segment either way). A new executor
//    (daemon restart) picks up the pauses still saving from the run records
//    and gives them a fresh grace. resume() starts the same command again
//    with LOWCARB_RESUME=1 and LOWCARB_SEGMENT=n, so all resources are freed
//    while paused, at the cost of the job's own checkpoint/restart work.
// Cancel: the polite signal (SIGTERM) reaches the job through the wrapper,
// processes the job leaves behind get SIGTERM as a group, and SIGKILL goes to
// the whole group after the grace period. cancel() only sends the polite
// signal; housekeeping() (every scheduler tick) sends the rest when due, so
// a job that ignores SIGTERM never blocks the loop. A new executor (daemon
// restart) picks up the cancelled jobs still alive from the run records.
//
// Overrun is measured on running time: the time a segment spent stopped
// (SIGSTOP, by lowcarb or anyone else) is not counted, and a stopped job is
// never killed as overrun.
//
// Not thread-safe; the daemon loop drives it. Nothing waits for a job's
// grace period; pause() in stop mode waits up to 2 s for SIGSTOP to show.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "executors/executor.h"
#include "executors/process_spawner.h"

namespace lowcarb::executors {

struct LocalExecutorOptions {
  std::string wrapper_binary;  // The `lowcarb` binary that has exec-wrapper.
  std::string state_dir;       // Run records, status files, default logs.
  config::LocalExecutorConfig config;
  // How often pause()/cancel() look at the processes while waiting.
  std::chrono::milliseconds wait_step{50};
};

// "TERM", "SIGTERM", "USR1", ... -> signal number; kInvalidArgument
// otherwise. Accepts TERM, INT, USR1, USR2, HUP, QUIT.
Result<int> parse_signal_name(const std::string& name);

// "<pid>:<start ticks>" <-> ProcessIdentity.
std::string format_native_id(const ProcessIdentity& identity);
Result<ProcessIdentity> parse_native_id(const std::string& native_id);

class LocalExecutor final : public Executor {
 public:
  // Validates the options (binary present, pause mode, checkpoint signal)
  // and creates the state directory.
  static Result<std::unique_ptr<LocalExecutor>> create(
      ProcessSpawner& spawner, const Clock& clock,
      LocalExecutorOptions options);

  std::string name() const override { return "local"; }
  bool defers_start() const override { return false; }

  // Starts at once (`begin` is ignored: the scheduler calls when due).
  // kInvalidArgument for a bad job id or an empty command,
  // kPermissionDenied for another uid/gid when not running as root.
  Result<ExecutorHandle> start(const LaunchSpec& spec,
                               TimePoint begin) override;
  // Always kConflict: local jobs are never deferred.
  Status reschedule(const ExecutorHandle& handle, TimePoint begin) override;
  // From /proc and the status file. Also reports overruns
  // (expected_duration x overrun_factor, killing when configured) and a
  // deadline passed while running in RunStatus::message.
  Result<RunStatus> poll(const ExecutorHandle& handle) override;
  Status pause(const ExecutorHandle& handle, PauseMode mode) override;
  Result<ExecutorHandle> resume(const ExecutorHandle& handle,
                                const LaunchSpec& spec,
                                PauseMode mode) override;
  Status cancel(const ExecutorHandle& handle) override;
  // SIGTERM to the leftovers of a cancelled (or checkpointing) job whose
  // wrapper exited, SIGKILL to the group of one whose grace period ran out
  // (real time).
  void housekeeping() override;
  // Whether (`job_id`, `segment`) was launched and ran, whenever an earlier
  // daemon died: a handle when its wrapper is running (past the spawner's go
  // point) or got as far as its started file; nullopt when nothing was
  // spawned or the process never reached the job (intent only, or a run
  // record whose process is gone and left no started file), so starting it
  // again runs the job once. A process still waiting for a go byte from a
  // dead daemon is given up to 2 s to exit, then killed. Newest launch wins.
  Result<std::optional<ExecutorHandle>> find(const std::string& job_id,
                                             int segment) override;

  // Where the wrapper writes the status of `job_id`'s `segment`.
  std::string status_file(const std::string& job_id, int segment) const;
  // Where the wrapper records itself before it forks the job.
  std::string started_file(const std::string& job_id, int segment) const;
  // The job's environment for the wrapper (mode 0600; the wrapper removes
  // it once read).
  std::string env_file(const std::string& job_id, int segment) const;
  // Where start() records that it is about to launch the segment.
  std::string intent_file(const std::string& job_id, int segment) const;

 private:
  struct RunRecord;

  LocalExecutor(ProcessSpawner& spawner, const Clock& clock,
                LocalExecutorOptions options, int checkpoint_signal);

  enum class LaunchOutcome { kRan, kNotStarted };

  std::string record_path(const ProcessIdentity& identity) const;
  Result<RunRecord> load_record(const ProcessIdentity& identity) const;
  Status save_record(const RunRecord& record) const;
  Status save_intent(const RunRecord& intent) const;
  Result<RunRecord> load_intent(const std::string& job_id, int segment) const;
  // The run records of (`job_id`, `segment`), newest start first.
  Result<std::vector<RunRecord>> records_for(const std::string& job_id,
                                             int segment) const;
  // Whether the launch behind `record` reached the job (see find()).
  LaunchOutcome launch_outcome(const RunRecord& record);
  // Sleeps in wait_step steps until `done()` or `limit` passes.
  template <typename Predicate>
  bool wait_until(Predicate done, std::chrono::milliseconds limit);
  // TERM through the wrapper now; queues TERM to leftovers and KILL after
  // the grace for housekeeping().
  void terminate(const ProcessIdentity& identity);
  // Queues TERM to leftovers and KILL after the grace for housekeeping(),
  // unless the group is queued already.
  void queue_kill(const ProcessIdentity& identity, bool checkpoint);
  // Running time of a live segment at `now`: wall time minus stopped time.
  Duration running_time(RunRecord& record, bool stopped, TimePoint now);

  ProcessSpawner& spawner_;
  const Clock& clock_;
  LocalExecutorOptions options_;
  int checkpoint_signal_;
  std::map<std::string, double> last_cpu_seconds_;  // By native_id.
  struct PendingKill {
    ProcessIdentity identity;
    std::chrono::steady_clock::time_point kill_at;
    bool leftovers_told = false;
    bool checkpoint = false;  // A checkpoint pause, not a cancel.
  };
  std::vector<PendingKill> pending_kills_;
  // Run records scanned once for cancels and checkpoints a previous
  // executor left in their grace period.
  bool adopted_cancels_ = false;
  std::map<std::string, bool> overrun_logged_;  // By native_id.
};

}  // namespace lowcarb::executors
