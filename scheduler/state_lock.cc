// SPDX-License-Identifier: Apache-2.0
#include "scheduler/state_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "common/strings.h"

namespace lowcarb::scheduler {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[64];
  off_t offset = 0;
  while (text.size() < 256) {
    ssize_t got = ::pread(fd, buffer, sizeof buffer, offset);
    if (got <= 0) {
      break;
    }
    text.append(buffer, static_cast<size_t>(got));
    offset += got;
  }
  return text;
}

bool process_alive(long pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

Result<std::unique_ptr<StateLock>> StateLock::acquire(
    const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("create state directory {}: {}", state_dir, ec.message()));
  }
  std::string path =
      (std::filesystem::path(state_dir) / "lowcarb.lock").string();
  int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("open lock file {}: {}", path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int saved = errno;
    std::string holder(trim(read_all(fd)));
    ::close(fd);
    if (saved == EWOULDBLOCK) {
      return make_error(
          ErrorCode::kConflict,
          fmt::format("another lowcarb daemon{} holds the state directory {} "
                      "(lock file {}); stop it first or use another "
                      "--state-dir",
                      holder.empty() ? "" : " (pid " + holder + ")", state_dir,
                      path));
    }
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("lock {}: {}", path, std::strerror(saved)));
  }
  std::optional<long> stale;
  bool alive = false;
  std::string previous(trim(read_all(fd)));
  if (!previous.empty()) {
    auto pid = parse_integer(previous);
    stale = pid ? static_cast<long>(*pid) : -1L;
    alive = pid && *pid != ::getpid() && process_alive(static_cast<long>(*pid));
  }
  std::string mine = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, mine.data(), mine.size(), 0) !=
                                     static_cast<ssize_t>(mine.size())) {
    int saved = errno;
    ::close(fd);
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("write pid to lock file {}: {}", path,
                                  std::strerror(saved)));
  }
  ::fsync(fd);
  return std::unique_ptr<StateLock>(
      new StateLock(fd, std::move(path), stale, alive));
}

StateLock::~StateLock() {
  if (fd_ >= 0) {
    // An empty file marks a clean shutdown; the lock goes with the close.
    if (::ftruncate(fd_, 0) == 0) {
      ::fsync(fd_);
    }
    ::close(fd_);
  }
}

std::string StateLock::stale_description() const {
  if (!stale_pid_) {
    return "";
  }
  if (*stale_pid_ < 0) {
    return fmt::format("stale lock {}: it held no valid pid; taken over",
                       path_);
  }
  if (stale_pid_alive_) {
    return fmt::format(
        "stale lock {}: it names pid {}, which is alive but does not hold the "
        "lock (pid reused?); taken over",
        path_, *stale_pid_);
  }
  return fmt::format(
      "stale lock {}: pid {} did not shut down cleanly (crashed or killed); "
      "taken over, recovering its jobs",
      path_, *stale_pid_);
}

}  // namespace lowcarb::scheduler
