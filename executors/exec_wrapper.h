// SPDX-License-Identifier: Apache-2.0
// The supervisor every local job runs under (`lowcarb exec-wrapper`). The
// wrapper is the leader of the job's session and process group; it forks the
// job, forwards SIGTERM/SIGINT/SIGUSR1/SIGUSR2 to it, waits, and writes how the
// job ended to a status file (temp file + rename, so readers see all or
// nothing) before exiting with the job's code (128 + signal when killed by a
// signal). The status file is how LocalExecutor learns the exit status of a
// job that ended while the daemon was down.
//
// Privilege separation: the wrapper may run as root, and then runs with the
// fixed environment it was started with (nothing of the job's). The job's
// environment (job_environment.h) is read from a 0600 file, which is removed
// once read, and applied only in the child, after setgroups/initgroups,
// setgid and setuid; the child then enters the working directory as the
// user, so a directory the user cannot enter fails the job (status file
// error "chdir ...") instead of being entered with root's rights.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "executors/process_spawner.h"

namespace lowcarb::executors {

// How a job ended, as stored in its status file.
struct ExitRecord {
  int exit_code = 0;          // The wrapper's exit code (128 + signal).
  std::optional<int> signal;  // Set when the job was killed by a signal.
  std::optional<TimePoint> ended_at;
  std::string error;  // Set when the job could not be started at all.

  bool operator==(const ExitRecord&) const = default;
};

std::string format_exit_record(const ExitRecord& record);
// kInvalidArgument (naming `source`) for malformed text.
Result<ExitRecord> parse_exit_record(const std::string& text,
                                     const std::string& source);

// Writes `record` to `path` atomically (write `path`.tmp, fsync, rename).
Status write_exit_record(const std::string& path, const ExitRecord& record);
// kNotFound when `path` does not exist.
Result<ExitRecord> read_exit_record(const std::string& path);

// Replaces `path` (created mode 0600) with `text` so that readers, and a
// restart after a crash or power loss, see the old content or all of the new:
// writes `path`.tmp, fsyncs it, renames it over `path` and fsyncs the
// directory. kUnavailable (naming the file) on failure.
Status write_file_durably(const std::string& path, const std::string& text);

// The started file: written by the wrapper, naming itself, after it has
// started and before it forks the job. A launch whose wrapper is gone and
// left no started file never ran the job, so it may be started again.
Status write_started_record(const std::string& path,
                            const ProcessIdentity& wrapper);
// kNotFound when `path` does not exist, kInvalidArgument when malformed.
Result<ProcessIdentity> read_started_record(const std::string& path);

struct ExecWrapperOptions {
  std::string status_file;
  std::string started_file;       // "" = none (see write_started_record).
  std::vector<std::string> argv;  // The job; argv[0] is looked up in the
                                  // job's PATH.
  // JSON file with the submitted environment (format_environment_file);
  // removed once read. "" = the job gets only the fixed variables.
  std::string env_file;
  std::string working_dir;  // Entered as the job's user; "" = stay.
  // Run the job as this user/group. Requires root unless equal to the
  // current ids. With uid set and gid unset, the user's primary group.
  std::optional<unsigned> uid;
  std::optional<unsigned> gid;
};

// Runs the job to completion as described above and returns the exit code to
// exit with. The started file, when asked for, is written before the job is
// forked; if that fails the job is not run. Problems before the job starts are
// printed to `err` (the job's stderr log) and also recorded in the status file;
// they return 127.
int run_exec_wrapper(const ExecWrapperOptions& options, const Clock& clock,
                     std::ostream& err);

}  // namespace lowcarb::executors
