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

extern char** environ;

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "submit";

struct SubmitArgs {
  ClientOptions client;
  std::string name;
  std::string duration;
  std::string deadline;
  std::string earliest;
  std::vector<std::string> zones;
  bool interruptible = false;
  std::string pause_mode;
  std::string executor;
  std::optional<double> power;
  std::string hardware;
  std::optional<double> threshold;
  std::string min_chunk;
  std::string policy;
  std::string sbatch;
  bool quiet = false;
  std::vector<std::string> command;
};

// Splits a directive line into words; "double" and 'single' quotes group.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) {
        words.push_back(word);
        word.clear();
        in_word = false;
      }
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) {
    words.push_back(word);
  }
  return words;
}

// Slurm --time: "M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S".
std::optional<Duration> parse_slurm_time(std::string_view text) {
  long long days = 0;
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    auto d = parse_integer(text.substr(0, dash));
    if (!d) {
      return std::nullopt;
    }
    days = *d;
    text = text.substr(dash + 1);
  }
  std::vector<long long> parts;
  for (const auto& part : split(text, ':')) {
    auto value = parse_integer(part);
    if (!value || *value < 0) {
      return std::nullopt;
    }
    parts.push_back(*value);
  }
  long long seconds = 0;
  if (days > 0) {
    // D-H, D-H:M, D-H:M:S
    long long h = parts.size() > 0 ? parts[0] : 0;
    long long m = parts.size() > 1 ? parts[1] : 0;
    long long s = parts.size() > 2 ? parts[2] : 0;
    seconds = ((days * 24 + h) * 60 + m) * 60 + s;
  } else if (parts.size() == 1) {
    seconds = parts[0] * 60;
  } else if (parts.size() == 2) {
    seconds = parts[0] * 60 + parts[1];
  } else if (parts.size() == 3) {
    seconds = (parts[0] * 60 + parts[1]) * 60 + parts[2];
  } else {
    return std::nullopt;
  }
  return Duration(seconds);
}

