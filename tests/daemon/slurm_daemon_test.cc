// SPDX-License-Identifier: Apache-2.0
// End to end with Slurm: a real one-host Slurm cluster (scripts/slurm-cluster)
// and the real `lowcarb daemon` whose zone runs jobs on it. A short CPU burn
// submitted through the daemon's socket must end with ledger rows measured
// by a Slurm meter (scheduler/job_meters.h): sstat's CPU time while it runs,
// the allocation for the tail after the last sample (the test cluster has no
// slurmdbd). Skipped, with the reason, when not root or Slurm is missing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "executors/posix_process_runner.h"
#include "scheduler/sqlite_job_store.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCluster = "lcmeter";
constexpr double kWattsPerCore = 10;
// About 3-5 s of one CPU on these machines (slower when they are busy).
constexpr const char* kBurn =
    "i=0; while [ $i -lt 4000000 ]; do i=$((i+1)); done";

bool slurm_installed() {
  for (const char* path :
       {"/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch",
        "/usr/bin/sstat", "/usr/sbin/munged"}) {
    if (!fs::exists(path)) {
      return false;
    }
  }
  return true;
}

std::string cluster_script() {
  return std::string(LOWCARB_SOURCE_DIR) + "/scripts/slurm-cluster";
}

std::chrono::sys_seconds real_now() {
  return std::chrono::floor<std::chrono::seconds>(
      std::chrono::system_clock::now());
}

class SlurmDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (slurmd runs jobs as their owners)";
    }
    if (!slurm_installed()) {
      GTEST_SKIP() << "Slurm is not installed (scripts/setup --with-slurm "
                      "installs slurmctld, slurmd, slurm-client and munge)";
    }
    fs::permissions(dir_.path(), fs::perms(0755));
    base_ = dir_.file("cluster");
    executors::Command start;
    start.argv = {cluster_script(),
                  "start",
                  base_,
                  kCluster,
                  std::to_string(free_loopback_port()),
                  std::to_string(free_loopback_port())};
    start.timeout = std::chrono::seconds(60);
    auto started = runner_.run(start);
    cluster_started_ = true;
    ASSERT_TRUE(started && started->exit_code == 0)
        << cluster_script() << " start: "
        << (started ? started->err + started->out : started.error().message);

    // FR is equally clean all day, so the planner starts the job at once.
    write_file(dir_.file("intensity.csv"),
               intensity_csv(real_now(), 24, {"FR"},
                             [](const std::string&, int) { return 50.0; }));
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
logging:
  level: debug
providers:
  testfile:
    type: file
    path: {}
zones:
  - id: FR
    providers: [testfile]
    executor: slurm:{}
executors:
  slurm:
    - name: {}
      zone: FR
      slurm_conf: {}/etc/slurm.conf
hardware:
  watts_per_core: {}
