// SPDX-License-Identifier: Apache-2.0
// `lowcarb forecast`: what the configured providers (through the fallback
// chain and cache) say for one or more zones, as a chart and table, JSON or
// canonical CSV; and `lowcarb forecast import FILE`, which stores observed
// values in the state database for the history forecaster.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/curl_http_client.h"
#include "common/sqlite_database.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "data/catalogue.h"
#include "forecast/forecast_archive.h"
#include "forecast/history_store.h"
#include "forecast/intensity_file.h"
#include "forecast/provider_factory.h"
#include "scheduler/commands/commands.h"
#include "scheduler/optimizer.h"
#include "scheduler/terminal_chart.h"

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "forecast";

struct ForecastArgs {
  std::vector<std::string> zones;
  int hours = 48;
  std::string provider;
  std::string window = "1h";
  bool json = false;
  bool csv = false;
  bool accuracy = false;
  std::string now;
};

struct ImportArgs {
  std::string file;
  std::string zone;
  std::string scope = "direct";
  std::string basis = "average";
};

struct ZoneResult {
  std::string zone;
  forecast::IntensitySeries series;
  std::optional<Window> lowest;
};

// The zone id as configured, else as the catalogue spells it, else as given.
std::string canonical_zone(const config::Config& config,
                           const std::string& zone) {
  for (const auto& configured : config.zones) {
    if (iequals(configured.id, zone)) {
      return configured.id;
    }
  }
  if (const auto* info = data::find_zone(zone)) {
    return info->id;
  }
  return zone;
}

// Opens <state_dir>/lowcarb.db, creating the directory.
Result<std::unique_ptr<Database>> open_state_db(const config::Config& config) {
  if (config.state_dir.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no state_dir configured");
  }
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("creating state directory {}: {}",
                                  config.state_dir, ec.message()));
  }
  return Database::open(
      (std::filesystem::path(config.state_dir) / "lowcarb.db").string());
}

nlohmann::ordered_json value_json(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value)
               : nlohmann::ordered_json(nullptr);
}

void print_json(std::ostream& out, const std::vector<ZoneResult>& results) {
  nlohmann::ordered_json zones = nlohmann::ordered_json::array();
  for (const auto& result : results) {
    const auto& series = result.series;
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (const auto& point : series.points) {
      points.push_back({{"start", format_utc(point.start)},
                        {"end", format_utc(point.end)},
                        {"gco2_per_kwh", value_json(point.gco2_per_kwh)}});
    }
    nlohmann::ordered_json lowest = nullptr;
    if (result.lowest) {
      lowest = {{"start", format_utc(result.lowest->start)},
                {"end", format_utc(result.lowest->end)},
                {"mean_gco2_per_kwh", result.lowest->mean_gco2_per_kwh}};
    }
    zones.push_back({{"zone", result.zone},
                     {"provider", series.provider},
                     {"kind", forecast::to_string(series.kind)},
                     {"stale", series.stale},
                     {"generated_at", format_utc(series.generated_at)},
                     {"points", points},
                     {"lowest_window", lowest}});
  }
  out << nlohmann::ordered_json{{"zones", zones}}.dump(2) << "\n";
}

void print_csv(std::ostream& out, const std::vector<ZoneResult>& results) {
  out << "timestamp,zone,gco2_per_kwh\n";
  for (const auto& result : results) {
    for (const auto& point : result.series.points) {
      out << format_utc(point.start) << "," << result.zone << ",";
      if (point.gco2_per_kwh) {
        out << fmt::format("{:.2f}", *point.gco2_per_kwh);
      }
      out << "\n";
    }
  }
}

void print_text(std::ostream& out, const std::vector<ZoneResult>& results,
                const std::string& window_text) {
  bool first = true;
  for (const auto& result : results) {
    const auto& series = result.series;
    if (!first) {
      out << "\n";
    }
    first = false;
    out << fmt::format("{}: provider {}, {}, generated {}{}\n", result.zone,
                       series.provider, forecast::to_string(series.kind),
                       format_utc(series.generated_at),
                       series.stale ? " (STALE: providers failed, served "
                                      "from cache)"
                                    : "");
    if (series.kind.horizon == forecast::Horizon::kAnnualAverage) {
      out << "note: an annual average only; waiting gains nothing in this "
             "zone\n";
    }
    ChartOptions chart;
    if (result.lowest) {
      chart.highlight = ChartWindow{result.lowest->start, result.lowest->end,
                                    "lowest " + window_text};
    }
    out << render_chart(series, chart);
    if (result.lowest) {
      out << fmt::format("lowest {} window: {} to {}, mean {:.1f} gCO2eq/kWh\n",
                         window_text, format_utc(result.lowest->start),
                         format_utc(result.lowest->end),
                         result.lowest->mean_gco2_per_kwh);
    } else {
      out << fmt::format(
          "lowest {} window: none (the forecast is shorter or "
          "has gaps)\n",
          window_text);
    }
    out << "start                  end                    gCO2eq/kWh\n";
    for (const auto& point : series.points) {
      out << fmt::format(
          "{}   {}   {}\n", format_utc(point.start), format_utc(point.end),
          point.gco2_per_kwh ? fmt::format("{:.1f}", *point.gco2_per_kwh)
                             : std::string("-"));
    }
  }
}

