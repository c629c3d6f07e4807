// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_executor.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "executors/slurm_commands.h"
#include "executors/slurm_time.h"

namespace lowcarb::executors {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  return get_logger("executors.slurm");
}

// The first line of a command's diagnostics, for error messages.
std::string first_line(const ProcessResult& result) {
  std::string_view text = trim(result.err);
  if (text.empty()) {
    text = trim(result.out);
  }
  return std::string(trim(text.substr(0, text.find('\n'))));
}

std::string all_output(const ProcessResult& result) {
  return result.err + "\n" + result.out;
}

// Writes `text` to a new file `path` (0600, owned by uid:gid when we are
// root), refusing to follow or reuse anything already there.
Status write_private_file(const std::string& path, const std::string& text,
                          bool chown_to_owner, unsigned uid, unsigned gid) {
  ::unlink(path.c_str());  // A leftover of a crash; never followed.
  const int fd = ::open(
      path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("create {}: {}", path, std::strerror(errno)));
  }
  size_t done = 0;
  bool ok = true;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (ok && chown_to_owner && ::fchown(fd, uid, gid) != 0) {
    ok = false;
  }
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("write {}: {}", path, std::strerror(saved)));
  }
  return ok_status();
}

// A directory name from a cluster name (which the config does not limit).
std::string path_component(std::string name) {
  for (char& c : name) {
    if (c == '/' || c == '\0') {
      c = '_';
    }
  }
  return name == "." || name == ".." || name.empty() ? "_" + name : name;
}

}  // namespace

const char* to_string(SlurmPauseMethod method) {
  switch (method) {
    case SlurmPauseMethod::kSuspend:
      return "suspend";
    case SlurmPauseMethod::kRequeueHold:
      return "requeuehold";
    case SlurmPauseMethod::kSignal:
      return "signal";
  }
  return "unknown";
}

SlurmPauseMethod choose_pause_method(const std::string& configured,
                                     unsigned uid, const std::string& user_name,
                                     const std::string& slurm_user) {
  if (configured == "suspend") {
    return SlurmPauseMethod::kSuspend;
  }
  if (configured == "requeuehold") {
    return SlurmPauseMethod::kRequeueHold;
  }
  if (configured == "signal") {
    return SlurmPauseMethod::kSignal;
  }
  const bool admin =
      uid == 0 || (!slurm_user.empty() && user_name == slurm_user);
  return admin ? SlurmPauseMethod::kSuspend : SlurmPauseMethod::kSignal;
}

SlurmExecutor::SlurmExecutor(config::SlurmClusterConfig cluster,
                             ProcessRunner& runner,
                             SlurmExecutorOptions options)
    : cluster_(std::move(cluster)), runner_(runner) {
  uid_ = options.uid ? *options.uid : static_cast<unsigned>(::geteuid());
  if (options.user_name) {
    user_name_ = *options.user_name;
  } else if (const passwd* entry = ::getpwuid(uid_); entry != nullptr) {
    user_name_ = entry->pw_name;
  }
  if (options.job_tz) {
    if (!options.job_tz->empty()) {
      job_tz_ = *options.job_tz;
    }
  } else if (const char* tz = std::getenv("TZ"); tz != nullptr && *tz) {
    job_tz_ = tz;
  }
  log_dir_ = options.log_dir;
  if (log_dir_.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    log_dir_ =
        fmt::format("{}/lowcarb-slurm-{}",
                    tmp != nullptr && *tmp == '/' ? tmp : "/tmp", ::geteuid());
  }
  if (const char* path = std::getenv("PATH"); path != nullptr && *path) {
    path_ = path;
  } else {
    path_ = "/usr/local/bin:/usr/bin:/bin";
  }
}

std::pair<unsigned, unsigned> SlurmExecutor::owner_of(
    const LaunchSpec& spec) const {
  if (uid_ == 0 && spec.uid) {
    return {*spec.uid, spec.gid.value_or(*spec.uid)};
  }
  return {uid_, static_cast<unsigned>(::getegid())};
}

