// SPDX-License-Identifier: Apache-2.0
// `lowcarb daemon`: takes the state directory's lock, builds the App,
// recovers the jobs, serves the socket (and HTTP) and runs the loop. Without
// --foreground it detaches once the socket is ready and reports start-up
// errors before exiting.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/logging.h"
#include "config/load_config.h"
#include "scheduler/app.h"
#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"
#include "scheduler/daemon.h"
#include "scheduler/scaled_clock.h"
#include "scheduler/state_lock.h"

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "daemon";

struct DaemonArgs {
  bool foreground = false;
  std::string socket;
  std::string http;
  std::string http_token_file;
  std::string state_dir;
  std::string log_format;
  std::string log_file;
  double clock_speed = 1.0;
};

std::string self_binary() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("lowcarb") : path.string();
}

// The configuration with the command line's overrides applied.
config::Config with_overrides(config::Config config, const DaemonArgs& args,
                              const std::string& log_level) {
  if (!args.state_dir.empty()) {
    // Paths the loader derived from the old state directory follow it.
    const std::string old_dir = config.state_dir;
    config.state_dir = args.state_dir;
    if (config.daemon.socket_path.empty() ||
        config.daemon.socket_path == old_dir + "/lowcarb.sock") {
      config.daemon.socket_path = args.state_dir + "/lowcarb.sock";
    }
    if (config.executors.local.log_dir.empty() ||
        config.executors.local.log_dir == old_dir + "/logs") {
      config.executors.local.log_dir = args.state_dir + "/logs";
    }
  }
  if (!args.socket.empty()) {
    config.daemon.socket_path = args.socket;  // The state dir's mode needs it.
  }
  if (!args.log_format.empty()) {
    config.logging.format = args.log_format;
  }
  if (!args.log_file.empty()) {
    config.logging.file = args.log_file;
  }
  if (log_level != "warn") {  // --log-level given: it wins over the file.
    config.logging.level = log_level;
  }
  if (!args.http.empty()) {
    config.daemon.http_listen = args.http;
  }
  if (!args.http_token_file.empty()) {
    config.daemon.http_token_file = args.http_token_file;
  }
  return config;
}

// Runs the daemon in this process. `ready` is called once serving (or with
// the error that stopped the start). Returns the exit status.
int serve(const config::Config& config, const std::string& config_path,
          const DaemonArgs& args, const std::string& log_level,
          CliContext& context,
          const std::function<void(const std::string&)>& ready) {
  auto lock = StateLock::acquire(config.state_dir);
  if (!lock) {
    ready(lock.error().message);
    return lock.error().code == ErrorCode::kConflict ? kExitFailure
                                                     : kExitUsage;
  }
  auto log = get_logger("daemon");
  if (!(*lock)->stale_description().empty()) {
    log->warn("{}", (*lock)->stale_description());
  }
  std::unique_ptr<ScaledClock> scaled;
  const Clock* clock = &context.clock;
  if (args.clock_speed != 1.0) {
    scaled = std::make_unique<ScaledClock>(context.clock, args.clock_speed);
    clock = scaled.get();
    log->warn(
        "clock runs {}x faster than real time (--clock-speed, a testing "
        "and demo aid)",
        args.clock_speed);
  }
  DaemonOptions options;
  options.socket_path = args.socket;
  if (options.socket_path.empty()) {
    options.socket_path =
        config.daemon.socket_path.empty()
            ? (std::filesystem::path(config.state_dir) / "lowcarb.sock")
                  .string()
            : config.daemon.socket_path;
  }
  options.socket_group = config.daemon.socket_group;
  options.http_listen = config.daemon.http_listen;
  options.http_token_file = config.daemon.http_token_file;
  options.scaled_clock = scaled.get();
  AppOptions app_options;
  app_options.self_binary = self_binary();
  app_options.background_forecasts = true;
  auto make_app = [clock, app_options](const config::Config& c) {
    return App::create(c, *clock, app_options);
  };
  auto reload = [config_path, args, log_level]() -> Result<config::Config> {
    if (config_path.empty()) {
      return with_overrides(config::default_config(), args, log_level);
    }
    auto loaded = config::load_config(config_path);
    if (!loaded) {
      return make_error(loaded.error());
    }
    return with_overrides(std::move(*loaded), args, log_level);
  };
  auto daemon = Daemon::create(config, *clock, options, make_app, reload);
  if (!daemon) {
    ready(daemon.error().message);
    return daemon.error().code == ErrorCode::kInvalidArgument ? kExitUsage
                                                              : kExitFailure;
  }
  ready("");
  return (*daemon)->run();
}

