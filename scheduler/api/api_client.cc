// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/api_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "scheduler/api/protocol.h"

namespace lowcarb::scheduler::api {
namespace {

tl::unexpected<Error> unreachable(const std::string& path,
                                  const std::string& why) {
  return make_error(
      ErrorCode::kUnavailable,
      fmt::format("cannot reach the lowcarb daemon at {}: {} (is `lowcarb "
                  "daemon` running? Set the socket with --socket or "
                  "$LOWCARB_SOCKET)",
                  path, why));
}

}  // namespace

Result<std::unique_ptr<ApiClient>> ApiClient::connect(
    const std::string& socket_path, std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof address.sun_path) {
    return unreachable(socket_path, "the path is empty or too long");
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return unreachable(socket_path, std::strerror(errno));
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                sizeof address) != 0) {
    int saved = errno;
    ::close(fd);
    return unreachable(socket_path, std::strerror(saved));
  }
  return std::unique_ptr<ApiClient>(new ApiClient(fd, socket_path, timeout));
}

ApiClient::~ApiClient() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<std::string> ApiClient::call_raw(const std::string& line) {
  std::string out = line + "\n";
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("send to the daemon at {}: {}", path_,
                                    std::strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (true) {
    auto newline = pending_.find('\n');
    if (newline != std::string::npos) {
      std::string response = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      return response;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return make_error(ErrorCode::kTimeout,
                        fmt::format("the daemon at {} did not answer within {} "
                                    "ms",
                                    path_, timeout_.count()));
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      continue;  // The deadline check above reports the timeout.
    }
    char buffer[65536];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("the daemon at {} closed the connection{}", path_,
                      n < 0 ? std::string(": ") + std::strerror(errno) : ""));
    }
    pending_.append(buffer, static_cast<size_t>(n));
  }
}

Result<nlohmann::json> ApiClient::call(const nlohmann::json& request) {
  auto line = call_raw(
      request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!line) {
    return make_error(line.error());
  }
  return parse_response(*line);
}

}  // namespace lowcarb::scheduler::api