// Applies `#LOWCARB` and `#SBATCH` lines of `script` to the arguments the
// command line left empty. Errors name the script line.
Status apply_script_directives(const std::string& script, SubmitArgs& args) {
  std::ifstream in(script);
  if (!in) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("--sbatch {}: cannot read the script", script));
  }
  std::string line;
  int line_number = 0;
  std::string slurm_time;
  std::string slurm_name;
  while (std::getline(in, line)) {
    ++line_number;
    auto where = [&] { return fmt::format("{}:{}", script, line_number); };
    std::string_view text = trim(line);
    bool lowcarb = text.rfind("#LOWCARB", 0) == 0;
    bool sbatch = text.rfind("#SBATCH", 0) == 0;
    if (!lowcarb && !sbatch) {
      continue;
    }
    auto words = split_words(text.substr(lowcarb ? 8 : 7));
    for (size_t i = 0; i < words.size(); ++i) {
      std::string key = words[i];
      std::string value;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
      }
      auto take_value = [&]() -> Status {
        if (!value.empty()) {
          return {};
        }
        if (i + 1 >= words.size()) {
          return make_error(ErrorCode::kInvalidArgument,
                            fmt::format("{}: {} needs a value", where(), key));
        }
        value = words[++i];
        return {};
      };
      if (sbatch) {
        if (key == "--time" || key == "-t") {
          if (auto s = take_value(); !s) {
            return s;
          }
          slurm_time = value;
        } else if (key == "--job-name" || key == "-J") {
          if (auto s = take_value(); !s) {
            return s;
          }
          slurm_name = value;
        }
        continue;  // sbatch reads its own lines.
      }
      if (key == "--interruptible") {
        args.interruptible = true;
        continue;
      }
      auto set = [&](std::string& field) -> Status {
        if (auto s = take_value(); !s) {
          return s;
        }
        if (field.empty()) {
          field = value;
        }
        return {};
      };
      Status status;
      if (key == "--deadline") {
        status = set(args.deadline);
      } else if (key == "--duration") {
        status = set(args.duration);
      } else if (key == "--earliest") {
        status = set(args.earliest);
      } else if (key == "--name") {
        status = set(args.name);
      } else if (key == "--pause-mode") {
        status = set(args.pause_mode);
      } else if (key == "--executor") {
        status = set(args.executor);
      } else if (key == "--hardware") {
        status = set(args.hardware);
      } else if (key == "--min-chunk") {
        status = set(args.min_chunk);
      } else if (key == "--zone") {
        std::string zone;
        status = set(zone);
        if (status && !zone.empty()) {
          args.zones.push_back(zone);
        }
      } else if (key == "--power" || key == "--threshold") {
        std::string number_text;
        status = set(number_text);
        auto number = parse_double(number_text);
        if (status && !number) {
          return make_error(ErrorCode::kInvalidArgument,
                            fmt::format("{}: {} '{}' is not a number", where(),
                                        key, number_text));
        }
        auto& field = key == "--power" ? args.power : args.threshold;
        if (status && !field) {
          field = *number;
        }
      } else {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("{}: unknown #LOWCARB option '{}'", where(), key));
      }
      if (!status) {
        return status;
      }
    }
  }
  if (args.duration.empty() && !slurm_time.empty()) {
    auto limit = parse_slurm_time(slurm_time);
    if (!limit) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: #SBATCH --time '{}' is not a Slurm "
                                    "time",
                                    script, slurm_time));
    }
    args.duration = std::to_string(limit->count());
  }
  if (args.name.empty()) {
    args.name = slurm_name;
  }
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
    if (auto s = apply_script_directives(script.string(), args); !s) {
      return usage(s.error().message);
    }
    request["sbatch_script"] = script.string();
    if (!args.command.empty()) {
      request["sbatch_options"] = args.command;
    }
    if (args.executor.empty()) {
      args.executor = "slurm";
    }
  } else if (args.command.empty()) {
    return usage(
        "missing command: give COMMAND [ARGS...] after --, or --sbatch SCRIPT");
  } else {
    request["argv"] = args.command;
  }
  if (args.duration.empty()) {
    return usage(
        "--duration is required (the job's expected run time, e.g. "
        "2h)");
  }
  auto duration = parse_duration(args.duration);
  if (!duration || duration->count() <= 0) {
    return usage("--duration '" + args.duration + "': " +
                 (duration ? "must be positive" : duration.error().message));
  }
  request["duration"] = duration->count();
  if (args.deadline.empty()) {
    return usage("--deadline is required (e.g. +12h or 2026-11-24T08:00:00Z)");
  }
  const TimePoint now = context.clock.now();
  auto deadline = parse_time_spec(args.deadline, now);
  if (!deadline) {
    return usage("--deadline: " + deadline.error().message);
  }
  request["deadline"] = format_utc(*deadline);
  if (!args.earliest.empty()) {
    auto earliest = parse_time_spec(args.earliest, now);
    if (!earliest) {
      return usage("--earliest: " + earliest.error().message);
    }
    request["earliest"] = format_utc(*earliest);
  }
  if (!args.name.empty()) {
    request["name"] = args.name;
  }
  if (!args.zones.empty()) {
    request["zones"] = args.zones;
  }
  if (!args.pause_mode.empty() && !args.interruptible) {
    return usage("--pause-mode needs --interruptible");
  }
  if (args.interruptible) {
    request["interruptible"] = true;
    if (!args.pause_mode.empty()) {
      request["pause_mode"] = args.pause_mode;
    }
  }
  if (!args.min_chunk.empty()) {
    auto chunk = parse_duration(args.min_chunk);
    if (!chunk) {
      return usage("--min-chunk: " + chunk.error().message);
    }
    request["min_chunk"] = chunk->count();
  }
  if (!args.executor.empty()) {
    request["executor"] = args.executor;
  }
  if (args.power) {
    request["power_watts"] = *args.power;
  }
  if (!args.hardware.empty()) {
    request["hardware"] = args.hardware;
  }
  if (args.threshold) {
    request["threshold_gco2_per_kwh"] = *args.threshold;
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

  auto job = call_daemon(context, kCommand, args.client, request);
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
  sub->add_option("--name", args->name, "A name for the job");
  sub->add_option("--duration", args->duration,
                  "Expected run time, e.g. 2h, 90m (or #SBATCH --time)");
  sub->add_option("--deadline", args->deadline,
                  "Finish by: ISO 8601 time with offset, or +DUR from now");
  sub->add_option("--earliest", args->earliest,
                  "Do not start before this time (default: now)");
  sub->add_option("--zone", args->zones,
                  "Allowed zone (repeatable, preferred first; default: every "
                  "configured zone)");
  sub->add_flag("--interruptible", args->interruptible,
                "The job may be paused and resumed");
  sub->add_option("--pause-mode", args->pause_mode,
                  "stop (SIGSTOP/SIGCONT) or checkpoint (signal, restart with "
                  "LOWCARB_RESUME=1)")
      ->check(CLI::IsMember({"stop", "checkpoint"}));
  sub->add_option("--min-chunk", args->min_chunk,
                  "Interruptible: shortest run segment");
  sub->add_option("--executor", args->executor,
                  "local, slurm or slurm:CLUSTER (default: the zone's)");
  auto* power =
      sub->add_option("--power", args->power, "Declared power draw in watts");
  sub->add_option("--hardware", args->hardware,
                  "Hardware spec, e.g. \"gpu: A100 x 4\"")
      ->excludes(power);
  sub->add_option("--threshold", args->threshold,
                  "Start at once if the intensity is at or below G gCO2eq/kWh");
  sub->add_option("--policy", args->policy,
                  "auto, run-now, flexible-start, threshold, pause-resume or "
                  "spatial (default: auto)");
  sub->add_option("--sbatch", args->sbatch,
                  "Submit a Slurm batch script; arguments after -- are sbatch "
                  "options");
  sub->add_flag("--quiet,-q", args->quiet, "Print only the job id");
  add_client_options(*sub, args->client);
  sub->add_option("command", args->command,
                  "The job: -- COMMAND [ARGS...] (or sbatch options)");
  sub->callback([args, &context] { run_submit(*args, context); });
}

}  // namespace lowcarb::scheduler
