// SPDX-License-Identifier: Apache-2.0
// `lowcarb run [plan options] -- COMMAND`: no daemon needed. Builds an App in
// the user's state directory (the configured one, or --state-dir; with
// --ephemeral a temporary one, removed afterwards) so `lowcarb report` shows
// the job's ledger later; submits one job, waits for
// its planned start showing a countdown, runs it through the local executor
// with its output copied to this terminal, and prints its report line
// (energy, emissions, savings). Ctrl-C cancels the job.
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
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
#include "scheduler/api/api_service.h"
#include "scheduler/api/protocol.h"
#include "scheduler/app.h"
#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"
#include "scheduler/state_lock.h"

extern char** environ;

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "run";

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) { g_interrupted = true; }

struct RunArgs {
  std::string name;
  std::string duration;
  std::string deadline;
  std::string earliest;
  std::vector<std::string> zones;
  bool interruptible = false;
  std::string pause_mode = "stop";
  std::optional<double> power;
  std::string hardware;
  std::optional<double> threshold;
  std::string state_dir;
  bool ephemeral = false;
  bool json = false;
  bool quiet = false;
  std::vector<std::string> command;
};

std::string self_binary() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("lowcarb") : path.string();
}

// Copies new bytes of `path` from `offset` to `out`; returns the new offset.
int64_t copy_new_output(const std::string& path, int64_t offset,
                        std::ostream& out) {
  while (true) {
    auto chunk = api::read_log_chunk(path, offset, 1 << 16);
    if (!chunk || chunk->data.empty()) {
      return offset;
    }
    out << chunk->data;
    out.flush();
    offset = chunk->next_offset;
  }
}

std::string progress_bar(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  int filled = static_cast<int>(fraction * width);
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') +
         "]";
}