void run_accuracy(CliContext& context, const config::Config& config,
                  std::vector<std::string> zones, bool json);

void run_forecast(CliContext& context, const ForecastArgs& args) {
  const auto* config = context.config();
  if (config == nullptr) {
    return;
  }
  if (args.accuracy) {
    std::vector<std::string> zones;
    for (const auto& zone : args.zones) {
      zones.push_back(canonical_zone(*config, zone));
    }
    run_accuracy(context, *config, zones, args.json);
    return;
  }
  TimePoint now = context.clock.now();
  if (!args.now.empty()) {
    auto parsed = parse_time_spec(args.now, now);
    if (!parsed) {
      context.fail(kCommand, "--now: " + parsed.error().message, kExitUsage);
      return;
    }
    now = *parsed;
  }
  auto window = parse_duration(args.window);
  if (!window || window->count() <= 0) {
    context.fail(kCommand,
                 fmt::format("--window: expected a positive duration like "
                             "\"1h\" or \"90m\", found \"{}\"",
                             args.window),
                 kExitUsage);
    return;
  }
  if (args.hours <= 0) {
    context.fail(kCommand,
                 fmt::format("--hours: expected a positive number of hours, "
                             "found {}",
                             args.hours),
                 kExitUsage);
    return;
  }
  std::vector<std::string> zones;
  for (const auto& zone : args.zones) {
    zones.push_back(canonical_zone(*config, zone));
  }
  if (zones.empty()) {
    for (const auto& zone : config->zones) {
      zones.push_back(zone.id);
    }
  }
  if (zones.empty()) {
    context.fail(kCommand, "no zone: pass --zone ZONE", kExitUsage);
    return;
  }

  std::unique_ptr<Database> db;
  if (auto opened = open_state_db(*config)) {
    db = std::move(*opened);
  } else {
    context.err << "lowcarb forecast: warning: " << opened.error().message
                << "; continuing without the cache and history\n";
  }
  CurlHttpClient http;
  auto service =
      forecast::make_forecast_service(*config, http, context.clock, db.get());
  if (!service) {
    context.fail(kCommand, service.error().message,
                 service.error().code == ErrorCode::kInvalidArgument ||
                         service.error().code == ErrorCode::kPermissionDenied
                     ? kExitUsage
                     : kExitFailure);
    return;
  }

  const Duration horizon{static_cast<int64_t>(args.hours) * 3600};
  std::vector<ZoneResult> results;
  bool failed = false;
  for (const auto& zone : zones) {
    auto series =
        args.provider.empty()
            ? (*service)->chain().forecast(zone, now, horizon)
            : (*service)->forecast_from(args.provider, zone, now, horizon);
    if (!series) {
      context.fail(kCommand, series.error().message);
      failed = true;
      continue;
    }
    ZoneResult result{zone, std::move(*series), std::nullopt};
    if (!result.series.empty()) {
      auto lowest = best_contiguous_window(
          result.series, std::max(now, result.series.begin_time()),
          result.series.end_time(), *window);
      if (lowest) {
        result.lowest = *lowest;
      }
    }
    results.push_back(std::move(result));
  }
  if (args.json) {
    print_json(context.out, results);
  } else if (args.csv) {
    print_csv(context.out, results);
  } else {
    print_text(context.out, results, format_duration(*window));
  }
  if (failed) {
    context.exit_code = kExitFailure;
  }
}

// `lowcarb forecast --accuracy`: the stored forecasts of `zones` (default:
// every zone with stored forecasts) scored against stored observations.
void run_accuracy(CliContext& context, const config::Config& config,
                  std::vector<std::string> zones, bool json) {
  auto db = open_state_db(config);
  if (!db) {
    context.fail(kCommand, db.error().message);
    return;
  }
  auto archive = forecast::ForecastArchive::open(**db);
  if (!archive) {
    context.fail(kCommand, archive.error().message);
    return;
  }
  if (zones.empty()) {
    auto stored = (*archive)->zones();
    if (!stored) {
      context.fail(kCommand, stored.error().message);
      return;
    }
    zones = *stored;
  }
  auto percent = [](double fraction) {
    return std::isnan(fraction) ? std::string("-")
                                : fmt::format("{:.1f}%", 100 * fraction);
  };
  auto number = [](double value) {
    return std::isnan(value) ? nlohmann::ordered_json(nullptr)
                             : nlohmann::ordered_json(value);
  };
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& zone : zones) {
    auto rows = (*archive)->accuracy(zone);
    if (!rows) {
      context.fail(kCommand, rows.error().message);
      return;
    }
    if (json) {
      nlohmann::ordered_json scores = nlohmann::ordered_json::array();
      for (const auto& row : *rows) {
        scores.push_back({{"provider", row.provider},
                          {"day", row.day},
                          {"points", row.points},
                          {"mape", number(row.mape)},
                          {"wape", number(row.wape)}});
      }
      list.push_back({{"zone", zone}, {"scores", scores}});
      continue;
    }
    context.out << fmt::format(
        "{}: stored forecasts scored against stored observations\n", zone);
    if (rows->empty()) {
      context.out << "  nothing to score yet (no stored forecast has an "
                     "observation of the same interval)\n";
      continue;
    }
    context.out << fmt::format("  {:<20}{:>6}{:>9}{:>9}{:>9}\n", "provider",
                               "lead", "points", "MAPE", "WAPE");
    for (const auto& row : *rows) {
      context.out << fmt::format("  {:<20}{:>6}{:>9}{:>9}{:>9}\n", row.provider,
                                 fmt::format("day {}", row.day), row.points,
                                 percent(row.mape), percent(row.wape));
    }
  }
  if (json) {
    context.out << nlohmann::ordered_json{{"zones", list}}.dump(2) << "\n";
  }
}

