// SPDX-License-Identifier: Apache-2.0
// One function per subcommand, each in its own file in this folder, listed in
// the table in scheduler/cli.cc.
#pragma once

#include "scheduler/cli.h"

namespace lowcarb::scheduler {

void add_config_command(CLI::App& app, CliContext& context);

}  // namespace lowcarb::scheduler
