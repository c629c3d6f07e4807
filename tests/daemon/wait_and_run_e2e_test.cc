// SPDX-License-Identifier: Apache-2.0
// `lowcarb wait` (through the real daemon and planning locally, with a
// scaled clock) and `lowcarb run` keeping its ledger in the user's state
// directory so `lowcarb report` shows it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using Seconds = std::chrono::duration<double>;

class WaitAndRunE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    // DE: dirty for the next two hours, then clean. FR: always clean.
    write_file(dir_.file("intensity.csv"),
               intensity_csv(real_now(), 72, {"DE", "FR"},
                             [](const std::string& zone, int hour) {
                               if (zone == "FR") {
                                 return 50.0;
                               }
                               return hour < 2 ? 500.0 : 80.0;
                             }));
    // The user's state directory is the configured one (without a
    // state_dir key: /var/lib/lowcarb as root, else under XDG_STATE_HOME);
    // tests name it so they never touch the machine's.
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
state_dir: {}
providers:
  testfile:
    type: file
    path: {}
zones:
  - id: DE
    providers: [testfile]
    executor: local
  - id: FR
    providers: [testfile]
    executor: local
daemon:
  poll_period: 1s
)",
                           user_state_dir(), dir_.file("intensity.csv")));
    env_ = {{"XDG_STATE_HOME", dir_.file("xdg")},
            {"HOME", dir_.file("home")},
            {"LOWCARB_SOCKET", ""}};
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      daemon_->stop();
    }
  }

  std::string user_state_dir() const { return dir_.file("xdg") + "/lowcarb"; }

  void start_daemon(const std::string& state_dir) {
    std::filesystem::create_directories(dir_.file("run"));
    DaemonLaunch l;
    l.config_path = dir_.file("lowcarb.yaml");
    l.state_dir = state_dir;
    l.socket_path = dir_.file("run/lowcarb.sock");
    l.log_path = dir_.file("daemon.log");
    l.clock_speed = 3600;
    daemon_ = std::make_unique<DaemonProcess>(l);
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }

  CliRun lowcarb(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", dir_.file("lowcarb.yaml")});
    return run_lowcarb(args, env_);
  }

  ScopedTempDir dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(WaitAndRunE2eTest, WaitBlocksUntilTheDaemonStartsItsPlaceholder) {
  start_daemon(dir_.file("state"));
  const auto started = std::chrono::steady_clock::now();

  CliRun wait =
      lowcarb({"wait", "--socket", dir_.file("run/lowcarb.sock"), "--duration",
               "1h", "--deadline", "+12h", "--zone", "DE", "--name", "e2e"});

  const Seconds waited = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(0, wait.status) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("(via the daemon)"));
  // Two dirty hours at 3600x: about two real seconds.
  EXPECT_GT(waited.count(), 1.0);
  EXPECT_LT(waited.count(), 20.0);
  auto jobs = daemon_->call({{"op", "list"}, {"all", true}});
  ASSERT_OK(jobs);
  ASSERT_EQ(1u, (*jobs)["jobs"].size());
  const json& job = (*jobs)["jobs"][0];
  EXPECT_EQ("wait: e2e", job["name"]);
  EXPECT_GE(*parse_time(job["planned_start"].get<std::string>()) -
                *parse_time(job["submitted_at"].get<std::string>()),
            std::chrono::minutes(55));
}

TEST_F(WaitAndRunE2eTest, WaitPlansLocallyWithoutADaemon) {
  const auto started = std::chrono::steady_clock::now();

  CliRun wait = lowcarb({"wait", "--duration", "1h", "--deadline", "+12h",
                         "--zone", "DE", "--clock-speed", "3600"});

  const Seconds waited = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(0, wait.status) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("planned locally (no daemon)"));
  EXPECT_THAT(wait.err, HasSubstr("reached"));
  EXPECT_GT(waited.count(), 0.5);
  EXPECT_LT(waited.count(), 20.0);
}

TEST_F(WaitAndRunE2eTest, WaitExitsAtOnceInACleanZone) {
  const auto started = std::chrono::steady_clock::now();

  CliRun wait = lowcarb(
      {"wait", "--duration", "1h", "--deadline", "+12h", "--zone", "FR", "-q"});

  const Seconds waited = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(0, wait.status) << wait.err;
  EXPECT_THAT(wait.err, ::testing::Not(HasSubstr("lowcarb wait:")));
  EXPECT_LT(waited.count(), 10.0);
}

