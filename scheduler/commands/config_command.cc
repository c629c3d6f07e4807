// SPDX-License-Identifier: Apache-2.0
// `lowcarb config check [FILE]`: validate and print the effective config.
#include <CLI/CLI.hpp>

#include "config/load_config.h"
#include "scheduler/commands/commands.h"

namespace lowcarb::scheduler {

void add_config_command(CLI::App& app, CliContext& context) {
  auto* config = app.add_subcommand("config", "Check and print the configuration");
  config->require_subcommand(1);
  auto* check = config->add_subcommand(
      "check", "Validate FILE (default: --config) and print the effective "
               "configuration with secrets redacted");
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "Configuration file to check");
  check->callback([&context, file] {
    if (!file->empty()) {
      context.config_path = *file;
    }
    const auto* loaded = context.config();
    if (!loaded) {
      return;
    }
    context.out << config::dump_config(*loaded);
  });
}

}  // namespace lowcarb::scheduler
