// SPDX-License-Identifier: Apache-2.0
// `lowcarb forecast` and `lowcarb forecast import`, driven through run_cli()
// with a ManualClock and string streams; the state database lives in a
// temporary directory named by a config file.
#include <cstdlib>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/forecast_archive.h"
#include "scheduler/cli.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using ::testing::HasSubstr;

const TimePoint kNow = *parse_time("2026-11-23T18:30:00Z");

class ForecastCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("LOWCARB_CONFIG");
    config_path_ = dir_.file("lowcarb.yaml");
    lowcarb::testing::write_file(config_path_,
                                 "state_dir: " + dir_.file("state") + "\n");
  }

  // Runs `lowcarb --config <tmp> <args...>`; returns the exit code.
  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    args.insert(args.begin(), {"lowcarb", "--config", config_path_});
    std::vector<const char*> argv;
    for (const auto& arg : args) {
      argv.push_back(arg.c_str());
    }
    CliContext context(out_, err_, clock_);
    return run_cli(static_cast<int>(argv.size()), argv.data(), context);
  }

  lowcarb::testing::ScopedTempDir dir_;
  std::string config_path_;
  ManualClock clock_{kNow};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ForecastCommandTest, JsonOfTheEmbeddedProfileWorksOffline) {
  int code = run({"forecast", "--zone", "DE", "--json"});

  ASSERT_EQ(0, code) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  ASSERT_EQ(1u, doc.at("zones").size());
  const auto& zone = doc["zones"][0];
  EXPECT_EQ("DE", zone.at("zone"));
  EXPECT_EQ("profile", zone.at("provider"));
  EXPECT_EQ("average/direct/forecast", zone.at("kind"));
  EXPECT_EQ(false, zone.at("stale"));
  EXPECT_EQ("2026-11-23T18:30:00Z", zone.at("generated_at"));
  const auto& points = zone.at("points");
  ASSERT_EQ(49u, points.size());
  EXPECT_EQ("2026-11-23T18:00:00Z", points[0].at("start"));
  EXPECT_EQ("2026-11-23T19:00:00Z", points[0].at("end"));
  EXPECT_TRUE(points[0].at("gco2_per_kwh").is_number());

  // The lowest 1 h window starts at or after now and is no worse than any
  // whole hour after now.
  const auto& lowest = zone.at("lowest_window");
  auto start = parse_time(lowest.at("start").get<std::string>());
  auto end = parse_time(lowest.at("end").get<std::string>());
  ASSERT_OK(start);
  ASSERT_OK(end);
  EXPECT_GE(*start, kNow);
  EXPECT_EQ(std::chrono::hours(1), *end - *start);
  const double mean = lowest.at("mean_gco2_per_kwh").get<double>();
  for (size_t i = 1; i < points.size(); ++i) {
    EXPECT_LE(mean, points[i].at("gco2_per_kwh").get<double>() + 1e-9) << i;
  }
}

TEST_F(ForecastCommandTest, NowOptionMovesTheForecast) {
  int code = run({"forecast", "--zone", "GB", "--json", "--hours", "6", "--now",
                  "2027-06-01T00:00:00Z"});

  ASSERT_EQ(0, code) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  const auto& points = doc["zones"][0]["points"];
  EXPECT_EQ(6u, points.size());
  EXPECT_EQ("2027-06-01T00:00:00Z", points[0]["start"]);
}

TEST_F(ForecastCommandTest, CsvIsCanonicalForSeveralZones) {
  int code = run(
      {"forecast", "--zone", "DE", "--zone", "FR", "--csv", "--hours", "3"});

  ASSERT_EQ(0, code) << err_.str();
  auto text = out_.str();
  EXPECT_EQ(0u, text.find("timestamp,zone,gco2_per_kwh\n"));
  EXPECT_THAT(text, HasSubstr("2026-11-23T18:00:00Z,DE,"));
  EXPECT_THAT(text, HasSubstr("2026-11-23T18:00:00Z,FR,"));
  EXPECT_EQ(1 + 4 + 4, std::count(text.begin(), text.end(), '\n'));
}

TEST_F(ForecastCommandTest, TextShowsProviderChartAndLowestWindow) {
  int code = run({"forecast", "--zone", "DE", "--window", "2h"});

  ASSERT_EQ(0, code) << err_.str();
  auto text = out_.str();
  EXPECT_THAT(text, HasSubstr("DE: provider profile, average/direct/forecast"));
  EXPECT_THAT(text, HasSubstr("█"));
  EXPECT_THAT(text, HasSubstr("(UTC)"));
  EXPECT_THAT(text, HasSubstr("lowest 2h window: "));
}

TEST_F(ForecastCommandTest, AnnualAverageZoneSaysShiftingGainsNothing) {
  int code = run({"forecast", "--zone", "FR"});

  ASSERT_EQ(0, code) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("FR: provider static"));
  EXPECT_THAT(out_.str(), HasSubstr("waiting gains nothing"));
}

