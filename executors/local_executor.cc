// SPDX-License-Identifier: Apache-2.0
#include "executors/local_executor.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "executors/exec_wrapper.h"
#include "executors/job_environment.h"

namespace lowcarb::executors {

namespace fs = std::filesystem;

// What the executor remembers about one started segment, beside the handle.
struct LocalExecutor::RunRecord {
  ProcessIdentity identity;
  std::string job_id;
  int segment = 0;
  TimePoint started_at;
  Duration expected_duration{0};
  TimePoint deadline;
  bool checkpoint_requested = false;
  bool cancel_requested = false;
  std::string cancel_reason;
  Duration stopped_total{0};            // Stopped time of ended stops.
  std::optional<TimePoint> stopped_at;  // Since when it is stopped.
};

namespace {

std::shared_ptr<spdlog::logger> logger() {
  return get_logger("executors.local");
}

bool valid_job_id(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 200) {
    return false;
  }
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// The fields a run record and an intent share; templates because RunRecord
// is private to LocalExecutor.
template <typename Record>
nlohmann::json launch_fields(const Record& record) {
  nlohmann::json doc;
  doc["job_id"] = record.job_id;
  doc["segment"] = record.segment;
  doc["started_at"] = record.started_at.time_since_epoch().count();
  doc["expected_duration_s"] = record.expected_duration.count();
  doc["deadline"] = record.deadline.time_since_epoch().count();
  return doc;
}

template <typename Record>
void read_launch_fields(const nlohmann::json& doc, Record& record) {
  record.job_id = doc.at("job_id").get<std::string>();
  record.segment = doc.at("segment").get<int>();
  record.started_at =
      TimePoint{Duration{doc.at("started_at").get<long long>()}};
  record.expected_duration =
      Duration{doc.at("expected_duration_s").get<long long>()};
  record.deadline = TimePoint{Duration{doc.at("deadline").get<long long>()}};
}

Result<nlohmann::json> read_json_file(const std::string& path,
                                      const std::string& what) {
  std::ifstream in(path);
  if (!in) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no {} {}", what, path));
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInternal,
                      fmt::format("reading {} {}: {}", what, path, e.what()));
  }
}

// How long find() lets a process that waits for its go byte from a dead
// daemon take to notice (it exits as soon as it reads EOF).
constexpr std::chrono::milliseconds kSettleLimit{2000};

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev ? fmt::format("SIG{}", abbrev)
                : fmt::format("signal {}", signal);
}

std::string describe_duration(Duration d) {
  return fmt::format("{}s", d.count());
}

}  // namespace

Result<int> parse_signal_name(const std::string& name) {
  std::string upper;
  for (char c : name) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (upper.rfind("SIG", 0) == 0) {
    upper = upper.substr(3);
  }
  static const std::map<std::string, int> kSignals = {
      {"TERM", SIGTERM}, {"INT", SIGINT}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"HUP", SIGHUP}, {"QUIT", SIGQUIT}};
  auto it = kSignals.find(upper);
  if (it == kSignals.end()) {
    std::vector<std::string> names;
    for (const auto& [known, number] : kSignals) {
      names.push_back(known);
    }
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("executors.local.checkpoint_signal: unknown signal '{}' "
                    "(known: TERM, INT, USR1, USR2, HUP, QUIT){}",
                    name, did_you_mean(upper, names)));
  }
  return it->second;
}

std::string format_native_id(const ProcessIdentity& identity) {
  return fmt::format("{}:{}", identity.pid, identity.start_ticks);
}

Result<ProcessIdentity> parse_native_id(const std::string& native_id) {
  const auto colon = native_id.find(':');
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("local job handle '{}': expected "
                                  "'<pid>:<start ticks>'",
                                  native_id));
  };
  if (colon == std::string::npos) {
    return bad();
  }
  auto pid = parse_integer(native_id.substr(0, colon));
  auto start = parse_integer(native_id.substr(colon + 1));
  if (!pid || !start || *pid <= 1 || *start < 0) {
    return bad();
  }
  return ProcessIdentity{static_cast<pid_t>(*pid),
                         static_cast<uint64_t>(*start)};
}