Result<std::string> SlurmExecutor::owner_dir(const LaunchSpec& spec) {
  namespace fs = std::filesystem;
  const auto [uid, gid] = owner_of(spec);
  const fs::path root(log_dir_);
  const fs::path cluster_dir = root / path_component(cluster_.name);
  const fs::path dir = cluster_dir / std::to_string(uid);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("cluster {}: create output directory {}: {}",
                                  cluster_.name, dir.string(), ec.message()));
  }
  struct stat info {};
  if (::lstat(root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
      info.st_uid != ::geteuid()) {
    return make_error(ErrorCode::kPermissionDenied,
                      fmt::format("cluster {}: output directory {} is not a "
                                  "directory of ours (uid {})",
                                  cluster_.name, root.string(), ::geteuid()));
  }
  if (uid_ == 0) {
    // Job owners need to pass through to their own directory.
    ::chmod(root.c_str(), (info.st_mode & 07777) | S_IXGRP | S_IXOTH);
    ::chmod(cluster_dir.c_str(), 0711);
  }
  if (::lstat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return make_error(ErrorCode::kPermissionDenied,
                      fmt::format("cluster {}: {} is not a directory",
                                  cluster_.name, dir.string()));
  }
  if (uid_ == 0 && (info.st_uid != uid || info.st_gid != gid) &&
      ::chown(dir.c_str(), uid, gid) != 0) {
    return make_error(
        ErrorCode::kPermissionDenied,
        fmt::format("cluster {}: chown {} to {}:{}: {}", cluster_.name,
                    dir.string(), uid, gid, std::strerror(errno)));
  }
  ::chmod(dir.c_str(), 0700);
  return dir.string();
}

SbatchDirectives SlurmExecutor::directives_of(const LaunchSpec& spec) const {
  std::string text;
  if (!spec.sbatch_script.empty()) {
    // Only the directive lines matter; a script we cannot read is left for
    // sbatch (running as the job's owner) to read or reject.
    std::ifstream in(spec.sbatch_script, std::ios::binary);
    if (in) {
      std::ostringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str().substr(0, 1 << 20);
    }
  }
  return read_sbatch_directives(text, spec.sbatch_options);
}

std::string SlurmExecutor::output_path(const LaunchSpec& spec,
                                       const std::string& native_id,
                                       bool stderr_stream) {
  const auto directives = directives_of(spec);
  const auto [uid, gid] = owner_of(spec);
  (void)gid;
  SlurmPatternValues values;
  values.job_id = native_id;
  values.job_name = spec.name.empty() ? spec.job_id : spec.name;
  if (const passwd* entry = ::getpwuid(uid); entry != nullptr) {
    values.user = entry->pw_name;
  }
  values.working_dir = spec.working_dir;
  const std::string own = fmt::format(
      "{}/{}/{}/{}", log_dir_, path_component(cluster_.name), uid, spec.job_id);
  std::string out = !spec.stdout_path.empty() ? spec.stdout_path
                    : !directives.output.empty()
                        ? expand_slurm_output_pattern(directives.output, values)
                        : own + ".out";
  if (!stderr_stream) {
    return out;
  }
  if (!spec.stderr_path.empty()) {
    return spec.stderr_path;
  }
  if (!directives.error.empty()) {
    return expand_slurm_output_pattern(directives.error, values);
  }
  if (!spec.stdout_path.empty() || !directives.output.empty()) {
    return out;  // Slurm writes stderr to the output file.
  }
  return own + ".err";
}

Result<ProcessResult> SlurmExecutor::run_ok(const Command& command,
                                            const std::string& what) {
  logger()->debug("cluster {}: running {}", cluster_.name,
                  fmt::join(command.argv, " "));
  auto result = runner_.run(command);
  if (!result) {
    return make_error(result.error().with_context(
        fmt::format("{} on cluster {}", what, cluster_.name)));
  }
  if (result->exit_code != 0) {
    return make_error(
        classify_slurm_error(all_output(*result)),
        fmt::format("{} on cluster {}: exit {}: {}", what, cluster_.name,
                    result->exit_code, first_line(*result)));
  }
  return result;
}

