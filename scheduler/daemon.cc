// SPDX-License-Identifier: Apache-2.0
#include "scheduler/daemon.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/time_format.h"
#include "scheduler/api/http_tokens.h"
#include "scheduler/api/protocol.h"
#include "scheduler/daemon_routes.h"

namespace lowcarb::scheduler {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = get_logger("daemon");
  return instance;
}

std::vector<std::string> token_values(
    const std::vector<api::HttpToken>& tokens) {
  std::vector<std::string> values;
  for (const auto& token : tokens) {
    values.push_back(token.token);
  }
  return values;
}

// Requests that may change what the scheduler has to do next.
bool changes_plans(std::string_view line) {
  for (const char* op :
       {"\"submit\"", "\"cancel\"", "\"pause\"", "\"resume\""}) {
    if (line.find(op) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

// A submit request that may join a group commit: not one naming an
// executor or a Slurm script (a backend that defers starts gets the job at
// submission, an action that must follow the job's durable record). A
// misread line is merely handled alone.
bool groupable_submit(std::string_view line) {
  const auto op = line.find("\"op\"");
  if (op == std::string_view::npos ||
      line.find("\"executor\"") != std::string_view::npos ||
      line.find("\"sbatch_script\"") != std::string_view::npos) {
    return false;
  }
  size_t i = op + 4;
  auto skip_spaces = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
  };
  skip_spaces();
  if (i >= line.size() || line[i] != ':') {
    return false;
  }
  ++i;
  skip_spaces();
  return line.substr(i, 8) == "\"submit\"";
}

// The shortest real gap between two ticks that API requests can cause, so a
// burst of submissions costs a few ticks rather than one each.
constexpr std::chrono::milliseconds kMinTickGap{20};

}  // namespace

void notify_service_manager(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') {
    return;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const size_t length = std::strlen(path);
  if (length >= sizeof address.sun_path) {
    return;
  }
  std::memcpy(address.sun_path, path, length);
  if (address.sun_path[0] == '@') {
    address.sun_path[0] = '\0';  // Abstract namespace.
  }
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return;
  }
  ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
           reinterpret_cast<const sockaddr*>(&address),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length));
  ::close(fd);
}

Daemon::Daemon(const Clock& clock, DaemonOptions options, AppFactory make_app,
               ConfigLoader load_config)
    : clock_(clock),
      options_(std::move(options)),
      make_app_(std::move(make_app)),
      load_config_(std::move(load_config)),
      timer_(io_),
      signals_(io_, SIGINT, SIGTERM, SIGHUP) {}

Daemon::~Daemon() {
  // Servers hold handlers into this object; close them first.
  http_server_.reset();
  socket_server_.reset();
}

Result<std::unique_ptr<Daemon>> Daemon::create(const config::Config& config,
                                               const Clock& clock,
                                               DaemonOptions options,
                                               AppFactory make_app,
                                               ConfigLoader load_config) {
  if (options.socket_path.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no socket path");
  }
  std::unique_ptr<Daemon> daemon(new Daemon(
      clock, std::move(options), std::move(make_app), std::move(load_config)));
  daemon->poll_period_ = daemon->options_.poll_period.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          config.daemon.poll_period));
  if (daemon->poll_period_ < std::chrono::milliseconds(10)) {
    daemon->poll_period_ = std::chrono::milliseconds(10);
  }
  daemon->started_at_ = clock.now();
  auto app = daemon->make_app_(config);
  if (!app) {
    return make_error(app.error());
  }
  daemon->app_ = std::move(*app);
  const TimePoint now = clock.now();
  if (auto s = daemon->app_->scheduler().recover(now); !s) {
    return make_error(s.error().with_context("recover jobs from " +
                                             daemon->app_->database().path()));
  }
  logger()->info("recovered {} active jobs from {}",
                 daemon->app_->scheduler().active_jobs().size(),
                 daemon->app_->database().path());
  daemon->make_service();
  daemon->watch_forecasts();
  if (auto s = daemon->start_servers(); !s) {
    return make_error(s.error());
  }
  return daemon;
}

void Daemon::make_service() {
  api::ApiServiceOptions options;
  options.limits.max_request_bytes = app_->config().daemon.max_request_bytes;
  options.daemon_uid = ::getuid();
  options.started_at = started_at_;
  App* app = app_.get();
  service_ = std::make_unique<api::ApiService>(
      app->scheduler(), app->store(),
      [app](const std::string& id, api::LogStream stream) {
        return app->log_path(id, stream == api::LogStream::kStderr);
      },
      options);
}

void Daemon::watch_forecasts() {
  auto* background = app_->background_forecasts();
  if (background == nullptr) {
    return;
  }
  // Runs on the fetcher's thread: only hand the news to the loop.
  background->set_on_update([this] {
    asio::post(io_, [this] {
      if (!stopping_) {
        app_->scheduler().invalidate_forecasts();
        kick();
      }
    });
  });
}

