// SPDX-License-Identifier: Apache-2.0
// One function per subcommand, each in its own file in this folder, listed in
// the table in scheduler/cli.cc.
#pragma once

#include "scheduler/cli.h"

namespace lowcarb::scheduler {

void add_config_command(CLI::App& app, CliContext& context);
void add_exec_wrapper_command(CLI::App& app, CliContext& context);
void add_plan_command(CLI::App& app, CliContext& context);
void add_forecast_command(CLI::App& app, CliContext& context);
// `forecast backtest`, registered on the `forecast` subcommand.
CLI::App* add_forecast_backtest_command(CLI::App& forecast,
                                        CliContext& context);
void add_simulate_command(CLI::App& app, CliContext& context);
// Daemon and its clients (helper-8).
void add_daemon_command(CLI::App& app, CliContext& context);
void add_submit_command(CLI::App& app, CliContext& context);
void add_list_command(CLI::App& app, CliContext& context);
void add_show_command(CLI::App& app, CliContext& context);
void add_cancel_command(CLI::App& app, CliContext& context);
void add_pause_command(CLI::App& app, CliContext& context);
void add_resume_command(CLI::App& app, CliContext& context);
void add_logs_command(CLI::App& app, CliContext& context);
void add_run_command(CLI::App& app, CliContext& context);
void add_wait_command(CLI::App& app, CliContext& context);
void add_report_command(CLI::App& app, CliContext& context);

}  // namespace lowcarb::scheduler
