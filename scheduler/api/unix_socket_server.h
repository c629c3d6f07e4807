// SPDX-License-Identifier: Apache-2.0
// The daemon's control socket: a Unix domain stream socket (mode 0660, group
// optionally set) carrying newline-delimited JSON, one response line per
// request line, several requests per connection. The peer's uid and gid come
// from SO_PEERCRED, never from the request. A request line longer than the
// limit gets an error and the connection is closed; a connection that sends
// no complete line within the read timeout is closed. A connection over the
// global or the per-uid limit gets one error line naming the limit and is
// closed. Out of descriptors, accept() backs off (accept_backoff.h) instead
// of spinning. Runs on the caller's io_context; not thread-safe (one
// io_context thread).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.h"
#include "common/result.h"
#include "scheduler/api/api_service.h"

namespace lowcarb::scheduler::api {

// Returns the response line (without newline) for one request line.
using RequestHandler =
    std::function<std::string(std::string_view request, const Peer& peer)>;
// Answers one request line by calling `reply` with the response line
// (without newline) exactly once, now or later on the io_context's thread
// (the daemon answers submissions after their group commit). The
// connection reads its next request only after the reply.
using AsyncRequestHandler =
    std::function<void(std::string_view request, const Peer& peer,
                       std::function<void(std::string response)> reply)>;

struct UnixSocketServerOptions {
  std::string path;
  std::string group;  // Group owning the socket; "" = the daemon's group.
  size_t max_request_bytes = 1 << 20;
  std::chrono::milliseconds read_timeout{10000};
  size_t max_connections = 512;
  // Open connections one peer uid may hold (root included), so one user
  // cannot take every slot; 0 = only max_connections applies.
  size_t max_connections_per_user = 64;
};

class UnixSocketServer {
 public:
  // Binds and listens. Replaces a stale socket file at `path`; fails with
  // kConflict when another process answers on it, kInvalidArgument when the
  // path exists and is not a socket or the group is unknown. `on_rejected`
  // is called for each request refused before reaching `handler`.
  static Result<std::unique_ptr<UnixSocketServer>> create(
      boost::asio::io_context& io, UnixSocketServerOptions options,
      AsyncRequestHandler handler, std::function<void()> on_rejected);
  static Result<std::unique_ptr<UnixSocketServer>> create(
      boost::asio::io_context& io, UnixSocketServerOptions options,
      RequestHandler handler, std::function<void()> on_rejected);

  // Stops accepting and removes the socket file. Open connections finish
  // their current request.
  ~UnixSocketServer();
  void stop();

  const std::string& path() const { return options_.path; }
  // Applies to connections accepted from now on (SIGHUP). Call on the
  // loop's thread.
  void set_max_connections_per_user(size_t limit) {
    options_.max_connections_per_user = limit;
  }

  struct Shared;

 private:
  UnixSocketServer(boost::asio::io_context& io, UnixSocketServerOptions options,
                   AsyncRequestHandler handler,
                   std::function<void()> on_rejected);
  void accept();

  boost::asio::io_context& io_;
  UnixSocketServerOptions options_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer backoff_timer_;
  std::shared_ptr<Shared> shared_;
  bool stopped_ = false;
};

// The uid, gid and user name of the process at the other end of `fd`.
Result<Peer> peer_credentials(int fd);

}  // namespace lowcarb::scheduler::api