Result<std::unique_ptr<LocalExecutor>> LocalExecutor::create(
    ProcessSpawner& spawner, const Clock& clock, LocalExecutorOptions options) {
  if (options.wrapper_binary.empty() ||
      ::access(options.wrapper_binary.c_str(), X_OK) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("local executor: wrapper binary '{}' is not "
                                  "an executable file",
                                  options.wrapper_binary));
  }
  if (options.state_dir.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "local executor: no state directory given");
  }
  const auto& mode = options.config.pause_mode;
  if (mode != "stop" && mode != "checkpoint") {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("executors.local.pause_mode: '{}' is not stop or "
                    "checkpoint{}",
                    mode, did_you_mean(mode, {"stop", "checkpoint"})));
  }
  auto signal = parse_signal_name(options.config.checkpoint_signal);
  if (!signal) {
    return tl::unexpected(signal.error());
  }
  std::error_code ec;
  for (const char* sub : {"local", "jobs"}) {
    fs::create_directories(fs::path(options.state_dir) / sub, ec);
    if (ec) {
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("local executor: creating {}/{}: {}",
                                    options.state_dir, sub, ec.message()));
    }
  }
  return std::unique_ptr<LocalExecutor>(
      new LocalExecutor(spawner, clock, std::move(options), *signal));
}

LocalExecutor::LocalExecutor(ProcessSpawner& spawner, const Clock& clock,
                             LocalExecutorOptions options,
                             int checkpoint_signal)
    : spawner_(spawner),
      clock_(clock),
      options_(std::move(options)),
      checkpoint_signal_(checkpoint_signal) {}

std::string LocalExecutor::status_file(const std::string& job_id,
                                       int segment) const {
  return (fs::path(options_.state_dir) / "jobs" / job_id /
          fmt::format("status-{}.json", segment))
      .string();
}

std::string LocalExecutor::record_path(const ProcessIdentity& identity) const {
  return (fs::path(options_.state_dir) / "local" /
          fmt::format("{}-{}.json", identity.pid, identity.start_ticks))
      .string();
}

std::string LocalExecutor::started_file(const std::string& job_id,
                                        int segment) const {
  return (fs::path(options_.state_dir) / "jobs" / job_id /
          fmt::format("started-{}.json", segment))
      .string();
}

std::string LocalExecutor::env_file(const std::string& job_id,
                                    int segment) const {
  return (fs::path(options_.state_dir) / "jobs" / job_id /
          fmt::format("env-{}.json", segment))
      .string();
}

std::string LocalExecutor::intent_file(const std::string& job_id,
                                       int segment) const {
  return (fs::path(options_.state_dir) / "jobs" / job_id /
          fmt::format("intent-{}.json", segment))
      .string();
}

Status LocalExecutor::save_record(const RunRecord& record) const {
  nlohmann::json doc = launch_fields(record);
  doc["pid"] = record.identity.pid;
  doc["start_ticks"] = record.identity.start_ticks;
  doc["checkpoint_requested"] = record.checkpoint_requested;
  doc["cancel_requested"] = record.cancel_requested;
  doc["cancel_reason"] = record.cancel_reason;
  doc["stopped_total_s"] = record.stopped_total.count();
  if (record.stopped_at) {
    doc["stopped_at"] = record.stopped_at->time_since_epoch().count();
  }
  return write_file_durably(record_path(record.identity), doc.dump() + "\n");
}

Result<LocalExecutor::RunRecord> LocalExecutor::load_record(
    const ProcessIdentity& identity) const {
  const std::string path = record_path(identity);
  auto doc = read_json_file(path, "run record");
  if (!doc) {
    return tl::unexpected(doc.error());
  }
  try {
    RunRecord record;
    record.identity = identity;
    read_launch_fields(*doc, record);
    record.checkpoint_requested = doc->at("checkpoint_requested").get<bool>();
    record.cancel_requested = doc->at("cancel_requested").get<bool>();
    record.cancel_reason = doc->value("cancel_reason", "");
    record.stopped_total = Duration{doc->value("stopped_total_s", 0LL)};
    if (doc->contains("stopped_at")) {
      record.stopped_at =
          TimePoint{Duration{doc->at("stopped_at").get<long long>()}};
    }
    return record;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInternal,
                      fmt::format("reading run record {}: {}", path, e.what()));
  }
}

Status LocalExecutor::save_intent(const RunRecord& intent) const {
  return write_file_durably(intent_file(intent.job_id, intent.segment),
                            launch_fields(intent).dump() + "\n");
}

