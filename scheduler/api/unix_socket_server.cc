// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/unix_socket_server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "common/logging.h"
#include "scheduler/api/accept_backoff.h"

namespace lowcarb::scheduler::api {

namespace asio = boost::asio;
using boost::system::error_code;
using Socket = asio::local::stream_protocol::socket;

namespace {

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = get_logger("api.socket");
  return instance;
}

}  // namespace

// State the connections share with the server; outlives it while
// connections finish.
struct UnixSocketServer::Shared {
  AsyncRequestHandler handler;
  std::function<void()> on_rejected;
  size_t max_request_bytes = 0;
  std::chrono::milliseconds read_timeout{0};
  size_t open_connections = 0;
  std::map<unsigned, size_t> open_by_uid;
  AcceptBackoff backoff;
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, Peer peer,
             std::shared_ptr<UnixSocketServer::Shared> shared)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        // One byte more than the limit so a line of exactly the limit fits
        // with its newline.
        buffer_(shared->max_request_bytes + 1),
        peer_(std::move(peer)),
        shared_(std::move(shared)) {
    ++shared_->open_connections;
    ++shared_->open_by_uid[peer_.uid];
  }
  ~Connection() {
    --shared_->open_connections;
    auto it = shared_->open_by_uid.find(peer_.uid);
    if (it != shared_->open_by_uid.end() && --it->second == 0) {
      shared_->open_by_uid.erase(it);
    }
  }

  void start() { read(); }

  // Answers with one error line and closes (server full).
  void refuse(const std::string& message) {
    write_and_close(error_response(Error{ErrorCode::kUnavailable, message}));
  }

 private:
  void read() {
    timer_.expires_after(shared_->read_timeout);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) {
        // No complete request in time: drop the connection.
        self->timed_out_ = true;
        error_code ignored;
        self->socket_.cancel(ignored);
      }
    });
    asio::async_read_until(
        socket_, buffer_, '\n',
        [self = shared_from_this()](const error_code& ec, size_t bytes) {
          self->timer_.cancel();
          self->on_read(ec, bytes);
        });
  }

  void on_read(const error_code& ec, size_t bytes) {
    if (timed_out_) {
      shared_->on_rejected();
      write_and_close(error_response(
          Error{ErrorCode::kTimeout,
                fmt::format("no complete request line within {} ms",
                            shared_->read_timeout.count())}));
      return;
    }
    if (ec == asio::error::not_found) {
      shared_->on_rejected();
      write_and_close(error_response(Error{
          ErrorCode::kInvalidArgument,
          fmt::format("request larger than the limit of {} bytes (or missing "
                      "its newline)",
                      shared_->max_request_bytes)}));
      return;
    }
    if (ec) {
      return;  // EOF or reset: the client went away.
    }
    std::string line(asio::buffers_begin(buffer_.data()),
                     asio::buffers_begin(buffer_.data()) +
                         static_cast<std::ptrdiff_t>(bytes) - 1);
    buffer_.consume(bytes);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      read();  // Blank lines are keep-alives.
      return;
    }
    try {
      shared_->handler(line, peer_,
                       [self = shared_from_this()](std::string response) {
                         self->respond(std::move(response));
                       });
    } catch (const std::exception& e) {
      logger()->error("request from uid {} failed unexpectedly: {}", peer_.uid,
                      e.what());
      respond(error_response(
          Error{ErrorCode::kInternal, "internal error; see the daemon log"}));
    }
  }

  void respond(std::string response) {
    response_ = std::move(response);
    response_ += '\n';
    asio::async_write(
        socket_, asio::buffer(response_),
        [self = shared_from_this()](const error_code& write_ec, size_t) {
          if (!write_ec) {
            self->read();
          }
        });
  }

  void write_and_close(std::string line) {
    response_ = std::move(line);
    response_ += '\n';
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](const error_code&, size_t) {
                        error_code ignored;
                        self->socket_.shutdown(Socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                      });
  }

  Socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  Peer peer_;
  std::shared_ptr<UnixSocketServer::Shared> shared_;
  std::string response_;
  bool timed_out_ = false;
};

// True when a live daemon answers a ping at `path` within a second. A
// socket that accepts connections but never answers (a listening socket
// some leftover process inherited) does not count.
bool socket_answers(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(),
              std::min(path.size(), sizeof address.sun_path - 1));
  bool answered = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                sizeof address) == 0) {
    const char ping[] = "{\"op\":\"ping\"}\n";
    if (::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) > 0) {
      pollfd p{fd, POLLIN, 0};
      char byte = 0;
      answered = ::poll(&p, 1, 1000) == 1 && ::recv(fd, &byte, 1, 0) == 1;
    }
  }
  ::close(fd);
  return answered;
}

}  // namespace

Result<Peer> peer_credentials(int fd) {
  struct ucred cred {};
  socklen_t size = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) {
    return make_error(ErrorCode::kInternal,
                      fmt::format("SO_PEERCRED: {}", std::strerror(errno)));
  }
  Peer peer;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  struct passwd pwd {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwuid_r(cred.uid, &pwd, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr) {
    peer.user = found->pw_name;
  } else {
    peer.user = std::to_string(cred.uid);
  }
  return peer;
}

