// SPDX-License-Identifier: Apache-2.0
// `lowcarb plan`: when (and where) would this job run, and what would it
// save? Reads an intensity file (any format forecast::load_intensity_file
// knows) or asks the configured providers, runs the optimizer and prints a
// summary with a chart, or one JSON object with --json.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/curl_http_client.h"
#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/intensity_file.h"
#include "forecast/provider_factory.h"
#include "scheduler/commands/commands.h"
#include "scheduler/optimizer.h"

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "plan";

struct PlanArgs {
  std::string intensity;
  std::vector<std::string> zones;
  std::string duration;
  std::string deadline;
  std::string now;
  std::string earliest;
  bool interruptible = false;
  std::string min_chunk;
  int max_pauses = -1;
  std::optional<double> threshold;
  double power_watts = 0;
  bool json = false;
};

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << value;
  return out.str();
}

// A one-line bar chart of the chosen zone's intensity from `from` to `to`
// with the planned segments marked underneath. Columns are equal slices of
// time; a column without data is blank.
// TODO(helper-4): switch to scheduler/terminal_chart.h once it lands.
void print_chart(std::ostream& out, const forecast::IntensitySeries& series,
                 TimePoint from, TimePoint to, const Plan& plan) {
  constexpr int kColumns = 60;
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (to <= from) {
    return;
  }
  const auto span = (to - from).count();
  std::vector<std::optional<double>> column(kColumns);
  double lo = 1e300;
  double hi = -1e300;
  for (int c = 0; c < kColumns; ++c) {
    const TimePoint t =
        from + Duration{span * c / kColumns + span / kColumns / 2};
    for (const auto& point : series.points) {
      if (point.start <= t && t < point.end && point.gco2_per_kwh) {
        column[c] = point.gco2_per_kwh;
        lo = std::min(lo, *point.gco2_per_kwh);
        hi = std::max(hi, *point.gco2_per_kwh);
        break;
      }
    }
  }
  std::string bars;
  std::string marks;
  for (int c = 0; c < kColumns; ++c) {
    const TimePoint begin = from + Duration{span * c / kColumns};
    const TimePoint end = from + Duration{span * (c + 1) / kColumns};
    if (!column[c]) {
      bars += " ";
    } else {
      const int level =
          hi > lo
              ? static_cast<int>(std::lround((*column[c] - lo) / (hi - lo) * 7))
              : 0;
      bars += kBars[std::clamp(level, 0, 7)];
    }
    bool marked = false;
    for (const auto& segment : plan.segments) {
      marked = marked || (segment.start < end && begin < segment.end);
    }
    marks += marked ? "^" : " ";
  }
  out << "  " << fixed(hi < lo ? 0 : hi, 0) << " g/kWh max, "
      << fixed(hi < lo ? 0 : lo, 0) << " min, " << format_utc(from) << " .. "
      << format_utc(to) << "\n";
  out << "  |" << bars << "|\n";
  out << "  |" << marks << "|  ^ = planned run\n";
}