Result<LocalExecutor::RunRecord> LocalExecutor::load_intent(
    const std::string& job_id, int segment) const {
  const std::string path = intent_file(job_id, segment);
  auto doc = read_json_file(path, "launch intent");
  if (!doc) {
    return tl::unexpected(doc.error());
  }
  try {
    RunRecord intent;
    read_launch_fields(*doc, intent);
    return intent;
  } catch (const nlohmann::json::exception& e) {
    return make_error(
        ErrorCode::kInternal,
        fmt::format("reading launch intent {}: {}", path, e.what()));
  }
}

template <typename Predicate>
bool LocalExecutor::wait_until(Predicate done,
                               std::chrono::milliseconds limit) {
  // Real processes take real time to react to signals, so this waits in
  // wall-clock time (steady_clock), not on the injected Clock.
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) {
      return false;
    }
    std::this_thread::sleep_for(options_.wait_step);
  }
  return true;
}

Result<ExecutorHandle> LocalExecutor::start(const LaunchSpec& spec,
                                            TimePoint /*begin*/) {
  if (!valid_job_id(spec.job_id)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("starting job '{}': the job id must be "
                                  "letters, digits, '-', '_' or '.'",
                                  spec.job_id));
  }
  if (spec.argv.empty() && spec.shell_command.empty()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("starting job {}: no command (argv or shell_command)",
                    spec.job_id) +
            (spec.sbatch_script.empty()
                 ? ""
                 : "; sbatch scripts need a Slurm executor"));
  }
  const bool root = ::geteuid() == 0;
  if (!root && ((spec.uid && *spec.uid != ::getuid()) ||
                (spec.gid && *spec.gid != ::getgid()))) {
    return make_error(
        ErrorCode::kPermissionDenied,
        fmt::format("starting job {} as uid {}: the daemon runs as uid {} and "
                    "only root can run jobs for other users",
                    spec.job_id,
                    spec.uid ? std::to_string(*spec.uid) : std::string("-"),
                    ::getuid()));
  }

  const fs::path job_dir = fs::path(options_.state_dir) / "jobs" / spec.job_id;
  std::error_code ec;
  fs::create_directories(job_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("starting job {}: creating {}: {}",
                                  spec.job_id, job_dir.string(), ec.message()));
  }
  const std::string status = status_file(spec.job_id, spec.segment);
  // Stale files from an earlier attempt that find() judged not started.
  fs::remove(status, ec);
  fs::remove(started_file(spec.job_id, spec.segment), ec);

  const fs::path log_dir = options_.config.log_dir.empty()
                               ? fs::path(options_.state_dir) / "logs"
                               : fs::path(options_.config.log_dir);
  SpawnRequest request;
  request.stdout_path = spec.stdout_path;
  request.stderr_path = spec.stderr_path;
  if (request.stdout_path.empty() || request.stderr_path.empty()) {
    fs::create_directories(log_dir, ec);
    if (ec) {
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("starting job {}: creating log directory "
                      "{}: {}",
                      spec.job_id, log_dir.string(), ec.message()));
    }
  }
  if (request.stdout_path.empty()) {
    request.stdout_path = (log_dir / (spec.job_id + ".out")).string();
  }
  if (request.stderr_path.empty()) {
    request.stderr_path = (log_dir / (spec.job_id + ".err")).string();
  }
  request.log_uid = spec.uid;
  request.log_gid = spec.gid;
  // The wrapper (root, often) runs with a fixed environment in "/"; the
  // job's environment and working directory apply only after it dropped
  // to the job's user (see exec_wrapper.h and job_environment.h).
  request.working_dir = "/";
  request.umask = spec.umask;
  request.env = wrapper_environment();
  Environment job_env = spec.env;
  job_env["LOWCARB_JOB_ID"] = spec.job_id;
  job_env["LOWCARB_SEGMENT"] = std::to_string(spec.segment);
  if (spec.segment > 0) {
    job_env["LOWCARB_RESUME"] = "1";
  } else {
    job_env.erase("LOWCARB_RESUME");
  }
  const std::string env_path = env_file(spec.job_id, spec.segment);
  if (auto written =
          write_file_durably(env_path, format_environment_file(job_env));
      !written) {
    return tl::unexpected(written.error().with_context(
        fmt::format("starting job {}: job environment file", spec.job_id)));
  }
  request.argv = {options_.wrapper_binary,
                  "exec-wrapper",
                  "--status-file",
                  status,
                  "--started-file",
                  started_file(spec.job_id, spec.segment),
                  "--env-file",
                  env_path};
  if (!spec.working_dir.empty()) {
    request.argv.push_back("--working-dir");
    request.argv.push_back(spec.working_dir);
  }
  if (spec.uid) {
    request.argv.push_back("--uid");
    request.argv.push_back(std::to_string(*spec.uid));
  }
  if (spec.gid) {
    request.argv.push_back("--gid");
    request.argv.push_back(std::to_string(*spec.gid));
  }
  request.argv.push_back("--");
  if (spec.argv.empty()) {
    request.argv.insert(request.argv.end(),
                        {"/bin/sh", "-c", spec.shell_command});
  } else {
    request.argv.insert(request.argv.end(), spec.argv.begin(), spec.argv.end());
  }

  // Durable first: the intent before anything is spawned, the run record
  // before the process may exec (see the header).
  RunRecord record;
  record.job_id = spec.job_id;
  record.segment = spec.segment;
  record.started_at = clock_.now();
  record.expected_duration = spec.expected_duration;
  record.deadline = spec.deadline;
  if (auto saved = save_intent(record); !saved) {
    return tl::unexpected(saved.error().with_context(
        fmt::format("starting job {}", spec.job_id)));
  }
  bool recorded = false;
  request.on_identified = [&](const ProcessIdentity& spawned) -> Status {
    record.identity = spawned;
    recorded = true;
    return save_record(record);
  };
  auto identity = spawner_.spawn(request);
  if (!identity) {
    if (recorded) {
      fs::remove(record_path(record.identity), ec);  // It never ran.
    }
    fs::remove(env_path, ec);
    return tl::unexpected(identity.error().with_context(
        fmt::format("starting job {}", spec.job_id)));
  }
  if (!recorded || record.identity != *identity) {
    // A spawner without the hook (test fakes): record after the fact.
    record.identity = *identity;
    if (auto saved = save_record(record); !saved) {
      logger()->warn("job {}: {}", spec.job_id, saved.error().message);
    }
  }
  logger()->info("job {} segment {}: started pid {} (logs {} / {})",
                 spec.job_id, spec.segment, identity->pid, request.stdout_path,
                 request.stderr_path);
  return ExecutorHandle{"local", "", format_native_id(*identity)};
}