void run_daemon(const DaemonArgs& args, CliContext& context) {
  if (!(args.clock_speed > 0 && args.clock_speed <= 1e6)) {
    context.fail(kCommand, "--clock-speed must be in (0, 1000000]", kExitUsage);
    return;
  }
  const config::Config* loaded = context.config();
  if (loaded == nullptr) {
    return;  // Reported.
  }
  std::string config_path = context.config_path;
  if (config_path.empty()) {
    if (const char* env = std::getenv("LOWCARB_CONFIG")) {
      config_path = env;
    }
  }
  const config::Config config =
      with_overrides(*loaded, args, context.log_level);
  if (config.state_dir.empty()) {
    context.fail(kCommand, "no state directory (set state_dir or --state-dir)",
                 kExitUsage);
    return;
  }

  if (args.foreground) {
    init_logging(config.logging);
    context.exit_code = serve(config, config_path, args, context.log_level,
                              context, [&context](const std::string& error) {
                                if (!error.empty()) {
                                  context.err << "lowcarb daemon: " << error
                                              << "\n";
                                }
                              });
    return;
  }

  // Detach: the child reports "ok" or its start-up error through a pipe so
  // this process can exit with the right status.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    context.fail(kCommand, fmt::format("pipe: {}", std::strerror(errno)));
    return;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    context.fail(kCommand, fmt::format("fork: {}", std::strerror(errno)));
    return;
  }
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::setsid();
    config::Config child_config = config;
    if (child_config.logging.file.empty()) {
      child_config.logging.file =
          (std::filesystem::path(config.state_dir) / "daemon.log").string();
    }
    std::error_code ec;
    std::filesystem::create_directories(config.state_dir, ec);
    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
      if (null_fd > STDERR_FILENO) {
        ::close(null_fd);
      }
    }
    init_logging(child_config.logging);
    int write_fd = pipe_fds[1];
    int status = serve(child_config, config_path, args, context.log_level,
                       context, [write_fd](const std::string& error) {
                         std::string message = error.empty() ? "ok" : error;
                         [[maybe_unused]] auto n =
                             ::write(write_fd, message.data(), message.size());
                         ::close(write_fd);
                       });
    ::_exit(status);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
    message.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (message != "ok") {
    context.fail(kCommand, message.empty() ? "the daemon exited during start-up"
                                           : message);
    return;
  }
  context.out << fmt::format(
      "lowcarb daemon started (pid {}); logs in {}\n", pid,
      config.logging.file.empty()
          ? (std::filesystem::path(config.state_dir) / "daemon.log").string()
          : config.logging.file);
}

}  // namespace

void add_daemon_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<DaemonArgs>();
  auto* sub = app.add_subcommand(
      "daemon", "Run the scheduler daemon (socket API, optional HTTP API)");
  sub->add_flag("--foreground", args->foreground,
                "Stay in the foreground (systemd, containers)");
  sub->add_option("--socket", args->socket,
                  "Socket path (default: daemon.socket_path, else "
                  "<state_dir>/lowcarb.sock)");
  sub->add_option("--http", args->http,
                  "Also serve HTTP on a loopback address, e.g. 127.0.0.1:8787");
  sub->add_option("--http-token-file", args->http_token_file,
                  "File holding the HTTP API's bearer token (mode 600)");
  sub->add_option("--state-dir", args->state_dir,
                  "State directory (overrides state_dir in the configuration)");
  sub->add_option("--log-format", args->log_format,
                  "text or journald (default: logging.format)")
      ->check(CLI::IsMember({"text", "journald"}));
  sub->add_option("--log-file", args->log_file,
                  "Append logs here (default: stderr in the foreground, "
                  "<state_dir>/daemon.log otherwise)");
  sub->add_option("--clock-speed", args->clock_speed,
                  "Testing and demo aid: run the scheduler's clock N times "
                  "faster than real time");
  sub->callback([args, &context] { run_daemon(*args, context); });
}

}  // namespace lowcarb::scheduler