daemon:
  poll_period: 1s
  sample_period: 1s
)",
                           dir_.file("intensity.csv"), kCluster, kCluster,
                           base_, kWattsPerCore));
    DaemonLaunch launch;
    launch.config_path = dir_.file("lowcarb.yaml");
    launch.state_dir = dir_.file("state");
    fs::create_directories(dir_.file("run"));
    launch.socket_path = dir_.file("run/lowcarb.sock");
    launch.log_path = dir_.file("daemon.log");
    launch.clock_speed = 1;  // CPU seconds and wall seconds must agree.
    daemon_ = std::make_unique<DaemonProcess>(launch);
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      daemon_->stop();
    }
    if (cluster_started_) {
      executors::Command stop;
      stop.argv = {cluster_script(), "stop", base_};
      stop.timeout = std::chrono::seconds(60);
      (void)runner_.run(stop);
    }
  }

  std::string state(const std::string& id) const {
    auto job = daemon_->call({{"op", "show"}, {"id", id}});
    return job ? (*job)["state"].get<std::string>() : "";
  }

  ScopedTempDir dir_;
  std::string base_;
  bool cluster_started_ = false;
  executors::PosixProcessRunner runner_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(SlurmDaemonTest, SlurmJobEndsWithLedgerRowsMeasuredBySlurm) {
  auto submitted =
      daemon_->call({{"op", "submit"},
                     {"name", "slurm-burn"},
                     {"argv", {"sh", "-c", kBurn}},
                     {"working_dir", base_ + "/jobs"},
                     {"duration", 60},
                     {"zones", {"FR"}},
                     {"executor", fmt::format("slurm:{}", kCluster)},
                     {"deadline", "+12h"}});
  ASSERT_OK(submitted);
  const std::string id = (*submitted)["id"];

  ASSERT_TRUE(wait_until(
      [&] {
        const std::string now = state(id);
        return now == "succeeded" || now == "failed" || now == "lost" ||
               now == "cancelled";
      },
      std::chrono::seconds(45)))
      << "job " << id << " is still " << state(id) << "\n"
      << daemon_->log();
  ASSERT_EQ("succeeded", state(id)) << daemon_->log();

  // The state DB the daemon wrote (WAL: readable beside it).
  auto db = Database::open(dir_.file("state/lowcarb.db"));
  ASSERT_OK(db);
  auto store = scheduler::SqliteJobStore::open(**db);
  ASSERT_OK(store);
  scheduler::LedgerFilter filter;
  filter.job_id = id;
  auto rows = (*store)->ledger(filter);
  ASSERT_OK(rows);
  ASSERT_FALSE(rows->empty()) << daemon_->log();

  const std::set<std::string> slurm_sources = {"slurm-energy", "slurm-cpu-time",
                                               "slurm-allocation"};
  double joules = 0;
  double grams = 0;
  std::set<std::string> sources;
  for (const auto& row : *rows) {
    EXPECT_TRUE(slurm_sources.contains(row.meter_source))
        << "row " << format_utc(row.start) << ".." << format_utc(row.end)
        << " metered by " << row.meter_source;
    sources.insert(row.meter_source);
    joules += row.joules();
    grams += row.grams;
  }
  EXPECT_GT(joules, 0);
  EXPECT_GT(grams, 0);
  // sstat was read while the job ran: some of its CPU time was measured.
  EXPECT_TRUE(sources.contains("slurm-cpu-time"))
      << "sources: " << fmt::format("{}", fmt::join(sources, ", ")) << "\n"
      << daemon_->log();
  // The job used at most its wall time on the CPUs it was given (at most
  // the node's); the allocation tail is an upper bound of the same kind.
  // More would mean CPU time counted twice.
  double seconds = 0;
  for (const auto& row : *rows) {
    seconds += static_cast<double>((row.end - row.start).count());
  }
  const double cpus = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_LE(joules, kWattsPerCore * cpus * (seconds + 1))
      << "over " << seconds << " s";

  // The report command (when built) shows the job with its emissions.
  auto help = run_lowcarb({"report", "--help"});
  if (help.status != 0) {
    GTEST_SKIP() << "no `lowcarb report` in this build; ledger checked";
  }
  auto report = run_lowcarb({"--config", dir_.file("lowcarb.yaml"), "report",
                             "--state-dir", dir_.file("state"), "--csv", "-"});
  ASSERT_EQ(0, report.status) << report.err;
  auto lines = split(report.out, '\n');
  ASSERT_GE(lines.size(), 2u) << report.out;
  auto header = split(lines[0], ',');
  auto column = [&header](const std::string& name) {
    return std::find(header.begin(), header.end(), name) - header.begin();
  };
  const auto run_id = static_cast<size_t>(column("run_id"));
  const auto emissions = static_cast<size_t>(column("emissions"));
  const auto energy = static_cast<size_t>(column("energy_consumed"));
  ASSERT_LT(std::max({run_id, emissions, energy}), header.size()) << lines[0];
  bool found = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto fields = split(lines[i], ',');
    if (fields.size() != header.size() || fields[run_id] != id) {
      continue;
    }
    found = true;
    EXPECT_GT(std::strtod(fields[emissions].c_str(), nullptr), 0) << lines[i];
    EXPECT_GT(std::strtod(fields[energy].c_str(), nullptr), 0) << lines[i];
  }
  EXPECT_TRUE(found) << "no row for job " << id << " in\n" << report.out;
}

}  // namespace
}  // namespace lowcarb::testing