Status LocalExecutor::reschedule(const ExecutorHandle& handle, TimePoint) {
  return make_error(ErrorCode::kConflict,
                    fmt::format("local job {}: local jobs start when due and "
                                "cannot be rescheduled once started",
                                handle.native_id));
}

Result<RunStatus> LocalExecutor::poll(const ExecutorHandle& handle) {
  auto identity = parse_native_id(handle.native_id);
  if (!identity) {
    return tl::unexpected(identity.error());
  }
  const TimePoint now = clock_.now();
  auto record = load_record(*identity);
  RunStatus status;
  if (record) {
    status.started_at = record->started_at;
  }
  auto stat = spawner_.stat(identity->pid);
  const bool alive =
      stat && stat->start_ticks == identity->start_ticks && stat->alive();
  if (alive) {
    status.state = stat->stopped() ? RunState::kPaused : RunState::kRunning;
    status.cpu_seconds = spawner_.session_usage(identity->pid).cpu_seconds;
    last_cpu_seconds_[handle.native_id] = status.cpu_seconds;
    if (!record) {
      status.message = "running; no run record (started by another state dir?)";
      return status;
    }
    if (record->cancel_requested) {
      // Told to end; housekeeping() kills it if the grace period runs out.
      status.state = RunState::kCancelled;
      status.message = record->cancel_reason.empty()
                           ? std::string("cancelled")
                           : "cancelled: " + record->cancel_reason;
      return status;
    }
    if (record->checkpoint_requested) {
      // Saving its state: not paused until it has gone, and not running for
      // the overrun rule either (housekeeping() bounds it by the grace).
      status.state = RunState::kRunning;
      status.pausing = true;
      status.message = "pausing: saving its checkpoint";
      return status;
    }
    std::vector<std::string> notes;
    const bool stopped = stat->stopped();
    const Duration running = running_time(*record, stopped, now);
    const auto& config = options_.config;
    if (record->expected_duration.count() > 0 && config.overrun_factor > 0) {
      const auto limit = Duration{static_cast<long long>(
          static_cast<double>(record->expected_duration.count()) *
          config.overrun_factor)};
      if (running > limit) {
        // The same text at every poll, so the scheduler reports it once.
        notes.push_back(
            fmt::format("overrun: running longer than {}x its expected {}",
                        config.overrun_factor,
                        describe_duration(record->expected_duration)));
        if (!overrun_logged_[handle.native_id]) {
          overrun_logged_[handle.native_id] = true;
          logger()->info("job {}: overrun: {} of running time{}",
                         record->job_id, describe_duration(running),
                         stopped ? " (stopped now)" : "");
        }
        // A stopped job is not running: never killed as overrun.
        if (config.kill_on_overrun && !record->cancel_requested && !stopped) {
          logger()->warn("job {}: {}; killing it (kill_on_overrun)",
                         record->job_id, notes.back());
          record->cancel_requested = true;
          record->cancel_reason = notes.back();
          auto saved = save_record(*record);
          if (!saved) {
            logger()->warn("job {}: {}", record->job_id, saved.error().message);
          }
          terminate(*identity);
          housekeeping();
          status.state = RunState::kCancelled;
          status.message = "cancelled: " + record->cancel_reason;
          return status;
        }
      }
    }
    if (record->deadline.time_since_epoch().count() > 0 &&
        now > record->deadline) {
      notes.push_back(fmt::format("deadline {} passed while running",
                                  format_utc(record->deadline)));
    }
    status.message = fmt::format("{}", fmt::join(notes, "; "));
    return status;
  }

  // The wrapper is gone (or the pid now belongs to someone else).
  if (auto it = last_cpu_seconds_.find(handle.native_id);
      it != last_cpu_seconds_.end()) {
    status.cpu_seconds = it->second;
  }
  if (!record) {
    status.state = RunState::kLost;
    status.message =
        fmt::format("process {} is gone and there is no run record for it",
                    handle.native_id);
    return status;
  }
  const std::string path = status_file(record->job_id, record->segment);
  auto exit = read_exit_record(path);
  if (exit) {
    status.exit_code = exit->exit_code;
    status.signal = exit->signal;
    status.ended_at = exit->ended_at;
  }
  if (record->cancel_requested) {
    status.state = RunState::kCancelled;
    status.message = record->cancel_reason.empty()
                         ? std::string("cancelled")
                         : "cancelled: " + record->cancel_reason;
    return status;
  }
  if (record->checkpoint_requested) {
    if (spawner_.group_alive(identity->pid)) {
      // The wrapper is gone but processes the job started are still
      // exiting (housekeeping() sends them TERM, and KILL after the grace).
      status.state = RunState::kRunning;
      status.pausing = true;
      status.message = "pausing: its processes are still exiting";
      return status;
    }
    status.state = RunState::kPaused;
    status.message = "checkpointed; resume() starts the next segment";
    return status;
  }
  if (!exit) {
    status.state = RunState::kLost;
    status.message = fmt::format(
        "job {} segment {}: process {} is gone and left no status file ({})",
        record->job_id, record->segment, handle.native_id,
        exit.error().message);
    return status;
  }
  if (!exit->error.empty()) {
    status.state = RunState::kFailed;
    status.message = "could not start: " + exit->error;
  } else if (exit->signal) {
    status.state = RunState::kFailed;
    status.message = fmt::format("killed by {}", signal_name(*exit->signal));
  } else if (exit->exit_code != 0) {
    status.state = RunState::kFailed;
    status.message = fmt::format("exit {}", exit->exit_code);
  } else {
    status.state = RunState::kSucceeded;
    status.message = "exit 0";
  }
  return status;
}

