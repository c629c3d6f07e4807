// SPDX-License-Identifier: Apache-2.0
// `lowcarb plan` through the CLI table, with a fixed clock and string
// streams: the JSON contract, the text summary, and usage errors.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/time_format.h"
#include "scheduler/cli.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int exit_code = 0;
  std::string out;
  std::string err;
};

CliRun run(std::vector<std::string> args) {
  ManualClock clock(*parse_time("2026-01-05T00:00:00Z"));
  std::ostringstream out;
  std::ostringstream err;
  CliContext context(out, err, clock);
  args.insert(args.begin(), "lowcarb");
  std::vector<const char*> argv;
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  CliRun result;
  result.exit_code =
      run_cli(static_cast<int>(argv.size()), argv.data(), context);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// Two zones, hourly, 2026-01-05 00:00..06:00 UTC.
class PlanCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("two-zones.csv");
    std::string text = "timestamp,zone,gco2_per_kwh\n";
    const int a[] = {300, 250, 100, 120, 400, 90};
    const int b[] = {200, 210, 220, 230, 240, 250};
    for (int h = 0; h < 6; ++h) {
      const std::string t = "2026-01-05T0" + std::to_string(h) + ":00:00Z";
      text += t + ",AA," + std::to_string(a[h]) + "\n";
      text += t + ",BB," + std::to_string(b[h]) + "\n";
    }
    testing::write_file(path_, text);
  }

  testing::ScopedTempDir dir_;
  std::string path_;
};

TEST_F(PlanCommandTest, PrintsTheJsonContract) {
  auto r = run({"plan", "--intensity", path_, "--zone", "BB", "--zone", "AA",
                "--duration", "2h", "--deadline", "+6h", "--power", "500",
                "--json"});

  ASSERT_EQ(0, r.exit_code) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ("AA", doc.at("zone"));
  EXPECT_EQ("2026-01-05T02:00:00Z", doc.at("start"));
  EXPECT_EQ("2026-01-05T04:00:00Z", doc.at("end"));
  ASSERT_EQ(1u, doc.at("segments").size());
  EXPECT_EQ("2026-01-05T02:00:00Z", doc.at("segments")[0].at("start"));
  EXPECT_EQ("2026-01-05T04:00:00Z", doc.at("segments")[0].at("end"));
  EXPECT_DOUBLE_EQ(110.0, doc.at("expected_gco2_per_kwh").get<double>());
  EXPECT_DOUBLE_EQ(110.0, doc.at("expected_grams").get<double>());
  EXPECT_EQ("BB", doc.at("run_now_zone"));  // First --zone is the baseline.
  EXPECT_DOUBLE_EQ(205.0, doc.at("run_now_gco2_per_kwh").get<double>());
  EXPECT_DOUBLE_EQ(205.0, doc.at("run_now_grams").get<double>());
  EXPECT_NEAR(100.0 * 95 / 205, doc.at("savings_percent").get<double>(), 1e-9);
  EXPECT_EQ("best-window", doc.at("reason"));
}

TEST_F(PlanCommandTest, PlansPauseResumeSegments) {
  auto r =
      run({"plan", "--intensity", path_, "--zone", "AA", "--duration", "3h",
           "--deadline", "2026-01-05T06:00:00Z", "--interruptible", "--json"});

  ASSERT_EQ(0, r.exit_code) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ("pause-resume", doc.at("reason"));
  ASSERT_EQ(2u, doc.at("segments").size());
  EXPECT_EQ("2026-01-05T05:00:00Z", doc.at("segments")[1].at("start"));
}

TEST_F(PlanCommandTest, PrintsASummaryWithTheWindowMarked) {
  auto r = run(
      {"plan", "--intensity", path_, "--duration", "2h", "--deadline", "+6h"});

  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Plan: run in AA from 2026-01-05T02:00:00Z"));
  EXPECT_THAT(r.out, HasSubstr("savings"));
  EXPECT_THAT(r.out, HasSubstr("^"));
}

TEST_F(PlanCommandTest, UnknownZoneIsAUsageErrorNamingTheFile) {
  auto r = run({"plan", "--intensity", path_, "--zone", "XX", "--duration",
                "1h", "--deadline", "+6h"});

  EXPECT_EQ(2, r.exit_code);
  EXPECT_THAT(r.err, HasSubstr("XX"));
  EXPECT_THAT(r.err, HasSubstr(path_));
  EXPECT_THAT(r.err, HasSubstr("AA, BB"));
}

TEST_F(PlanCommandTest, InfeasibleJobIsAUsageError) {
  auto r = run(
      {"plan", "--intensity", path_, "--duration", "3h", "--deadline", "+2h"});

  EXPECT_EQ(2, r.exit_code);
  EXPECT_THAT(r.err, HasSubstr("infeasible"));
}

TEST_F(PlanCommandTest, BadTimeIsAUsageError) {
  auto r = run({"plan", "--intensity", path_, "--duration", "1h", "--deadline",
                "tomorrow-ish"});

  EXPECT_EQ(2, r.exit_code);
  EXPECT_THAT(r.err, HasSubstr("--deadline"));
}

TEST_F(PlanCommandTest, MinChunkWithoutInterruptibleIsAUsageError) {
  auto r = run({"plan", "--intensity", path_, "--duration", "1h", "--deadline",
                "+6h", "--min-chunk", "30m"});

  EXPECT_EQ(2, r.exit_code);
  EXPECT_THAT(r.err, HasSubstr("--interruptible"));
}

TEST(PlanCommandSharedDataTest, PlansOnARealElectricityMapsExport) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto r =
      run({"plan", "--intensity",
           testing::shared_data("intensity/electricitymaps/GB_2022_hourly.csv"),
           "--now", "2022-06-01T00:00:00Z", "--duration", "3h", "--deadline",
           "+24h", "--json"});

  ASSERT_EQ(0, r.exit_code) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ("best-window", doc.at("reason"));
  EXPECT_GE(doc.at("start").get<std::string>(), "2022-06-01T00:00:00Z");
  EXPECT_LE(doc.at("end").get<std::string>(), "2022-06-02T00:00:00Z");
  EXPECT_GE(doc.at("savings_percent").get<double>(), 0.0);
  EXPECT_LE(doc.at("expected_gco2_per_kwh").get<double>(),
            doc.at("run_now_gco2_per_kwh").get<double>());
}

TEST(PlanCommandSharedDataTest, PlansOnLetsWaitAwhileFifteenMinuteData) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto r =
      run({"plan", "--intensity",
           testing::shared_data("intensity/lets-wait-awhile/ger_ci.csv"),
           "--now", "2020-03-02T08:00:00Z", "--duration", "4h", "--deadline",
           "+2d", "--interruptible", "--min-chunk", "1h", "--json"});

  ASSERT_EQ(0, r.exit_code) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  for (const auto& segment : doc.at("segments")) {
    EXPECT_GE(*parse_time(segment.at("end").get<std::string>()) -
                  *parse_time(segment.at("start").get<std::string>()),
              std::chrono::hours(1));
  }
  EXPECT_GE(doc.at("savings_percent").get<double>(), 0.0);
}

}  // namespace
}  // namespace lowcarb::scheduler
