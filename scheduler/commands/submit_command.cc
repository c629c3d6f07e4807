// SPDX-License-Identifier: Apache-2.0
// `lowcarb submit`: sends one job to the daemon and prints its id and plan.
// Times are parsed here, against the client's clock, and sent as UTC; the
// client's working directory and environment go with the job. With
// `--sbatch SCRIPT`, `#LOWCARB` lines in the script supply lowcarb options
// (command-line options win) and `#SBATCH --time`/`--job-name` supply the
// duration and name when not given otherwise.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"
#include "scheduler/commands/script_directives.h"

extern char** environ;

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "submit";

struct SubmitArgs {
  ClientOptions client;
  SubmitOptions options;  // What a script's directives may also supply.
  std::string policy;
  std::string sbatch;
  bool quiet = false;
  bool allow_late = false;
  std::vector<std::string> command;
};

// Applies the `#LOWCARB` and `#SBATCH` lines of `script` to the options the
// command line left empty. Errors name the script line.
Status apply_script_file(const std::string& script, SubmitOptions& options) {
  std::ifstream in(script, std::ios::binary);
  if (!in) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("--sbatch {}: cannot read the script", script));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto merged = apply_script_directives(text.str(), script, options);
  if (!merged) {
    return make_error(merged.error());
  }
  options = std::move(*merged);
  return {};
}

void run_submit(SubmitArgs args, CliContext& context) {
  auto usage = [&context](const std::string& message) {
    context.fail(kCommand, message, kExitUsage);
  };
  nlohmann::json request{{"op", "submit"}};
  if (!args.sbatch.empty()) {
    std::error_code ec;
    auto script = std::filesystem::absolute(args.sbatch, ec).lexically_normal();
    if (auto s = apply_script_file(script.string(), args.options); !s) {
      return usage(s.error().message);
    }
    request["sbatch_script"] = script.string();
    if (!args.command.empty()) {
      request["sbatch_options"] = args.command;
    }
    if (args.options.executor.empty()) {
      args.options.executor = "slurm";
    }
  } else if (args.command.empty()) {
    return usage(
        "missing command: give COMMAND [ARGS...] after --, or --sbatch SCRIPT");
  } else {
    request["argv"] = args.command;
  }
  if (args.options.duration.empty()) {
    return usage(
        "--duration is required (the job's expected run time, e.g. "
        "2h)");
  }
  auto duration = parse_duration(args.options.duration);
  if (!duration || duration->count() <= 0) {
    return usage("--duration '" + args.options.duration + "': " +
                 (duration ? "must be positive" : duration.error().message));
  }
  request["duration"] = duration->count();
  if (args.options.deadline.empty()) {
    return usage("--deadline is required (e.g. +12h or 2026-11-24T08:00:00Z)");
  }
  const TimePoint now = context.clock.now();
  auto deadline = parse_time_spec(args.options.deadline, now);
  if (!deadline) {
    return usage("--deadline: " + deadline.error().message);
  }
  request["deadline"] = format_utc(*deadline);
  if (!args.options.earliest.empty()) {
    auto earliest = parse_time_spec(args.options.earliest, now);
    if (!earliest) {
      return usage("--earliest: " + earliest.error().message);
    }
    request["earliest"] = format_utc(*earliest);
  }
  if (!args.options.name.empty()) {
    request["name"] = args.options.name;
  }
  if (!args.options.zones.empty()) {
    request["zones"] = args.options.zones;
  }
  if (!args.options.pause_mode.empty() && !args.options.interruptible) {
    return usage("--pause-mode needs --interruptible");
  }
  if (args.allow_late) {
    request["allow_late"] = true;
  }
  if (args.options.interruptible) {
    request["interruptible"] = true;
    if (!args.options.pause_mode.empty()) {
      request["pause_mode"] = args.options.pause_mode;
    }
  }
  if (!args.options.min_chunk.empty()) {
    auto chunk = parse_duration(args.options.min_chunk);
    if (!chunk) {
      return usage("--min-chunk: " + chunk.error().message);
    }
    request["min_chunk"] = chunk->count();
  }
  if (!args.options.executor.empty()) {
    request["executor"] = args.options.executor;
  }
  if (args.options.power) {
    request["power_watts"] = *args.options.power;
  }
  if (!args.options.hardware.empty()) {
    request["hardware"] = args.options.hardware;
  }
  if (args.options.threshold) {
    request["threshold_gco2_per_kwh"] = *args.options.threshold;
  }
  if (!args.policy.empty()) {
    request["policy"] = args.policy;
  }
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  if (!ec) {
    request["working_dir"] = cwd.string();
  }
  nlohmann::json env = nlohmann::json::object();
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
    }
  }
  request["env"] = env;
  // One id per invocation: a retry after a lost answer finds the job the
  // first attempt created instead of creating a second one.
  request["request_id"] = new_request_id();

  auto job = call_daemon_retrying(context, kCommand, args.client, request);
  if (!job) {
    return;
  }
  if (args.client.json) {
    context.out << job->dump(2) << "\n";
    return;
  }
  if (args.quiet) {
    context.out << job->value("id", "") << "\n";
    return;
  }
  context.out << "job " << job->value("id", "") << ": " << plan_summary(*job)
              << "\n";
  if (job->contains("warnings")) {
    for (const auto& warning : (*job)["warnings"]) {
      context.err << "lowcarb submit: warning: " << warning.get<std::string>()
                  << "\n";
    }
  }
}

}  // namespace