Status LocalExecutor::pause(const ExecutorHandle& handle, PauseMode mode) {
  auto identity = parse_native_id(handle.native_id);
  if (!identity) {
    return tl::unexpected(identity.error());
  }
  if (!spawner_.is_alive(*identity)) {
    return make_error(ErrorCode::kConflict,
                      fmt::format("pausing local job {}: it is not running",
                                  handle.native_id));
  }
  const pid_t group = identity->pid;
  if (mode == PauseMode::kStop) {
    auto sent = spawner_.signal_group(group, SIGSTOP);
    if (!sent) {
      return tl::unexpected(sent.error());
    }
    // SIGSTOP is asynchronous; wait until the wrapper shows as stopped so
    // the next poll() says kPaused.
    wait_until(
        [&] {
          auto stat = spawner_.stat(group);
          return !stat || stat->start_ticks != identity->start_ticks ||
                 !stat->alive() || stat->stopped();
        },
        std::chrono::milliseconds(2000));
    if (!spawner_.is_alive(*identity)) {
      // It ended as the signal went out: calling that paused would leave the
      // caller waiting to resume a job that is already over.
      return make_error(ErrorCode::kConflict,
                        fmt::format("pausing local job {}: it ended before it "
                                    "could be stopped",
                                    handle.native_id));
    }
    if (auto record = load_record(*identity); record && !record->stopped_at) {
      record->stopped_at = clock_.now();
      if (auto saved = save_record(*record); !saved) {
        logger()->warn("job {}: {}", record->job_id, saved.error().message);
      }
    }
    return ok_status();
  }

  auto record = load_record(*identity);
  if (!record) {
    return tl::unexpected(record.error().with_context(
        fmt::format("checkpointing local job {}", handle.native_id)));
  }
  record->checkpoint_requested = true;
  auto saved = save_record(*record);
  if (!saved) {
    return tl::unexpected(saved.error());
  }
  auto sent = spawner_.signal_process(group, checkpoint_signal_);
  if (!sent) {
    return tl::unexpected(sent.error());
  }
  // A stopped job cannot act on the signal.
  (void)spawner_.signal_group(group, SIGCONT);
  // The job saves in its own time; poll() reports it pausing until the group
  // has gone and housekeeping() kills it if the grace runs out, so the
  // caller's loop never waits for a checkpoint.
  queue_kill(*identity, true);
  logger()->info("job {} segment {}: {} sent; saving its checkpoint (grace {})",
                 record->job_id, record->segment,
                 signal_name(checkpoint_signal_),
                 describe_duration(options_.config.grace));
  return ok_status();
}

