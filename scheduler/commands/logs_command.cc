// SPDX-License-Identifier: Apache-2.0
// `lowcarb logs ID [--stderr] [--follow]`: a job's output through the
// daemon (so it works when the logs belong to the daemon's state directory).
// --follow keeps reading until the job has finished.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"

namespace lowcarb::scheduler {
namespace {

struct LogsArgs {
  ClientOptions client;
  std::string id;
  bool stderr_log = false;
  bool follow = false;
  double interval_s = 1.0;
};

void run_logs(const LogsArgs& args, CliContext& context) {
  int64_t offset = 0;
  while (true) {
    auto chunk = call_daemon(context, "logs", args.client,
                             {{"op", "logs"},
                              {"id", args.id},
                              {"stream", args.stderr_log ? "stderr" : "stdout"},
                              {"offset", offset},
                              {"max_bytes", 1 << 20}});
    if (!chunk) {
      return;
    }
    if (args.client.json) {
      context.out << chunk->dump() << "\n";
    } else {
      context.out << chunk->value("data", "");
    }
    context.out.flush();
    const int64_t next = chunk->value("next_offset", offset);
    const bool more = next < chunk->value("size", int64_t{0});
    offset = next;
    if (more) {
      continue;
    }
    if (!args.follow || chunk->value("finished", true)) {
      return;
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<int>(args.interval_s * 1000)));
  }
}

}  // namespace

void add_logs_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<LogsArgs>();
  auto* sub = app.add_subcommand("logs", "Print a job's output");
  sub->add_option("id", args->id, "The job id")->required();
  sub->add_flag("--stderr", args->stderr_log, "Print stderr instead of stdout");
  sub->add_flag("--follow,-f", args->follow,
                "Keep printing new output until the job finishes");
  sub->add_option("--interval", args->interval_s,
                  "--follow: seconds between reads (default: 1)")
      ->check(CLI::Range(0.05, 60.0));
  add_client_options(*sub, args->client);
  sub->callback([args, &context] { run_logs(*args, context); });
}

}  // namespace lowcarb::scheduler
