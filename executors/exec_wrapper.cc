// SPDX-License-Identifier: Apache-2.0
#include "executors/exec_wrapper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "executors/job_environment.h"
#include "executors/proc_stat.h"

extern char** environ;

namespace lowcarb::executors {
namespace {

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
constexpr int kExitCannotRun = 127;

// What the child reports through the exec pipe when it cannot run the job.
enum class Step : int { kSetgroups = 1, kSetgid, kSetuid, kChdir, kExec };

const char* step_name(Step step) {
  switch (step) {
    case Step::kSetgroups:
      return "setgroups";
    case Step::kSetgid:
      return "setgid";
    case Step::kSetuid:
      return "setuid";
    case Step::kChdir:
      return "chdir";
    case Step::kExec:
      return "exec";
  }
  return "start";
}

Result<Environment> read_environment_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("job environment file {}: {}", path, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  // It holds the submitter's variables (secrets, often): gone once read.
  ::unlink(path.c_str());
  return parse_environment_file(text.str(), path);
}

}  // namespace

std::string format_exit_record(const ExitRecord& record) {
  nlohmann::json doc;
  doc["exit_code"] = record.exit_code;
  if (record.signal) {
    doc["signal"] = *record.signal;
  }
  if (record.ended_at) {
    doc["ended_at"] = record.ended_at->time_since_epoch().count();
  }
  if (!record.error.empty()) {
    doc["error"] = record.error;
  }
  return doc.dump() + "\n";
}

Result<ExitRecord> parse_exit_record(const std::string& text,
                                     const std::string& source) {
  try {
    const auto doc = nlohmann::json::parse(text);
    ExitRecord record;
    record.exit_code = doc.at("exit_code").get<int>();
    if (doc.contains("signal")) {
      record.signal = doc.at("signal").get<int>();
    }
    if (doc.contains("ended_at")) {
      record.ended_at =
          TimePoint{Duration{doc.at("ended_at").get<long long>()}};
    }
    if (doc.contains("error")) {
      record.error = doc.at("error").get<std::string>();
    }
    return record;
  } catch (const nlohmann::json::exception& e) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("reading job status file {}: {}", source, e.what()));
  }
}

Status write_file_durably(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("writing {}: {}", tmp, std::strerror(errno)));
  }
  size_t done = 0;
  bool ok = true;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    done += ok ? static_cast<size_t>(n) : 0;
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());  // A partial file only takes space (ENOSPC).
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("writing {}: {}", tmp, std::strerror(saved)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("renaming {} to {}: {}", tmp, path, std::strerror(errno)));
  }
  // The rename itself is only durable once the directory is synced.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string(".")
                          : slash == 0               ? std::string("/")
                                                     : path.substr(0, slash);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return ok_status();
}

Status write_exit_record(const std::string& path, const ExitRecord& record) {
  auto written = write_file_durably(path, format_exit_record(record));
  if (!written) {
    return tl::unexpected(written.error().with_context("job status file"));
  }
  return ok_status();
}

Status write_started_record(const std::string& path,
                            const ProcessIdentity& wrapper) {
  nlohmann::json doc;
  doc["pid"] = wrapper.pid;
  doc["start_ticks"] = wrapper.start_ticks;
  auto written = write_file_durably(path, doc.dump() + "\n");
  if (!written) {
    return tl::unexpected(written.error().with_context("job started file"));
  }
  return ok_status();
}

Result<ProcessIdentity> read_started_record(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("job started file {} does not exist", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    const auto doc = nlohmann::json::parse(text.str());
    ProcessIdentity identity;
    identity.pid = doc.at("pid").get<pid_t>();
    identity.start_ticks = doc.at("start_ticks").get<uint64_t>();
    return identity;
  } catch (const nlohmann::json::exception& e) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("reading job started file {}: {}", path, e.what()));
  }
}

