// SPDX-License-Identifier: Apache-2.0
// Crash safety: the real daemon is killed with SIGKILL at 20 points across
// the life of 50 jobs (while submitting, planning, starting, running,
// pausing and finishing) and restarted each time. Every job must end exactly
// once: each appends one line to a shared file, and the lines are counted.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;

constexpr int kJobs = 50;
constexpr int kKills = 20;
constexpr double kSpeed = 1200;  // 20 scheduled minutes per real second.

std::string job_name(int i) { return fmt::format("job-{}", i); }

TEST(DaemonCrashTest, EveryJobEndsExactlyOnceAcrossTwentyKills) {
  ScopedTempDir dir;
  const auto test_start = std::chrono::steady_clock::now();
  const std::string work = dir.file("work");
  std::filesystem::create_directories(work);
  // Alternating clean and dirty hours: starts spread over the run and
  // interruptible jobs get more than one segment.
  write_file(
      dir.file("intensity.csv"),
      intensity_csv(real_now(), 72, {"DE"}, [](const std::string&, int hour) {
        return hour % 2 == 0 ? 400.0 : 90.0;
      }));
  write_file(dir.file("lowcarb.yaml"), fmt::format(R"(
logging:
  level: debug
providers:
  testfile:
    type: file
    path: {}
zones:
  - id: DE
    providers: [testfile]
    executor: local
planner:
  replan_period: 15m
  safety_margin: 5m
daemon:
  poll_period: 1s
  sample_period: 1m
)",
                                                   dir.file("intensity.csv")));
  DaemonLaunch launch;
  launch.config_path = dir.file("lowcarb.yaml");
  launch.state_dir = dir.file("state");
  launch.socket_path = dir.file("lowcarb.sock");
  launch.log_path = dir.file("daemon.log");
  launch.clock_speed = kSpeed;

  std::mt19937 random(20261123);
  std::map<std::string, std::string> ids;  // Acknowledged: name -> id.
  std::set<std::string> unacknowledged;    // Sent when the daemon died.
  int next_job = 0;
  std::set<std::string> held;  // Paused by "their user".

  auto submit = [&](DaemonProcess& daemon, int i) {
    const std::string name = job_name(i);
    json request{{"op", "submit"},
                 {"name", name},
                 {"argv",
                  {"sh", "-c",
                   fmt::format("sleep 0.{}; echo {} >> lines", i % 7, name)}},
                 {"working_dir", work},
                 {"duration", 600 + 300 * (i % 4)},
                 {"zones", {"DE"}},
                 {"deadline", fmt::format("+{}h", 1 + i % 5)}};
    if (i % 5 == 0) {
      request["interruptible"] = true;
    }
    auto job = daemon.call(request);
    if (job) {
      ids[name] = (*job)["id"];
      unacknowledged.erase(name);
    } else {
      unacknowledged.insert(name);
    }
  };
  // After a restart: a submission that got no answer either made it into
  // the store (find it by name) or is sent again.
  auto settle_unacknowledged = [&](DaemonProcess& daemon) {
    if (unacknowledged.empty()) {
      return;
    }
    auto all = daemon.call({{"op", "list"}, {"all", true}, {"limit", 1000}});
    ASSERT_TRUE(all.has_value()) << all.error().message;
    for (const auto& job : (*all)["jobs"]) {
      if (unacknowledged.erase(job["name"].get<std::string>())) {
        ids[job["name"]] = job["id"];
      }
    }
    const std::set<std::string> pending = unacknowledged;
    for (const std::string& name : pending) {
      submit(daemon, std::stoi(name.substr(4)));
    }
  };

  for (int round = 0; round < kKills; ++round) {
    DaemonProcess daemon(launch);
    std::string why;
    ASSERT_TRUE(daemon.start(why)) << "round " << round << ": " << why;
    settle_unacknowledged(daemon);
    for (const auto& id : std::set<std::string>(held)) {
      if (daemon.call({{"op", "resume"}, {"id", id}})) {
        held.erase(id);
      }
    }
    const int batch = round < kKills - 1
                          ? (kJobs - next_job) / (kKills - 1 - round)
                          : kJobs - next_job;
    const bool kill_while_submitting = round % 5 == 2;
    for (int k = 0; k < batch - (kill_while_submitting ? 1 : 0); ++k) {
      submit(daemon, next_job++);
    }
    if (round % 4 == 1) {
      // Pause a running job (it is resumed after the next restart).
      auto listed = daemon.call({{"op", "list"}});
      if (listed) {
        for (const auto& job : (*listed)["jobs"]) {
          if (job["state"] == "running") {
            if (daemon.call({{"op", "pause"}, {"id", job["id"]}})) {
              held.insert(job["id"].get<std::string>());
            }
            break;
          }
        }
      }
    }
    if (kill_while_submitting && next_job < kJobs) {
      const int i = next_job++;
      std::thread submitter([&, i] { submit(daemon, i); });
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::uniform_int_distribution<>(0, 3)(random)));
      daemon.kill_hard();
      submitter.join();
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<>(50, 1500)(random)));
    daemon.kill_hard();
  }

  // The last start: let everything finish.
  DaemonProcess daemon(launch);
  std::string why;
  ASSERT_TRUE(daemon.start(why)) << why;
  settle_unacknowledged(daemon);
  while (next_job < kJobs) {
    submit(daemon, next_job++);
  }
  for (const auto& id : held) {
    EXPECT_TRUE(daemon.call({{"op", "resume"}, {"id", id}}).has_value());
  }
  json jobs;
  const bool finished = wait_until(
      [&] {
        auto all =
            daemon.call({{"op", "list"}, {"all", true}, {"limit", 1000}});
        if (!all) {
          return false;
        }
        jobs = (*all)["jobs"];
        for (const auto& job : jobs) {
          std::string state = job["state"];
          if (state != "succeeded" && state != "failed" &&
              state != "cancelled") {
            return false;
          }
        }
        return jobs.size() >= static_cast<size_t>(kJobs);
      },
      std::chrono::seconds(120));
  ASSERT_TRUE(finished) << "not all jobs finished:\n" << jobs.dump(1);
  daemon.stop();

  EXPECT_TRUE(unacknowledged.empty());
  std::map<std::string, int> stored;  // By name.
  for (const auto& job : jobs) {
    ++stored[job["name"].get<std::string>()];
    EXPECT_EQ("succeeded", job["state"]) << job.dump(1);
  }
  std::map<std::string, int> lines;
  std::istringstream text(read_file(work + "/lines"));
  std::string line;
  while (std::getline(text, line)) {
    ++lines[line];
  }
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(1, stored[job_name(i)]) << job_name(i) << " stored";
    EXPECT_EQ(1, lines[job_name(i)]) << job_name(i) << " ran";
  }
  EXPECT_EQ(static_cast<size_t>(kJobs), lines.size());
  EXPECT_LT(std::chrono::steady_clock::now() - test_start,
            std::chrono::minutes(3));
}

}  // namespace
}  // namespace lowcarb::testing