Status SlurmExecutor::check_handle(const ExecutorHandle& handle) const {
  if (handle.executor != "slurm" || handle.cluster != cluster_.name ||
      handle.native_id.empty()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("Slurm cluster {}: handle {}/{}/{} is not one of its jobs",
                    cluster_.name, handle.executor, handle.cluster,
                    handle.native_id));
  }
  return ok_status();
}

Result<SlurmSiteInfo> SlurmExecutor::site_info() {
  {
    std::lock_guard lock(mutex_);
    if (site_) {
      return *site_;
    }
  }
  auto result = run_ok(show_config_command(cluster_), "scontrol show config");
  if (!result) {
    return make_error(result.error());
  }
  SlurmSiteInfo info = parse_show_config(result->out);
  std::lock_guard lock(mutex_);
  site_ = info;
  return info;
}

SlurmPauseMethod SlurmExecutor::pause_method() {
  {
    std::lock_guard lock(mutex_);
    if (pause_method_) {
      return *pause_method_;
    }
  }
  std::string slurm_user;
  if (cluster_.pause_method == "auto" || cluster_.pause_method.empty()) {
    if (auto info = site_info()) {
      slurm_user = info->slurm_user;
    } else {
      logger()->warn(
          "cluster {}: cannot read SlurmUser ({}); deciding the "
          "pause method from our uid only",
          cluster_.name, info.error().message);
    }
  }
  const SlurmPauseMethod method =
      choose_pause_method(cluster_.pause_method, uid_, user_name_, slurm_user);
  logger()->info(
      "cluster {}: pausing jobs with {} (pause_method: {}, user "
      "{}, SlurmUser {})",
      cluster_.name, to_string(method), cluster_.pause_method, user_name_,
      slurm_user.empty() ? "unknown" : slurm_user);
  std::lock_guard lock(mutex_);
  pause_method_ = method;
  return method;
}

Result<ExecutorHandle> SlurmExecutor::start(const LaunchSpec& spec,
                                            TimePoint begin) {
  auto env_text = sbatch_export_file(spec, job_tz_);
  if (!env_text) {
    return make_error(env_text.error());
  }
  auto dir = owner_dir(spec);
  if (!dir) {
    return make_error(
        dir.error().with_context("sbatch for job " + spec.job_id));
  }
  const auto [uid, gid] = owner_of(spec);
  const auto directives = directives_of(spec);
  SbatchPlan plan;
  plan.path = path_;
  plan.user_sets_time = directives.sets_time;
  const std::string own = *dir + "/" + spec.job_id;
  plan.stdout_path = !spec.stdout_path.empty()    ? spec.stdout_path
                     : !directives.output.empty() ? ""
                                                  : own + ".out";
  plan.stderr_path = !spec.stderr_path.empty() ? spec.stderr_path
                     : (!directives.error.empty() ||
                        !spec.stdout_path.empty() || !directives.output.empty())
                         ? ""
                         : own + ".err";
  if (uid_ == 0 && uid != 0) {
    plan.run_as_uid = uid;
    plan.run_as_gid = gid;
  }
  plan.export_file =
      fmt::format("{}/.{}-{}.env", *dir, spec.job_id, spec.segment);
  auto command = sbatch_command(cluster_, spec, begin, plan);
  if (!command) {
    return make_error(command.error());
  }
  if (auto written =
          write_private_file(plan.export_file, *env_text, uid_ == 0, uid, gid);
      !written) {
    return make_error(written.error().with_context(
        fmt::format("environment of job {}", spec.job_id)));
  }
  auto result = run_ok(*command, fmt::format("sbatch for job {}", spec.job_id));
  ::unlink(plan.export_file.c_str());
  if (!result) {
    return make_error(result.error());
  }
  auto submitted = parse_sbatch_parsable(result->out);
  if (!submitted) {
    return make_error(submitted.error().with_context(
        fmt::format("cluster {}", cluster_.name)));
  }
  logger()->info(
      "job {}: submitted to cluster {} as Slurm job {} (uid {}), begin {}",
      spec.job_id, cluster_.name, submitted->job_id, uid, format_utc(begin));
  return ExecutorHandle{"slurm", cluster_.name, submitted->job_id};
}

