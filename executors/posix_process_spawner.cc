// SPDX-License-Identifier: Apache-2.0
#include "executors/posix_process_spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iterator>

#include <fmt/format.h>

namespace lowcarb::executors {
namespace {

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_;
};

Result<int> open_log(const std::string& path,
                     const std::optional<unsigned>& uid,
                     const std::optional<unsigned>& gid) {
  int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("opening log file {}: {}", path, std::strerror(errno)));
  }
  if (::geteuid() == 0 && (uid || gid)) {
    // Root creates the file; the job's user must be able to write it (and
    // only that user may read it: mode 0600, set again for an old file).
    if (::fchown(fd, uid ? *uid : static_cast<uid_t>(-1),
                 gid ? *gid : static_cast<gid_t>(-1)) != 0) {
      int saved = errno;
      ::close(fd);
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("chown of log file {}: {}", path, std::strerror(saved)));
    }
  }
  if (::fchmod(fd, 0600) != 0) {
    int saved = errno;
    ::close(fd);
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("chmod 0600 of log file {}: {}", path,
                                  std::strerror(saved)));
  }
  return fd;
}

// The program's complete environment: nothing of the daemon's own (its
// provider tokens, its loader variables) is passed on.
std::vector<std::string> environment_of(
    const std::map<std::string, std::string>& env) {
  std::vector<std::string> strings;
  for (const auto& [key, value] : env) {
    strings.push_back(key + "=" + value);
  }
  return strings;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& text : strings) {
    result.push_back(text.data());
  }
  result.push_back(nullptr);
  return result;
}

// Reads exactly `size` bytes unless EOF comes first; returns bytes read.
ssize_t read_fully(int fd, void* buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, static_cast<char*>(buffer) + done, size - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// Writes to a pipe whose reader may have gone (the job was killed while
// waiting for its go byte) without letting SIGPIPE kill the daemon.
ssize_t write_without_sigpipe(int fd, const void* data, size_t size) {
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  const ssize_t written = ::write(fd, data, size);
  const int saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE) {
    const timespec zero{0, 0};
    ::sigtimedwait(&pipe_set, nullptr, &zero);
  }
  ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return written;
}

// Closes every descriptor from 3 up except the (at most kMaxKept) ones in
// `keep` (-1 entries are ignored). Async-signal-safe: runs between fork and
// exec. `fallback_limit` bounds the close() loop when close_range(2) is not
// available.
constexpr int kMaxKept = 8;
void close_all_except(const int* keep, int count, int fallback_limit) {
  int kept[kMaxKept];
  int n = 0;
  for (int i = 0; i < count && n < kMaxKept; ++i) {
    if (keep[i] >= 3) {
      kept[n++] = keep[i];
    }
  }
  // Insertion sort: no library calls between fork and exec.
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && kept[j - 1] > kept[j]; --j) {
      const int t = kept[j];
      kept[j] = kept[j - 1];
      kept[j - 1] = t;
    }
  }
  auto close_between = [&](int first, int last) {  // Inclusive; last < 0: all.
    if (last >= 0 && first > last) {
      return;
    }
    const unsigned upper = last < 0 ? ~0U : static_cast<unsigned>(last);
    if (::close_range(static_cast<unsigned>(first), upper, 0) == 0) {
      return;
    }
    const int end = last < 0 ? fallback_limit - 1 : last;
    for (int fd = first; fd <= end; ++fd) {
      ::close(fd);
    }
  };
  int next = 3;
  for (int i = 0; i < n; ++i) {
    close_between(next, kept[i] - 1);
    next = kept[i] + 1;
  }
  close_between(next, -1);
}

// dup2() that also works when `from` already is `to`: dup2 then leaves the
// close-on-exec flag set, and the descriptor would vanish at exec.
int move_fd(int from, int to) {
  if (from == to) {
    return ::fcntl(to, F_SETFD, 0);
  }
  return ::dup2(from, to);
}

