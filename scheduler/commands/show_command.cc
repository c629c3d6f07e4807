// SPDX-License-Identifier: Apache-2.0
// `lowcarb show ID`: one job's plan, segments, emissions, history of
// transitions and log paths.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "scheduler/commands/commands.h"
#include "scheduler/commands/daemon_client.h"

namespace lowcarb::scheduler {
namespace {

struct ShowArgs {
  ClientOptions client;
  std::string id;
};

void run_show(const ShowArgs& args, CliContext& context) {
  auto job = call_daemon(context, "show", args.client,
                         {{"op", "show"}, {"id", args.id}});
  if (!job) {
    return;
  }
  auto& out = context.out;
  if (args.client.json) {
    out << job->dump(2) << "\n";
    return;
  }
  const auto& j = *job;
  out << fmt::format(
      "job {}{}\n", j.value("id", ""),
      j.value("name", "").empty() ? "" : " (" + j.value("name", "") + ")");
  out << fmt::format("  user        {} (uid {})\n", j.value("user", ""),
                     j.value("uid", 0u));
  out << fmt::format("  state       {}{}\n", j.value("state", ""),
                     j.value("held", false) ? " (held by its user)" : "");
  if (j.contains("argv")) {
    std::string command;
    for (const auto& word : j["argv"]) {
      command += (command.empty() ? "" : " ") + word.get<std::string>();
    }
    out << "  command     " << command << "\n";
  } else if (j.contains("shell_command")) {
    out << "  command     " << j.value("shell_command", "") << "\n";
  } else if (j.contains("sbatch_script")) {
    out << "  script      " << j.value("sbatch_script", "") << "\n";
  }
  out << fmt::format("  submitted   {}\n", j.value("submitted_at", ""));
  out << fmt::format("  window      {} .. {} ({} s of work)\n",
                     j.value("earliest", ""), j.value("deadline", ""),
                     j.value("duration_s", 0));
  out << fmt::format("  executor    {} in {}\n", j.value("executor", ""),
                     j.value("zone", ""));
  if (j.contains("slurm_job_id")) {
    out << fmt::format("  slurm job   {} on cluster {}\n",
                       j.value("slurm_job_id", ""),
                       j.value("slurm_cluster", ""));
  }
  out << "  plan        " << plan_summary(j) << "\n";
  if (j.contains("plan")) {
    for (const auto& segment : j["plan"]["segments"]) {
      out << fmt::format("    segment   {} .. {}\n", segment.value("start", ""),
                         segment.value("end", ""));
    }
    out << fmt::format("    reason    {}, forecast from {}\n",
                       j["plan"].value("reason", ""),
                       j.value("forecast_provider", ""));
  }
  if (j.contains("started_at")) {
    out << "  started     " << j.value("started_at", "") << "\n";
  }
  if (j.contains("ended_at")) {
    out << "  ended       " << j.value("ended_at", "")
        << (j.contains("exit_code")
                ? fmt::format(" (exit {})", j.value("exit_code", 0))
                : "")
        << "\n";
  }
  if (!j.value("message", "").empty()) {
    out << "  message     " << j.value("message", "") << "\n";
  }
  if (j.contains("emissions")) {
    const auto& e = j["emissions"];
    out << fmt::format(
        "  emissions   {:.3f} kWh, {} realized, {} run-now, {} "
        "saved\n",
        e.value("kwh", 0.0), format_kg(e.value("realized_kg", 0.0)),
        format_kg(e.value("counterfactual_kg", 0.0)),
        format_kg(e.value("saved_kg", 0.0)));
  }
  if (j.contains("logs")) {
    out << "  stdout      " << j["logs"].value("stdout", "") << "\n";
    out << "  stderr      " << j["logs"].value("stderr", "") << "\n";
  }
  if (j.contains("warnings")) {
    for (const auto& warning : j["warnings"]) {
      out << "  warning     " << warning.get<std::string>() << "\n";
    }
  }
  if (j.contains("history")) {
    out << "  history\n";
    for (const auto& t : j["history"]) {
      out << fmt::format("    {}  {:<9} -> {:<9} {}\n", t.value("at", ""),
                         t.value("from", ""), t.value("to", ""),
                         t.value("note", ""));
    }
  }
}

}  // namespace

void add_show_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<ShowArgs>();
  auto* sub = app.add_subcommand(
      "show", "Show a job: plan, segments, history and log paths");
  sub->add_option("id", args->id, "The job id")->required();
  add_client_options(*sub, args->client);
  sub->callback([args, &context] { run_show(*args, context); });
}

}  // namespace lowcarb::scheduler