Status SlurmExecutor::hold(const ExecutorHandle& handle) {
  if (auto ok = check_handle(handle); !ok) {
    return ok;
  }
  auto result = run_ok(scontrol_job_command(cluster_, "hold", handle.native_id),
                       fmt::format("holding Slurm job {}", handle.native_id));
  if (!result) {
    return make_error(result.error());
  }
  logger()->info("Slurm job {} on cluster {}: held", handle.native_id,
                 cluster_.name);
  return ok_status();
}

Status SlurmExecutor::release(const ExecutorHandle& handle, TimePoint begin) {
  if (auto ok = check_handle(handle); !ok) {
    return ok;
  }
  auto released =
      run_ok(scontrol_job_command(cluster_, "release", handle.native_id),
             fmt::format("releasing Slurm job {}", handle.native_id));
  if (!released) {
    return make_error(released.error());
  }
  logger()->info("Slurm job {} on cluster {}: released", handle.native_id,
                 cluster_.name);
  return reschedule(handle, begin);
}

Status SlurmExecutor::reschedule(const ExecutorHandle& handle,
                                 TimePoint begin) {
  if (auto ok = check_handle(handle); !ok) {
    return ok;
  }
  auto result =
      run_ok(update_start_command(cluster_, handle.native_id, begin),
             fmt::format("moving the start of Slurm job {}", handle.native_id));
  if (!result) {
    return make_error(result.error());
  }
  logger()->info("Slurm job {} on cluster {}: start moved to {}",
                 handle.native_id, cluster_.name, format_utc(begin));
  return ok_status();
}

RunStatus SlurmExecutor::status_from_record(const CompletionRecord& record) {
  RunStatus status;
  status.state = run_state_from_slurm(record.state, record.reason);
  status.exit_code = record.exit_code;
  if (record.signal && *record.signal != 0) {
    status.signal = record.signal;
  }
  status.started_at = record.started_at;
  status.ended_at = record.ended_at;
  status.message = record.state;
  if (status.state == RunState::kFailed && record.exit_code &&
      *record.exit_code != 0) {
    status.message += fmt::format(" (exit {})", *record.exit_code);
  }
  if (status.signal) {
    status.message += fmt::format(" (signal {})", *status.signal);
  }
  if (status.state == RunState::kCancelled) {
    std::lock_guard lock(mutex_);
    if (!cancelled_by_us_.contains(record.job_id)) {
      status.message += " outside lowcarb (scancel or an administrator)";
    }
  }
  return status;
}

