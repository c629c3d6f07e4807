// SPDX-License-Identifier: Apache-2.0
// `lowcarb exec-wrapper --status-file F [--started-file S] [--env-file E]
// [--working-dir D] [--uid U] [--gid G] -- ARGV...`: the hidden supervisor
// LocalExecutor runs every job under (see executors/exec_wrapper.h). Not meant
// to be typed by people.
#include <CLI/CLI.hpp>

#include "executors/exec_wrapper.h"
#include "scheduler/commands/commands.h"

namespace lowcarb::scheduler {

void add_exec_wrapper_command(CLI::App& app, CliContext& context) {
  auto* sub = app.add_subcommand(
      "exec-wrapper", "Internal: supervise one job and record its exit status");
  sub->group("");  // Hidden from --help.
  auto options = std::make_shared<executors::ExecWrapperOptions>();
  auto uid = std::make_shared<long long>(-1);
  auto gid = std::make_shared<long long>(-1);
  sub->add_option("--status-file", options->status_file,
                  "Where to write the job's exit status (JSON)")
      ->required();
  sub->add_option("--started-file", options->started_file,
                  "Written (naming the wrapper) before the job is forked");
  sub->add_option("--env-file", options->env_file,
                  "The job's environment (JSON; removed once read)");
  sub->add_option("--working-dir", options->working_dir,
                  "Entered as the job's user before the job starts");
  sub->add_option("--uid", *uid, "Run the job as this user id (root only)");
  sub->add_option("--gid", *gid, "Run the job as this group id (root only)");
  sub->add_option("command", options->argv, "The job: program and arguments")
      ->required();
  sub->callback([&context, options, uid, gid] {
    if (*uid >= 0) {
      options->uid = static_cast<unsigned>(*uid);
    }
    if (*gid >= 0) {
      options->gid = static_cast<unsigned>(*gid);
    }
    context.exit_code =
        executors::run_exec_wrapper(*options, context.clock, context.err);
  });
}

}  // namespace lowcarb::scheduler
