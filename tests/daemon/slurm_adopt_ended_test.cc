// SPDX-License-Identifier: Apache-2.0
// Issues 12 and 13 end to end with a real Slurm cluster and the real
// daemon. Metering: the daemon killed mid-run resumes the Slurm meter from
// the last ledger row, so the job's CPU-time rows add up to the CPU time
// Slurm itself reports for it. Adoption: the daemon is killed while sbatch is
// in flight, the Slurm job runs and ends (and leaves squeue and scontrol) while
// no daemon is up, and the restarted daemon adopts it with its real end state
// instead of submitting it again. The test cluster (scripts/slurm-cluster) has
// no slurmdbd, so sacct knows nothing: the job is found in the jobcomp/filetxt
// log by its default name lowcarb-<id>. The fixture is the one of
// slurm_daemon_test.cc. Skipped, with the reason, when not root or Slurm is
// missing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/strings.h"
#include "executors/posix_process_runner.h"
#include "executors/slurm_executor.h"
#include "scheduler/sqlite_job_store.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kCluster = "lcadopt";
constexpr double kWattsPerCore = 10;

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

class SlurmAdoptEndedTest : public ::testing::Test {
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
    write_config("");
    daemon_ = std::make_unique<DaemonProcess>(launch());
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }

  // lowcarb.yaml for the cluster; `bin_dir` = where the daemon finds
  // sbatch & co ("" = PATH).
  void write_config(const std::string& bin_dir) {
    write_file(
        dir_.file("lowcarb.yaml"),
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
      time_limit_factor: 1.5
{}hardware:
  watts_per_core: {}
daemon:
  poll_period: 1s
  sample_period: 1s
)",
                    dir_.file("intensity.csv"), kCluster, kCluster, base_,
                    bin_dir.empty()
                        ? std::string()
                        : fmt::format("      bin_dir: {}\n", bin_dir),
                    kWattsPerCore));
  }

  DaemonLaunch launch() {
    DaemonLaunch launch;
    launch.config_path = dir_.file("lowcarb.yaml");
    launch.state_dir = dir_.file("state");
    fs::create_directories(dir_.file("run"));
    launch.socket_path = dir_.file("run/lowcarb.sock");
    launch.log_path = dir_.file("daemon.log");
    launch.clock_speed = 1;  // CPU seconds and wall seconds must agree.
    // A secret of the daemon's that no job may see.
    launch.env["LOWCARB_TEST_DAEMON_SECRET"] = "daemon-secret-4711";
    return launch;
  }

  CliRun cli(std::vector<std::string> args,
             const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin() + 1, {"--socket", dir_.file("run/lowcarb.sock")});
    return run_lowcarb(args, env);
  }

  bool wait_ended(const std::string& id, std::chrono::seconds limit) {
    return wait_until(
        [&] {
          const std::string now = state(id);
          return now == "succeeded" || now == "failed" || now == "lost" ||
                 now == "cancelled";
        },
        limit);
  }

  // What squeue lists (id|comment) of this cluster's jobs.
  std::string squeue_comments() {
    executors::Command command;
    command.argv = {"squeue", "-h", "-t", "all", "-o", "%i|%k"};
    command.env["SLURM_CONF"] = base_ + "/etc/slurm.conf";
    auto listed = runner_.run(command);
    return listed ? listed->out : listed.error().message;
  }

  void TearDown() override {
    if (second_ && second_->running()) {
      second_->stop();
    }
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
  std::unique_ptr<DaemonProcess> second_;
};

