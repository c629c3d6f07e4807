// SPDX-License-Identifier: Apache-2.0
// Checkpoint pauses through the real daemon (issue 12): a job that takes
// seconds to save its state does not stop the daemon's loop. The pause call
// returns at once, the socket keeps answering while the job saves, the job
// reads "pausing" until it has gone and "paused" after; it resumes with
// LOWCARB_RESUME=1. A job that ignores the signal is killed after the grace
// and still counts as paused, and a daemon restart in the middle of a save
// settles it too.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
constexpr auto kWait = std::chrono::seconds(30);

// One daemon with its own state dir and socket; local jobs pause by
// checkpoint with a `grace_s` grace period.
class Instance {
 public:
  explicit Instance(int grace_s) {
    write_file(dir_.file("intensity.csv"),
               intensity_csv(real_now(), 72, {"FR"},
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
    executor: local
executors:
  local:
    pause_mode: checkpoint
    grace: {}s
daemon:
  poll_period: 1s
  sample_period: 3s
)",
                           dir_.file("intensity.csv"), grace_s));
    std::filesystem::create_directories(dir_.file("work"));
    DaemonLaunch launch;
    launch.config_path = dir_.file("lowcarb.yaml");
    launch.state_dir = dir_.file("state");
    launch.socket_path = dir_.file("lowcarb.sock");
    launch.log_path = dir_.file("daemon.log");
    daemon_ = std::make_unique<DaemonProcess>(launch);
  }
  ~Instance() {
    if (daemon_->running()) {
      daemon_->stop();
    }
  }

  bool start() {
    std::string why;
    const bool started = daemon_->start(why);
    EXPECT_TRUE(started) << why;
    return started;
  }
  DaemonProcess& daemon() { return *daemon_; }
  // The job's ledger rows, read from the state database.
  std::vector<scheduler::LedgerRecord> ledger(const std::string& id) {
    return read_ledger(dir_.file("state/lowcarb.db"), id);
  }
  std::string work_file(const std::string& name) const {
    return dir_.file("work/" + name);
  }
  bool exists(const std::string& name) const {
    return std::filesystem::exists(work_file(name));
  }
  json call(const json& request) {
    auto answer = daemon_->call(request);
    EXPECT_TRUE(answer.has_value()) << answer.error().message;
    return answer ? *answer : json();
  }
  std::string state_of(const std::string& id) { return daemon_->state_of(id); }
  bool reaches(const std::string& id, const std::string& state) {
    return daemon_->reaches(id, state, kWait);
  }
  // Submits `script` (sh) to FR, where it starts at once, and waits until
  // it wrote started.txt.
  // `extra`: more request fields.
  std::string submit_running(const std::string& script,
                             const json& extra = json::object()) {
    json request = {{"op", "submit"},
                    {"argv", {"/bin/sh", "-c", script}},
                    {"duration", 600},
                    {"zones", {"FR"}},
                    {"pause_mode", "checkpoint"},
                    {"working_dir", dir_.file("work")},
                    {"deadline", "+12h"}};
    request.update(extra);
    json answer = call(request);
    EXPECT_TRUE(answer.contains("id")) << answer.dump();
    const std::string id = answer.value("id", "");
    EXPECT_TRUE(wait_until([&] { return exists("started.txt"); }, kWait))
        << daemon_->log();
    return id;
  }

 private:
  ScopedTempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

// Saves for 3 s on SIGTERM; a resumed segment notes LOWCARB_RESUME and
// keeps running.
constexpr const char* kSlowSaver =
    "if [ \"$LOWCARB_RESUME\" = 1 ]; then echo \"$LOWCARB_SEGMENT\" > "
    "resumed.txt; while true; do sleep 0.1; done; fi; "
    "trap 'echo saving > saving.txt; sleep 3; echo saved > saved.txt; exit 0' "
    "TERM; echo $$ > pid.txt; echo started > started.txt; "
    "while true; do sleep 0.1; done";

