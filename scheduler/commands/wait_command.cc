// SPDX-License-Identifier: Apache-2.0
// `lowcarb wait --duration D --deadline T [--zone Z]`: blocks until the
// green window for work of length D that must end by T, then exits 0, so a
// shell script, CI step or sbatch script can run its work next. With a
// daemon answering on the socket the wait goes through it: it submits a
// placeholder job (`true`) that the daemon plans like any other (capacity,
// re-plans) and returns when the daemon starts it. Without a daemon it plans
// locally with the configured providers, in a temporary state directory.
// Exit codes: 0 the planned start came; 1 planning or the placeholder job
// failed (or it was cancelled); 2 bad arguments or configuration; 3 the
// daemon named by --socket is unreachable; 130 interrupted (the placeholder
// job is cancelled).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "scheduler/api/api_client.h"
#include "scheduler/api/protocol.h"
#include "scheduler/app.h"
#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"
#include "scheduler/scaled_clock.h"

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "wait";
constexpr auto kPollPeriod = std::chrono::milliseconds(200);

struct WaitArgs {
  std::string duration;
  std::string deadline;
  std::string earliest;
  std::vector<std::string> zones;
  std::string name;
  std::string socket;
  bool local = false;
  bool quiet = false;
  double clock_speed = 1.0;
};

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted = true; }

// Restores the previous SIGINT/SIGTERM handlers on scope exit.
struct InterruptGuard {
  struct sigaction old_int {};
  struct sigaction old_term {};
  InterruptGuard() {
    g_interrupted = false;
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &action, &old_int);
    ::sigaction(SIGTERM, &action, &old_term);
  }
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
  }
};

std::string self_binary() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("lowcarb") : path.string();
}

// Waits through the daemon. False when no daemon answered and the caller
// may plan locally instead.
bool wait_through_daemon(const WaitArgs& args, const std::string& socket,
                         bool explicit_socket, CliContext& context) {
  auto client = api::ApiClient::connect(socket, std::chrono::seconds(10));
  if (!client) {
    if (explicit_socket) {
      context.fail(kCommand, client.error().message, kExitDaemonUnreachable);
      return true;
    }
    return false;
  }
  nlohmann::json request{
      {"op", "submit"},
      {"argv", nlohmann::json::array({"true"})},
      {"name", args.name.empty() ? "lowcarb wait" : "wait: " + args.name},
      {"duration", args.duration},
      {"deadline", args.deadline}};
  if (!args.earliest.empty()) {
    request["earliest"] = args.earliest;
  }
  if (!args.zones.empty()) {
    request["zones"] = args.zones;
  }
  std::error_code ec;
  request["working_dir"] = std::filesystem::current_path(ec).string();
  // Installed before the submit, so an interrupt from here on cancels the
  // placeholder rather than leaving it queued.
  InterruptGuard guard;
  auto job = (*client)->call(request);
  if (!job) {
    context.fail(kCommand, job.error().message,
                 job.error().code == ErrorCode::kInvalidArgument
                     ? kExitUsage
                     : kExitFailure);
    return true;
  }
  const std::string id = (*job)["id"];
  if (!args.quiet) {
    context.err << "lowcarb wait: job " << id
                << " (via the daemon): " << plan_summary(*job) << "\n";
  }
  while (true) {
    if (g_interrupted) {
      (void)(*client)->call({{"op", "cancel"}, {"id", id}});
      context.fail(kCommand, "interrupted; cancelled job " + id,
                   kExitInterrupted);
      return true;
    }
    auto shown = (*client)->call({{"op", "show"}, {"id", id}});
    if (!shown) {
      context.fail(kCommand, shown.error().message, kExitFailure);
      return true;
    }
    const std::string state = (*shown)["state"];
    if (state == "starting" || state == "running" || state == "succeeded") {
      if (!args.quiet) {
        context.err << "lowcarb wait: the daemon started job " << id << " at "
                    << shown->value("started_at", "now") << "\n";
      }
      return true;
    }
    if (state == "failed" || state == "cancelled") {
      context.fail(kCommand,
                   fmt::format("job {} {}: {}", id, state,
                               shown->value("message", std::string())),
                   kExitFailure);
      return true;
    }
    std::this_thread::sleep_for(kPollPeriod);
  }
}