TEST_F(ForecastCommandTest, ImportedHistoryServesTheForecast) {
  std::string csv = "timestamp,zone,gco2_per_kwh\n";
  for (int h = -72; h < 0; ++h) {
    csv += format_utc(*parse_time("2026-11-23T18:00:00Z") +
                      std::chrono::hours(h)) +
           ",DE,150\n";
  }
  const auto file = dir_.file("de.csv");
  lowcarb::testing::write_file(file, csv);

  int imported = run({"forecast", "import", file});
  ASSERT_EQ(0, imported) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("imported 72 points for DE"));
  int code = run({"forecast", "--zone", "de", "--json", "--hours", "12"});

  ASSERT_EQ(0, code) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  EXPECT_EQ("DE", doc["zones"][0]["zone"]);
  EXPECT_EQ("history", doc["zones"][0]["provider"]);
  EXPECT_DOUBLE_EQ(150.0, doc["zones"][0]["points"][3]["gco2_per_kwh"]);
}

TEST_F(ForecastCommandTest, ImportOfABadFileNamesTheLine) {
  const auto file = dir_.file("bad.csv");
  lowcarb::testing::write_file(
      file, "Time,Carbon Intensity\n2020-01-01 00:00:00,x\n");

  int code = run({"forecast", "import", file, "--zone", "DE"});

  EXPECT_EQ(kExitUsage, code);
  EXPECT_THAT(err_.str(), HasSubstr("bad.csv:2: Carbon Intensity: expected"));
}

TEST_F(ForecastCommandTest, ProviderOptionAsksOnlyThatProvider) {
  int code =
      run({"forecast", "--zone", "DE", "--provider", "static", "--json"});

  ASSERT_EQ(0, code) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  EXPECT_EQ("static", doc["zones"][0]["provider"]);
  // The scope is the catalogue figure's (data/zones.csv).
  EXPECT_THAT(doc["zones"][0]["kind"].get<std::string>(),
              ::testing::EndsWith("/annual-average"));
}

TEST_F(ForecastCommandTest, UnknownProviderFails) {
  int code = run({"forecast", "--zone", "DE", "--provider", "nope"});

  EXPECT_EQ(kExitFailure, code);
  EXPECT_THAT(err_.str(), HasSubstr("lowcarb forecast: forecast for DE: no "
                                    "provider named 'nope'"));
}

TEST_F(ForecastCommandTest, BadWindowIsAUsageError) {
  int code = run({"forecast", "--zone", "DE", "--window", "soon"});

  EXPECT_EQ(kExitUsage, code);
  EXPECT_THAT(err_.str(), HasSubstr("--window: expected a positive duration"));
}

// A forecast stored as the daemon stores it, scored once observations of
// the same hours are imported.
TEST_F(ForecastCommandTest, AccuracyScoresStoredForecastsAgainstImports) {
  const TimePoint issued = *parse_time("2026-11-20T00:00:00Z");
  {
    ASSERT_EQ(0, run({"forecast", "--accuracy"})) << err_.str();
    auto db = *Database::open(dir_.file("state") + "/lowcarb.db");
    auto archive = *forecast::ForecastArchive::open(*db);
    forecast::IntensitySeries series;
    series.zone = "DE";
    series.provider = "electricitymaps";
    series.generated_at = issued;
    for (int h = 0; h < 30; ++h) {
      series.points.push_back({issued + std::chrono::hours(h),
                               issued + std::chrono::hours(h + 1), 120.0});
    }
    ASSERT_OK(archive->record(series));
  }
  EXPECT_EQ(0, run({"forecast", "--accuracy", "--zone", "de"}));
  EXPECT_THAT(out_.str(), HasSubstr("nothing to score yet"));

  std::string csv = "timestamp,zone,gco2_per_kwh\n";
  for (int h = 0; h < 30; ++h) {
    csv += format_utc(issued + std::chrono::hours(h)) + ",DE,100\n";
  }
  const std::string file = dir_.file("observed.csv");
  lowcarb::testing::write_file(file, csv);
  ASSERT_EQ(0, run({"forecast", "import", file})) << err_.str();

  ASSERT_EQ(0, run({"forecast", "--accuracy", "--zone", "DE"})) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("electricitymaps"));
  EXPECT_THAT(out_.str(), HasSubstr("day 1"));
  EXPECT_THAT(out_.str(), HasSubstr("20.0%"));

  ASSERT_EQ(0, run({"forecast", "--accuracy", "--json"})) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  ASSERT_EQ(1u, doc.at("zones").size());
  const auto& scores = doc["zones"][0].at("scores");
  ASSERT_EQ(2u, scores.size());
  EXPECT_EQ(24, scores[0].at("points"));
  EXPECT_NEAR(0.2, scores[0].at("wape").get<double>(), 1e-12);
  EXPECT_EQ(2, scores[1].at("day"));
  EXPECT_EQ(6, scores[1].at("points"));
}

}  // namespace
}  // namespace lowcarb::scheduler