Status signal_result(int rc, const char* what, pid_t pid, int signal) {
  if (rc == 0) {
    return ok_status();
  }
  const int saved = errno;
  const auto code = saved == ESRCH   ? ErrorCode::kNotFound
                    : saved == EPERM ? ErrorCode::kPermissionDenied
                                     : ErrorCode::kInternal;
  return make_error(code, fmt::format("sending signal {} to {} {}: {}", signal,
                                      what, pid, std::strerror(saved)));
}

}  // namespace

PosixProcessSpawner::PosixProcessSpawner(std::string proc_root)
    : reader_(std::move(proc_root)) {}

Result<ProcessIdentity> PosixProcessSpawner::spawn(
    const SpawnRequest& request) {
  if (request.argv.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "spawning: empty argv");
  }
  // Everything that allocates happens before fork: the daemon may have
  // threads, and only async-signal-safe calls are allowed in the child.
  std::vector<std::string> argv_strings = request.argv;
  std::vector<std::string> env_strings = environment_of(request.env);
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<char*> envp = pointers(env_strings);

  Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  Fd out_fd;
  Fd err_fd;
  if (!request.stdout_path.empty()) {
    auto fd = open_log(request.stdout_path, request.log_uid, request.log_gid);
    if (!fd) {
      return tl::unexpected(fd.error());
    }
    out_fd.reset(*fd);
  }
  if (!request.stderr_path.empty() &&
      request.stderr_path != request.stdout_path) {
    auto fd = open_log(request.stderr_path, request.log_uid, request.log_gid);
    if (!fd) {
      return tl::unexpected(fd.error());
    }
    err_fd.reset(*fd);
  }
  const int child_out = out_fd.get() >= 0 ? out_fd.get() : -1;
  const int child_err = err_fd.get() >= 0 ? err_fd.get() : child_out;

  // info: the intermediate child sends the job's pid, the job sends errno if
  // exec fails (EOF = exec succeeded). go: the job waits for one byte from
  // us before it execs, sent once we have its start time and `on_identified`
  // has recorded it. So a job that exits at once cannot be reaped (and its
  // pid recycled) before we identify it, and nothing runs that the caller
  // has not recorded: if we die first, the job reads EOF and exits.
  int info[2];
  int go[2];
  if (::pipe2(info, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("spawning {}: pipe: {}", request.argv[0],
                                  std::strerror(errno)));
  }
  Fd info_read(info[0]);
  Fd info_write(info[1]);
  if (::pipe2(go, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("spawning {}: pipe: {}", request.argv[0],
                                  std::strerror(errno)));
  }
  Fd go_read(go[0]);
  Fd go_write(go[1]);
  const char* working_dir =
      request.working_dir.empty() ? nullptr : request.working_dir.c_str();
  const mode_t mask = static_cast<mode_t>(request.umask);
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  const int fallback_limit = open_max > 0 && open_max < (1 << 20)
                                 ? static_cast<int>(open_max)
                                 : (1 << 20);
  const int kept[] = {go[0], info[1], devnull.get(), child_out, child_err};

  const pid_t middle = ::fork();
  if (middle < 0) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("spawning {}: fork: {}", request.argv[0],
                                  std::strerror(errno)));
  }
  if (middle == 0) {
    // Intermediate child: fork the real process and exit, so the job is
    // re-parented to init (or a subreaper) and survives us.
    const pid_t job = ::fork();
    if (job < 0) {
      _exit(127);
    }
    if (job > 0) {
      ssize_t ignored = ::write(info[1], &job, sizeof(job));
      (void)ignored;
      _exit(0);
    }
    // The job, before its go byte: it must hold nothing of ours. A copy of
    // go's write end would keep the read below from ever seeing EOF, and
    // the daemon's lock, database and socket descriptors would outlive a
    // killed daemon and block its restart.
    close_all_except(kept, static_cast<int>(std::size(kept)), fallback_limit);
    char byte = 0;
    ssize_t got = 0;
    while ((got = ::read(go[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (got != 1) {
      _exit(127);  // The caller died or gave up: never run unrecorded.
    }
    ::close(go[0]);
    int err = 0;
    if (::setsid() < 0) {
      err = errno;
    }
    ::umask(mask);
    if (err == 0 && working_dir && ::chdir(working_dir) != 0) {
      err = errno;
    }
    if (err == 0 && devnull.get() >= 0 && move_fd(devnull.get(), 0) < 0) {
      err = errno;
    }
    if (err == 0 && child_out >= 0 && move_fd(child_out, 1) < 0) {
      err = errno;
    }
    if (err == 0 && child_err >= 0 && move_fd(child_err, 2) < 0) {
      err = errno;
    }
    // Signals ignored or blocked by the daemon must not leak into the job.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) {
        ::signal(sig, SIG_DFL);
      }
    }
    if (err == 0) {
      ::execvpe(argv[0], argv.data(), envp.data());
      err = errno;
    }
    ssize_t ignored = ::write(info[1], &err, sizeof(err));
    (void)ignored;
    _exit(127);
  }

  info_write.reset();
  go_read.reset();
  int middle_status = 0;
  while (::waitpid(middle, &middle_status, 0) < 0 && errno == EINTR) {
  }
  pid_t job = 0;
  if (read_fully(info_read.get(), &job, sizeof(job)) !=
          static_cast<ssize_t>(sizeof(job)) ||
      job <= 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("spawning {}: fork of the job failed", request.argv[0]));
  }
  // Until the go byte the job is blocked in read(), so it is alive and its
  // start time is readable. Returning early closes go_write: the job exits.
  auto job_stat = reader_.read_stat(job);
  if (!job_stat) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("spawning {}: reading start time of pid {}: {}",
                    request.argv[0], job, job_stat.error().message));
  }
  const ProcessIdentity identity{job, job_stat->start_ticks};
  if (request.on_identified) {
    auto recorded = request.on_identified(identity);
    if (!recorded) {
      return tl::unexpected(recorded.error().with_context(
          fmt::format("spawning {}", request.argv[0])));
    }
  }
  char byte = 1;
  if (write_without_sigpipe(go_write.get(), &byte, 1) != 1) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("spawning {}: pid {} exited before it "
                                  "could start: {}",
                                  request.argv[0], job, std::strerror(errno)));
  }
  go_write.reset();
  int exec_errno = 0;
  const ssize_t n =
      read_fully(info_read.get(), &exec_errno, sizeof(exec_errno));
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    const auto code =
        (exec_errno == ENOENT || exec_errno == EACCES || exec_errno == ENOEXEC)
            ? ErrorCode::kNotFound
            : ErrorCode::kUnavailable;
    return make_error(
        code, fmt::format("starting '{}'{}: {}", request.argv[0],
                          working_dir ? fmt::format(" in {}", working_dir)
                                      : std::string(),
                          std::strerror(exec_errno)));
  }
  return identity;
}

Result<ProcStat> PosixProcessSpawner::stat(pid_t pid) {
  return reader_.read_stat(pid);
}

Status PosixProcessSpawner::signal_process(pid_t pid, int signal) {
  if (pid <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("refusing to signal pid {}", pid));
  }
  return signal_result(::kill(pid, signal), "process", pid, signal);
}

Status PosixProcessSpawner::signal_group(pid_t pgrp, int signal) {
  if (pgrp <= 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("refusing to signal process group {}", pgrp));
  }
  return signal_result(::kill(-pgrp, signal), "process group", pgrp, signal);
}

bool PosixProcessSpawner::group_alive(pid_t pgrp) {
  return reader_.group_has_live_process(pgrp);
}

TreeUsage PosixProcessSpawner::session_usage(pid_t session) {
  return sum_session_usage(reader_.read_all(), session,
                           reader_.ticks_per_second(),
                           reader_.page_size_bytes());
}

}  // namespace lowcarb::executors
