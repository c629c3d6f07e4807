// SPDX-License-Identifier: Apache-2.0
// The `lowcarb` command line: one table of subcommands (name, one-line help,
// the function that registers it), global options, and the context every
// subcommand runs with. Results go to `out`, diagnostics to `err`.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/exit_status.h"
#include "config/config.h"

namespace CLI {
class App;
}

namespace lowcarb::scheduler {

class CliContext {
 public:
  CliContext(std::ostream& out_stream, std::ostream& err_stream,
             const Clock& the_clock)
      : out(out_stream), err(err_stream), clock(the_clock) {}

  std::ostream& out;
  std::ostream& err;
  const Clock& clock;

  std::string config_path;  // --config, else $LOWCARB_CONFIG, else none.
  std::string log_level = "warn";
  int exit_code = kExitSuccess;

  // The configuration, loaded on first use. On error, prints the error to
  // `err`, sets exit_code to kExitUsage and returns nullptr.
  const config::Config* config();

  // Prints "lowcarb <command>: <message>" to `err` and sets exit_code.
  void fail(const std::string& command, const std::string& message,
            int code = kExitFailure);

 private:
  std::optional<config::Config> config_;
};

// Registers one subcommand (and its options and callback) on `app`.
using AddCommandFn = void (*)(CLI::App& app, CliContext& context);

struct CommandEntry {
  const char* name;
  const char* help;
  AddCommandFn add;
};

// Parses `argv` and runs the chosen subcommand. Returns the exit status.
int run_cli(int argc, const char* const* argv, CliContext& context);

}  // namespace lowcarb::scheduler