TEST_F(WaitAndRunE2eTest, WaitExitCodesForBadInputAndAMissingDaemon) {
  CliRun bad = lowcarb({"wait", "--duration", "soon", "--deadline", "+12h"});
  CliRun late =
      lowcarb({"wait", "--duration", "2h", "--deadline", "+1h", "-q"});
  CliRun missing = lowcarb({"wait", "--socket", dir_.file("nothing.sock"),
                            "--duration", "1h", "--deadline", "+12h"});

  EXPECT_EQ(2, bad.status);
  EXPECT_THAT(bad.err, HasSubstr("--duration 'soon'"));
  EXPECT_NE(0, late.status);
  EXPECT_THAT(late.err, HasSubstr("lowcarb wait:"));
  EXPECT_EQ(3, missing.status);
  EXPECT_THAT(missing.err, HasSubstr(dir_.file("nothing.sock")));
}

TEST_F(WaitAndRunE2eTest, RunKeepsItsLedgerInTheUserStateDirForReport) {
  CliRun run = lowcarb({"run", "--name", "kept", "--duration", "5s",
                        "--deadline", "+1h", "--zone", "FR", "--power", "100",
                        "--json", "--", "sh", "-c", "sleep 1"});
  ASSERT_EQ(0, run.status) << run.err;
  const std::string id = json::parse(run.out).at("id");

  CliRun report = lowcarb({"report", "--json"});

  ASSERT_EQ(0, report.status) << report.err;
  EXPECT_TRUE(std::filesystem::exists(user_state_dir() + "/lowcarb.db"));
  const json doc = json::parse(report.out);
  ASSERT_EQ(1u, doc.at("jobs").size());
  EXPECT_EQ(id, doc["jobs"][0]["id"]);
  EXPECT_EQ("kept", doc["jobs"][0]["name"]);
  EXPECT_GT(doc["jobs"][0]["energy_kwh"].get<double>(), 0);
}

TEST_F(WaitAndRunE2eTest, EphemeralRunLeavesNothingForReport) {
  CliRun run = lowcarb({"run", "--ephemeral", "--duration", "5s", "--deadline",
                        "+1h", "--zone", "FR", "-q", "--", "true"});
  CliRun both =
      lowcarb({"run", "--ephemeral", "--state-dir", dir_.file("s"),
               "--duration", "5s", "--deadline", "+1h", "--", "true"});

  ASSERT_EQ(0, run.status) << run.err;
  EXPECT_FALSE(std::filesystem::exists(user_state_dir() + "/lowcarb.db"));
  CliRun report = lowcarb({"report"});
  EXPECT_NE(0, report.status);
  EXPECT_THAT(report.err, HasSubstr("no state database"));
  EXPECT_EQ(2, both.status);
  EXPECT_THAT(both.err, HasSubstr("--ephemeral"));
}

TEST_F(WaitAndRunE2eTest, RunRefusesAStateDirADaemonOwns) {
  start_daemon(user_state_dir());

  CliRun run = lowcarb({"run", "--duration", "5s", "--deadline", "+1h",
                        "--zone", "FR", "--", "true"});

  EXPECT_EQ(1, run.status);
  EXPECT_THAT(run.err, HasSubstr("lowcarb submit"));
  EXPECT_THAT(run.err, HasSubstr("--ephemeral"));
}

TEST_F(WaitAndRunE2eTest, InterruptedWaitExits130AndCancelsItsPlaceholder) {
  start_daemon(dir_.file("state"));
  const std::string config = dir_.file("lowcarb.yaml");
  const std::string socket = dir_.file("run/lowcarb.sock");
  const std::string binary = lowcarb_binary();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "wait",
            "--socket", socket.c_str(), "--duration", "1h", "--deadline",
            "+40h", "--earliest", "+30h", "-q", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  // The placeholder is queued (30 scheduled hours = 30 real seconds away).
  ASSERT_TRUE(wait_until(
      [&] {
        auto jobs = daemon_->call({{"op", "list"}});
        return jobs && (*jobs)["jobs"].size() == 1;
      },
      std::chrono::seconds(10)));

  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);

  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(130, WEXITSTATUS(status));
  auto jobs = daemon_->call({{"op", "list"}, {"all", true}});
  ASSERT_OK(jobs);
  ASSERT_EQ(1u, (*jobs)["jobs"].size());
  EXPECT_EQ("cancelled", (*jobs)["jobs"][0]["state"]);
}

TEST_F(WaitAndRunE2eTest, WaitLocalIgnoresARunningDaemon) {
  start_daemon(user_state_dir());

  CliRun wait = lowcarb({"wait", "--local", "--duration", "1h", "--deadline",
                         "+12h", "--zone", "FR"});

  ASSERT_EQ(0, wait.status) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("planned locally"));
  auto jobs = daemon_->call({{"op", "list"}, {"all", true}});
  ASSERT_OK(jobs);
  EXPECT_EQ(0u, (*jobs)["jobs"].size());
}

}  // namespace
}  // namespace lowcarb::testing
