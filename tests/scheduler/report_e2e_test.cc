// SPDX-License-Identifier: Apache-2.0
// End to end: the real binary runs a short real job with `lowcarb run` into a
// kept state directory, then `lowcarb report` reads that SQLite ledger as a
// CodeCarbon CSV, JSON and LaTeX, and refuses bad input with the documented
// exit codes.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using ::testing::HasSubstr;

constexpr double kIntensity = 300;  // gCO2eq/kWh, flat, so the job starts now.

std::chrono::sys_seconds real_now() {
  // Only used to lay the forecast file around the real time `lowcarb run`
  // plans with.
  return std::chrono::floor<std::chrono::seconds>(
      std::chrono::system_clock::now());
}

class ReportE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(
        dir_.file("intensity.csv"),
        intensity_csv(real_now(), 48, {"DE"},
                      [](const std::string&, int) { return kIntensity; }));
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
providers:
  testfile:
    type: file
    path: {}
zones:
  - id: DE
    providers: [testfile]
    executor: local
state_dir: {}
)",
                           dir_.file("intensity.csv"), state_dir()));
  }

  std::string config() const { return dir_.file("lowcarb.yaml"); }
  std::string state_dir() const { return dir_.file("state"); }

  // Runs one real one-second job on 100 W of declared power; returns its id.
  std::string run_job(const std::string& name) {
    CliRun run = run_lowcarb(
        {"--config", config(),     "run", "--state-dir", state_dir(), "--name",
         name,       "--duration", "5s",  "--deadline",  "+1h",       "--zone",
         "DE",       "--power",    "100", "--threshold", "1000",      "--json",
         "--",       "sh",         "-c",  "sleep 1"});
    EXPECT_EQ(0, run.status) << run.err << run.out;
    auto doc = nlohmann::json::parse(run.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << run.out;
    return doc.is_discarded() ? "" : doc.value("id", "");
  }

  ScopedTempDir dir_;
};

TEST_F(ReportE2eTest, ReportsARealRunAsCsvJsonAndLatex) {
  const std::string id = run_job("report, \"e2e\"");
  ASSERT_FALSE(id.empty());

  const std::string csv_path = dir_.file("emissions.csv");
  CliRun csv = run_lowcarb({"--config", config(), "report", "--csv", csv_path});
  ASSERT_EQ(0, csv.status) << csv.err;
  auto lines = split(read_file(csv_path), '\n');
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(0u, lines[0].find("timestamp,project_name,run_id,experiment_id,"
                              "duration,emissions,"));
  // The name holds a comma and quotes, so it is quoted; the fields before it
  // hold neither.
  auto fields = split(lines[1], ',');
  ASSERT_GE(fields.size(), 10u);
  EXPECT_EQ("lowcarb", fields[1]);
  EXPECT_EQ(id, fields[2]);
  EXPECT_EQ("\"report", fields[3]);
  EXPECT_EQ(" \"\"e2e\"\"\"", fields[4]);
  const double duration = std::stod(fields[5]);
  const double emissions = std::stod(fields[6]);
  EXPECT_GE(duration, 1);
  EXPECT_GT(emissions, 0);
  EXPECT_THAT(lines[1], HasSubstr(",Germany,DEU,DE,"));

  CliRun json =
      run_lowcarb({"--config", config(), "report", "--json", "--job", id});
  ASSERT_EQ(0, json.status) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(1u, doc["jobs"].size());
  const auto& job = doc["jobs"][0];
  EXPECT_EQ(id, job["id"]);
  EXPECT_EQ("report, \"e2e\"", job["name"]);
  EXPECT_EQ("DE", job["zone"]);
  const double kwh = job["energy_kwh"].get<double>();
  EXPECT_GT(kwh, 0);
  // 100 W declared over the metered seconds (the meter decides which
  // component it books), at PUE 1 by default.
  EXPECT_NEAR(100 * duration / 3.6e6, job["it_kwh"].get<double>(), 1e-12);
  EXPECT_NEAR(kwh, job["it_kwh"].get<double>(), 1e-12);
  EXPECT_NEAR(emissions, job["emissions_kg"].get<double>(), 1e-12);
  EXPECT_NEAR(kIntensity, job["mean_gco2_per_kwh"].get<double>(), 1e-6);
  EXPECT_NEAR(kwh * kIntensity / 1000, job["emissions_kg"].get<double>(),
              1e-12);
  EXPECT_EQ(1, doc["totals"]["job_count"].get<int>());

  CliRun latex = run_lowcarb({"--config", config(), "report", "--latex",
                              "--functional-unit", "2",
                              "--functional-unit-name", "batch_run"});
  ASSERT_EQ(0, latex.status) << latex.err;
  EXPECT_THAT(latex.out, HasSubstr("in zone DE over"));
  EXPECT_THAT(latex.out, HasSubstr("carbon efficiency of 300 gCO$_2$eq/kWh"));
  EXPECT_THAT(latex.out, HasSubstr("per batch\\_run"));

  CliRun text = run_lowcarb({"--config", config(), "report"});
  ASSERT_EQ(0, text.status) << text.err;
  EXPECT_THAT(text.out, HasSubstr("TOTAL"));
}

TEST_F(ReportE2eTest, SinceFiltersOldIntervalsAndBadInputIsRefused) {
  const std::string id = run_job("since");
  ASSERT_FALSE(id.empty());

  CliRun future =
      run_lowcarb({"--config", config(), "report", "--json", "--since", "+1h"});
  ASSERT_EQ(0, future.status) << future.err;
  EXPECT_TRUE(nlohmann::json::parse(future.out)["jobs"].empty());
  CliRun recent =
      run_lowcarb({"--config", config(), "report", "--json", "--since", "-1h"});
  ASSERT_EQ(0, recent.status) << recent.err;
  EXPECT_EQ(1u, nlohmann::json::parse(recent.out)["jobs"].size());

  CliRun bad_since =
      run_lowcarb({"--config", config(), "report", "--since", "yesterday"});
  EXPECT_EQ(2, bad_since.status);
  EXPECT_THAT(bad_since.err, HasSubstr("--since"));

  CliRun unknown_job =
      run_lowcarb({"--config", config(), "report", "--job", "9999"});
  EXPECT_EQ(1, unknown_job.status);
  EXPECT_THAT(unknown_job.err, HasSubstr("job 9999 not found"));

  CliRun both =
      run_lowcarb({"--config", config(), "report", "--json", "--latex"});
  EXPECT_EQ(2, both.status);
}

TEST_F(ReportE2eTest, MissingDatabaseIsAClearError) {
  const std::string empty = dir_.file("nothing-here");
  CliRun run = run_lowcarb({"report", "--state-dir", empty});
  EXPECT_EQ(1, run.status);
  EXPECT_THAT(run.err,
              HasSubstr("no state database at " + empty + "/lowcarb.db"));
  // Reading must not create the database.
  EXPECT_FALSE(std::filesystem::exists(empty + "/lowcarb.db"));
}

}  // namespace
}  // namespace lowcarb::testing