Result<RunStatus> SlurmExecutor::completion_status(const std::string& job_id) {
  auto info = site_info();
  if (!info) {
    return make_error(info.error());
  }
  if (info->has_accounting()) {
    auto result = run_ok(sacct_command(cluster_, job_id),
                         fmt::format("sacct for Slurm job {}", job_id));
    if (!result) {
      return make_error(result.error());
    }
    auto records = parse_sacct(result->out, sacct_fields());
    if (!records) {
      return make_error(records.error());
    }
    for (const auto& record : *records) {
      if (record.at("JobIDRaw") != job_id) {
        continue;
      }
      CompletionRecord completion;
      completion.job_id = job_id;
      // "CANCELLED by 1000" -> "CANCELLED".
      const std::string& state = record.at("State");
      completion.state = state.substr(0, state.find(' '));
      std::tie(completion.exit_code, completion.signal) =
          parse_exit_code(record.at("ExitCode"));
      if (auto start = parse_slurm_time(record.at("Start"))) {
        completion.started_at = *start;
      }
      if (auto end = parse_slurm_time(record.at("End"))) {
        completion.ended_at = *end;
      }
      auto status = status_from_record(completion);
      if (auto usage = usage_from_sacct(*records, job_id)) {
        status.cpu_seconds = usage->cpu_seconds;
      }
      return status;
    }
  }
  std::string log = cluster_.jobcomp_log;
  if (log.empty() && info->job_comp_type == "jobcomp/filetxt") {
    log = info->job_comp_loc;
  }
  if (!log.empty()) {
    auto result = runner_.run(jobcomp_grep_command(cluster_, log, job_id));
    if (!result) {
      return make_error(result.error().with_context(
          fmt::format("reading job completion log {}", log)));
    }
    // grep: 0 = found, 1 = no line, 2 = cannot read the file.
    if (result->exit_code == 0) {
      auto record = parse_jobcomp(result->out, job_id);
      if (!record) {
        return make_error(record.error().with_context(log));
      }
      return status_from_record(*record);
    }
    if (result->exit_code != 1) {
      logger()->warn("cluster {}: cannot read job completion log {}: {}",
                     cluster_.name, log, first_line(*result));
    }
  }
  auto shown = runner_.run(show_job_command(cluster_, job_id));
  if (shown && shown->exit_code == 0) {
    if (auto record = parse_scontrol_job(shown->out)) {
      return status_from_record(*record);
    }
  }
  RunStatus lost;
  lost.state = RunState::kLost;
  lost.message = fmt::format(
      "Slurm job {} is unknown to cluster {} and left no completion record",
      job_id, cluster_.name);
  return lost;
}

Result<RunStatus> SlurmExecutor::poll(const ExecutorHandle& handle) {
  if (auto ok = check_handle(handle); !ok) {
    return make_error(ok.error());
  }
  const std::string& job_id = handle.native_id;
  auto result = runner_.run(squeue_job_command(cluster_, job_id));
  if (!result) {
    return make_error(result.error().with_context(fmt::format(
        "squeue for Slurm job {} on cluster {}", job_id, cluster_.name)));
  }
  std::optional<SqueueRow> row;
  if (result->exit_code != 0) {
    if (!is_unknown_job_error(all_output(*result))) {
      return make_error(classify_slurm_error(all_output(*result)),
                        fmt::format("squeue for Slurm job {} on cluster {}: "
                                    "exit {}: {}",
                                    job_id, cluster_.name, result->exit_code,
                                    first_line(*result)));
    }
  } else {
    auto rows = parse_squeue(result->out);
    if (!rows) {
      return make_error(
          rows.error().with_context(fmt::format("cluster {}", cluster_.name)));
    }
    for (auto& candidate : *rows) {
      if (candidate.job_id == job_id) {
        row = std::move(candidate);
      }
    }
  }
  if (!row) {
    return completion_status(job_id);
  }

  RunStatus status;
  status.state = run_state_from_slurm(row->state, row->reason);
  status.message = row->state;
  if (!row->reason.empty() && row->reason != "None") {
    status.message += " (" + row->reason + ")";
  }
  if (status.state == RunState::kRunning) {
    std::lock_guard lock(mutex_);
    if (stopped_by_us_.contains(job_id)) {
      status.state = RunState::kPaused;
      status.message += " (stopped by lowcarb with SIGSTOP)";
    }
  }
  if (status.state == RunState::kRunning || status.state == RunState::kPaused) {
    if (row->state != "PENDING") {
      status.started_at = row->start;
    }
    return status;
  }
  if (!is_terminal(status.state)) {
    return status;
  }
  // Finished but still listed: scontrol has the exit code squeue lacks.
  auto shown = run_ok(show_job_command(cluster_, job_id),
                      fmt::format("scontrol show job {}", job_id));
  if (shown) {
    if (auto record = parse_scontrol_job(shown->out)) {
      return status_from_record(*record);
    }
  }
  CompletionRecord record;
  record.job_id = job_id;
  record.state = row->state;
  record.reason = row->reason;
  record.started_at = row->start;
  record.ended_at = row->end;
  return status_from_record(record);
}