void run_run(const RunArgs& args, CliContext& context) {
  auto usage = [&context](const std::string& message) {
    context.fail(kCommand, message, kExitUsage);
  };
  if (args.command.empty()) {
    return usage("missing command: lowcarb run [options] -- COMMAND [ARGS...]");
  }
  const TimePoint now = context.clock.now();
  JobSpec spec;
  spec.name = args.name;
  spec.argv = args.command;
  auto duration = parse_duration(args.duration);
  if (!duration || duration->count() <= 0) {
    return usage("--duration '" + args.duration + "': " +
                 (duration ? "must be positive" : duration.error().message));
  }
  spec.duration = *duration;
  auto deadline = parse_time_spec(args.deadline, now);
  if (!deadline) {
    return usage("--deadline: " + deadline.error().message);
  }
  spec.deadline = *deadline;
  spec.earliest = now;
  if (!args.earliest.empty()) {
    auto earliest = parse_time_spec(args.earliest, now);
    if (!earliest) {
      return usage("--earliest: " + earliest.error().message);
    }
    spec.earliest = *earliest;
  }
  spec.zones = args.zones;
  spec.interruptible = args.interruptible;
  spec.pause_mode = args.pause_mode == "checkpoint"
                        ? executors::PauseMode::kCheckpoint
                        : executors::PauseMode::kStop;
  spec.power_watts = args.power.value_or(0);
  spec.hardware = args.hardware;
  spec.threshold_gco2_per_kwh = args.threshold;
  spec.executor = "local";
  spec.uid = ::getuid();
  spec.gid = ::getgid();
  if (const passwd* pw = ::getpwuid(spec.uid)) {
    spec.user = pw->pw_name;
  }
  std::error_code ec;
  spec.working_dir = std::filesystem::current_path(ec).string();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      spec.env[std::string(entry.substr(0, eq))] =
          std::string(entry.substr(eq + 1));
    }
  }
  if (auto s = spec.validate(); !s) {
    return usage(s.error().message);
  }

  const config::Config* loaded = context.config();
  if (loaded == nullptr) {
    return;
  }
  config::Config config = *loaded;
  const bool temporary = args.ephemeral;
  std::unique_ptr<StateLock> lock;
  if (temporary) {
    std::string pattern =
        (std::filesystem::temp_directory_path(ec) / "lowcarb-run-XXXXXX")
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      context.fail(kCommand,
                   "cannot create a temporary state directory in " + pattern);
      return;
    }
    config.state_dir = pattern;
  } else {
    if (!args.state_dir.empty()) {
      config.state_dir = args.state_dir;
    }
    // One owner per state directory: a daemon there would adopt (or be
    // confused by) this process's job.
    auto locked = StateLock::acquire(config.state_dir);
    if (!locked) {
      context.fail(kCommand,
                   locked.error().code == ErrorCode::kConflict
                       ? locked.error().message +
                             "; submit through the daemon (lowcarb submit) "
                             "or run with --ephemeral or another --state-dir"
                       : locked.error().message,
                   kExitFailure);
      return;
    }
    lock = std::move(*locked);
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
      }
    }
  } cleanup{temporary ? config.state_dir : std::string()};

  AppOptions app_options;
  app_options.self_binary = self_binary();
  auto app = App::create(config, context.clock, app_options);
  if (!app) {
    context.fail(kCommand, app.error().message, kExitUsage);
    return;
  }
  Scheduler& scheduler = (*app)->scheduler();
  auto job = scheduler.submit(spec, context.clock.now());
  if (!job) {
    context.fail(kCommand, job.error().message,
                 job.error().code == ErrorCode::kInvalidArgument
                     ? kExitUsage
                     : kExitFailure);
    return;
  }
  const std::string id = job->id;
  const Requester me{spec.uid};
  nlohmann::json plan_json = api::job_to_json(*job, nullptr);
  if (!args.quiet) {
    context.err << "lowcarb run: " << plan_summary(plan_json) << "\n";
  }

  struct sigaction action {};
  action.sa_handler = on_interrupt;
  struct sigaction old_int {};
  struct sigaction old_term {};
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  const bool tty = ::isatty(STDERR_FILENO) != 0 && !args.quiet;
  const std::string out_log = (*app)->log_path(id, false);
  const std::string err_log = (*app)->log_path(id, true);
  int64_t out_offset = 0;
  int64_t err_offset = 0;
  JobState last_state = job->state;
  bool cancelled = false;
  while (true) {
    const TimePoint t = context.clock.now();
    scheduler.tick(t);
    out_offset = copy_new_output(out_log, out_offset, context.out);
    err_offset = copy_new_output(err_log, err_offset, context.err);
    auto current = scheduler.job(id, me);
    if (!current) {
      context.fail(kCommand, current.error().message);
      return;
    }
    if (is_terminal(current->state)) {
      job = current;
      break;
    }
    if (g_interrupted && !cancelled) {
      cancelled = true;
      if (tty) {
        context.err << "\n";
      }
      context.err << "lowcarb run: interrupted; cancelling job " << id << "\n";
      if (auto s = scheduler.cancel(id, me, t); !s) {
        context.err << "lowcarb run: " << s.error().message << "\n";
      }
      continue;
    }
    if (tty) {
      std::string line;
      if (current->state == JobState::kQueued ||
          current->state == JobState::kPaused) {
        TimePoint start = current->plan ? current->plan->start() : t;
        line = fmt::format(
            "{} job {}: starts in {} (at {}) in {}",
            current->state == JobState::kPaused ? "paused" : "waiting", id,
            format_duration(std::max(Duration(0), start - t)),
            format_utc(start), current->zone);
      } else {
        Duration done = current->run_time;
        if (current->running_since) {
          done += t - *current->running_since;
        }
        double fraction = static_cast<double>(done.count()) /
                          static_cast<double>(spec.duration.count());
        line = fmt::format("running job {} {} {:.0f}% of {}", id,
                           progress_bar(fraction, 30), fraction * 100,
                           format_duration(spec.duration));
      }
      context.err << "\r\033[K" << line << std::flush;
    } else if (current->state != last_state && !args.quiet) {
      context.err << "lowcarb run: job " << id << " "
                  << to_string(current->state) << "\n";
    }
    last_state = current->state;
    TimePoint next = scheduler.next_event(t, true);
    auto wait = std::chrono::milliseconds(1000);
    if (next != TimePoint::max() && next - t < Duration(1)) {
      wait = std::chrono::milliseconds(200);
    }
    std::this_thread::sleep_for(
        std::min(wait, std::chrono::milliseconds(tty ? 500 : 1000)));
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (tty) {
    context.err << "\r\033[K";
  }
  copy_new_output(out_log, out_offset, context.out);
  copy_new_output(err_log, err_offset, context.err);

  JobEmissions sums;
  LedgerFilter filter;
  filter.job_id = id;
  if (auto records = (*app)->store().ledger(filter)) {
    for (const auto& r : *records) {
      sums.joules += r.joules();
      sums.grams += r.grams;
      sums.counterfactual_grams += r.counterfactual_grams;
      sums.metered += r.end - r.start;
    }
  }
  if (args.json) {
    context.out << api::job_to_json(*job, &sums).dump(2) << "\n";
  } else if (!args.quiet) {
    double saved_percent =
        sums.counterfactual_grams > 0
            ? 100.0 * sums.saved_grams() / sums.counterfactual_grams
            : 0.0;
    context.err << fmt::format(
        "lowcarb run: job {} {} after {}: {:.4f} kWh, {} CO2e, saved {} "
        "({:.1f}%) vs starting at once\n",
        id, to_string(job->state), format_duration(job->run_time),
        sums.joules / 3.6e6, format_kg(sums.grams / 1000),
        format_kg(sums.saved_grams() / 1000), saved_percent);
    if (!temporary) {
      context.err << fmt::format(
          "lowcarb run: ledger kept in {}/lowcarb.db (lowcarb report{})\n",
          config.state_dir,
          args.state_dir.empty() ? "" : " --state-dir " + args.state_dir);
    }
  }
  if (cancelled) {
    context.exit_code = kExitInterrupted;
  } else if (job->state != JobState::kSucceeded) {
    context.exit_code = kExitFailure;
  }
}

}  // namespace