// Whether `pid` has ended: gone, or a zombie nobody reaped yet (the job's
// shell is reparented when its wrapper is killed).
bool has_ended(pid_t pid) {
  const std::string stat =
      read_file(fmt::format("/proc/{}/stat", static_cast<int>(pid)));
  const auto paren = stat.rfind(')');
  return stat.empty() || paren == std::string::npos ||
         stat.substr(paren + 2, 1) == "Z";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

TEST(CheckpointPauseTest, PauseReturnsAtOnceAndTheSocketAnswersWhileItSaves) {
  Instance instance(20);
  ASSERT_TRUE(instance.start());
  const std::string id = instance.submit_running(kSlowSaver);
  ASSERT_TRUE(instance.reaches(id, "running")) << instance.daemon().log();

  const auto before = std::chrono::steady_clock::now();
  json paused = instance.call({{"op", "pause"}, {"id", id}});
  const double pause_s = seconds_since(before);
  // While the job saves: pings over the socket, each timed.
  int pings = 0;
  int failed_pings = 0;
  double slowest_ping_s = 0;
  std::string state_while_saving;
  while (!instance.exists("saved.txt") && seconds_since(before) < 10) {
    const auto sent = std::chrono::steady_clock::now();
    auto pong = instance.daemon().call({{"op", "ping"}});
    slowest_ping_s = std::max(slowest_ping_s, seconds_since(sent));
    ++pings;
    failed_pings += pong ? 0 : 1;
    if (instance.exists("saving.txt") && !instance.exists("saved.txt")) {
      state_while_saving = instance.state_of(id);
    }
    std::this_thread::sleep_for(100ms);
  }
  const bool paused_in_time = instance.reaches(id, "paused");
  const bool saved = instance.exists("saved.txt");
  json resumed = instance.call({{"op", "resume"}, {"id", id}});
  const bool resumed_ran =
      wait_until([&] { return instance.exists("resumed.txt"); }, kWait);
  const std::string state_after_resume = instance.state_of(id);
  instance.call({{"op", "cancel"}, {"id", id}});

  EXPECT_FALSE(paused.contains("error")) << paused.dump();
  EXPECT_LT(pause_s, 1.0) << "the pause call took " << pause_s << " s";
  // 3 s of saving at one ping per ~0.1 s.
  EXPECT_GE(pings, 10);
  EXPECT_EQ(0, failed_pings);
  EXPECT_LT(slowest_ping_s, 1.0) << "slowest ping " << slowest_ping_s << " s";
  EXPECT_EQ("pausing", state_while_saving);
  EXPECT_TRUE(paused_in_time) << instance.daemon().log();
  EXPECT_TRUE(saved);  // Given its time: not killed before the grace.
  EXPECT_FALSE(resumed.contains("error")) << resumed.dump();
  EXPECT_TRUE(resumed_ran) << instance.daemon().log();
  EXPECT_EQ("1\n", read_file(instance.work_file("resumed.txt")));
  EXPECT_EQ("running", state_after_resume);
  std::cout << fmt::format(
      "pause call {:.3f} s; {} pings while saving, slowest {:.3f} s\n", pause_s,
      pings, slowest_ping_s);
}

TEST(CheckpointPauseTest, AJobIgnoringTheSignalIsKilledAfterTheGraceAndPaused) {
  Instance instance(2);
  ASSERT_TRUE(instance.start());
  const std::string id = instance.submit_running(
      "if [ \"$LOWCARB_RESUME\" = 1 ]; then echo resumed > resumed.txt; "
      "while true; do sleep 0.1; done; fi; trap '' TERM; echo $$ > pid.txt; "
      "echo started > started.txt; while true; do sleep 0.1; done");
  ASSERT_TRUE(instance.reaches(id, "running")) << instance.daemon().log();
  const pid_t pid = std::stoi(read_file(instance.work_file("pid.txt")));

  const auto before = std::chrono::steady_clock::now();
  json paused = instance.call({{"op", "pause"}, {"id", id}});
  const double pause_s = seconds_since(before);
  const std::string state_in_grace = instance.state_of(id);
  const bool paused_after_grace = instance.reaches(id, "paused");
  const double settled_s = seconds_since(before);
  const bool gone = has_ended(pid);
  json resumed = instance.call({{"op", "resume"}, {"id", id}});
  const bool resumed_ran =
      wait_until([&] { return instance.exists("resumed.txt"); }, kWait);
  instance.call({{"op", "cancel"}, {"id", id}});

  EXPECT_FALSE(paused.contains("error")) << paused.dump();
  EXPECT_LT(pause_s, 1.0);
  EXPECT_EQ("pausing", state_in_grace);
  EXPECT_TRUE(paused_after_grace) << instance.daemon().log();
  EXPECT_GE(settled_s, 2.0);  // Not before its grace.
  EXPECT_TRUE(gone);
  EXPECT_FALSE(resumed.contains("error")) << resumed.dump();
  EXPECT_TRUE(resumed_ran) << instance.daemon().log();
}

TEST(CheckpointPauseTest, ARestartWhileTheJobSavesStillSettlesThePause) {
  Instance instance(20);
  ASSERT_TRUE(instance.start());
  const std::string id = instance.submit_running(kSlowSaver);
  ASSERT_TRUE(instance.reaches(id, "running")) << instance.daemon().log();

  json paused = instance.call({{"op", "pause"}, {"id", id}});
  ASSERT_TRUE(wait_until([&] { return instance.exists("saving.txt"); }, kWait));
  instance.daemon().kill_hard();
  const bool saved_while_down = instance.exists("saved.txt");
  ASSERT_TRUE(instance.start());
  const bool paused_after_restart = instance.reaches(id, "paused");
  const bool saved = instance.exists("saved.txt");
  json resumed = instance.call({{"op", "resume"}, {"id", id}});
  const bool resumed_ran =
      wait_until([&] { return instance.exists("resumed.txt"); }, kWait);
  instance.call({{"op", "cancel"}, {"id", id}});

  EXPECT_FALSE(paused.contains("error")) << paused.dump();
  EXPECT_FALSE(saved_while_down);  // The restart came in mid-save.
  EXPECT_TRUE(paused_after_restart) << instance.daemon().log();
  EXPECT_TRUE(saved);
  EXPECT_FALSE(resumed.contains("error")) << resumed.dump();
  EXPECT_TRUE(resumed_ran) << instance.daemon().log();
}

// The energy a job spends saving its checkpoint is in the ledger (metered
// until the job has gone), but the save is not progress: run_time stops at
// the pause request.
TEST(CheckpointPauseTest, TheSaveIsMeteredButIsNotProgress) {
  Instance instance(20);
  ASSERT_TRUE(instance.start());
  const std::string id =
      instance.submit_running(kSlowSaver, {{"power_watts", 100}});
  ASSERT_TRUE(instance.reaches(id, "running")) << instance.daemon().log();
  std::this_thread::sleep_for(2s);

  const auto requested = real_now();
  json paused = instance.call({{"op", "pause"}, {"id", id}});
  ASSERT_FALSE(paused.contains("error")) << paused.dump();
  ASSERT_TRUE(instance.reaches(id, "paused")) << instance.daemon().log();
  ASSERT_TRUE(instance.exists("saved.txt"));
  const auto settled = real_now();
  json shown = instance.call({{"op", "show"}, {"id", id}});
  const auto rows = instance.ledger(id);
  instance.call({{"op", "cancel"}, {"id", id}});

  ASSERT_FALSE(rows.empty()) << instance.daemon().log();
  double joules = 0;
  std::chrono::sys_seconds last_end{};
  for (const auto& row : rows) {
    joules += row.joules();
    last_end =
        std::max(last_end, std::chrono::floor<std::chrono::seconds>(row.end));
  }
  // The job saves for 3 s after the request; the ledger's last interval
  // ends when the daemon saw it go (within about a poll period after).
  EXPECT_GE(last_end, requested + 3s) << instance.daemon().log();
  EXPECT_LE(last_end, settled + 1s);
  // 100 W declared: every metered second, run and save, is 100 J.
  const auto run_s = shown.value("run_time_s", int64_t{-1});
  EXPECT_GE(joules, 100.0 * static_cast<double>(run_s + 3) - 1.0);
  // Progress counts the run before the request (~2 s), not the save.
  EXPECT_GE(run_s, 1);
  EXPECT_LE(run_s, 3 + 1);
}

}  // namespace
}  // namespace lowcarb::testing