void run_import(CliContext& context, const ImportArgs& args) {
  const auto* config = context.config();
  if (config == nullptr) {
    return;
  }
  forecast::FileLoadOptions options;
  options.zone = args.zone.empty() ? "" : canonical_zone(*config, args.zone);
  options.scope = args.scope == "lifecycle" ? forecast::Scope::kLifecycle
                                            : forecast::Scope::kDirect;
  options.kind = {args.basis == "marginal" ? forecast::Basis::kMarginal
                                           : forecast::Basis::kAverage,
                  options.scope, forecast::Horizon::kObserved};
  auto loaded = forecast::load_intensity_file(args.file, options);
  if (!loaded) {
    context.fail("forecast import", loaded.error().message,
                 loaded.error().code == ErrorCode::kInvalidArgument
                     ? kExitUsage
                     : kExitFailure);
    return;
  }
  if (!options.zone.empty() && loaded->size() > 1) {
    context.fail("forecast import",
                 fmt::format("{}: holds {} zones; --zone renames a single-zone "
                             "file only",
                             args.file, loaded->size()),
                 kExitUsage);
    return;
  }
  auto db = open_state_db(*config);
  if (!db) {
    context.fail("forecast import", db.error().message);
    return;
  }
  auto store = forecast::HistoryStore::open(**db);
  if (!store) {
    context.fail("forecast import", store.error().message);
    return;
  }
  for (auto& series : *loaded) {
    if (!options.zone.empty()) {
      series.zone = options.zone;
    }
    auto written = (*store)->append(series);
    if (!written) {
      context.fail("forecast import", written.error().message);
      return;
    }
    context.out << fmt::format(
        "imported {} points for {} ({}) from {}: {} to {}\n", *written,
        series.zone, forecast::to_string(series.kind), args.file,
        series.empty() ? "-" : format_utc(series.begin_time()),
        series.empty() ? "-" : format_utc(series.end_time()));
  }
}

}  // namespace

void add_forecast_command(CLI::App& app, CliContext& context) {
  auto* command = app.add_subcommand(
      "forecast", "Show the carbon-intensity forecast of one or more zones");
  auto args = std::make_shared<ForecastArgs>();
  command->add_option("--zone", args->zones,
                      "Zone id, repeatable (default: the configured zones)");
  command->add_option("--hours", args->hours, "Horizon in hours (default: 48)");
  command->add_option("--provider", args->provider,
                      "Ask only this configured provider");
  command->add_option("--window", args->window,
                      "Length of the lowest window to mark (default: 1h)");
  auto* json = command->add_flag("--json", args->json, "Print JSON");
  command
      ->add_flag("--csv", args->csv,
                 "Print canonical CSV (timestamp,zone,gco2_per_kwh)")
      ->excludes(json);
  command->add_flag("--accuracy", args->accuracy,
                    "Score the stored forecasts the daemon fetched against "
                    "stored observations, per provider and lead day");
  command->add_option("--now", args->now,
                      "Pretend it is this time (ISO 8601 with offset, or "
                      "+DUR/-DUR)");

  auto* import = command->add_subcommand(
      "import",
      "Store observed intensities from FILE in the state database for the "
      "history forecaster (canonical CSV, Electricity Maps export, Let's "
      "Wait Awhile, WattTime CSV or JSON)");
  auto import_args = std::make_shared<ImportArgs>();
  import->add_option("FILE", import_args->file, "Intensity file")->required();
  import->add_option("--zone", import_args->zone,
                     "Zone id for a single-zone file (default: from the "
                     "file)");
  import
      ->add_option("--scope", import_args->scope,
                   "direct or lifecycle (default: direct)")
      ->check(CLI::IsMember({"direct", "lifecycle"}));
  import
      ->add_option("--basis", import_args->basis,
                   "average or marginal, for files that do not say "
                   "(default: average)")
      ->check(CLI::IsMember({"average", "marginal"}));
  import->callback(
      [&context, import_args] { run_import(context, *import_args);
});

auto* backtest = add_forecast_backtest_command(*command, context);
command->callback([&context, args, import, backtest] {
  if (import->parsed() || backtest->parsed()) {
    return;
  }
  run_forecast(context, *args);
});
}  // namespace lowcarb::scheduler

}  // namespace lowcarb::scheduler
