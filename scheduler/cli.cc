// SPDX-License-Identifier: Apache-2.0
#include "scheduler/cli.h"

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/logging.h"
#include "config/load_config.h"
#include "scheduler/commands/commands.h"

namespace lowcarb::scheduler {

// The subcommand table; `lowcarb --help` is generated from it.
static const CommandEntry kCommands[] = {
    {"config", "Check and print the effective configuration",
     add_config_command},
    {"exec-wrapper", "Internal: supervise one local job",
     add_exec_wrapper_command},
    {"plan", "Show when and where a job would run and what it would save",
     add_plan_command},
    {"forecast", "Show carbon-intensity forecasts; import observed history",
     add_forecast_command},
    {"simulate", "Replay a job trace over grid history and compare policies",
     add_simulate_command},
    {"submit", "Queue a job with the daemon; it runs when the grid is cleanest",
     add_submit_command},
    {"list", "Show the queue (your jobs; root: everyone's)", add_list_command},
    {"show", "Show a job: plan, segments, history and log paths",
     add_show_command},
    {"cancel", "Cancel a job", add_cancel_command},
    {"pause", "Pause a running job or hold a queued one", add_pause_command},
    {"resume", "Resume a paused job or release a held one", add_resume_command},
    {"logs", "Print a job's output (--follow to keep reading)",
     add_logs_command},
    {"daemon", "Run the scheduler daemon (socket API, optional HTTP API)",
     add_daemon_command},
    {"run", "Run one job at its greenest time, no daemon needed; waits for it",
     add_run_command},
    {"wait",
     "Block until the green window for work of a given length, then exit 0",
     add_wait_command},
    {"report",
     "Show the emissions ledger: table, JSON, CodeCarbon CSV or LaTeX",
     add_report_command},
};

const config::Config* CliContext::config() {
  if (config_) {
    return &*config_;
  }
  std::string path = config_path;
  if (path.empty()) {
    if (const char* env = std::getenv("LOWCARB_CONFIG")) {
      path = env;
    }
  }
  if (path.empty()) {
    config_ = config::default_config();
    return &*config_;
  }
  auto loaded = config::load_config(path);
  if (!loaded) {
    err << "lowcarb: " << loaded.error().message << "\n";
    exit_code = kExitUsage;
    return nullptr;
  }
  config_ = std::move(*loaded);
  return &*config_;
}

void CliContext::fail(const std::string& command, const std::string& message,
                      int code) {
  err << "lowcarb " << command << ": " << message << "\n";
  exit_code = code;
}

int run_cli(int argc, const char* const* argv, CliContext& context) {
  CLI::App app{
      "lowcarb: run batch jobs when and where the grid is cleanest, without "
      "missing their deadlines.",
      "lowcarb"};
  app.set_version_flag("--version", std::string("lowcarb ") + LOWCARB_VERSION);
  app.add_option("--config", context.config_path,
                 "YAML configuration file (default: $LOWCARB_CONFIG, else the "
                 "embedded defaults)");
  app.add_option("--log-level", context.log_level,
                 "trace, debug, info, warn, error or off (default: warn)");
  app.require_subcommand(1);
  app.fallthrough();
  for (const auto& entry : kCommands) {
    entry.add(app, context);
  }
  app.parse_complete_callback([&context] {
    LoggingOptions options;
    options.level = context.log_level;
    init_logging(options);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, context.out, context.err);
    return code == 0 ? kExitSuccess : kExitUsage;
  }
  return context.exit_code;
}

}  // namespace lowcarb::scheduler
