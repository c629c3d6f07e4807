// SPDX-License-Identifier: Apache-2.0
#include "executors/posix_process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include <fmt/format.h>

extern char** environ;

namespace lowcarb::executors {
namespace {

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

std::map<std::string, std::string> merged_environment(
    const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    env.emplace(std::string(text.substr(0, equals)),
                std::string(text.substr(equals + 1)));
  }
  for (const auto& [name, value] : overrides) {
    env[name] = value;
  }
  return env;
}

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> find_program(
    const std::string& name, const std::map<std::string, std::string>& env) {
  if (name.find('/') != std::string::npos) {
    return is_executable_file(name) ? std::optional(name) : std::nullopt;
  }
  auto it = env.find("PATH");
  const std::string path =
      it != env.end() ? it->second : std::string("/usr/bin:/bin");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) {
      dir = ".";
    }
    std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

// Writes to a pipe whose reader may have gone, without letting SIGPIPE kill
// the process: the signal is blocked in this thread and a pending one is
// consumed before unblocking.
ssize_t write_without_sigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  const ssize_t written = ::write(fd, data, size);
  const int saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return written;
}

}  // namespace

Result<ProcessResult> PosixProcessRunner::run(const Command& command) {
  if (command.argv.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "run: empty argv");
  }
  const std::string& program = command.argv[0];
  const auto env = command.inherit_environment ? merged_environment(command.env)
                                               : command.env;
  const auto path = find_program(program, env);
  if (!path) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("run {}: program not found (PATH and "
                                  "executable bit checked)",
                                  program));
  }

  Fd in_read, in_write, out_read, out_write, err_read, err_write;
  if (!make_pipe(in_read, in_write) || !make_pipe(out_read, out_write) ||
      !make_pipe(err_read, err_write)) {
    return make_error(
        ErrorCode::kInternal,
        fmt::format("run {}: pipe: {}", program, std::strerror(errno)));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Own process group (so a timeout kills helpers too) and default signal
  // handling and mask in the child.
  sigset_t all_signals, no_signals;
  sigfillset(&all_signals);
  sigemptyset(&no_signals);
  posix_spawnattr_setsigdefault(&attributes, &all_signals);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP |
                                            POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [name, value] : env) {
    env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& entry : env_strings) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args = command.argv;
  std::vector<char*> argv;
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int spawn_error = posix_spawn(&pid, path->c_str(), &actions,
                                      &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawn_error != 0) {
    return make_error(
        spawn_error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInternal,
        fmt::format("run {}: {}", program, std::strerror(spawn_error)));
  }
  in_read.reset();
  out_write.reset();
  err_write.reset();
  if (command.stdin_text.empty()) {
    in_write.reset();
  } else {
    ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
  }

  ProcessResult result;
  size_t stdin_offset = 0;
  const auto deadline = std::chrono::steady_clock::now() + command.timeout;
  bool timed_out = false;
  char buffer[65536];
  while (out_read.get() >= 0 || err_read.get() >= 0) {
    pollfd fds[3];
    int count = 0;
    Fd* owners[3];
    std::string* sinks[3];
    for (auto [fd, sink] : {std::pair{&out_read, &result.out},
                            std::pair{&err_read, &result.err}}) {
      if (fd->get() >= 0) {
        fds[count] = {fd->get(), POLLIN, 0};
        owners[count] = fd;
        sinks[count] = sink;
        ++count;
      }
    }
    if (in_write.get() >= 0) {
      fds[count] = {in_write.get(), POLLOUT, 0};
      owners[count] = &in_write;
      sinks[count] = nullptr;
      ++count;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(fds, count, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < count && ready > 0; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      if (sinks[i] == nullptr) {
        const std::string& text = command.stdin_text;
        const ssize_t n = write_without_sigpipe(
            fds[i].fd, text.data() + stdin_offset, text.size() - stdin_offset);
        if (n > 0) {
          stdin_offset += static_cast<size_t>(n);
        }
        if ((n < 0 && errno != EAGAIN) || stdin_offset >= text.size()) {
          owners[i]->reset();
        }
        continue;
      }
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        owners[i]->reset();
      }
    }
  }
  in_write.reset();

  int status = 0;
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return make_error(ErrorCode::kTimeout,
                      fmt::format("run {}: no exit after {} s; killed", program,
                                  command.timeout.count()));
  }
  // Output closed: the command is exiting. Wait for it, still bounded.
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0 && errno != EINTR) {
      return make_error(
          ErrorCode::kInternal,
          fmt::format("run {}: waitpid: {}", program, std::strerror(errno)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return make_error(ErrorCode::kTimeout,
                        fmt::format("run {}: no exit after {} s; killed",
                                    program, command.timeout.count()));
    }
    ::usleep(1000);
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace lowcarb::executors
