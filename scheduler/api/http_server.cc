// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/http_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/asio.h"
#include "common/logging.h"
#include "common/strings.h"
#include "scheduler/api/accept_backoff.h"
#include "scheduler/api/json_depth.h"

namespace lowcarb::scheduler::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using nlohmann::json;

struct HttpServer::Shared {
  HttpServerOptions options;
  RequestHandler handler;
  std::function<std::string(const Peer&)> metrics;
  std::function<void()> on_rejected;
  AcceptBackoff backoff;

  // The peer of the request's bearer token; nullptr when none matches.
  // Every token is compared in full, matching or not.
  const Peer* authenticate(std::string_view presented) const {
    const Peer* found = nullptr;
    for (const auto& token : options.tokens) {
      if (constant_time_equals(presented, token.token) && found == nullptr) {
        found = &token.peer;
      }
    }
    return found;
  }
  // `text` (a request target) fit for a log line: redact() plus every
  // configured token masked wherever it appears.
  std::string loggable(std::string_view text) const {
    std::vector<std::string> secrets;
    for (const auto& token : options.tokens) {
      secrets.push_back(token.token);
    }
    return redact(text, secrets);
  }
};

namespace {

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = get_logger("api.http");
  return instance;
}

http::status status_for(std::string_view code) {
  static const std::map<std::string_view, http::status> kStatus = {
      {"invalid_argument", http::status::bad_request},
      {"not_found", http::status::not_found},
      {"permission_denied", http::status::forbidden},
      {"conflict", http::status::conflict},
      {"unavailable", http::status::service_unavailable},
      {"timeout", http::status::gateway_timeout},
      {"internal", http::status::internal_server_error}};
  auto it = kStatus.find(code);
  return it == kStatus.end() ? http::status::internal_server_error : it->second;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> params;
  for (const auto& pair : split(query, '&')) {
    auto eq = pair.find('=');
    if (eq == std::string::npos) {
      params[pair] = "1";
    } else {
      params[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
  return params;
}

// Turns a REST route into a protocol request object; nullopt = no route.
std::optional<json> route(http::verb method, std::string_view target,
                          const std::string& body, std::string& problem) {
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  auto params = parse_query(query);
  auto parts = split(path, '/');
  std::vector<std::string> segments;
  for (auto& part : parts) {
    if (!part.empty()) {
      segments.push_back(part);
    }
  }
  auto body_object = [&]() -> std::optional<json> {
    if (auto shallow = check_json_depth(body); !shallow) {
      problem = shallow.error().message;
      return std::nullopt;
    }
    try {
      json j = body.empty() ? json::object() : json::parse(body);
      if (!j.is_object()) {
        problem = "the request body must be a JSON object";
        return std::nullopt;
      }
      return j;
    } catch (const json::exception& e) {
      problem = fmt::format("malformed JSON: {}", e.what());
      return std::nullopt;
    }
  };
  auto integer = [&](const std::string& key) -> json {
    auto value = parse_integer(params[key]);
    return value ? json(*value) : json(params[key]);
  };
  if (method == http::verb::get &&
      segments == std::vector<std::string>{"ping"}) {
    return json{{"op", "ping"}};
  }
  if (method == http::verb::get &&
      segments == std::vector<std::string>{"report"}) {
    json j{{"op", "report"}};
    if (params.count("id")) {
      j["id"] = params["id"];
    }
    return j;
  }
  if (method == http::verb::post &&
      segments == std::vector<std::string>{"api"}) {
    return body_object();
  }
  if (segments.empty() || segments[0] != "jobs" || segments.size() > 3) {
    return std::nullopt;
  }
  if (segments.size() == 1) {
    if (method == http::verb::get) {
      json j{{"op", "list"}};
      if (params.count("all")) {
        j["all"] = params["all"] == "1" || params["all"] == "true";
      }
      if (params.count("limit")) {
        j["limit"] = integer("limit");
      }
      return j;
    }
    if (method == http::verb::post) {
      auto j = body_object();
      if (j) {
        if (j->contains("op")) {
          problem = "POST /jobs takes the submit fields without 'op'";
          return std::nullopt;
        }
        (*j)["op"] = "submit";
      }
      return j;
    }
    return std::nullopt;
  }
  const std::string& id = segments[1];
  if (segments.size() == 2 && method == http::verb::get) {
    return json{{"op", "show"}, {"id", id}};
  }
  if (segments.size() == 3 && method == http::verb::get &&
      segments[2] == "logs") {
    json j{{"op", "logs"}, {"id", id}};
    if (params.count("stream")) {
      j["stream"] = params["stream"];
    }
    if (params.count("offset")) {
      j["offset"] = integer("offset");
    }
    if (params.count("max_bytes")) {
      j["max_bytes"] = integer("max_bytes");
    }
    return j;
  }
  if (segments.size() == 3 && method == http::verb::post &&
      (segments[2] == "cancel" || segments[2] == "pause" ||
       segments[2] == "resume")) {
    return json{{"op", segments[2]}, {"id", id}};
  }
  return std::nullopt;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(shared_->options.max_request_bytes);
    stream_.expires_after(shared_->options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(const error_code& ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::connection_reset) {
      close();
      return;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      shared_->on_rejected();
      respond(http::status::payload_too_large,
              error_response(
                  Error{ErrorCode::kInvalidArgument,
                        fmt::format("request larger than the limit of {} bytes",
                                    shared_->options.max_request_bytes)}),
              "application/json", false);
      return;
    }
    if (ec) {
      shared_->on_rejected();
      respond(http::status::bad_request,
              error_response(Error{ErrorCode::kInvalidArgument,
                                   "malformed HTTP request: " + ec.message()}),
              "application/json", false);
      return;
    }
    handle(parser_->release());
  }

  void handle(http::request<http::string_body> request) {
    const bool keep_alive = request.keep_alive();
    auto auth = request[http::field::authorization];
    const std::string_view prefix = "Bearer ";
    const Peer* peer =
        auth.size() > prefix.size() &&
                iequals(std::string_view(auth.data(), prefix.size()), prefix)
            ? shared_->authenticate(std::string_view(
                  auth.data() + prefix.size(), auth.size() - prefix.size()))
            : nullptr;
    const bool authorized = peer != nullptr;
    if (shared_->options.extra_routes) {
      auto reply = shared_->options.extra_routes(
          {std::string(request.method_string()), std::string(request.target()),
           request.body(), authorized, peer});
      if (reply) {
        respond(static_cast<http::status>(reply->status),
                std::move(reply->body), reply->content_type.c_str(),
                keep_alive);
        return;
      }
    }
    if (!authorized) {
      shared_->on_rejected();
      logger()->info("refused {} {}: {} bearer token",
                     std::string(request.method_string()),
                     shared_->loggable(std::string(request.target())),
                     auth.empty() ? "no" : "wrong");
      respond(http::status::unauthorized,
              error_response(Error{ErrorCode::kPermissionDenied,
                                   "missing or wrong bearer token "
                                   "(Authorization: Bearer <token>)"}),
              "application/json", keep_alive, true);
      return;
    }
    const std::string target(request.target());
    if (request.method() == http::verb::get &&
        (target == "/metrics" || target.rfind("/metrics?", 0) == 0)) {
      respond(http::status::ok, shared_->metrics(*peer),
              "text/plain; version=0.0.4; charset=utf-8", keep_alive);
      return;
    }
    std::string problem;
    auto object = route(request.method(), target, request.body(), problem);
    if (!object) {
      shared_->on_rejected();
      bool malformed = !problem.empty();
      respond(
          malformed ? http::status::bad_request : http::status::not_found,
          error_response(Error{
              malformed ? ErrorCode::kInvalidArgument : ErrorCode::kNotFound,
              malformed
                  ? problem
                  : fmt::format("no route {} {}",
                                std::string(request.method_string()),
                                shared_->loggable(target.substr(0, 200)))}),
          "application/json", keep_alive);
      return;
    }
    std::string answer;
    try {
      answer = shared_->handler(object->dump(), *peer);
    } catch (const std::exception& e) {
      logger()->error("HTTP request failed unexpectedly: {}", e.what());
      answer = error_response(
          Error{ErrorCode::kInternal, "internal error; see the daemon log"});
    }
    http::status status = http::status::ok;
    try {
      json parsed = json::parse(answer);
      if (parsed.contains("error")) {
        status = status_for(parsed["error"].value("code", "internal"));
      }
    } catch (const json::exception&) {
      status = http::status::internal_server_error;
    }
    respond(status, std::move(answer), "application/json", keep_alive);
  }

  void respond(http::status status, std::string body, const char* type,
               bool keep_alive, bool challenge = false) {
    auto response =
        std::make_shared<http::response<http::string_body>>(status, 11);
    response->set(http::field::server, "lowcarb");
    response->set(http::field::content_type, type);
    if (challenge) {
      response->set(http::field::www_authenticate, "Bearer");
    }
    response->keep_alive(keep_alive);
    response->body() = std::move(body);
    // A 204 carries no body (Beast refuses to send one).
    if (status != http::status::no_content &&
        (response->body().empty() || response->body().back() != '\n')) {
      response->body() += '\n';
    }
    response->prepare_payload();
    stream_.expires_after(shared_->options.read_timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response, keep_alive](
                          const error_code& ec, size_t) {
                        if (ec || !keep_alive) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::Shared> shared_;
};

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--http '{}': expected HOST:PORT, e.g. "
                                  "127.0.0.1:8787",
                                  std::string(text)));
  }
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto port = parse_integer(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("--http '{}': '{}' is not a port number", std::string(text),
                    std::string(text.substr(colon + 1))));
  }
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec || !address.is_loopback()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--http '{}': the HTTP API listens on "
                                  "loopback addresses only (127.0.0.1 or ::1)",
                                  std::string(text)));
  }
  return ListenAddress{host, static_cast<uint16_t>(*port)};
}