void run_plan(const PlanArgs& args, CliContext& context) {
  auto usage = [&context](const std::string& message) {
    context.fail(kCommand, message, kExitUsage);
  };
  const TimePoint clock_now = context.clock.now();
  TimePoint now = clock_now;
  if (!args.now.empty()) {
    auto parsed = parse_time_spec(args.now, clock_now);
    if (!parsed) {
      return usage("--now: " + parsed.error().message);
    }
    now = *parsed;
  }
  auto duration = parse_duration(args.duration);
  if (!duration || duration->count() <= 0) {
    return usage("--duration '" + args.duration + "': " +
                 (duration ? "must be positive" : duration.error().message));
  }
  auto deadline = parse_time_spec(args.deadline, now);
  if (!deadline) {
    return usage("--deadline: " + deadline.error().message);
  }
  TimePoint earliest = now;
  if (!args.earliest.empty()) {
    auto parsed = parse_time_spec(args.earliest, now);
    if (!parsed) {
      return usage("--earliest: " + parsed.error().message);
    }
    earliest = *parsed;
  }
  Duration min_chunk{0};
  if (!args.min_chunk.empty()) {
    auto parsed = parse_duration(args.min_chunk);
    if (!parsed) {
      return usage("--min-chunk: " + parsed.error().message);
    }
    min_chunk = *parsed;
  }

  const config::Config* config = context.config();
  if (config == nullptr) {
    return;  // context.config() reported it.
  }

  // The series to plan over, in the order the zones were asked for.
  std::vector<forecast::IntensitySeries> series;
  if (!args.intensity.empty()) {
    auto loaded = forecast::load_intensity_file(args.intensity);
    if (!loaded) {
      return usage("--intensity: " + loaded.error().message);
    }
    if (args.zones.empty()) {
      series = std::move(*loaded);
    } else {
      for (const auto& zone : args.zones) {
        auto it = std::find_if(loaded->begin(), loaded->end(),
                               [&](const auto& s) { return s.zone == zone; });
        if (it == loaded->end()) {
          std::string known;
          for (const auto& s : *loaded) {
            known += (known.empty() ? "" : ", ") + s.zone;
          }
          return usage("--zone " + zone + ": not in " + args.intensity +
                       " (zones in the file: " + known + ")");
        }
        series.push_back(*it);
      }
    }
    if (series.empty()) {
      return usage("--intensity: " + args.intensity + " holds no series");
    }
  } else {
    std::vector<std::string> zones = args.zones;
    if (zones.empty()) {
      for (const auto& zone : config->zones) {
        zones.push_back(zone.id);
      }
    }
    if (zones.empty()) {
      return usage(
          "no --intensity and no zones: pass --intensity FILE, or --zone Z "
          "with providers configured");
    }
    // The forecast cache in the state database, as every command uses it;
    // without one (no state_dir, unreadable) plan fetches uncached.
    std::unique_ptr<Database> db;
    if (!config->state_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(config->state_dir, ec);
      if (auto opened = Database::open(
              (std::filesystem::path(config->state_dir) / "lowcarb.db")
                  .string())) {
        db = std::move(*opened);
      } else {
        context.err << "lowcarb plan: warning: " << opened.error().message
                    << "; continuing without the forecast cache\n";
      }
    }
    CurlHttpClient http;
    auto service =
        forecast::make_forecast_service(*config, http, context.clock, db.get());
    if (!service) {
      return usage("providers: " + service.error().message);
    }
    const Duration horizon = std::max(Duration{0}, *deadline - now);
    for (const auto& zone : zones) {
      auto fetched = (*service)->chain().forecast(zone, now, horizon);
      if (fetched) {
        series.push_back(std::move(*fetched));
      } else {
        context.err << "lowcarb plan: zone " << zone
                    << ": no forecast: " << fetched.error().message << "\n";
        forecast::IntensitySeries empty;
        empty.zone = zone;
        series.push_back(std::move(empty));
      }
    }
  }

  PlanRequest request;
  request.now = now;
  request.earliest = earliest;
  request.deadline = *deadline;
  request.duration = *duration;
  request.power_watts = args.power_watts;
  request.interruptible = args.interruptible;
  request.min_chunk = min_chunk;
  request.max_pauses = args.max_pauses;
  request.threshold_gco2_per_kwh = args.threshold;
  request.safety_margin = config->planner.safety_margin;
  std::vector<ZoneOption> options;
  for (const auto& s : series) {
    ZoneOption option;
    option.zone = s.zone;
    option.series = &s;
    // Per-zone preferences come from the configuration when it names the
    // zone.
    for (const auto& zone : config->zones) {
      if (zone.id == s.zone) {
        option.priority = zone.priority;
        option.penalty_gco2_per_kwh = zone.penalty_gco2_per_kwh;
        option.penalty_percent = zone.penalty_percent;
        option.allowed_hours = zone.allowed_hours;
        if (!zone.time_zone.empty()) {
          option.time_zone = zone.time_zone;
        }
      }
    }
    options.push_back(std::move(option));
  }
  auto plan = plan_job(request, options);
  if (!plan) {
    return context.fail(kCommand, plan.error().message,
                        plan.error().code == ErrorCode::kInvalidArgument
                            ? kExitUsage
                            : kExitFailure);
  }
  for (const auto& warning : plan->warnings) {
    context.err << "lowcarb plan: " << warning << "\n";
  }

  if (args.json) {
    nlohmann::json segments = nlohmann::json::array();
    for (const auto& segment : plan->segments) {
      segments.push_back({{"start", format_utc(segment.start)},
                          {"end", format_utc(segment.end)}});
    }
    nlohmann::json doc = {
        {"zone", plan->zone},
        {"start", format_utc(plan->start())},
        {"end", format_utc(plan->end())},
        {"segments", segments},
        {"expected_gco2_per_kwh", plan->expected_gco2_per_kwh},
        {"expected_grams", plan->expected_grams},
        {"run_now_zone", plan->run_now_zone},
        {"run_now_gco2_per_kwh", plan->run_now_gco2_per_kwh},
        {"run_now_grams", plan->run_now_grams},
        {"savings_percent", plan->savings_percent},
        {"reason", plan->reason},
        {"warnings", plan->warnings},
    };
    context.out << doc.dump(2) << "\n";
    return;
  }
  auto& out = context.out;
  out << "Plan: run in " << plan->zone << " from " << format_utc(plan->start())
      << " to " << format_utc(plan->end()) << " (" << plan->reason << ")\n";
  if (plan->segments.size() > 1) {
    for (const auto& segment : plan->segments) {
      out << "  segment " << format_utc(segment.start) << " .. "
          << format_utc(segment.end) << "\n";
    }
  }
  out << "  expected " << fixed(plan->expected_gco2_per_kwh, 1)
      << " gCO2eq/kWh";
  if (args.power_watts > 0) {
    out << ", " << fixed(plan->expected_grams, 1) << " g CO2eq at "
        << fixed(args.power_watts, 0) << " W";
  }
  out << "\n  run now in " << plan->run_now_zone << ": "
      << fixed(plan->run_now_gco2_per_kwh, 1) << " gCO2eq/kWh";
  if (args.power_watts > 0) {
    out << ", " << fixed(plan->run_now_grams, 1) << " g CO2eq";
  }
  out << "\n  savings " << fixed(plan->savings_percent, 1) << "%\n";
  for (const auto& s : series) {
    if (s.zone == plan->zone) {
      print_chart(out, s, std::max(now, earliest), *deadline, *plan);
    }
  }
}

}  // namespace