UnixSocketServer::UnixSocketServer(asio::io_context& io,
                                   UnixSocketServerOptions options,
                                   AsyncRequestHandler handler,
                                   std::function<void()> on_rejected)
    : io_(io),
      options_(std::move(options)),
      acceptor_(io),
      backoff_timer_(io),
      shared_(std::make_shared<Shared>()) {
  shared_->handler = std::move(handler);
  shared_->on_rejected = std::move(on_rejected);
  shared_->max_request_bytes = options_.max_request_bytes;
  shared_->read_timeout = options_.read_timeout;
}

Result<std::unique_ptr<UnixSocketServer>> UnixSocketServer::create(
    asio::io_context& io, UnixSocketServerOptions options,
    RequestHandler handler, std::function<void()> on_rejected) {
  return create(
      io, std::move(options),
      AsyncRequestHandler([handler = std::move(handler)](
                              std::string_view request, const Peer& peer,
                              const std::function<void(std::string)>& reply) {
        reply(handler(request, peer));
      }),
      std::move(on_rejected));
}

Result<std::unique_ptr<UnixSocketServer>> UnixSocketServer::create(
    asio::io_context& io, UnixSocketServerOptions options,
    AsyncRequestHandler handler, std::function<void()> on_rejected) {
  const std::string path = options.path;
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("socket path '{}' is empty or longer than {} "
                                  "bytes",
                                  path, sizeof(sockaddr_un::sun_path) - 1));
  }
  std::optional<gid_t> group;
  if (!options.group.empty()) {
    struct group grp {};
    struct group* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getgrnam_r(options.group.c_str(), &grp, buffer.data(), buffer.size(),
                     &found) != 0 ||
        found == nullptr) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("daemon.socket_group: unknown group '{}'",
                                    options.group));
    }
    group = found->gr_gid;
  }
  std::error_code fs_ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, fs_ec);
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("socket path {} exists and is not a socket; "
                      "not replacing it",
                      path));
    }
    if (socket_answers(path)) {
      return make_error(
          ErrorCode::kConflict,
          fmt::format("another process is serving the socket {}", path));
    }
    ::unlink(path.c_str());  // Left behind by a daemon that died.
  }

  std::unique_ptr<UnixSocketServer> server(new UnixSocketServer(
      io, std::move(options), std::move(handler), std::move(on_rejected)));
  error_code ec;
  auto& acceptor = server->acceptor_;
  acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) {
    // Jobs the daemon launches must not inherit the listening socket (they
    // would keep it open, and answering connects, after the daemon died).
    ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
    // The socket is created with the umask's mode: make it 0660 from the
    // start so there is no window in which others may connect.
    mode_t old_mask = ::umask(0117);
    acceptor.bind(asio::local::stream_protocol::endpoint(path), ec);
    ::umask(old_mask);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("listen on {}: {}", path, ec.message()));
  }
  if (::chmod(path.c_str(), 0660) != 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("chmod 0660 {}: {}", path, std::strerror(errno)));
  }
  if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("chown {} to group {}: {}", path, server->options_.group,
                    std::strerror(errno)));
  }
  server->accept();
  return server;
}

void UnixSocketServer::accept() {
  acceptor_.async_accept([this](const error_code& ec, Socket socket) {
    if (ec == asio::error::operation_aborted || stopped_) {
      return;
    }
    if (ec) {
      auto decision = shared_->backoff.on_error(
          ec, std::chrono::steady_clock::now(), options_.path);
      if (!decision.log.empty()) {
        logger()->warn("{}", decision.log);
      }
      if (decision.delay.count() > 0) {
        backoff_timer_.expires_after(decision.delay);
        backoff_timer_.async_wait([this](const error_code& wait_ec) {
          if (!wait_ec && !stopped_) {
            accept();
          }
        });
        return;
      }
      accept();
      return;
    }
    if (auto line = shared_->backoff.on_success(options_.path); !line.empty()) {
      logger()->info("{}", line);
    }
    // Jobs the daemon launches must not inherit client connections.
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    auto peer = peer_credentials(socket.native_handle());
    if (!peer) {
      logger()->warn("dropping a connection: {}", peer.error().message);
    } else {
      auto connection =
          std::make_shared<Connection>(std::move(socket), *peer, shared_);
      const size_t per_user = options_.max_connections_per_user;
      if (shared_->open_connections > options_.max_connections) {
        shared_->on_rejected();
        connection->refuse(fmt::format(
            "the daemon has {} open connections (the limit); try again",
            options_.max_connections));
      } else if (per_user > 0 && shared_->open_by_uid[peer->uid] > per_user) {
        shared_->on_rejected();
        logger()->debug(
            "refusing a connection from uid {}: it has {} open "
            "(daemon.max_connections_per_user)",
            peer->uid, per_user);
        connection->refuse(fmt::format(
            "uid {} already has {} open connections to the daemon (the "
            "per-user limit, daemon.max_connections_per_user); close some "
            "and try again",
            peer->uid, per_user));
      } else {
        connection->start();
      }
    }
    accept();
  });
}

void UnixSocketServer::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  error_code ignored;
  backoff_timer_.cancel();
  acceptor_.close(ignored);
  ::unlink(options_.path.c_str());
}

UnixSocketServer::~UnixSocketServer() { stop(); }

}  // namespace lowcarb::scheduler::api