Result<std::string> read_token_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("HTTP token file {}: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("HTTP token file {} is not a regular file", path));
  }
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("HTTP token file {} has mode {:04o}: readable by {}; "
                    "refusing it (chmod 600 {})",
                    path, st.st_mode & 07777,
                    (st.st_mode & S_IROTH) != 0 ? "every user" : "its group",
                    path));
  }
  std::ifstream in(path);
  if (!in) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("HTTP token file {}: cannot read it", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string token(trim(text.str()));
  if (token.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("HTTP token file {} is empty", path));
  }
  return token;
}

Result<Peer> peer_for_user(const std::string& user, const std::string& what) {
  struct passwd pwd {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  auto uid = parse_integer(user);
  const int rc = uid && *uid >= 0
                     ? ::getpwuid_r(static_cast<uid_t>(*uid), &pwd,
                                    buffer.data(), buffer.size(), &found)
                     : ::getpwnam_r(user.c_str(), &pwd, buffer.data(),
                                    buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: no local user '{}'", what, user));
  }
  return Peer{found->pw_uid, found->pw_gid, found->pw_name};
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Walks the longer input in full; never exits early on a mismatch.
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

Status validate_http_tokens(const std::vector<HttpToken>& tokens) {
  if (tokens.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the HTTP API needs a token (--http-token-file or "
                      "daemon.http_tokens)");
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].token.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the HTTP API was given an empty token");
    }
    for (size_t j = 0; j < i; ++j) {
      if (tokens[i].token == tokens[j].token) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("HTTP tokens of {} and {} are the same token; each "
                        "user needs its own",
                        tokens[j].peer.user, tokens[i].peer.user));
      }
    }
  }
  return {};
}