TEST_F(SlurmAdoptEndedTest, AJobThatEndedWhileTheDaemonWasDownIsAdoptedOnce) {
  daemon_->stop();
  const std::string bin = dir_.file("bin");
  fs::create_directories(bin);
  for (const char* tool : {"squeue", "scontrol", "scancel", "sacct", "sstat"}) {
    fs::create_symlink(std::string("/usr/bin/") + tool, bin + "/" + tool);
  }
  const std::string marker = dir_.file("sbatch-returned");
  write_file(bin + "/sbatch",
             fmt::format("#!/bin/sh\n/usr/bin/sbatch \"$@\"\nrc=$?\n"
                         "touch {}\nsleep 20\nexit $rc\n",
                         marker));
  fs::permissions(bin + "/sbatch", fs::perms(0755));
  write_config(bin);
  second_ = std::make_unique<DaemonProcess>(launch());
  std::string why;
  ASSERT_TRUE(second_->start(why)) << why;

  std::thread submitter([&] {
    (void)cli({"submit", "--quiet", "--zone", "FR", "--duration", "1m",
               "--deadline", "+2h", "--", "sh", "-c", "exit 3"});
  });
  const bool in_flight =
      wait_until([&] { return fs::exists(marker); }, std::chrono::seconds(30));
  second_->kill_hard();
  submitter.join();  // It gives up: no daemon answers.
  ASSERT_TRUE(in_flight) << second_->log();

  // No daemon while the job runs, ends and is forgotten by the controller
  // (MinJobAge=10 s; purged about once a minute).
  const std::string jobcomp = base_ + "/log/jobcomp.txt";
  executors::Command show_all;
  show_all.argv = {"scontrol", "show", "job", "-o"};
  show_all.env["SLURM_CONF"] = base_ + "/etc/slurm.conf";
  const bool forgotten = wait_until(
      [&] {
        auto shown = runner_.run(show_all);
        const bool none =
            shown && shown->out.find("JobId=") == std::string::npos;
        return none && squeue_comments().empty() &&
               read_file(jobcomp).find(" Name=lowcarb-") != std::string::npos;
      },
      std::chrono::seconds(120));
  ASSERT_TRUE(forgotten) << "squeue: " << squeue_comments()
                         << "\njobcomp: " << read_file(jobcomp);

  write_config("");
  daemon_ = std::make_unique<DaemonProcess>(launch());
  ASSERT_TRUE(daemon_->start(why)) << why;
  // The stored job (kStarting when the daemon died) is adopted and ends as
  // the Slurm job did; list shows only active jobs, so ask by id.
  const std::string log = read_file(jobcomp);
  const auto at = log.find(" Name=lowcarb-");
  ASSERT_NE(std::string::npos, at);
  const auto id_begin = at + std::string(" Name=lowcarb-").size();
  const std::string id =
      log.substr(id_begin, log.find(' ', id_begin) - id_begin);
  ASSERT_TRUE(wait_ended(id, std::chrono::seconds(30)))
      << "job " << id << " is still " << state(id) << "\n"
      << daemon_->log();
  // Give a wrong resubmission the time to show up before counting runs.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto shown = daemon_->call({{"op", "show"}, {"id", id}});
  int runs = 0;
  const std::string final_log = read_file(jobcomp);
  for (size_t from = 0; (from = final_log.find(" Name=lowcarb-" + id + " ",
                                               from)) != std::string::npos;
       ++from) {
    ++runs;
  }

  EXPECT_EQ("failed", state(id)) << daemon_->log();
  ASSERT_OK(shown);
  EXPECT_THAT(shown->dump(), HasSubstr("exit 3")) << shown->dump();
  EXPECT_THAT(daemon_->log(), HasSubstr("adopted Slurm job"));
  EXPECT_EQ(1, runs) << final_log;
  EXPECT_TRUE(squeue_comments().empty()) << squeue_comments();
}

