// SPDX-License-Identifier: Apache-2.0
// `lowcarb list`: the queue (your jobs; root sees everyone's) with state,
// planned start, zone, and expected and realized emissions.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"

namespace lowcarb::scheduler {
namespace {

struct ListArgs {
  ClientOptions client;
  bool all = false;
  int limit = 100;
};

void run_list(const ListArgs& args, CliContext& context) {
  nlohmann::json request{
      {"op", "list"}, {"all", args.all}, {"limit", args.limit}};
  auto result = call_daemon(context, "list", args.client, request);
  if (!result) {
    return;
  }
  if (args.client.json) {
    context.out << result->dump(2) << "\n";
    return;
  }
  const auto& jobs = (*result)["jobs"];
  if (jobs.empty()) {
    context.out << (args.all ? "no jobs\n"
                             : "no active jobs (--all shows "
                               "finished ones)\n");
    return;
  }
  context.out << fmt::format(
      "{:<8} {:<16} {:<10} {:<10} {:<21} {:<10} {:>10} "
      "{:>10}\n",
      "ID", "NAME", "USER", "STATE", "PLANNED START", "ZONE", "EXPECTED",
      "REALIZED");
  for (const auto& job : jobs) {
    std::string state = job.value("state", "?");
    if (job.value("held", false) && state == "queued") {
      state = "held";
    }
    std::string realized = "-";
    if (job.contains("emissions")) {
      realized = format_kg(job["emissions"].value("realized_kg", 0.0));
    }
    context.out << fmt::format(
        "{:<8} {:<16} {:<10} {:<10} {:<21} {:<10} {:>10} {:>10}\n",
        job.value("id", ""), job.value("name", "").substr(0, 16),
        job.value("user", "").substr(0, 10), state,
        job.value("planned_start", "-"), job.value("zone", "-"),
        job.contains("expected_kg") ? format_kg(job.value("expected_kg", 0.0))
                                    : "-",
        realized);
  }
}

}  // namespace

void add_list_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<ListArgs>();
  auto* sub = app.add_subcommand("list", "Show the queue");
  sub->add_flag("--all,-a", args->all, "Include finished jobs");
  sub->add_option("--limit", args->limit, "At most N jobs (default: 100)")
      ->check(CLI::Range(1, 10000));
  add_client_options(*sub, args->client);
  sub->callback([args, &context] { run_list(*args, context); });
}

}  // namespace lowcarb::scheduler
