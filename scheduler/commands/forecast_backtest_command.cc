// SPDX-License-Identifier: Apache-2.0
// `lowcarb forecast backtest --intensity FILE [--zone Z] [--horizon 96h]
// [--json]`: replays issue times over a recorded intensity file and scores
// the seasonal-naive history forecaster and the ensemble forecaster side by
// side (forecast/backtest.h): MAPE and WAPE per lead day, and the share of
// the oracle's savings a flexible start captures. Needs no configuration
// and no network.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "forecast/backtest.h"
#include "forecast/ensemble_forecaster.h"
#include "forecast/history_forecaster.h"
#include "forecast/intensity_file.h"
#include "scheduler/commands/commands.h"

namespace lowcarb::scheduler {
namespace {

constexpr const char* kCommand = "forecast backtest";

struct BacktestArgs {
  std::string file;
  std::string zone;
  std::string horizon = "96h";
  std::string every = "1h";
  std::string warmup = "14d";
  bool json = false;
};

struct ZoneBacktest {
  std::string zone;
  std::vector<forecast::BacktestScore> scores;  // Naive, then ensemble.
};

nlohmann::ordered_json number_json(double value) {
  return std::isnan(value) ? nlohmann::ordered_json(nullptr)
                           : nlohmann::ordered_json(value);
}

std::string percent(double fraction) {
  return std::isnan(fraction) ? std::string("-")
                              : fmt::format("{:.1f}%", 100 * fraction);
}

void print_json(std::ostream& out, const std::vector<ZoneBacktest>& zones,
                const forecast::BacktestOptions& options) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& zone : zones) {
    nlohmann::ordered_json forecasters = nlohmann::ordered_json::array();
    for (const auto& score : zone.scores) {
      nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
      for (const auto& block : score.blocks) {
        blocks.push_back({{"day", block.day},
                          {"points", block.points},
                          {"mape", number_json(block.mape)},
                          {"wape", number_json(block.wape)}});
      }
      nlohmann::ordered_json flexible = nlohmann::ordered_json::array();
      for (const auto& flex : score.flexible) {
        flexible.push_back({{"job", format_duration(flex.job)},
                            {"slack", format_duration(flex.slack)},
                            {"decisions", flex.decisions},
                            {"savings", flex.savings},
                            {"oracle_savings", flex.oracle_savings},
                            {"captured", number_json(flex.captured)}});
      }
      forecasters.push_back(
          {{"forecaster", score.forecaster},
           {"issues", score.issues},
           {"failed_issues", score.failed_issues},
           {"first_issue",
            score.issues > 0 ? format_utc(score.first_issue) : ""},
           {"last_issue", score.issues > 0 ? format_utc(score.last_issue) : ""},
           {"lead_blocks", blocks},
           {"flexible_start", flexible}});
    }
    list.push_back({{"zone", zone.zone}, {"forecasters", forecasters}});
  }
  out << nlohmann::ordered_json{{"horizon", format_duration(options.horizon)},
                                {"issue_every",
                                 format_duration(options.issue_every)},
                                {"warmup", format_duration(options.warmup)},
                                {"zones", list}}
             .dump(2)
      << "\n";
}

void print_text(std::ostream& out, const std::vector<ZoneBacktest>& zones,
                const forecast::BacktestOptions& options) {
  bool first = true;
  for (const auto& zone : zones) {
    if (!first) {
      out << "\n";
    }
    first = false;
    const auto& naive = zone.scores[0];
    const auto& ensemble = zone.scores[1];
    out << fmt::format(
        "{}: {} issue times every {} from {} to {}, horizon {}\n", zone.zone,
        ensemble.issues, format_duration(options.issue_every),
        ensemble.issues > 0 ? format_utc(ensemble.first_issue) : "-",
        ensemble.issues > 0 ? format_utc(ensemble.last_issue) : "-",
        format_duration(options.horizon));
    out << fmt::format("{:<22}{:>18}{:>18}\n", "", naive.forecaster,
                       ensemble.forecaster);
    out << fmt::format("{:<22}{:>9}{:>9}{:>9}{:>9}\n", "lead", "MAPE", "WAPE",
                       "MAPE", "WAPE");
    for (size_t b = 0; b < ensemble.blocks.size(); ++b) {
      out << fmt::format(
          "{:<22}{:>9}{:>9}{:>9}{:>9}\n",
          fmt::format("day {}", ensemble.blocks[b].day),
          percent(naive.blocks[b].mape), percent(naive.blocks[b].wape),
          percent(ensemble.blocks[b].mape), percent(ensemble.blocks[b].wape));
    }
    out << "captured share of oracle savings (flexible start)\n";
    for (size_t f = 0; f < ensemble.flexible.size(); ++f) {
      const auto& flex = ensemble.flexible[f];
      out << fmt::format(
          "{:<22}{:>18}{:>18}\n",
          fmt::format("job {} slack {}", format_duration(flex.job),
                      format_duration(flex.slack)),
          percent(naive.flexible[f].captured), percent(flex.captured));
    }
    if (naive.failed_issues > 0 || ensemble.failed_issues > 0) {
      out << fmt::format("issue times without a forecast: {} {}, {} {}\n",
                         naive.forecaster, naive.failed_issues,
                         ensemble.forecaster, ensemble.failed_issues);
    }
  }
}

