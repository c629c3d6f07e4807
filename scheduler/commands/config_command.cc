// SPDX-License-Identifier: Apache-2.0
// `lowcarb config check [FILE]`: validate a configuration and print the
// effective configuration (every default filled in, secrets redacted).
// Errors are one line, "<file>:<line>:<column>: <key.path>: expected ...,
// found ...", on stderr, with exit status 2 (CliContext::config()).
#include <CLI/CLI.hpp>

#include "config/load_config.h"
#include "scheduler/commands/commands.h"

namespace lowcarb::scheduler {

void add_config_command(CLI::App& app, CliContext& context) {
  auto* config =
      app.add_subcommand("config", "Check and print the configuration");
  config->require_subcommand(1);
  auto* check = config->add_subcommand(
      "check",
      "Validate FILE (default: --config, else $LOWCARB_CONFIG, else the "
      "embedded defaults) and print the effective configuration as YAML, "
      "with secrets redacted. Exit status 2 if it is invalid.");
  auto file = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  check->add_option("FILE", *file, "Configuration file to check");
  check->add_flag("-q,--quiet", *quiet,
                  "Print nothing when the file is valid (for scripts and CI)");
  check->callback([&context, file, quiet] {
    if (!file->empty()) {
      context.config_path = *file;
    }
    const auto* loaded = context.config();
    if (!loaded) {
      return;  // The error line is printed and the exit status set.
    }
    if (!*quiet) {
      context.out << config::dump_config(*loaded);
    }
  });
}

}  // namespace lowcarb::scheduler
