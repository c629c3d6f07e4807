// SPDX-License-Identifier: Apache-2.0
// The daemon's HTTP API (Boost.Beast), for dashboards and scripts: loopback
// addresses only, every request authenticated by `Authorization: Bearer
// <token>` with the token read from a file and compared in constant time.
// Routes (bodies and answers are the socket protocol's JSON objects):
//   GET  /metrics                  Prometheus text
//   GET  /ping
//   GET  /jobs[?all=1&limit=N]     list
//   POST /jobs                     submit (body: the submit fields)
//   GET  /jobs/ID                  show
//   GET  /jobs/ID/logs[?stream=stderr&offset=N]
//   POST /jobs/ID/cancel | /pause | /resume
//   GET  /report[?id=ID]
//   POST /api                      any request object, as on the socket
// Each token maps to one local user and the request acts as that user
// exactly as if it came over the socket from that uid (its jobs run as it,
// it sees only its own jobs and metrics; a token of root's sees all). No
// log line carries a token: request targets are logged through redact()
// with every configured token masked. accept() backs off (100 ms doubling to
// 2 s, one warning per episode) when the process is out of descriptors.
// Runs on the caller's io_context; not thread-safe. This is the only file
// that includes Beast.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "common/result.h"
#include "scheduler/api/http_routes.h"
#include "scheduler/api/unix_socket_server.h"

namespace lowcarb::scheduler::api {

// A bearer token and whom its requests act as.
struct HttpToken {
  std::string token;  // REQUIRES: not empty.
  Peer peer;
};

struct HttpServerOptions {
  std::string listen;  // "127.0.0.1:8787", "[::1]:8787"; port 0 = any.
  std::vector<HttpToken> tokens;  // REQUIRES: at least one, all distinct.
  size_t max_request_bytes = 1 << 20;
  std::chrono::milliseconds read_timeout{10000};
  // Tried before the routes above (SDK routes, dashboard); see
  // http_routes.h. Default: none.
  HttpRouteHandler extra_routes;
};

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

// Parses "HOST:PORT"; kInvalidArgument unless HOST is a loopback address.
Result<ListenAddress> parse_listen_address(std::string_view text);

// Reads the bearer token (surrounding whitespace trimmed). kInvalidArgument
// when the file is empty, not a regular file, or readable by its group or
// others (mode & 044; the error names the file and its mode); errors never
// contain the token.
Result<std::string> read_token_file(const std::string& path);

// The local user named `user` (a name or a numeric uid) as a Peer.
// kInvalidArgument naming `what` when there is no such user.
Result<Peer> peer_for_user(const std::string& user, const std::string& what);

// kInvalidArgument unless there is at least one token and all are non-empty
// and distinct (the error names the users, never the tokens).
Status validate_http_tokens(const std::vector<HttpToken>& tokens);

// Compares in time that depends only on the lengths, not the contents.
bool constant_time_equals(std::string_view a, std::string_view b);

class HttpServer {
 public:
  // `handler` answers socket-protocol request lines for the token's peer;
  // `metrics` renders /metrics for it. `on_rejected` counts refused
  // requests.
  static Result<std::unique_ptr<HttpServer>> create(
      boost::asio::io_context& io, HttpServerOptions options,
      RequestHandler handler, std::function<std::string(const Peer&)> metrics,
      std::function<void()> on_rejected);
  ~HttpServer();

  uint16_t port() const { return port_; }
  // Replaces the accepted tokens (SIGHUP: a revoked token stops working at
  // once, a new one starts). Keeps the old list when `tokens` is invalid
  // (see validate_http_tokens()). Call on the loop's thread.
  Status set_tokens(std::vector<HttpToken> tokens);
  void stop();

  struct Shared;

 private:
  HttpServer(boost::asio::io_context& io, std::shared_ptr<Shared> shared);
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_timer_;
  std::shared_ptr<Shared> shared_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace lowcarb::scheduler::api