void add_plan_command(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<PlanArgs>();
  auto* plan = app.add_subcommand(
      "plan", "Show when and where a job would run and what it would save");
  plan->add_option("--intensity", args->intensity,
                   "Intensity file (canonical CSV, Electricity Maps export, "
                   "Let's Wait Awhile, WattTime CSV, JSON); default: the "
                   "configured providers");
  plan->add_option("--zone", args->zones,
                   "Zone to consider (repeatable; first = run-now baseline; "
                   "default: every zone in the file or configuration)");
  plan->add_option("--duration", args->duration, "Run time, e.g. 2h, 90m")
      ->required();
  plan->add_option("--deadline", args->deadline,
                   "Finish by: ISO 8601 time or +DUR from --now")
      ->required();
  plan->add_option("--now", args->now,
                   "Pretend it is this time (default: the clock)");
  plan->add_option("--earliest", args->earliest,
                   "Do not start before (default: now)");
  plan->add_flag("--interruptible", args->interruptible,
                 "The job may pause and resume");
  plan->add_option("--min-chunk", args->min_chunk,
                   "Interruptible: shortest run segment");
  plan->add_option("--max-pauses", args->max_pauses,
                   "Interruptible: most pauses (default: unlimited)");
  plan->add_option("--threshold", args->threshold,
                   "Start now if the intensity is at or below G gCO2eq/kWh");
  plan->add_option("--power", args->power_watts,
                   "Job power in watts, for grams (default: 0)");
  plan->add_flag("--json", args->json, "Print one JSON object");
  plan->callback([args, &context] {
    if ((!args->min_chunk.empty() || args->max_pauses >= 0) &&
        !args->interruptible) {
      context.fail(kCommand,
                   "--min-chunk and --max-pauses need --interruptible",
                   kExitUsage);
      return;
    }
    run_plan(*args, context);
  });
}

}  // namespace lowcarb::scheduler
