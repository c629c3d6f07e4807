// SPDX-License-Identifier: Apache-2.0
// `lowcarb forecast backtest` end to end through run_cli(): a small
// canonical CSV written to a temporary directory, text and JSON output, and
// the errors for a missing file, an unknown zone and a bad horizon.
#include <cmath>
#include <numbers>
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "scheduler/cli.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ForecastBacktestCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("LOWCARB_CONFIG");
    // 30 days of two zones: AA repeats a daily shape, BB a daily shape with
    // lower weekends.
    std::string csv = "timestamp,zone,gco2_per_kwh\n";
    const TimePoint start = *parse_time("2026-01-01T00:00:00Z");
    for (int h = 0; h < 24 * 30; ++h) {
      const std::string when = format_utc(start + std::chrono::hours(h));
      const double shape =
          300 + 80 * std::sin(2 * std::numbers::pi * (h % 24) / 24.0);
      const bool weekend = (h / 24) % 7 >= 5;
      csv += fmt::format("{},AA,{:.3f}\n", when, shape);
      csv += fmt::format("{},BB,{:.3f}\n", when, shape - (weekend ? 90 : 0));
    }
    file_ = dir_.file("intensity.csv");
    lowcarb::testing::write_file(file_, csv);
  }

  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    args.insert(args.begin(), "lowcarb");
    std::vector<const char*> argv;
    for (const auto& arg : args) {
      argv.push_back(arg.c_str());
    }
    CliContext context(out_, err_, clock_);
    return run_cli(static_cast<int>(argv.size()), argv.data(), context);
  }

  lowcarb::testing::ScopedTempDir dir_;
  std::string file_;
  ManualClock clock_{*parse_time("2026-11-23T18:30:00Z")};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ForecastBacktestCommandTest, PrintsBothForecastersSideBySide) {
  int code = run({"forecast", "backtest", "--intensity", file_, "--zone", "BB",
                  "--horizon", "48h"});

  ASSERT_EQ(0, code) << err_.str();
  const std::string text = out_.str();
  EXPECT_THAT(text, HasSubstr("BB: "));
  EXPECT_THAT(text, Not(HasSubstr("AA: ")));
  EXPECT_THAT(text, HasSubstr("seasonal-naive"));
  EXPECT_THAT(text, HasSubstr("ensemble"));
  EXPECT_THAT(text, HasSubstr("day 1"));
  EXPECT_THAT(text, HasSubstr("day 2"));
  EXPECT_THAT(text, Not(HasSubstr("day 3")));
  EXPECT_THAT(text, HasSubstr("job 3h slack 1d"));
  EXPECT_EQ("", err_.str());
}

TEST_F(ForecastBacktestCommandTest, JsonScoresEveryZone) {
  int code = run({"forecast", "backtest", "--intensity", file_, "--json"});

  ASSERT_EQ(0, code) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  EXPECT_EQ("4d", doc.at("horizon"));
  ASSERT_EQ(2u, doc.at("zones").size());
  const auto& aa = doc["zones"][0];
  EXPECT_EQ("AA", aa.at("zone"));
  ASSERT_EQ(2u, aa.at("forecasters").size());
  EXPECT_EQ("seasonal-naive", aa["forecasters"][0].at("forecaster"));
  const auto& ensemble = aa["forecasters"][1];
  EXPECT_EQ("ensemble", ensemble.at("forecaster"));
  // Issues from day 14 while issue + 96 h <= day 30: 12 days of hours + 1.
  EXPECT_EQ(24 * 12 + 1, ensemble.at("issues"));
  ASSERT_EQ(4u, ensemble.at("lead_blocks").size());
  ASSERT_EQ(6u, ensemble.at("flexible_start").size());
  // A pure daily shape (rounded to 0.001 in the file): the ensemble is
  // exact; seasonal naive, which blends in the last hour's value, is close.
  for (const auto& block : ensemble.at("lead_blocks")) {
    EXPECT_NEAR(0, block.at("wape").get<double>(), 1e-4);
  }
  for (const auto& flex : ensemble.at("flexible_start")) {
    EXPECT_NEAR(1, flex.at("captured").get<double>(), 1e-3);
  }
  for (const auto& flex : aa["forecasters"][0].at("flexible_start")) {
    EXPECT_GT(flex.at("captured").get<double>(), 0.9);
  }
  // With weekends the ensemble's weekly term and fitted deviation help.
  const auto& bb = doc["zones"][1];
  const double naive_wape =
      bb["forecasters"][0]["lead_blocks"][0].at("wape").get<double>();
  const double ensemble_wape =
      bb["forecasters"][1]["lead_blocks"][0].at("wape").get<double>();
  EXPECT_GT(naive_wape, 0.01);
  EXPECT_LT(ensemble_wape, naive_wape);
}

TEST_F(ForecastBacktestCommandTest, MissingFileIsAnErrorNamingIt) {
  int code =
      run({"forecast", "backtest", "--intensity", dir_.file("absent.csv")});

  EXPECT_NE(0, code);
  EXPECT_THAT(err_.str(), HasSubstr("absent.csv"));
  EXPECT_EQ("", out_.str());
}

TEST_F(ForecastBacktestCommandTest, UnknownZoneListsTheFilesZones) {
  int code =
      run({"forecast", "backtest", "--intensity", file_, "--zone", "CC"});

  EXPECT_EQ(kExitUsage, code);
  EXPECT_THAT(err_.str(), HasSubstr("\"CC\""));
  EXPECT_THAT(err_.str(), HasSubstr("AA, BB"));
}

TEST_F(ForecastBacktestCommandTest, BadHorizonAndTooShortAFileAreUsageErrors) {
  EXPECT_EQ(kExitUsage, run({"forecast", "backtest", "--intensity", file_,
                             "--horizon", "soon"}));
  EXPECT_THAT(err_.str(), HasSubstr("--horizon"));

  EXPECT_EQ(kExitUsage, run({"forecast", "backtest", "--intensity", file_,
                             "--warmup", "28d"}));
  EXPECT_THAT(err_.str(), HasSubstr("too short"));
}

}  // namespace
}  // namespace lowcarb::scheduler