void add_submit_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<SubmitArgs>();
  auto* sub = app.add_subcommand(
      "submit",
      "Queue a job with the daemon; it runs when the grid is cleanest");
  sub->add_option("--name", args->options.name, "A name for the job");
  sub->add_option("--duration", args->options.duration,
                  "Expected run time, e.g. 2h, 90m (or #SBATCH --time)");
  sub->add_option("--deadline", args->options.deadline,
                  "Finish by: ISO 8601 time with offset, or +DUR from now");
  sub->add_option("--earliest", args->options.earliest,
                  "Do not start before this time (default: now)");
  sub->add_option("--zone", args->options.zones,
                  "Allowed zone (repeatable, preferred first; default: every "
                  "configured zone)");
  sub->add_flag("--interruptible", args->options.interruptible,
                "The job may be paused and resumed");
  sub->add_option("--pause-mode", args->options.pause_mode,
                  "stop (SIGSTOP/SIGCONT) or checkpoint (signal, restart with "
                  "LOWCARB_RESUME=1)")
      ->check(CLI::IsMember({"stop", "checkpoint"}));
  sub->add_option("--min-chunk", args->options.min_chunk,
                  "Interruptible: shortest run segment");
  sub->add_option("--executor", args->options.executor,
                  "local, slurm or slurm:CLUSTER (default: the zone's)");
  auto* power = sub->add_option("--power", args->options.power,
                                "Declared power draw in watts");
  sub->add_option("--hardware", args->options.hardware,
                  "Hardware spec, e.g. \"gpu: A100 x 4\"")
      ->excludes(power);
  sub->add_option("--threshold", args->options.threshold,
                  "Start at once if the intensity is at or below G gCO2eq/kWh");
  sub->add_option("--policy", args->policy,
                  "auto, run-now, flexible-start, threshold, pause-resume or "
                  "spatial (default: auto)");
  sub->add_option("--sbatch", args->sbatch,
                  "Submit a Slurm batch script; arguments after -- are sbatch "
                  "options");
  sub->add_flag("--quiet,-q", args->quiet, "Print only the job id");
  sub->add_flag("--allow-late", args->allow_late,
                "Admit the job with a warning when its zone's capacity "
                "cannot meet the deadline (default: refuse it)");
  add_client_options(*sub, args->client);
  sub->add_option("command", args->command,
                  "The job: -- COMMAND [ARGS...] (or sbatch options)");
  sub->callback([args, &context] { run_submit(*args, context); });
}

}  // namespace lowcarb::scheduler