Result<ExecutorHandle> LocalExecutor::resume(const ExecutorHandle& handle,
                                             const LaunchSpec& spec,
                                             PauseMode mode) {
  auto identity = parse_native_id(handle.native_id);
  if (!identity) {
    return tl::unexpected(identity.error());
  }
  if (mode == PauseMode::kStop) {
    if (!spawner_.is_alive(*identity)) {
      return make_error(ErrorCode::kConflict,
                        fmt::format("resuming local job {}: it is not running",
                                    handle.native_id));
    }
    auto sent = spawner_.signal_group(identity->pid, SIGCONT);
    if (!sent) {
      return tl::unexpected(sent.error());
    }
    if (auto record = load_record(*identity); record && record->stopped_at) {
      record->stopped_total +=
          std::max(Duration{0}, clock_.now() - *record->stopped_at);
      record->stopped_at.reset();
      if (auto saved = save_record(*record); !saved) {
        logger()->warn("job {}: {}", record->job_id, saved.error().message);
      }
    }
    return handle;
  }
  if (spawner_.group_alive(identity->pid) && spawner_.is_alive(*identity)) {
    return make_error(ErrorCode::kConflict,
                      fmt::format("resuming local job {} from its checkpoint: "
                                  "the previous segment is still running",
                                  handle.native_id));
  }
  LaunchSpec next = spec;
  if (auto record = load_record(*identity); record) {
    next.segment = std::max(spec.segment, record->segment + 1);
  } else if (next.segment <= 0) {
    next.segment = 1;
  }
  return start(next, clock_.now());
}

Result<std::vector<LocalExecutor::RunRecord>> LocalExecutor::records_for(
    const std::string& job_id, int segment) const {
  std::vector<RunRecord> records;
  std::error_code ec;
  const fs::path dir = fs::path(options_.state_dir) / "local";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() != ".json") {
      continue;
    }
    std::string native_id = it->path().stem().string();
    const auto dash = native_id.find('-');
    if (dash == std::string::npos) {
      continue;
    }
    native_id[dash] = ':';
    auto identity = parse_native_id(native_id);
    if (!identity) {
      continue;
    }
    auto record = load_record(*identity);
    if (record && record->job_id == job_id && record->segment == segment) {
      records.push_back(std::move(*record));
    }
  }
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("finding local job {}: reading {}: {}",
                                  job_id, dir.string(), ec.message()));
  }
  std::sort(records.begin(), records.end(),
            [](const RunRecord& a, const RunRecord& b) {
              return a.started_at != b.started_at
                         ? a.started_at > b.started_at
                         : a.identity.start_ticks > b.identity.start_ticks;
            });
  return records;
}

