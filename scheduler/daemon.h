// SPDX-License-Identifier: Apache-2.0
// The long-lived scheduler process: one Boost.Asio event loop that drives
// Scheduler::tick(now) at Scheduler::next_event(now) (capped at the poll
// period), serves the control socket and the optional HTTP API, and handles
// signals. Submissions over the socket are committed in groups: those read
// in one round of the loop are stored in one transaction and answered once
// it is durable (synchronous=FULL), so the daemon syncs once per group, not
// once per job (not when a zone uses Slurm, whose deferred starts happen at
// submission). Other signals: SIGTERM/SIGINT stop gracefully (running jobs
// keep running and are re-adopted at the next start), SIGHUP reloads the
// configuration (an invalid one keeps the old and logs why). Everything runs
// on the loop's one thread except forecast fetching, which the App does on a
// worker thread (forecast/background_forecasts.h) that posts to the loop when
// a refresh brings news; the Daemon is not thread-safe. With NOTIFY_SOCKET
// set (systemd Type=notify) it reports READY=1, RELOADING=1 and STOPPING=1
// itself.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "scheduler/api/api_service.h"
#include "scheduler/api/http_server.h"
#include "scheduler/api/unix_socket_server.h"
#include "scheduler/app.h"
#include "scheduler/scaled_clock.h"

namespace lowcarb::scheduler {

struct DaemonOptions {
  std::string socket_path;      // REQUIRES: not empty.
  std::string socket_group;     // "" = the daemon's group.
  std::string http_listen;      // "" = no HTTP API.
  std::string http_token_file;  // REQUIRES: set when http_listen is.
  std::chrono::milliseconds read_timeout{10000};
  // Real-time cap on the wait between ticks. Default: config poll period.
  std::optional<std::chrono::milliseconds> poll_period;
  // When the clock is a ScaledClock, real waits are converted through it.
  const ScaledClock* scaled_clock = nullptr;
};

// Builds the wiring for a configuration (at start and on reload).
using AppFactory =
    std::function<Result<std::unique_ptr<App>>(const config::Config&)>;
// Loads the configuration again for SIGHUP, with command-line overrides
// applied.
using ConfigLoader = std::function<Result<config::Config>()>;

class Daemon {
 public:
  // Builds the App, recovers the jobs in the store, binds the socket (and
  // the HTTP API). Errors name what failed (socket path, token file, state
  // database). `clock` must outlive the daemon.
  static Result<std::unique_ptr<Daemon>> create(const config::Config& config,
                                                const Clock& clock,
                                                DaemonOptions options,
                                                AppFactory make_app,
                                                ConfigLoader load_config);
  ~Daemon();

  // Runs the loop until SIGTERM/SIGINT or stop(). Returns the exit status.
  int run();
  // Asks the loop to stop; safe from the loop thread only.
  void stop();

  // The bound HTTP port (0 without HTTP): tests pass port 0.
  uint16_t http_port() const;
  App& app() { return *app_; }

 private:
  Daemon(const Clock& clock, DaemonOptions options, AppFactory make_app,
         ConfigLoader load_config);
  Status start_servers();
  void make_service();
  // Has the scheduler ask again when the background fetcher has news.
  void watch_forecasts();
  std::string handle_request(std::string_view line, const api::Peer& peer);
  bool group_commit_allowed() const;
  // Executes and commits the pending submissions, then answers them.
  void flush_submits();
  void on_timer();
  void arm_timer();
  void kick();
  void wait_signal();
  void reload();
  std::chrono::nanoseconds real_wait_until(TimePoint next) const;

  const Clock& clock_;
  DaemonOptions options_;
  AppFactory make_app_;
  ConfigLoader load_config_;
  std::chrono::milliseconds poll_period_{5000};
  TimePoint started_at_;

  boost::asio::io_context io_;
  boost::asio::steady_timer timer_;
  boost::asio::signal_set signals_;
  std::unique_ptr<App> app_;
  std::unique_ptr<api::ApiService> service_;
  std::unique_ptr<api::UnixSocketServer> socket_server_;
  std::unique_ptr<api::HttpServer> http_server_;
  std::chrono::steady_clock::time_point armed_for_;
  std::chrono::steady_clock::time_point last_tick_;
  bool stopping_ = false;
  struct PendingSubmit {
    std::string line;
    api::Peer peer;
    std::function<void(std::string)> reply;
  };
  std::vector<PendingSubmit> pending_submits_;  // Read, not yet executed.
};

// Sends `state` ("READY=1", ...) to $NOTIFY_SOCKET if set; a no-op otherwise.
// Errors are ignored: notification is best effort.
void notify_service_manager(const std::string& state);

}  // namespace lowcarb::scheduler