HttpServer::HttpServer(asio::io_context& io, std::shared_ptr<Shared> shared)
    : acceptor_(io), backoff_timer_(io), shared_(std::move(shared)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::create(
    asio::io_context& io, HttpServerOptions options, RequestHandler handler,
    std::function<std::string(const Peer&)> metrics,
    std::function<void()> on_rejected) {
  auto address = parse_listen_address(options.listen);
  if (!address) {
    return make_error(address.error());
  }
  if (auto valid = validate_http_tokens(options.tokens); !valid) {
    return make_error(valid.error());
  }
  auto shared = std::make_shared<Shared>();
  shared->options = std::move(options);
  shared->handler = std::move(handler);
  shared->metrics = std::move(metrics);
  shared->on_rejected = std::move(on_rejected);
  std::unique_ptr<HttpServer> server(new HttpServer(io, shared));
  error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(address->host), address->port);
  auto& acceptor = server->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    // Jobs the daemon launches must not inherit the listening socket.
    ::fcntl(acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("HTTP listen on {}: {}",
                                  shared->options.listen, ec.message()));
  }
  server->port_ = acceptor.local_endpoint(ec).port();
  server->accept();
  return server;
}

void HttpServer::accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopped_) {
      return;
    }
    const std::string what = "HTTP " + shared_->options.listen;
    if (ec) {
      auto decision =
          shared_->backoff.on_error(ec, std::chrono::steady_clock::now(), what);
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
    if (auto line = shared_->backoff.on_success(what); !line.empty()) {
      logger()->info("{}", line);
    }
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    std::make_shared<Session>(std::move(socket), shared_)->start();
    accept();
  });
}

Status HttpServer::set_tokens(std::vector<HttpToken> tokens) {
  if (auto valid = validate_http_tokens(tokens); !valid) {
    return valid;
  }
  // Requests are answered synchronously on the loop's thread, so no request
  // holds a Peer* into the old list while it is replaced.
  shared_->options.tokens = std::move(tokens);
  return {};
}

void HttpServer::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  error_code ignored;
  backoff_timer_.cancel();
  acceptor_.close(ignored);
}

HttpServer::~HttpServer() { stop(); }

}  // namespace lowcarb::scheduler::api