Status SlurmExecutor::pause(const ExecutorHandle& handle, PauseMode mode) {
  if (auto ok = check_handle(handle); !ok) {
    return ok;
  }
  const std::string& job_id = handle.native_id;
  const SlurmPauseMethod method = mode == PauseMode::kCheckpoint
                                      ? SlurmPauseMethod::kRequeueHold
                                      : pause_method();
  switch (method) {
    case SlurmPauseMethod::kSuspend:
      if (auto r = run_ok(scontrol_job_command(cluster_, "suspend", job_id),
                          "scontrol suspend " + job_id);
          !r) {
        return make_error(r.error());
      }
      break;
    case SlurmPauseMethod::kSignal:
      if (auto r = run_ok(scancel_signal_command(cluster_, job_id, "STOP",
                                                 SignalTarget::kAllSteps),
                          "scancel --signal=STOP " + job_id);
          !r) {
        return make_error(r.error());
      }
      {
        std::lock_guard lock(mutex_);
        stopped_by_us_.insert(job_id);
      }
      break;
    case SlurmPauseMethod::kRequeueHold: {
      // The batch shell gets the checkpoint signal first; requeuehold then
      // ends the run (SIGTERM, KillWait, SIGKILL) and holds the job.
      auto signalled = run_ok(
          scancel_signal_command(cluster_, job_id, cluster_.checkpoint_signal,
                                 SignalTarget::kBatchShell),
          fmt::format("scancel --signal={} {}", cluster_.checkpoint_signal,
                      job_id));
      if (!signalled) {
        logger()->warn("Slurm job {} on cluster {}: {}; requeueing anyway",
                       job_id, cluster_.name, signalled.error().message);
      }
      if (auto r = run_ok(scontrol_job_command(cluster_, "requeuehold", job_id),
                          "scontrol requeuehold " + job_id);
          !r) {
        return make_error(r.error());
      }
      break;
    }
  }
  logger()->info("Slurm job {} on cluster {}: paused ({})", job_id,
                 cluster_.name, to_string(method));
  return ok_status();
}

Result<ExecutorHandle> SlurmExecutor::resume(const ExecutorHandle& handle,
                                             const LaunchSpec& /*spec*/,
                                             PauseMode mode) {
  if (auto ok = check_handle(handle); !ok) {
    return make_error(ok.error());
  }
  const std::string& job_id = handle.native_id;
  const SlurmPauseMethod method = mode == PauseMode::kCheckpoint
                                      ? SlurmPauseMethod::kRequeueHold
                                      : pause_method();
  Result<ProcessResult> result;
  switch (method) {
    case SlurmPauseMethod::kSuspend:
      result = run_ok(scontrol_job_command(cluster_, "resume", job_id),
                      "scontrol resume " + job_id);
      break;
    case SlurmPauseMethod::kSignal:
      result = run_ok(scancel_signal_command(cluster_, job_id, "CONT",
                                             SignalTarget::kAllSteps),
                      "scancel --signal=CONT " + job_id);
      break;
    case SlurmPauseMethod::kRequeueHold:
      result = run_ok(scontrol_job_command(cluster_, "release", job_id),
                      "scontrol release " + job_id);
      break;
  }
  if (!result) {
    return make_error(result.error());
  }
  {
    std::lock_guard lock(mutex_);
    stopped_by_us_.erase(job_id);
  }
  logger()->info("Slurm job {} on cluster {}: resumed ({})", job_id,
                 cluster_.name, to_string(method));
  return handle;
}

