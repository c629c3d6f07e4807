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
#include <map>
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
#include "executors/slurm_executor.h"
#include "scheduler/sqlite_job_store.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

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
  return lowcarb::testing::source_dir() + "/scripts/slurm-cluster";
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

// Issue 13: `lowcarb submit --duration 2m --deadline +3m` was passed
// --time=3 with --deadline, and Slurm ended the job as DEADLINE at once (its
// start plus time limit passed the deadline by the seconds the submission
// took). Here 1 minute of work due in 90 s: --time=2 would pass the
// deadline the same way. The job must run to its end, `show` must name the
// Slurm job, `logs` must read the file Slurm wrote, the job's environment
// is exactly the submitter's (a comma in a value passes) and holds nothing
// of the daemon's.
TEST_F(SlurmDaemonTest, TightDeadlineJobRunsWithItsSlurmIdLogsAndOnlyItsEnv) {
  CliRun submitted = cli({"submit", "--quiet", "--zone", "FR", "--duration",
                          "1m", "--deadline", "+90s", "--", "sh", "-c",
                          "sleep 3; echo ran-to-the-end; env; echo oops >&2"},
                         {{"CUDA_VISIBLE_DEVICES", "0,1"}});
  ASSERT_EQ(0, submitted.status) << submitted.err << daemon_->log();
  const std::string id(trim(submitted.out));

  ASSERT_TRUE(wait_ended(id, std::chrono::seconds(45)))
      << "job " << id << " is still " << state(id) << "\n"
      << daemon_->log();
  CliRun shown = cli({"show", id, "--json"});
  ASSERT_EQ(0, shown.status) << shown.err;
  const json job = json::parse(shown.out);
  EXPECT_EQ("succeeded", job["state"]) << shown.out << daemon_->log();
  ASSERT_TRUE(job.contains("slurm_job_id")) << shown.out;
  const std::string slurm_id = job["slurm_job_id"];
  EXPECT_TRUE(parse_integer(slurm_id).has_value()) << slurm_id;
  EXPECT_EQ(kCluster, job["slurm_cluster"]);
  const std::string out_path =
      fmt::format("{}/logs/{}/0/{}.out", dir_.file("state"), kCluster, id);
  EXPECT_EQ(out_path, job["logs"]["stdout"]);
  CliRun text = cli({"show", id});
  EXPECT_THAT(text.out, HasSubstr(fmt::format("slurm job   {} on cluster {}",
                                              slurm_id, kCluster)));

  CliRun logs = cli({"logs", id});
  ASSERT_EQ(0, logs.status) << logs.err;
  EXPECT_THAT(logs.out, HasSubstr("ran-to-the-end"));
  EXPECT_THAT(logs.out, HasSubstr("CUDA_VISIBLE_DEVICES=0,1\n"));
  EXPECT_THAT(logs.out, HasSubstr("LOWCARB_JOB_ID=" + id + "\n"));
  EXPECT_THAT(logs.out, Not(HasSubstr("daemon-secret-4711")));
  EXPECT_THAT(logs.out, Not(HasSubstr("LOWCARB_TEST_DAEMON_SECRET")));
  CliRun errors = cli({"logs", id, "--stderr"});
  EXPECT_THAT(errors.out, HasSubstr("oops")) << errors.err;
}

// A submission sbatch refuses makes `lowcarb submit` fail with sbatch's
// reason, not exit 0.
TEST_F(SlurmDaemonTest, SubmitFailsWhenSbatchRefusesTheJob) {
  write_file(dir_.file("bad.sh"),
             "#!/bin/sh\n#SBATCH --partition=no-such-partition\ntrue\n");

  CliRun submitted =
      cli({"submit", "--zone", "FR", "--duration", "1m", "--deadline", "+2h",
           "--sbatch", dir_.file("bad.sh")});

  EXPECT_NE(0, submitted.status) << submitted.out;
  EXPECT_THAT(submitted.err, HasSubstr("partition")) << daemon_->log();
}

// Issue 13: a daemon killed while sbatch is in flight submitted the job a
// second time after its restart. Here sbatch (a wrapper in bin_dir) submits
// and then hangs; the daemon is SIGKILLed meanwhile, restarted, and must
// adopt the job by its comment tag: one Slurm job, run to its end.
TEST_F(SlurmDaemonTest, DaemonKilledWhileSbatchIsInFlightAdoptsTheJob) {
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
               "--deadline", "+2h", "--", "sh", "-c",
               "sleep 8; echo adopted-run"});
  });
  const bool in_flight =
      wait_until([&] { return fs::exists(marker); }, std::chrono::seconds(30));
  second_->kill_hard();

  // The restart comes before the client gives up: `lowcarb submit` retries
  // an unanswered submit with the same request id (about 15 s in all), and
  // the job must still be running when it is listed below.
  write_config("");
  daemon_ = std::make_unique<DaemonProcess>(launch());
  const bool restarted = daemon_->start(why);
  submitter.join();
  ASSERT_TRUE(in_flight) << second_->log();
  ASSERT_TRUE(restarted) << why;
  auto listed = daemon_->call({{"op", "list"}});
  ASSERT_OK(listed);
  ASSERT_EQ(1u, (*listed)["jobs"].size()) << listed->dump();
  const std::string id = (*listed)["jobs"][0]["id"];
  // One Slurm job carries the tag: the restart did not submit again.
  // (Counted while the job runs: squeue forgets it 10 s after its end.)
  int tagged = 0;
  for (const auto& line : split(squeue_comments(), '\n')) {
    if (line.ends_with("|lowcarb:" + id)) {
      ++tagged;
    }
  }
  EXPECT_EQ(1, tagged) << squeue_comments() << daemon_->log();
  ASSERT_TRUE(wait_ended(id, std::chrono::seconds(45)))
      << "job " << id << " is still " << state(id) << "\n"
      << daemon_->log();
  EXPECT_EQ("succeeded", state(id)) << daemon_->log();
  EXPECT_THAT(daemon_->log(), HasSubstr("adopted Slurm job"));
}

// Issues 12 and 13: metering resumes from the last ledger row after the
// daemon is killed mid-run, so the job's CPU-time rows add up to the CPU
// time Slurm reports; a job that ran and ended (leaving squeue and scontrol)
// while no daemon was up is adopted with its real end state instead of being
// submitted again. The test cluster has no slurmdbd, so sacct knows nothing:
// the job is found in the jobcomp/filetxt log by its default name
// lowcarb-<id>.
TEST_F(SlurmDaemonTest, AJobThatEndedWhileTheDaemonWasDownIsAdoptedOnce) {
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
TEST_F(SlurmDaemonTest, LedgerCpuEnergyAcrossARestartEqualsSlurmsCpuTime) {
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
