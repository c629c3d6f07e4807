// SPDX-License-Identifier: Apache-2.0
// Executors make plans real: they start, watch, pause, resume and cancel one
// job's work on a backend (local processes, a Slurm cluster). The scheduler
// drives them; they own no threads and never decide *when* anything happens.
// Everything an executor needs to find a job again after a restart is in its
// ExecutorHandle, which the scheduler stores durably.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb::executors {

enum class PauseMode {
  kStop,        // SIGSTOP/SIGCONT (local) or suspend (Slurm): keeps memory.
  kCheckpoint,  // Signal, let it save state and exit; restart with
                // LOWCARB_RESUME=1 later.
};

// What to run. Either `argv`, `shell_command` (run by /bin/sh -c) or, for
// Slurm, `sbatch_script`.
struct LaunchSpec {
  std::string job_id;  // lowcarb's job id; tags the work on the backend.
  std::string name;
  std::vector<std::string> argv;
  std::string shell_command;
  std::string sbatch_script;                // Path of a batch script (Slurm).
  std::vector<std::string> sbatch_options;  // Extra sbatch arguments.
  std::string working_dir;
  std::map<std::string, std::string> env;  // Added to the job's environment.
  std::optional<unsigned> uid;  // Run as this user (daemon running as root).
  std::optional<unsigned> gid;
  unsigned umask = 022;
  std::string stdout_path;  // Appended to.
  std::string stderr_path;  // Appended to.
  Duration expected_duration{0};
  TimePoint deadline;
  bool interruptible = false;
  PauseMode pause_mode = PauseMode::kStop;
  int segment = 0;  // 0 = first run; >0 = resumed after a checkpoint.
};

// How to find a job on its backend again. Stored by the scheduler as text.
struct ExecutorHandle {
  std::string executor;   // "local" or "slurm".
  std::string cluster;    // Slurm cluster name; "" for local.
  std::string native_id;  // Local: "<pid>:<start ticks>"; Slurm: job id.

  bool operator==(const ExecutorHandle&) const = default;
};

enum class RunState {
  kPending,  // Accepted by the backend, not started (Slurm deferred).
  kRunning,
  kPaused,
  kSucceeded,  // Exit code 0.
  kFailed,     // Non-zero exit, killed by a signal, or a backend failure.
  kCancelled,
  kLost,  // The backend no longer knows the job and left no record.
};

bool is_terminal(RunState state);
const char* to_string(RunState state);

struct RunStatus {
  RunState state = RunState::kPending;
  std::optional<int> exit_code;
  std::optional<int> signal;  // Terminating signal, if any.
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  double cpu_seconds = 0;  // CPU time used so far, when the backend knows.
  std::string message;     // Human-readable detail ("exit 3", "TIMEOUT").
  // With kRunning: a checkpoint pause was asked for and the job is still
  // saving its state (it has until the grace period ends). The pause is
  // done once poll() says kPaused; until then, asking again is wrong.
  bool pausing = false;
};

class Executor {
 public:
  virtual ~Executor() = default;

  virtual std::string name() const = 0;

  // True when the backend can hold a job until a start time by itself
  // (Slurm --begin). Otherwise the scheduler calls start() when it is due.
  virtual bool defers_start() const = 0;

  // Starts `spec` at `begin` (at once when `begin` <= now or the executor
  // does not defer). Returns the handle to store before anything else.
  virtual Result<ExecutorHandle> start(const LaunchSpec& spec,
                                       TimePoint begin) = 0;

  // Moves a deferred job's start (Slurm). kConflict if it already started.
  virtual Status reschedule(const ExecutorHandle& handle, TimePoint begin) = 0;

  virtual Result<RunStatus> poll(const ExecutorHandle& handle) = 0;

  // Never waits for the job: a checkpoint pause may return while the job
  // still saves its state, and poll() then reports RunStatus::pausing until
  // it has gone (see the backend's header for how long that may take).
  virtual Status pause(const ExecutorHandle& handle, PauseMode mode) = 0;
  // Resumes a paused job. In checkpoint mode the job is started again from
  // `spec` (with LOWCARB_RESUME=1) and a new handle is returned.
  virtual Result<ExecutorHandle> resume(const ExecutorHandle& handle,
                                        const LaunchSpec& spec,
                                        PauseMode mode) = 0;

  // Ends the job: polite signal, then force after a grace period. Returns
  // without waiting for the grace period; housekeeping() applies the force.
  virtual Status cancel(const ExecutorHandle& handle) = 0;

  // Does what is due of earlier requests (the forced kill of a cancelled job
  // whose grace period ran out). Never blocks; the scheduler calls it at
  // every tick. The default has nothing to do.
  virtual void housekeeping() {}
  // Keeps a job handed to a deferring backend (defers_start()) and not yet
  // started from starting until release() (a user's `lowcarb pause`). The
  // default does nothing: a backend that does not defer has nothing to
  // hold, since the scheduler simply does not start the job.
  virtual Status hold(const ExecutorHandle& handle) {
    (void)handle;
    return {};
  }
  // Undoes hold(); the job then starts at `begin` (at once if past).
  virtual Status release(const ExecutorHandle& handle, TimePoint begin) {
    (void)handle;
    (void)begin;
    return {};
  }

  // Finds the work that start() or resume() launched for (`job_id`,
  // `segment`), if any: how the scheduler avoids starting a job twice when
  // it crashed between asking the executor and storing the handle. nullopt
  // = nothing was launched. The default says the backend cannot tell
  // (kUnavailable), and the scheduler then starts the job again.
  virtual Result<std::optional<ExecutorHandle>> find(const std::string& job_id,
                                                     int segment) {
    (void)job_id;
    (void)segment;
    return tl::unexpected(
        Error{ErrorCode::kUnavailable, name() + ": cannot find launched work"});
  }
};

}  // namespace lowcarb::executors