Status Daemon::start_servers() {
  api::UnixSocketServerOptions socket_options;
  socket_options.path = options_.socket_path;
  socket_options.group = options_.socket_group;
  socket_options.max_request_bytes = app_->config().daemon.max_request_bytes;
  socket_options.read_timeout = options_.read_timeout;
  socket_options.max_connections_per_user =
      app_->config().daemon.max_connections_per_user;
  auto rejected = [this] { service_->count_rejected(); };
  auto handler = [this](std::string_view line, const api::Peer& peer) {
    return handle_request(line, peer);
  };
  // Submissions over the socket are committed in groups (see daemon.h).
  api::AsyncRequestHandler socket_handler =
      [this](std::string_view line, const api::Peer& peer,
             std::function<void(std::string)> reply) {
        if (!group_commit_allowed() || !groupable_submit(line)) {
          reply(handle_request(line, peer));
          return;
        }
        pending_submits_.push_back(
            PendingSubmit{std::string(line), peer, std::move(reply)});
        if (pending_submits_.size() == 1) {
          // After the requests already read in this round of the loop.
          boost::asio::post(io_, [this] { flush_submits(); });
        }
      };
  auto socket_server = api::UnixSocketServer::create(io_, socket_options,
                                                     socket_handler, rejected);
  if (!socket_server) {
    return make_error(socket_server.error());
  }
  socket_server_ = std::move(*socket_server);
  logger()->info("listening on {}", socket_server_->path());

  if (!options_.http_listen.empty()) {
    auto tokens = api::load_http_tokens(options_.http_token_file,
                                        app_->config().daemon.http_tokens);
    if (!tokens) {
      return make_error(tokens.error());
    }
    service_->set_secrets(token_values(*tokens));
    api::HttpServerOptions http_options;
    http_options.listen = options_.http_listen;
    http_options.tokens = std::move(*tokens);
    http_options.max_request_bytes = app_->config().daemon.max_request_bytes;
    http_options.read_timeout = options_.read_timeout;
    http_options.extra_routes =
        make_daemon_routes([this]() -> App& { return *app_; }, clock_, handler);
    auto http = api::HttpServer::create(
        io_, http_options, handler,
        [this](const api::Peer& peer) {
          return service_->metrics_text(clock_.now(), peer);
        },
        rejected);
    if (!http) {
      return make_error(http.error());
    }
    http_server_ = std::move(*http);
    logger()->info("HTTP API on {} (port {})", options_.http_listen,
                   http_server_->port());
  }
  return {};
}

uint16_t Daemon::http_port() const {
  return http_server_ ? http_server_->port() : 0;
}

std::string Daemon::handle_request(std::string_view line,
                                   const api::Peer& peer) {
  std::string response = service_->handle(line, peer, clock_.now());
  if (changes_plans(line)) {
    kick();
  }
  return response;
}

bool Daemon::group_commit_allowed() const {
  for (const auto& zone : app_->config().zones) {
    if (zone.executor.rfind("slurm", 0) == 0) {
      return false;  // Slurm defers starts: it gets jobs at submission.
    }
  }
  return true;
}

void Daemon::flush_submits() {
  std::vector<PendingSubmit> batch = std::move(pending_submits_);
  pending_submits_.clear();
  if (batch.empty()) {
    return;
  }
  JobStore& store = app_->store();
  const bool grouped = store.begin_batch().has_value();
  const TimePoint now = clock_.now();
  std::vector<std::string> responses;
  responses.reserve(batch.size());
  for (const auto& submit : batch) {
    responses.push_back(service_->handle(submit.line, submit.peer, now));
  }
  if (grouped) {
    if (auto committed = store.commit_batch(); !committed) {
      store.abort_batch();
      logger()->error("could not store {} submission(s): {}", batch.size(),
                      committed.error().message);
      // None of them is stored: forget them and say so.
      for (auto& response : responses) {
        auto answer = nlohmann::json::parse(response, nullptr, false);
        if (answer.is_object() && answer.contains("result") &&
            !answer["result"].value("duplicate", false)) {
          app_->scheduler().discard(
              answer["result"].value("id", std::string()));
        }
        response = api::error_response(committed.error().with_context(
            "store the job (nothing was submitted)"));
      }
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].reply(std::move(responses[i]));
  }
  kick();
}

std::chrono::nanoseconds Daemon::real_wait_until(TimePoint next) const {
  if (next == TimePoint::max()) {
    return poll_period_;
  }
  std::chrono::nanoseconds wait;
  if (options_.scaled_clock != nullptr) {
    wait = options_.scaled_clock->real_time_until(next);
  } else {
    wait = std::max(std::chrono::nanoseconds(0),
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                        next - clock_.now()));
  }
  return std::clamp<std::chrono::nanoseconds>(
      wait, std::chrono::milliseconds(1), poll_period_);
}

void Daemon::arm_timer() {
  const TimePoint now = clock_.now();
  const TimePoint next = app_->scheduler().next_event(now, true);
  armed_for_ = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   real_wait_until(next));
  timer_.expires_at(armed_for_);
  timer_.async_wait([this](const error_code& ec) {
    if (!ec) {
      on_timer();
    }
  });
}