// The ledger's CPU energy of a job metered across a SIGKILL restart equals
// (within 2 %) its CPU time as sstat reports it after its burn, x watts per
// core: nothing re-metered from the job's start, nothing lost. (Without the
// carried-over counter the first row after the restart counted the job's
// CPU time from its start, up to the interval's CPU bound.)
TEST_F(SlurmAdoptEndedTest, LedgerCpuEnergyAcrossARestartEqualsSlurmsCpuTime) {
  const std::string burned = base_ + "/jobs/burned";
  auto submitted = daemon_->call(
      {{"op", "submit"},
       {"name", "restart-burn"},
       {"argv",
        {"sh", "-c",
         fmt::format("end=$(( $(date +%s) + 14 )); while [ $(date +%s) -lt "
                     "$end ]; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); "
                     "done; done; touch {}; sleep 8",
                     burned)}},
       {"working_dir", base_ + "/jobs"},
       {"duration", 60},
       {"zones", {"FR"}},
       {"executor", fmt::format("slurm:{}", kCluster)},
       {"deadline", "+12h"}});
  ASSERT_OK(submitted);
  const std::string id = (*submitted)["id"];
  ASSERT_TRUE(wait_until([&] { return state(id) == "running"; },
                         std::chrono::seconds(30)))
      << daemon_->log();
  auto shown = daemon_->call({{"op", "show"}, {"id", id}});
  ASSERT_OK(shown);
  const std::string slurm_id = shown->value("slurm_job_id", "");
  ASSERT_FALSE(slurm_id.empty()) << shown->dump();

  std::this_thread::sleep_for(std::chrono::seconds(6));  // Rows recorded.
  daemon_->kill_hard();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  daemon_ = std::make_unique<DaemonProcess>(launch());
  std::string why;
  ASSERT_TRUE(daemon_->start(why)) << why;

  // Slurm's own figure once the burn is over (the job then sleeps).
  ASSERT_TRUE(
      wait_until([&] { return fs::exists(burned); }, std::chrono::seconds(40)));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  config::SlurmClusterConfig cluster;
  cluster.name = kCluster;
  cluster.slurm_conf = base_ + "/etc/slurm.conf";
  executors::SlurmExecutor probe(cluster, runner_);
  auto live = probe.live_usage({"slurm", kCluster, slurm_id});
  ASSERT_OK(live);
  double slurm_cpu_seconds = 0;
  for (const auto& step : live->steps) {
    slurm_cpu_seconds += step.cpu_seconds;
  }
  ASSERT_TRUE(wait_ended(id, std::chrono::seconds(40)))
      << "job " << id << " is still " << state(id) << "\n"
      << daemon_->log();
  const std::string final_state = state(id);
  daemon_->stop();

  auto db = Database::open(dir_.file("state/lowcarb.db"));
  ASSERT_OK(db);
  auto store = scheduler::SqliteJobStore::open(**db);
  ASSERT_OK(store);
  scheduler::LedgerFilter filter;
  filter.job_id = id;
  auto rows = (*store)->ledger(filter);
  ASSERT_OK(rows);
  double cpu_time_joules = 0;
  int64_t metered_s = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    if (row.meter_source == "slurm-cpu-time") {
      cpu_time_joules += row.cpu_joules;
    }
    if (i > 0) {
      EXPECT_GE(row.start, (*rows)[i - 1].end);  // No time metered twice.
    }
    metered_s += (row.end - row.start).count();
  }

  EXPECT_EQ("succeeded", final_state);
  ASSERT_GT(slurm_cpu_seconds, 0);
  const double expected = kWattsPerCore * slurm_cpu_seconds;
  EXPECT_NEAR(expected, cpu_time_joules, 0.02 * expected)
      << "Slurm: " << slurm_cpu_seconds << " CPU s; ledger " << cpu_time_joules
      << " J of CPU-time rows over " << metered_s << " s\n"
      << daemon_->log();
  std::cout << fmt::format(
      "Slurm job across a restart: sstat {:.0f} CPU s = {:.0f} J; ledger "
      "CPU-time rows {:.1f} J ({:+.2f} %)\n",
      slurm_cpu_seconds, expected, cpu_time_joules,
      100.0 * (cpu_time_joules - expected) / expected);
}

}  // namespace
}  // namespace lowcarb::testing
