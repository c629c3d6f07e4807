// SPDX-License-Identifier: Apache-2.0
#include "scheduler/state_permissions.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace lowcarb::scheduler {
namespace fs = std::filesystem;

namespace {

Status make_dir(const std::string& path, mode_t mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("create {}: {}", path, ec.message()));
  }
  if (::chmod(path.c_str(), mode) != 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("chmod {:04o} {}: {}", mode, path, std::strerror(errno)));
  }
  return ok_status();
}

bool is_inside(const std::string& path, const std::string& dir) {
  if (path.empty() || dir.empty()) {
    return false;
  }
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  const fs::path d = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  auto [end, unused] = std::mismatch(d.begin(), d.end(), p.begin(), p.end());
  (void)unused;
  return end == d.end();
}

}  // namespace

mode_t state_dir_mode(const std::string& state_dir,
                      const std::string& socket_path) {
  return is_inside(socket_path, state_dir) ? 0711 : 0700;
}

Status secure_state_dir(const std::string& state_dir,
                        const std::string& socket_path,
                        const std::string& log_dir) {
  if (auto s = make_dir(state_dir, state_dir_mode(state_dir, socket_path));
      !s) {
    return tl::unexpected(s.error().with_context("state directory"));
  }
  for (const char* sub : {"jobs", "local"}) {
    if (auto s = make_dir((fs::path(state_dir) / sub).string(), 0700); !s) {
      return tl::unexpected(s.error().with_context("state directory"));
    }
  }
  if (!log_dir.empty()) {
    // Each log is 0600 and owned by its job's user, who may read it by
    // name; nobody may list whose jobs there are.
    if (auto s = make_dir(log_dir, 0711); !s) {
      return tl::unexpected(s.error().with_context("log directory"));
    }
  }
  return ok_status();
}

Status secure_database_files(const std::string& db_path) {
  int fd = ::open(db_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("state database {}: {}", db_path, std::strerror(errno)));
  }
  ::close(fd);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string path = db_path + suffix;
    if (::chmod(path.c_str(), 0600) != 0 && errno != ENOENT) {
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("chmod 0600 {}: {}", path, std::strerror(errno)));
    }
  }
  return ok_status();
}

}  // namespace lowcarb::scheduler