void Daemon::kick() {
  if (stopping_) {
    return;
  }
  // Tick soon, but not more often than kMinTickGap, and never later than
  // already planned.
  auto soon =
      std::max(std::chrono::steady_clock::now(), last_tick_ + kMinTickGap);
  if (soon >= armed_for_) {
    return;
  }
  armed_for_ = soon;
  timer_.expires_at(armed_for_);  // Cancels the pending wait.
  timer_.async_wait([this](const error_code& ec) {
    if (!ec) {
      on_timer();
    }
  });
}

void Daemon::on_timer() {
  if (stopping_) {
    return;
  }
  last_tick_ = std::chrono::steady_clock::now();
  app_->scheduler().tick(clock_.now());
  arm_timer();
}

void Daemon::wait_signal() {
  signals_.async_wait([this](const error_code& ec, int signal) {
    if (ec) {
      return;
    }
    if (signal == SIGHUP) {
      reload();
      wait_signal();
      return;
    }
    logger()->info("{} received: stopping; running jobs keep running",
                   signal == SIGTERM ? "SIGTERM" : "SIGINT");
    stop();
  });
}

void Daemon::reload() {
  notify_service_manager("RELOADING=1");
  logger()->info("SIGHUP received: reloading the configuration");
  auto config = load_config_();
  if (!config) {
    logger()->error("reload failed, keeping the running configuration: {}",
                    config.error().message);
    notify_service_manager("READY=1");
    return;
  }
  if (config->state_dir != app_->config().state_dir) {
    logger()->error(
        "reload refused, keeping the running configuration: "
        "state_dir changed from {} to {}; restart the daemon to "
        "move it",
        app_->config().state_dir, config->state_dir);
    notify_service_manager("READY=1");
    return;
  }
  const auto& old_daemon = app_->config().daemon;
  if (config->daemon.socket_path != old_daemon.socket_path ||
      config->daemon.http_listen != old_daemon.http_listen ||
      config->daemon.socket_group != old_daemon.socket_group) {
    logger()->warn(
        "daemon.socket_path, socket_group and http_listen changes "
        "take effect at the next restart");
  }
  // Tokens are re-read too, so a leaked one is revoked by editing the
  // configuration (or the token file) and sending SIGHUP.
  std::optional<std::vector<api::HttpToken>> tokens;
  if (http_server_) {
    auto loaded = api::load_http_tokens(options_.http_token_file,
                                        config->daemon.http_tokens);
    if (loaded) {
      if (auto valid = api::validate_http_tokens(*loaded); !valid) {
        loaded = make_error(valid.error());
      }
    }
    if (!loaded) {
      logger()->error("reload failed, keeping the running configuration: {}",
                      loaded.error().message);
      notify_service_manager("READY=1");
      return;
    }
    tokens = std::move(*loaded);
  }
  init_logging(config->logging);
  auto app = make_app_(*config);
  if (!app) {
    logger()->error("reload failed, keeping the running configuration: {}",
                    app.error().message);
    notify_service_manager("READY=1");
    return;
  }
  if (auto s = (*app)->scheduler().recover(clock_.now()); !s) {
    logger()->error("reload failed, keeping the running configuration: {}",
                    s.error().message);
    notify_service_manager("READY=1");
    return;
  }
  // The old wiring goes; its jobs were re-adopted by the new one from the
  // store, which is written before every action.
  service_.reset();
  app_ = std::move(*app);
  make_service();
  socket_server_->set_max_connections_per_user(
      app_->config().daemon.max_connections_per_user);
  // `tokens` is set whenever the HTTP API runs (re-read above).
  service_->set_secrets(tokens ? token_values(*tokens)
                               : std::vector<std::string>{});
  if (tokens) {
    const size_t count = tokens->size();
    // Validated above, so this cannot fail.
    (void)http_server_->set_tokens(std::move(*tokens));
    logger()->info("HTTP API tokens reloaded: {} in use", count);
  }
  watch_forecasts();
  logger()->info("configuration reloaded from {}: {} zones, {} active jobs",
                 app_->config().source, app_->config().zones.size(),
                 app_->scheduler().active_jobs().size());
  kick();
  notify_service_manager("READY=1");
}

void Daemon::stop() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  notify_service_manager("STOPPING=1");
  error_code ignored;
  timer_.cancel();
  signals_.cancel(ignored);
  if (socket_server_) {
    socket_server_->stop();
  }
  if (http_server_) {
    http_server_->stop();
  }
  io_.stop();
}

int Daemon::run() {
  wait_signal();
  last_tick_ = std::chrono::steady_clock::now() - kMinTickGap;
  // The first tick comes at once: recover() asked for a re-plan.
  armed_for_ = std::chrono::steady_clock::now();
  timer_.expires_at(armed_for_);
  timer_.async_wait([this](const error_code& ec) {
    if (!ec) {
      on_timer();
    }
  });
  notify_service_manager(fmt::format("READY=1\nMAINPID={}", ::getpid()));
  logger()->info("lowcarb daemon {} running (pid {}), state in {}",
                 LOWCARB_VERSION, ::getpid(), app_->config().state_dir);
  io_.run();
  logger()->info("lowcarb daemon stopped");
  return 0;
}

}  // namespace lowcarb::scheduler
