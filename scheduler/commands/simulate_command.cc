// SPDX-License-Identifier: Apache-2.0
// `lowcarb simulate`: replays a job trace over historical grid intensity
// through the production scheduler, once per policy, and compares emissions,
// missed deadlines and delays. See scheduler/simulation/simulator.h.
#include <fstream>
#include <memory>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/strings.h"
#include "common/time_format.h"
#include "data/catalogue.h"
#include "forecast/intensity_file.h"
#include "scheduler/commands/commands.h"
#include "scheduler/simulation/deadline_rules.h"
#include "scheduler/simulation/simulation_report.h"
#include "scheduler/simulation/simulator.h"
#include "scheduler/simulation/trace_intensity_history.h"
#include "scheduler/simulation/workload.h"

namespace lowcarb::scheduler {
namespace {

using namespace simulation;

struct SimulateArgs {
  std::vector<std::string> intensity_files;
  std::vector<std::string> zones;
  std::string scope = "direct";
  std::string workload_file;
  std::string workload_format = "auto";
  std::string time_unit = "s";
  std::string start;
  std::string policies;
  std::string forecast = "perfect";
  std::string slack;
  std::string deadline_rule;
  std::string horizon = "48h";
  std::string refresh = "1h";
  std::string safety_margin = "0s";
  int capacity = 0;
  uint64_t seed = 1;
  double power_watts = 0;
  bool interruptible = false;
  std::optional<double> threshold;
  std::optional<double> threshold_percentile;
  size_t max_jobs = 0;
  bool json = false;
  std::string per_job_file;
};

// Loads the intensity files and picks the zones. With as many --zone as
// --intensity files, each holding one series, zone i names file i's series
// (Let's Wait Awhile and WattTime files do not name their zone); otherwise
// --zone selects series by id, in order. No --zone: every series.
Result<std::vector<forecast::IntensitySeries>> load_zones(
    const SimulateArgs& args) {
  forecast::FileLoadOptions load_options;
  if (args.scope == "lifecycle") {
    load_options.scope = forecast::Scope::kLifecycle;
    load_options.kind.scope = forecast::Scope::kLifecycle;
  } else if (args.scope != "direct") {
    return make_error(ErrorCode::kInvalidArgument,
                      "--scope " + args.scope + ": expected direct|lifecycle");
  }
  std::vector<std::vector<forecast::IntensitySeries>> files;
  for (const auto& path : args.intensity_files) {
    auto loaded = forecast::load_intensity_file(path, load_options);
    if (!loaded) {
      return tl::unexpected(loaded.error());
    }
    if (loaded->empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        path + ": no intensity values");
    }
    files.push_back(std::move(*loaded));
  }
  std::vector<forecast::IntensitySeries> out;
  bool rename = !args.zones.empty() && args.zones.size() == files.size() &&
                std::all_of(files.begin(), files.end(),
                            [](const auto& f) { return f.size() == 1; });
  if (rename) {
    for (size_t i = 0; i < files.size(); ++i) {
      out.push_back(std::move(files[i].front()));
      out.back().zone = args.zones[i];
    }
    return out;
  }
  std::vector<forecast::IntensitySeries> all;
  for (auto& file : files) {
    for (auto& series : file) {
      all.push_back(std::move(series));
    }
  }
  if (args.zones.empty()) {
    return all;
  }
  std::vector<std::string> known;
  for (const auto& series : all) {
    known.push_back(series.zone);
  }
  for (const auto& zone : args.zones) {
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& series) {
      return iequals(series.zone, zone);
    });
    if (it == all.end()) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("--zone {}: not in the intensity files{} (they hold: "
                      "{}); to name a single-zone file, give one --zone per "
                      "--intensity",
                      zone, did_you_mean(zone, known), fmt::join(known, ", ")));
    }
    out.push_back(*it);
  }
  return out;
}

Result<Duration> duration_option(const std::string& name,
                                 const std::string& text) {
  auto duration = parse_duration(text);
  if (!duration) {
    return make_error(duration.error().with_context(name));
  }
  return *duration;
}