void wait_locally(const WaitArgs& args, const Clock& clock,
                  const ScaledClock* scaled, CliContext& context) {
  const TimePoint now = clock.now();
  JobSpec spec;
  spec.name = args.name.empty() ? "lowcarb wait" : args.name;
  spec.argv = {"true"};
  spec.duration = *parse_duration(args.duration);
  spec.deadline = *parse_time_spec(args.deadline, now);
  spec.earliest =
      args.earliest.empty() ? now : *parse_time_spec(args.earliest, now);
  spec.zones = args.zones;
  spec.executor = "local";
  spec.uid = ::getuid();
  spec.gid = ::getgid();
  std::error_code ec;
  spec.working_dir = std::filesystem::current_path(ec).string();
  if (auto s = spec.validate(); !s) {
    return context.fail(kCommand, s.error().message, kExitUsage);
  }
  const config::Config* loaded = context.config();
  if (loaded == nullptr) {
    return;
  }
  config::Config config = *loaded;
  std::string dir =
      (std::filesystem::temp_directory_path(ec) / "lowcarb-wait-XXXXXX")
          .string();
  if (::mkdtemp(dir.data()) == nullptr) {
    return context.fail(kCommand,
                        "cannot create a temporary state directory " + dir);
  }
  config.state_dir = dir;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{dir};
  AppOptions options;
  options.self_binary = self_binary();
  auto app = App::create(config, clock, options);
  if (!app) {
    return context.fail(kCommand, app.error().message, kExitUsage);
  }
  auto job = (*app)->scheduler().submit(spec, now);
  if (!job) {
    return context.fail(kCommand, job.error().message,
                        job.error().code == ErrorCode::kInvalidArgument
                            ? kExitUsage
                            : kExitFailure);
  }
  const nlohmann::json plan = api::job_to_json(*job, nullptr);
  if (!plan.contains("planned_start")) {
    return context.fail(kCommand, "no plan: " + job->message, kExitFailure);
  }
  const TimePoint start = *parse_time(plan["planned_start"].get<std::string>());
  if (!args.quiet) {
    context.err << "lowcarb wait: planned locally (no daemon): "
                << plan_summary(plan) << "\n";
  }
  InterruptGuard guard;
  while (clock.now() < start) {
    if (g_interrupted) {
      return context.fail(kCommand, "interrupted", kExitInterrupted);
    }
    auto left = scaled != nullptr
                    ? scaled->real_time_until(start)
                    : std::chrono::nanoseconds(start - clock.now());
    std::this_thread::sleep_for(
        std::min<std::chrono::nanoseconds>(left, kPollPeriod));
  }
  if (!args.quiet) {
    context.err << "lowcarb wait: planned start " << format_utc(start)
                << " reached\n";
  }
}

void run_wait(const WaitArgs& args, CliContext& context) {
  auto usage = [&context](const std::string& message) {
    context.fail(kCommand, message, kExitUsage);
  };
  auto duration = parse_duration(args.duration);
  if (!duration || duration->count() <= 0) {
    return usage("--duration '" + args.duration + "': " +
                 (duration ? "must be positive" : duration.error().message));
  }
  const TimePoint now = context.clock.now();
  if (auto deadline = parse_time_spec(args.deadline, now); !deadline) {
    return usage("--deadline: " + deadline.error().message);
  }
  if (!args.earliest.empty()) {
    if (auto earliest = parse_time_spec(args.earliest, now); !earliest) {
      return usage("--earliest: " + earliest.error().message);
    }
  }
  if (!(args.clock_speed > 0 && args.clock_speed <= 1e6)) {
    return usage("--clock-speed: must be in (0, 1000000]");
  }
  if (!args.local) {
    const char* env = std::getenv("LOWCARB_SOCKET");
    const bool explicit_socket = !args.socket.empty() || (env && *env);
    auto socket = resolve_socket_path(args.socket, context);
    if (!socket) {
      return;
    }
    if (wait_through_daemon(args, *socket, explicit_socket, context)) {
      return;
    }
  }
  std::unique_ptr<ScaledClock> scaled;
  if (args.clock_speed != 1.0) {
    scaled = std::make_unique<ScaledClock>(context.clock, args.clock_speed);
  }
  wait_locally(args, scaled ? *scaled : context.clock, scaled.get(), context);
}

}  // namespace

void add_wait_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<WaitArgs>();
  auto* sub = app.add_subcommand(
      "wait",
      "Block until the green window for work of a given length, then exit 0");
  sub->footer(
      "Exit codes: 0 the planned start came, 1 planning or the placeholder "
      "job failed, 2 usage or configuration, 3 the daemon named by --socket "
      "or LOWCARB_SOCKET is unreachable, 130 interrupted.");
  sub->add_option("--duration", args->duration,
                  "Length of the work that follows, e.g. 2h")
      ->required();
  sub->add_option("--deadline", args->deadline,
                  "When the work must be done: ISO 8601 with offset or +12h")
      ->required();
  sub->add_option("--earliest", args->earliest, "Not before this time");
  sub->add_option("--zone", args->zones, "Allowed zone (repeatable)");
  sub->add_option("--name", args->name, "A name for the placeholder job");
  sub->add_option("--socket", args->socket,
                  "The daemon's socket (then unreachable = exit 3)");
  sub->add_flag("--local", args->local,
                "Plan locally even when a daemon is running");
  sub->add_flag("--quiet,-q", args->quiet, "No progress lines");
  sub->add_option("--clock-speed", args->clock_speed,
                  "Testing and demos: run local planning's clock N times "
                  "faster");
  sub->callback([args, &context] { run_wait(*args, context); });
}

}  // namespace lowcarb::scheduler