Status SlurmExecutor::cancel(const ExecutorHandle& handle) {
  if (auto ok = check_handle(handle); !ok) {
    return ok;
  }
  const std::string& job_id = handle.native_id;
  {
    std::lock_guard lock(mutex_);
    cancelled_by_us_.insert(job_id);
  }
  auto result = run_ok(scancel_command(cluster_, job_id), "scancel " + job_id);
  if (!result) {
    if (result.error().code == ErrorCode::kNotFound ||
        result.error().code == ErrorCode::kConflict) {
      logger()->debug("Slurm job {} on cluster {}: already gone: {}", job_id,
                      cluster_.name, result.error().message);
      return ok_status();
    }
    return make_error(result.error());
  }
  logger()->info("Slurm job {} on cluster {}: cancelled", job_id,
                 cluster_.name);
  return ok_status();
}

Result<std::optional<ExecutorHandle>> SlurmExecutor::adopt_by_tag(
    const std::string& job_id) {
  return find(job_id, 0);
}

Result<std::optional<ExecutorHandle>> SlurmExecutor::find(
    const std::string& job_id, int /*segment*/) {
  auto result = run_ok(squeue_all_command(cluster_), "squeue");
  if (!result) {
    return make_error(result.error());
  }
  auto rows = parse_squeue(result->out);
  if (!rows) {
    return make_error(
        rows.error().with_context(fmt::format("cluster {}", cluster_.name)));
  }
  const std::string tag = slurm_comment_tag(job_id);
  std::optional<long long> newest;
  for (const auto& row : *rows) {
    if (row.comment != tag) {
      continue;
    }
    auto id = parse_integer(row.job_id);
    if (id && (!newest || *id > *newest)) {
      newest = *id;
    }
  }
  if (!newest) {
    // Not in squeue: it may have run and ended (and left squeue after
    // MinJobAge) while we were down. Then it is adopted with its end state
    // rather than submitted again.
    auto ended = find_ended(job_id);
    if (!ended) {
      return make_error(ended.error());
    }
    newest = *ended;
  }
  if (!newest) {
    return std::optional<ExecutorHandle>{};
  }
  logger()->info("job {}: adopted Slurm job {} on cluster {}", job_id, *newest,
                 cluster_.name);
  return std::optional<ExecutorHandle>{
      ExecutorHandle{"slurm", cluster_.name, std::to_string(*newest)}};
}

Result<std::optional<long long>> SlurmExecutor::find_ended(
    const std::string& job_id) {
  auto info = site_info();
  if (!info) {
    return make_error(info.error());
  }
  const std::string tag = slurm_comment_tag(job_id);
  const std::string name = slurm_default_job_name(job_id);
  std::optional<long long> newest;
  auto consider = [&](const std::string& text) {
    auto id = parse_integer(text);
    if (id && (!newest || *id > *newest)) {
      newest = *id;
    }
  };
  if (info->has_accounting()) {
    auto result = run_ok(sacct_find_command(cluster_, kFindDays),
                         fmt::format("sacct looking for job {}", job_id));
    if (!result) {
      return make_error(result.error());
    }
    auto records = parse_sacct(result->out, {"JobIDRaw", "JobName", "Comment"});
    if (!records) {
      return make_error(records.error().with_context(
          fmt::format("cluster {}", cluster_.name)));
    }
    for (const auto& record : *records) {
      // The comment when accounting keeps it (job_comment), else the name.
      const std::string& comment = record.at("Comment");
      if (comment == tag || (comment.empty() && record.at("JobName") == name)) {
        consider(record.at("JobIDRaw"));
      }
    }
    if (newest) {
      return newest;
    }
  }
  std::string log = cluster_.jobcomp_log;
  if (log.empty() && info->job_comp_type == "jobcomp/filetxt") {
    log = info->job_comp_loc;
  }
  if (log.empty()) {
    return newest;
  }
  // The completion log keeps no comment: the scheduler's default job name
  // identifies the job (one the user named is found by comment only).
  auto result = runner_.run(jobcomp_name_grep_command(cluster_, log, name));
  if (!result) {
    return make_error(result.error().with_context(
        fmt::format("reading job completion log {}", log)));
  }
  // grep: 0 = found, 1 = no line, 2 = cannot read the file.
  if (result->exit_code > 1) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("finding job {}: cannot read job completion log {}: {}",
                    job_id, log, first_line(*result)));
  }
  for (const auto& id : jobcomp_ids_named(result->out, name)) {
    consider(id);
  }
  return newest;
}