void run_simulate(const SimulateArgs& args, CliContext& context) {
  const char* kName = "simulate";
  auto fail = [&](const Error& error) {
    context.fail(kName, error.message,
                 error.code == ErrorCode::kInvalidArgument ||
                         error.code == ErrorCode::kNotFound
                     ? kExitUsage
                     : kExitFailure);
  };
  const auto* config = context.config();
  if (!config) {
    return;
  }
  auto policies = sim_policies_from_string(args.policies);
  if (!policies) {
    return fail(policies.error().with_context("--policy"));
  }
  auto forecast_spec = forecast_spec_from_string(args.forecast, args.seed);
  if (!forecast_spec) {
    return fail(forecast_spec.error());
  }
  auto horizon = duration_option("--horizon", args.horizon);
  auto refresh = duration_option("--refresh", args.refresh);
  auto margin = duration_option("--safety-margin", args.safety_margin);
  for (const auto* d : {&horizon, &refresh, &margin}) {
    if (!*d) {
      return fail(d->error());
    }
  }
  if (*refresh <= Duration(0) || *horizon <= Duration(0)) {
    return fail(Error{ErrorCode::kInvalidArgument,
                      "--horizon and --refresh must be positive"});
  }

  auto series = load_zones(args);
  if (!series) {
    return fail(series.error());
  }
  std::vector<std::string> zone_ids;
  for (const auto& one : *series) {
    zone_ids.push_back(one.zone);
  }
  TraceIntensityHistory trace(std::move(*series));

  WorkloadOptions workload_options;
  auto format = workload_format_from_string(args.workload_format);
  if (!format) {
    return fail(format.error().with_context("--workload-format"));
  }
  workload_options.format = *format;
  auto unit = time_unit_from_string(args.time_unit);
  if (!unit) {
    return fail(unit.error().with_context("--time-unit"));
  }
  workload_options.gaia_time_unit = *unit;
  workload_options.trace_start = trace.common_begin();
  if (!args.start.empty()) {
    auto start = parse_time_spec(args.start, context.clock.now());
    if (!start) {
      return fail(start.error().with_context("--start"));
    }
    workload_options.trace_start = *start;
  }
  auto workload = load_workload(args.workload_file, workload_options);
  if (!workload) {
    return fail(workload.error());
  }
  if (args.max_jobs > 0 && workload->jobs.size() > args.max_jobs) {
    workload->jobs.resize(args.max_jobs);
  }
  const int jobs_in_trace = static_cast<int>(workload->jobs.size());

  DeadlineOptions deadline_options;
  if (!args.slack.empty()) {
    auto slack = duration_option("--slack", args.slack);
    if (!slack) {
      return fail(slack.error());
    }
    deadline_options.slack = *slack;
  }
  if (!args.deadline_rule.empty()) {
    auto rule = deadline_rule_from_string(args.deadline_rule);
    if (!rule) {
      return fail(rule.error().with_context("--deadline-rule"));
    }
    deadline_options.rule = *rule;
  }
  const auto* home = data::find_zone(zone_ids.front());
  deadline_options.time_zone = home ? home->time_zone : "UTC";
  if (auto s = assign_deadlines(*workload, deadline_options); !s) {
    return fail(s.error());
  }
  auto clipped = clip_to_trace(*workload, trace);
  if (clipped.dropped > 0) {
    context.err << fmt::format(
        "lowcarb simulate: dropped {} of {} jobs whose window [submit, "
        "deadline] is not inside the intensity data {} .. {}\n",
        clipped.dropped, jobs_in_trace, format_utc(trace.common_begin()),
        format_utc(trace.common_end()));
  }

  SimulationOptions options;
  options.forecast = *forecast_spec;
  options.horizon = *horizon;
  options.refresh = *refresh;
  options.safety_margin = *margin;
  options.capacity = args.capacity;
  options.pue = config->hardware.pue > 0 ? config->hardware.pue : 1.0;
  options.power_watts = args.power_watts;
  options.watts_per_core = config->hardware.watts_per_core > 0
                               ? config->hardware.watts_per_core
                               : data::default_watts_per_core();
  options.all_interruptible = args.interruptible;
  options.threshold_gco2_per_kwh = args.threshold;
  options.threshold_percentile = args.threshold_percentile;

  std::vector<SimulationResult> results;
  for (auto policy : *policies) {
    options.policy = policy;
    auto result = run_simulation(clipped.workload, trace, options);
    if (!result) {
      return fail(result.error());
    }
    results.push_back(std::move(*result));
  }

  ReportContext report;
  report.workload = args.workload_file;
  report.zones = zone_ids;
  report.jobs_in_trace = jobs_in_trace;
  report.dropped = clipped.dropped;
  report.skipped = workload->skipped;
  if (!args.per_job_file.empty()) {
    std::ofstream file(args.per_job_file);
    file << per_job_csv(results);
    file.close();
    if (!file) {
      return fail(Error{ErrorCode::kUnavailable,
                        "--per-job " + args.per_job_file + ": cannot write"});
    }
  }
  context.out << (args.json ? report_json(results, report)
                            : report_table(results, report));
}

}  // namespace