void add_run_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<RunArgs>();
  auto* sub = app.add_subcommand(
      "run",
      "Run one job at its greenest time, no daemon needed; waits for it");
  sub->add_option("--name", args->name, "A name for the job");
  sub->add_option("--duration", args->duration, "Expected run time, e.g. 2h")
      ->required();
  sub->add_option("--deadline", args->deadline,
                  "Finish by: ISO 8601 time with offset, or +DUR from now")
      ->required();
  sub->add_option("--earliest", args->earliest,
                  "Do not start before this time (default: now)");
  sub->add_option("--zone", args->zones, "Allowed zone (repeatable)");
  sub->add_flag("--interruptible", args->interruptible,
                "The job may be paused and resumed");
  sub->add_option("--pause-mode", args->pause_mode, "stop or checkpoint")
      ->check(CLI::IsMember({"stop", "checkpoint"}));
  auto* power =
      sub->add_option("--power", args->power, "Declared power draw in watts");
  sub->add_option("--hardware", args->hardware, "Hardware spec")
      ->excludes(power);
  sub->add_option("--threshold", args->threshold,
                  "Start at once if the intensity is at or below G gCO2eq/kWh");
  auto* state_dir = sub->add_option(
      "--state-dir", args->state_dir,
      "Keep state here (default: the configured state_dir, which `lowcarb "
      "report` reads)");
  sub->add_flag("--ephemeral", args->ephemeral,
                "Keep state in a temporary directory, removed afterwards "
                "(the job is not in `lowcarb report`)")
      ->excludes(state_dir);
  sub->add_flag("--json", args->json, "Print the finished job as JSON");
  sub->add_flag("--quiet,-q", args->quiet, "No progress or report lines");
  sub->add_option("command", args->command, "-- COMMAND [ARGS...]");
  sub->callback([args, &context] { run_run(*args, context); });
}

}  // namespace lowcarb::scheduler