Result<JobUsage> SlurmExecutor::usage(const ExecutorHandle& handle) {
  if (auto ok = check_handle(handle); !ok) {
    return make_error(ok.error());
  }
  auto info = site_info();
  if (!info) {
    return make_error(info.error());
  }
  if (!info->has_accounting()) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("usage of Slurm job {} on cluster {}: the cluster keeps "
                    "no accounting ({}); CPU time and energy are unknown",
                    handle.native_id, cluster_.name,
                    info->accounting_storage_type));
  }
  auto result = run_ok(sacct_command(cluster_, handle.native_id),
                       "sacct for Slurm job " + handle.native_id);
  if (!result) {
    return make_error(result.error());
  }
  auto records = parse_sacct(result->out, sacct_fields());
  if (!records) {
    return make_error(records.error());
  }
  return usage_from_sacct(*records, handle.native_id);
}

Result<SlurmLiveUsage> SlurmExecutor::live_usage(const ExecutorHandle& handle) {
  if (auto ok = check_handle(handle); !ok) {
    return make_error(ok.error());
  }
  const std::string& job_id = handle.native_id;
  auto info = site_info();
  if (!info) {
    return make_error(info.error());
  }
  SlurmLiveUsage live;
  live.energy_gathered = info->gathers_energy();
  live.energy_covers_gpus = info->energy_covers_gpus();
  // sstat exits 0 with "No steps running" / "couldn't get steps" on stderr
  // for a job with no running step: that is an empty list, not an error.
  auto result = run_ok(sstat_command(cluster_, job_id),
                       fmt::format("sstat for Slurm job {}", job_id));
  if (!result) {
    return make_error(result.error());
  }
  auto steps = parse_sstat(result->out, job_id, sstat_fields());
  if (!steps) {
    return make_error(
        steps.error().with_context(fmt::format("cluster {}", cluster_.name)));
  }
  live.steps = std::move(*steps);
  if (!live.steps.empty() || !info->has_accounting()) {
    return live;
  }
  auto accounted = run_ok(sacct_command(cluster_, job_id),
                          fmt::format("sacct for Slurm job {}", job_id));
  if (!accounted) {
    return make_error(accounted.error());
  }
  auto records = parse_sacct(accounted->out, sacct_fields());
  if (!records) {
    return make_error(records.error());
  }
  for (const auto& record : *records) {
    if (record.at("JobIDRaw") != job_id) {
      continue;
    }
    // Only an ended job's totals are final; a pending one has none yet.
    const std::string& state = record.at("State");
    if (is_terminal(
            run_state_from_slurm(state.substr(0, state.find(' ')), ""))) {
      if (auto usage = usage_from_sacct(*records, job_id)) {
        live.final_usage = *usage;
      }
    }
    break;
  }
  return live;
}

Result<SlurmAllocation> SlurmExecutor::allocation(
    const ExecutorHandle& handle) {
  if (auto ok = check_handle(handle); !ok) {
    return make_error(ok.error());
  }
  auto shown = run_ok(show_job_command(cluster_, handle.native_id),
                      fmt::format("scontrol show job {}", handle.native_id));
  if (!shown) {
    return make_error(shown.error());
  }
  auto allocation = parse_allocation(shown->out);
  if (!allocation) {
    return make_error(allocation.error().with_context(fmt::format(
        "Slurm job {} on cluster {}", handle.native_id, cluster_.name)));
  }
  return allocation;
}

}  // namespace lowcarb::executors
