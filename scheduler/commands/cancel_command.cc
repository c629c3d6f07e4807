// SPDX-License-Identifier: Apache-2.0
// `lowcarb cancel ID`, `lowcarb pause ID`, `lowcarb resume ID`: act on one
// of your jobs (root: any job) through the daemon.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"

namespace lowcarb::scheduler {
namespace {

struct JobActionArgs {
  ClientOptions client;
  std::string id;
};

void add_job_action(CLI::App& app, CliContext& context, const char* op,
                    const char* help, const char* done) {
  auto args = std::make_shared<JobActionArgs>();
  auto* sub = app.add_subcommand(op, help);
  sub->add_option("id", args->id, "The job id")->required();
  add_client_options(*sub, args->client);
  sub->callback([args, &context, op, done] {
    auto job =
        call_daemon(context, op, args->client, {{"op", op}, {"id", args->id}});
    if (!job) {
      return;
    }
    if (args->client.json) {
      context.out << job->dump(2) << "\n";
      return;
    }
    context.out << "job " << job->value("id", args->id) << " " << done << " ("
                << job->value("state", "") << ")\n";
  });
}

}  // namespace

void add_cancel_command(CLI::App& app, CliContext& context) {
  add_job_action(app, context, "cancel", "Cancel a job (stops it if running)",
                 "cancelled");
}

void add_pause_command(CLI::App& app, CliContext& context) {
  add_job_action(app, context, "pause",
                 "Pause a running job or hold a queued one until resume",
                 "paused");
}

void add_resume_command(CLI::App& app, CliContext& context) {
  add_job_action(app, context, "resume",
                 "Resume a paused job or release a held one", "resumed");
}

}  // namespace lowcarb::scheduler