LocalExecutor::LaunchOutcome LocalExecutor::launch_outcome(
    const RunRecord& record) {
  const ProcessIdentity& identity = record.identity;
  // A live process has either passed the go point (it called setsid, so it
  // leads its own session, and will exec the wrapper) or still waits for a
  // go byte that its dead daemon can no longer send.
  const auto until = std::chrono::steady_clock::now() + kSettleLimit;
  for (;;) {
    auto stat = spawner_.stat(identity.pid);
    if (!stat || stat->start_ticks != identity.start_ticks || !stat->alive()) {
      break;
    }
    if (stat->session == identity.pid) {
      return LaunchOutcome::kRan;
    }
    if (std::chrono::steady_clock::now() >= until) {
      logger()->warn(
          "job {} segment {}: pid {} is still waiting to start "
          "for a daemon that is gone; killing it",
          record.job_id, record.segment, identity.pid);
      if (spawner_.is_alive(identity)) {
        (void)spawner_.signal_process(identity.pid, SIGKILL);
      }
      return LaunchOutcome::kNotStarted;
    }
    std::this_thread::sleep_for(options_.wait_step);
  }
  // Gone. Read the wrapper's files only now: it writes the started file
  // before it forks the job, so what it did before exiting is all there.
  auto started =
      read_started_record(started_file(record.job_id, record.segment));
  if (started) {
    return *started == identity ? LaunchOutcome::kRan
                                : LaunchOutcome::kNotStarted;
  }
  // A status file without a started file: the wrapper failed before the job
  // (and said why); poll() reports that.
  std::error_code ec;
  return fs::exists(status_file(record.job_id, record.segment), ec)
             ? LaunchOutcome::kRan
             : LaunchOutcome::kNotStarted;
}

Result<std::optional<ExecutorHandle>> LocalExecutor::find(
    const std::string& job_id, int segment) {
  if (!valid_job_id(job_id)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("finding local job '{}': not a valid job id", job_id));
  }
  auto records = records_for(job_id, segment);
  if (!records) {
    return tl::unexpected(records.error());
  }
  std::error_code ec;
  for (const RunRecord& record : *records) {
    if (launch_outcome(record) == LaunchOutcome::kRan) {
      return ExecutorHandle{"local", "", format_native_id(record.identity)};
    }
    logger()->info(
        "job {} segment {}: launch as pid {} never reached the "
        "job",
        job_id, segment, record.identity.pid);
    fs::remove(record_path(record.identity), ec);
  }
  // The wrapper ran but its run record is missing (written by a spawner
  // without the identification hook, or removed): rebuild it from the intent
  // so poll() and cancel() work.
  auto started = read_started_record(started_file(job_id, segment));
  if (!started) {
    return std::nullopt;
  }
  RunRecord record;
  if (auto intent = load_intent(job_id, segment); intent) {
    record = *intent;
  } else {
    record.job_id = job_id;
    record.segment = segment;
    record.started_at = clock_.now();
  }
  record.identity = *started;
  if (auto saved = save_record(record); !saved) {
    logger()->warn("job {}: {}", job_id, saved.error().message);
  }
  return ExecutorHandle{"local", "", format_native_id(*started)};
}

void LocalExecutor::terminate(const ProcessIdentity& identity) {
  // Through the wrapper, so the job's main process gets SIGTERM once.
  (void)spawner_.signal_process(identity.pid, SIGTERM);
  (void)spawner_.signal_group(identity.pid, SIGCONT);
  queue_kill(identity, false);
}

void LocalExecutor::queue_kill(const ProcessIdentity& identity,
                               bool checkpoint) {
  for (auto& pending : pending_kills_) {
    if (pending.identity == identity) {
      // A cancel during a checkpoint's grace keeps the earlier deadline.
      pending.checkpoint = pending.checkpoint && checkpoint;
      return;
    }
  }
  const auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(
      options_.config.grace);
  pending_kills_.push_back(PendingKill{
      identity, std::chrono::steady_clock::now() + grace, false, checkpoint});
}