Result<ExitRecord> read_exit_record(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("job status file {} does not exist", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_exit_record(text.str(), path);
}

int run_exec_wrapper(const ExecWrapperOptions& options, const Clock& clock,
                     std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "lowcarb exec-wrapper: " << message << "\n";
    err.flush();
    ExitRecord record;
    record.exit_code = kExitCannotRun;
    record.ended_at = clock.now();
    record.error = message;
    if (!options.status_file.empty()) {
      auto written = write_exit_record(options.status_file, record);
      if (!written) {
        err << "lowcarb exec-wrapper: " << written.error().message << "\n";
      }
    }
    return kExitCannotRun;
  };
  if (options.argv.empty()) {
    return fail("no command given after '--'");
  }

  // Resolve the identity and the environment before forking (getpwuid and
  // the strings allocate; the child only makes system calls).
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::string user_name;
  if (options.uid || options.gid) {
    const bool root = ::geteuid() == 0;
    if (!root && ((options.uid && *options.uid != ::getuid()) ||
                  (options.gid && *options.gid != ::getgid()))) {
      return fail(fmt::format(
          "running the job as uid {} gid {} needs root; the wrapper runs as "
          "uid {}",
          options.uid ? std::to_string(*options.uid) : std::string("-"),
          options.gid ? std::to_string(*options.gid) : std::string("-"),
          ::getuid()));
    }
    if (root) {
      uid = options.uid ? *options.uid : ::getuid();
      gid = options.gid ? static_cast<gid_t>(*options.gid) : ::getgid();
      if (const passwd* pw = ::getpwuid(*uid)) {
        user_name = pw->pw_name;
        if (!options.gid) {
          gid = pw->pw_gid;
        }
      }
    }
  }
  JobUser job_user;
  job_user.uid = uid ? *uid : ::getuid();
  if (const passwd* pw = ::getpwuid(job_user.uid)) {
    job_user.name = pw->pw_name;
    job_user.home = pw->pw_dir ? pw->pw_dir : "";
    job_user.shell = pw->pw_shell ? pw->pw_shell : "";
  }
  Environment submitted;
  if (!options.env_file.empty()) {
    auto read = read_environment_file(options.env_file);
    if (!read) {
      return fail(read.error().message);
    }
    submitted = std::move(*read);
  }
  std::vector<std::string> dropped;
  std::vector<std::string> env_strings =
      environment_strings(job_environment(submitted, job_user, &dropped));
  if (!dropped.empty()) {
    err << "lowcarb exec-wrapper: the job runs as root; not passing "
        << fmt::format("{}", fmt::join(dropped, ", "))
        << " (loader variables never reach a root process)\n";
    err.flush();
  }
  std::vector<char*> envp;
  for (auto& entry : env_strings) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  const char* working_dir =
      options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  if (!options.started_file.empty()) {
    // Durable before the job can run: after a daemon crash this file tells
    // "the job may have run" apart from "it never got that far".
    auto self = ProcReader().read_stat(::getpid());
    if (!self) {
      return fail(self.error().message);
    }
    auto written = write_started_record(
        options.started_file, ProcessIdentity{::getpid(), self->start_ticks});
    if (!written) {
      return fail(written.error().message);
    }
  }

  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv;
  for (auto& arg : argv_strings) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  // Block the forwarded signals and SIGCHLD: they are taken with sigtimedwait
  // in the loop below, so no handler races with waitpid.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  for (int sig : kForwarded) {
    sigaddset(&wait_set, sig);
  }
  sigaddset(&wait_set, SIGCHLD);
  sigset_t old_mask;
  ::sigprocmask(SIG_BLOCK, &wait_set, &old_mask);

  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return fail(fmt::format("pipe: {}", std::strerror(errno)));
  }
  const pid_t child = ::fork();
  if (child < 0) {
    return fail(fmt::format("fork: {}", std::strerror(errno)));
  }
  if (child == 0) {
    ::close(exec_pipe[0]);
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    int error = 0;
    Step step = Step::kExec;
    if (uid) {
      // Supplementary groups first, then the group, then the user: once the
      // uid is dropped nothing else may be changed.
      int rc = user_name.empty() ? ::setgroups(1, &*gid)
                                 : ::initgroups(user_name.c_str(), *gid);
      if (rc != 0) {
        error = errno;
        step = Step::kSetgroups;
      } else if (::setgid(*gid) != 0) {
        error = errno;
        step = Step::kSetgid;
      } else if (::setuid(*uid) != 0) {
        error = errno;
        step = Step::kSetuid;
      }
    }
    // Only now, as the user: the directory and the job's own environment
    // (execvp looks argv[0] up in the job's PATH, not the wrapper's).
    if (error == 0 && working_dir != nullptr && ::chdir(working_dir) != 0) {
      error = errno;
      step = Step::kChdir;
    }
    if (error == 0) {
      environ = envp.data();
      ::execvp(argv[0], argv.data());
      error = errno;
      step = Step::kExec;
    }
    const int report[2] = {error, static_cast<int>(step)};
    ssize_t ignored = ::write(exec_pipe[1], report, sizeof(report));
    (void)ignored;
    _exit(kExitCannotRun);
  }
  ::close(exec_pipe[1]);
  int report[2] = {0, 0};
  ssize_t n = 0;
  while ((n = ::read(exec_pipe[0], report, sizeof(report))) < 0 &&
         errno == EINTR) {
  }
  ::close(exec_pipe[0]);
  const bool start_failed = n == static_cast<ssize_t>(sizeof(report));

  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) {
      break;
    }
    if (done < 0 && errno != EINTR) {
      return fail(fmt::format("waitpid: {}", std::strerror(errno)));
    }
    // A bounded wait also covers a SIGCHLD that arrived before we blocked.
    timespec timeout{1, 0};
    siginfo_t info;
    const int sig = ::sigtimedwait(&wait_set, &info, &timeout);
    if (sig > 0 && sig != SIGCHLD) {
      ::kill(child, sig);
    }
  }

  ExitRecord record;
  record.ended_at = clock.now();
  if (start_failed) {
    const auto step = static_cast<Step>(report[1]);
    record.exit_code = kExitCannotRun;
    if (step == Step::kChdir) {
      record.error = fmt::format(
          "chdir '{}' as {} (uid {}): {}; the job did not run",
          options.working_dir,
          job_user.name.empty() ? std::string("the job's user") : job_user.name,
          job_user.uid, std::strerror(report[0]));
    } else {
      record.error = fmt::format("{} '{}': {}", step_name(step),
                                 options.argv[0], std::strerror(report[0]));
    }
    err << "lowcarb exec-wrapper: " << record.error << "\n";
    err.flush();
  } else if (WIFSIGNALED(status)) {
    record.signal = WTERMSIG(status);
    record.exit_code = 128 + WTERMSIG(status);
  } else {
    record.exit_code = WEXITSTATUS(status);
  }
  // The job's end must not be lost to a full disk: the status file is
  // written again (after 1 s, doubling to 60 s) until it is there. The
  // wrapper stays alive meanwhile, so the daemon sees a running job, not a
  // lost one. A forwarded signal (a cancel) ends the retries.
  long wait_s = 1;
  for (;;) {
    auto written = write_exit_record(options.status_file, record);
    if (written) {
      break;
    }
    err << "lowcarb exec-wrapper: " << written.error().message
        << "; trying again in " << wait_s << " s\n";
    err.flush();
    timespec delay{wait_s, 0};
    siginfo_t info;
    const int sig = ::sigtimedwait(&wait_set, &info, &delay);
    if (sig > 0 && sig != SIGCHLD) {
      err << "lowcarb exec-wrapper: signal " << sig
          << ": giving up on the status file\n";
      break;
    }
    wait_s = std::min(wait_s * 2, 60L);
  }
  return record.exit_code;
}

}  // namespace lowcarb::executors
