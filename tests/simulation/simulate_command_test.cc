// SPDX-License-Identifier: Apache-2.0
// `lowcarb simulate` end to end through run_cli (no process spawned).
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/exit_status.h"
#include "common/time_format.h"
#include "scheduler/cli.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using ::testing::HasSubstr;

class SimulateCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string intensity = "timestamp,zone,gco2_per_kwh\n";
    TimePoint t = *parse_time("2022-01-03T00:00:00Z");
    for (int h = 0; h < 24 * 5; ++h) {
      double value = 200 + 150 * ((h * 5) % 24 - 12) / 12.0 + h * 0.1;
      intensity += fmt::format("{},DE,{}\n", format_utc(t), value);
      intensity += fmt::format("{},FR,{}\n", format_utc(t), value / 3);
      t += std::chrono::hours(1);
    }
    testing::write_file(dir_.file("intensity.csv"), intensity);
    testing::write_file(dir_.file("jobs.csv"),
                        "id,submit,duration,deadline,power_w,interruptible\n"
                        "a,2022-01-03T01:00:00Z,2h,,200,false\n"
                        "b,2022-01-03T05:00:00Z,1h,,100,true\n"
                        "c,2022-01-04T05:00:00Z,3h,2022-01-04T20:00:00Z,,no\n");
  }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "lowcarb");
    std::vector<const char*> argv;
    for (const auto& arg : args) {
      argv.push_back(arg.c_str());
    }
    CliContext context(out_, err_, clock_);
    return run_cli(static_cast<int>(argv.size()), argv.data(), context);
  }

  testing::ScopedTempDir dir_;
  ManualClock clock_{*parse_time("2026-01-01T00:00:00Z")};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(SimulateCommandTest, JsonHasOneObjectPerPolicy) {
  int code =
      run({"simulate", "--intensity", dir_.file("intensity.csv"), "--zone",
           "DE", "--zone", "FR", "--workload", dir_.file("jobs.csv"), "--slack",
           "12h", "--policy", "run-now,flexible-start,spatial,oracle", "--json",
           "--per-job", dir_.file("per-job.csv")});

  ASSERT_EQ(kExitSuccess, code) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(4u, doc.size());
  for (const auto& one : doc) {
    for (const char* key :
         {"policy", "jobs", "baseline_kg", "kg", "savings_percent",
          "missed_deadlines", "mean_delay_hours"}) {
      EXPECT_TRUE(one.contains(key)) << key;
    }
    EXPECT_EQ(3, one["jobs"]);
    EXPECT_EQ(0, one["missed_deadlines"]);
  }
  EXPECT_EQ("run-now", doc[0]["policy"]);
  EXPECT_NEAR(doc[0]["baseline_kg"].get<double>(), doc[0]["kg"].get<double>(),
              1e-12);
  EXPECT_LT(doc[2]["kg"].get<double>(), doc[1]["kg"].get<double>());
  std::string csv = testing::read_file(dir_.file("per-job.csv"));
  EXPECT_THAT(csv, HasSubstr("policy,id,zone,submit,deadline,start,end"));
  EXPECT_EQ(1 + 4 * 3, std::count(csv.begin(), csv.end(), '\n'));
}

TEST_F(SimulateCommandTest, OnePolicyPrintsAnObject) {
  int code = run({"simulate", "--intensity", dir_.file("intensity.csv"),
                  "--zone", "DE", "--workload", dir_.file("jobs.csv"),
                  "--slack", "6h", "--policy", "pause-resume", "--json"});

  ASSERT_EQ(kExitSuccess, code) << err_.str();
  auto doc = nlohmann::json::parse(out_.str());
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ("pause-resume", doc["policy"]);
  EXPECT_EQ("perfect", doc["forecast"]);
}

TEST_F(SimulateCommandTest, TableComparesPoliciesAndReportsDroppedJobs) {
  testing::write_file(dir_.file("late.csv"),
                      "id,submit,duration,deadline,power_w,interruptible\n"
                      "a,2022-01-03T01:00:00Z,2h,,200,false\n"
                      "z,2022-01-07T22:00:00Z,2h,,200,false\n");

  int code = run({"simulate", "--intensity", dir_.file("intensity.csv"),
                  "--workload", dir_.file("late.csv"), "--slack", "6h",
                  "--policy", "run-now,threshold"});

  ASSERT_EQ(kExitSuccess, code) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("run-now"));
  EXPECT_THAT(out_.str(), HasSubstr("threshold"));
  EXPECT_THAT(out_.str(), HasSubstr("1 dropped"));
  EXPECT_THAT(err_.str(), HasSubstr("dropped 1 of 2 jobs"));
}

TEST_F(SimulateCommandTest, UnknownPolicyIsAUsageError) {
  int code = run({"simulate", "--intensity", dir_.file("intensity.csv"),
                  "--workload", dir_.file("jobs.csv"), "--slack", "6h",
                  "--policy", "flexible-stat"});

  EXPECT_EQ(kExitUsage, code);
  EXPECT_THAT(err_.str(), HasSubstr("flexible-stat"));
  EXPECT_THAT(err_.str(), HasSubstr("flexible-start"));
}

TEST_F(SimulateCommandTest, MissingDeadlineSourceNamesTheLine) {
  int code = run({"simulate", "--intensity", dir_.file("intensity.csv"),
                  "--workload", dir_.file("jobs.csv"), "--policy", "run-now"});

  EXPECT_EQ(kExitUsage, code);
  EXPECT_THAT(err_.str(), HasSubstr("jobs.csv:2"));
}

TEST_F(SimulateCommandTest, UnknownZoneListsTheZonesInTheFiles) {
  int code = run({"simulate", "--intensity", dir_.file("intensity.csv"),
                  "--zone", "GB", "--workload", dir_.file("jobs.csv"),
                  "--slack", "1h", "--policy", "run-now"});

  EXPECT_EQ(kExitUsage, code);
  EXPECT_THAT(err_.str(), HasSubstr("--zone GB"));
  EXPECT_THAT(err_.str(), HasSubstr("DE, FR"));
}

}  // namespace
}  // namespace lowcarb::scheduler