void add_simulate_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<SimulateArgs>();
  auto* cmd = app.add_subcommand(
      "simulate",
      "Replay a job trace over historical grid intensity through the "
      "scheduler and compare policies");
  cmd->add_option("--intensity", args->intensity_files,
                  "Intensity history file (Electricity Maps export, Let's "
                  "Wait Awhile CSV, WattTime CSV, canonical CSV, JSON); "
                  "repeat for several zones")
      ->required();
  cmd->add_option("--zone", args->zones,
                  "Zone to use (repeatable; first = home). With one --zone "
                  "per single-zone --intensity file, names that file's zone");
  cmd->add_option("--scope", args->scope,
                  "Electricity Maps column: direct|lifecycle (default direct)");
  cmd->add_option("--workload", args->workload_file,
                  "Job trace: canonical CSV, GAIA CSV or SWF (.gz ok)")
      ->required();
  cmd->add_option("--workload-format", args->workload_format,
                  "csv|gaia|swf (default: from the header)");
  cmd->add_option("--time-unit", args->time_unit,
                  "GAIA trace time unit: s|h (default s; the Azure trace "
                  "needs h)");
  cmd->add_option("--start", args->start,
                  "Trace start for GAIA/SWF offsets (default: start of the "
                  "intensity data)");
  cmd->add_option("--policy", args->policies,
                  "run-now,flexible-start,threshold,pause-resume,spatial,"
                  "oracle (comma-separated)")
      ->required();
  cmd->add_option("--forecast", args->forecast,
                  "perfect | noisy:σ (e.g. noisy:0.05) | history (default "
                  "perfect)");
  cmd->add_option("--slack", args->slack,
                  "Deadline = submit + duration + DUR for jobs without one");
  cmd->add_option("--deadline-rule", args->deadline_rule,
                  "next-workday|semi-weekly (09:00 local of the home zone)");
  cmd->add_option("--horizon", args->horizon, "Forecast horizon (default 48h)");
  cmd->add_option("--refresh", args->refresh,
                  "Forecast refresh and re-plan period (default 1h)");
  cmd->add_option("--safety-margin", args->safety_margin,
                  "Start by deadline - remaining - DUR (default 0s)");
  cmd->add_option("--capacity", args->capacity,
                  "Concurrent job slots per zone (0 = unlimited)");
  cmd->add_option("--seed", args->seed, "Seed of noisy forecasts (default 1)");
  cmd->add_option("--power", args->power_watts,
                  "Watts per job without power_w (default: cpus x the "
                  "per-core figure of the hardware table)");
  cmd->add_flag("--interruptible", args->interruptible,
                "Mark every job interruptible");
  cmd->add_option("--threshold", args->threshold,
                  "threshold policy: start when at/below G gCO2eq/kWh");
  cmd->add_option("--threshold-percentile", args->threshold_percentile,
                  "threshold policy: start when at/below this percentile of "
                  "the forecast (default 25)");
  cmd->add_option("--max-jobs", args->max_jobs,
                  "Only the first N jobs of the trace");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->add_option("--per-job", args->per_job_file,
                  "Write one CSV row per job and policy to FILE");
  cmd->callback([args, &context] { run_simulate(*args, context); });
}

}  // namespace lowcarb::scheduler