// The positive duration in `text`, or a usage error naming `option`.
std::optional<Duration> positive_duration(CliContext& context,
                                          const std::string& option,
                                          const std::string& text) {
  auto parsed = parse_duration(text);
  if (!parsed || parsed->count() <= 0) {
    context.fail(kCommand,
                 fmt::format("{}: expected a positive duration like \"96h\", "
                             "found \"{}\"",
                             option, text),
                 kExitUsage);
    return std::nullopt;
  }
  return *parsed;
}

void run_backtest_command(CliContext& context, const BacktestArgs& args) {
  forecast::BacktestOptions options;
  auto horizon = positive_duration(context, "--horizon", args.horizon);
  auto every = positive_duration(context, "--every", args.every);
  auto warmup = positive_duration(context, "--warmup", args.warmup);
  if (!horizon || !every || !warmup) {
    return;
  }
  options.horizon = *horizon;
  options.issue_every = *every;
  options.warmup = *warmup;

  forecast::FileLoadOptions load;
  load.zone = args.zone;
  auto loaded = forecast::load_intensity_file(args.file, load);
  if (!loaded) {
    context.fail(kCommand, loaded.error().message,
                 loaded.error().code == ErrorCode::kInvalidArgument
                     ? kExitUsage
                     : kExitFailure);
    return;
  }
  std::vector<forecast::IntensitySeries> selected;
  if (loaded->size() > 1 && !args.zone.empty()) {
    std::string names;
    for (const auto& series : *loaded) {
      if (iequals(series.zone, args.zone)) {
        selected.push_back(series);
      }
      names += (names.empty() ? "" : ", ") + series.zone;
    }
    if (selected.empty()) {
      context.fail(kCommand,
                   fmt::format("{}: no zone \"{}\" (the file holds {})",
                               args.file, args.zone, names),
                   kExitUsage);
      return;
    }
  } else {
    selected = std::move(*loaded);
  }

  std::vector<ZoneBacktest> results;
  for (const auto& series : selected) {
    auto naive = forecast::HistoryForecaster::from_series({series});
    auto ensemble = forecast::EnsembleForecaster::from_series({series});
    ZoneBacktest zone{series.zone, {}};
    const std::vector<std::pair<std::string, forecast::ForecastProvider*>>
        forecasters{{"seasonal-naive", naive.get()},
                    {"ensemble", ensemble.get()}};
    for (const auto& [name, provider] : forecasters) {
      auto score = forecast::run_backtest(
          series, name,
          [&, provider = provider](TimePoint now, Duration span) {
            return provider->forecast(series.zone, now, span);
          },
          options);
      if (!score) {
        context.fail(
            kCommand, fmt::format("{}: {}", args.file, score.error().message),
            score.error().code == ErrorCode::kInvalidArgument ? kExitUsage
                                                              : kExitFailure);
        return;
      }
      zone.scores.push_back(std::move(*score));
    }
    results.push_back(std::move(zone));
  }
  if (args.json) {
    print_json(context.out, results, options);
  } else {
    print_text(context.out, results, options);
  }
}

}  // namespace

CLI::App* add_forecast_backtest_command(CLI::App& forecast,
                                        CliContext& context) {
  auto* command = forecast.add_subcommand(
      "backtest",
      "Replay a recorded intensity FILE and score the history forecasters "
      "(seasonal naive and ensemble): MAPE/WAPE per lead day and the share "
      "of oracle savings a flexible start captures");
  auto args = std::make_shared<BacktestArgs>();
  command
      ->add_option("--intensity", args->file,
                   "Intensity file (canonical CSV, Electricity Maps export, "
                   "Let's Wait Awhile, WattTime CSV or JSON)")
      ->required();
  command->add_option("--zone", args->zone,
                      "Zone to score in a multi-zone file, or the name of a "
                      "single-zone file's zone (default: every zone)");
  command->add_option("--horizon", args->horizon,
                      "Forecast horizon per issue time (default: 96h)");
  command->add_option("--every", args->every,
                      "Spacing of issue times (default: 1h)");
  command->add_option("--warmup", args->warmup,
                      "History before the first issue time (default: 14d)");
  command->add_flag("--json", args->json, "Print JSON");
  command->callback([&context, args] { run_backtest_command(context, *args); });
  return command;
}

}  // namespace lowcarb::scheduler