void LocalExecutor::housekeeping() {
  if (!adopted_cancels_) {
    // Cancelled jobs a previous daemon left alive: their grace counts anew.
    adopted_cancels_ = true;
    std::error_code ec;
    const fs::path dir = fs::path(options_.state_dir) / "local";
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::string native_id = it->path().stem().string();
      const auto dash = native_id.find('-');
      if (it->path().extension() != ".json" || dash == std::string::npos) {
        continue;
      }
      native_id[dash] = ':';
      auto identity = parse_native_id(native_id);
      if (!identity || !spawner_.group_alive(identity->pid)) {
        continue;
      }
      auto record = load_record(*identity);
      const bool queued = std::any_of(
          pending_kills_.begin(), pending_kills_.end(),
          [&](const PendingKill& p) { return p.identity == *identity; });
      if (record && record->cancel_requested && !queued) {
        logger()->info("job {}: cancelled but still running; ending it",
                       record->job_id);
        terminate(*identity);
      } else if (record && record->checkpoint_requested && !queued) {
        // It has its signal already; a second one could upset its save.
        logger()->info(
            "job {}: still saving its checkpoint; killed if not gone in {}",
            record->job_id, describe_duration(options_.config.grace));
        queue_kill(*identity, true);
      }
    }
  }
  const auto now = std::chrono::steady_clock::now();
  std::vector<PendingKill> still;
  for (auto& pending : pending_kills_) {
    const pid_t group = pending.identity.pid;
    if (!spawner_.group_alive(group)) {
      continue;
    }
    if (now >= pending.kill_at) {
      if (pending.checkpoint) {
        logger()->warn(
            "process group {}: did not exit within the grace period of its "
            "checkpoint signal; killing it (its checkpoint may be "
            "incomplete; the job counts as paused)",
            group);
      } else {
        logger()->info(
            "process group {}: still alive after the grace period; "
            "killing it",
            group);
      }
      (void)spawner_.signal_group(group, SIGKILL);
      continue;
    }
    if (!pending.leftovers_told && !spawner_.is_alive(pending.identity)) {
      // The wrapper has exited; whatever the job left behind in the group
      // gets the polite signal too.
      (void)spawner_.signal_group(group, SIGTERM);
      pending.leftovers_told = true;
    }
    still.push_back(pending);
  }
  pending_kills_ = std::move(still);
}

Duration LocalExecutor::running_time(RunRecord& record, bool stopped,
                                     TimePoint now) {
  // Stops lowcarb did not make (a user's kill -STOP) are seen by polling.
  if (stopped != record.stopped_at.has_value()) {
    if (stopped) {
      record.stopped_at = now;
    } else {
      record.stopped_total += std::max(Duration{0}, now - *record.stopped_at);
      record.stopped_at.reset();
    }
    if (auto saved = save_record(record); !saved) {
      logger()->warn("job {}: {}", record.job_id, saved.error().message);
    }
  }
  Duration stopped_for = record.stopped_total;
  if (record.stopped_at) {
    stopped_for += std::max(Duration{0}, now - *record.stopped_at);
  }
  return std::max(Duration{0}, now - record.started_at - stopped_for);
}

Status LocalExecutor::cancel(const ExecutorHandle& handle) {
  auto identity = parse_native_id(handle.native_id);
  if (!identity) {
    return tl::unexpected(identity.error());
  }
  if (!spawner_.is_alive(*identity)) {
    // Finished already (or a recycled pid): nothing to signal. Checkpointed
    // jobs are marked so poll() reports them cancelled.
    auto record = load_record(*identity);
    if (record && record->checkpoint_requested && !record->cancel_requested) {
      record->cancel_requested = true;
      return save_record(*record);
    }
    return ok_status();
  }
  auto record = load_record(*identity);
  if (record) {
    record->cancel_requested = true;
    auto saved = save_record(*record);
    if (!saved) {
      return tl::unexpected(saved.error());
    }
  }
  terminate(*identity);
  housekeeping();
  logger()->info("job {}: cancelled",
                 record ? record->job_id : handle.native_id);
  return ok_status();
}

}  // namespace lowcarb::executors
