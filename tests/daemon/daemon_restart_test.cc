// SPDX-License-Identifier: Apache-2.0
// Restarts of the real daemon (SIGKILL, SIGTERM, SIGHUP) while jobs run or
// submissions are in flight: metering resumes from the last ledger row (the
// ledger equals an unbroken run's), and a retried submit with the same
// request id finds the job the first one stored.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "scheduler/sqlite_job_store.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
constexpr auto kWait = std::chrono::seconds(60);

// One daemon with its own state dir and socket (several tests and other
// developers' daemons run on this host at once).
class Instance {
 public:
  // `extra`: more top-level configuration (YAML).
  explicit Instance(const std::string& extra = "") {
    write_file(
        dir_.file("intensity.csv"),
        intensity_csv(real_now(), 72, {"DE", "FR"},
                      [](const std::string& zone, int hour) {
                        // FR clean: jobs there start at once; DE
                        // dirty for 12 h: jobs there wait.
                        return zone == "FR" ? 50.0 : hour < 12 ? 500.0 : 80.0;
                      }));
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
  - id: DE
    providers: [testfile]
    executor: local
planner:
  replan_period: 15m
  safety_margin: 10m
daemon:
  poll_period: 1s
  sample_period: 3s
{}
)",
                           dir_.file("intensity.csv"), extra));
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

  void start() {
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }
  DaemonProcess& daemon() { return *daemon_; }
  std::string work() const { return dir_.file("work"); }
  std::string db_path() const { return dir_.file("state/lowcarb.db"); }
  std::string socket_path() const { return daemon_->launch().socket_path; }

  json call(const json& request) {
    auto answer = daemon_->call(request);
    EXPECT_TRUE(answer.has_value()) << answer.error().message;
    return answer ? *answer : json();
  }
  bool reaches(const std::string& id, const std::string& state) {
    return daemon_->reaches(id, state, kWait);
  }
  // The job's ledger rows, read from the state database.
  std::vector<scheduler::LedgerRecord> ledger(const std::string& id) {
    return read_ledger(db_path(), id);
  }

 private:
  ScopedTempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

json metered_job(const std::string& work) {
  return {{"op", "submit"},    {"argv", {"sleep", "50"}}, {"duration", 60},
          {"zones", {"FR"}},   {"power_watts", 100},      {"working_dir", work},
          {"deadline", "+12h"}};
}

double joules(const std::vector<scheduler::LedgerRecord>& rows) {
  double sum = 0;
  for (const auto& row : rows) {
    sum += row.joules();
  }
  return sum;
}

TEST(DaemonRestartTest, LedgerEnergyAcrossKillTermAndHupEqualsAnUnbrokenRun) {
  Instance unbroken;
  Instance restarted;
  unbroken.start();
  restarted.start();
  json a = unbroken.call(metered_job(unbroken.work()));
  json b = restarted.call(metered_job(restarted.work()));
  ASSERT_TRUE(a.contains("id") && b.contains("id"));
  const std::string id_a = a["id"];
  const std::string id_b = b["id"];
  ASSERT_TRUE(unbroken.reaches(id_a, "running")) << unbroken.daemon().log();
  ASSERT_TRUE(restarted.reaches(id_b, "running")) << restarted.daemon().log();

  // Each restart lands after a few samples of the job were recorded.
  std::this_thread::sleep_for(std::chrono::seconds(8));
  restarted.daemon().kill_hard();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  restarted.start();
  std::this_thread::sleep_for(std::chrono::seconds(8));
  ASSERT_EQ(0, restarted.daemon().stop());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  restarted.start();
  std::this_thread::sleep_for(std::chrono::seconds(8));
  restarted.daemon().signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::seconds(8));
  restarted.daemon().signal(SIGHUP);

  ASSERT_TRUE(unbroken.reaches(id_a, "succeeded")) << unbroken.daemon().log();
  ASSERT_TRUE(restarted.reaches(id_b, "succeeded")) << restarted.daemon().log();
  const json done = restarted.call({{"op", "show"}, {"id", id_b}});
  const int64_t run_time_s = done["run_time_s"];
  unbroken.daemon().stop();
  restarted.daemon().stop();

  const auto rows_a = unbroken.ledger(id_a);
  const auto rows_b = restarted.ledger(id_b);
  ASSERT_GE(rows_b.size(), 4u);
  // No row re-meters time another row already counted.
  int64_t metered_s = 0;
  for (size_t i = 0; i < rows_b.size(); ++i) {
    SCOPED_TRACE(fmt::format("row {}", i));
    if (i > 0) {
      EXPECT_GE(rows_b[i].start, rows_b[i - 1].end);
    }
    metered_s += (rows_b[i].end - rows_b[i].start).count();
  }
  EXPECT_EQ(run_time_s, metered_s);
  EXPECT_NEAR(100.0 * static_cast<double>(run_time_s), joules(rows_b), 1e-6);
  // Second-granular start and end times: at most 1 s of 50 apart.
  const double unbroken_joules = joules(rows_a);
  ASSERT_GT(unbroken_joules, 0);
  EXPECT_NEAR(unbroken_joules, joules(rows_b), 0.02 * unbroken_joules)
      << "unbroken " << unbroken_joules << " J, restarted " << joules(rows_b)
      << " J";
}

// Sends `line` and returns at once, without reading an answer.
void send_only(const std::string& socket_path, const std::string& line) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof(addr.sun_path));
  std::copy(socket_path.begin(), socket_path.end(), addr.sun_path);
  ASSERT_EQ(0, ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  const std::string data = line + "\n";
  ASSERT_EQ(static_cast<ssize_t>(data.size()),
            ::write(fd, data.data(), data.size()));
  ::close(fd);
}

json waiting_job(const std::string& work, const std::string& request_id) {
  return {{"op", "submit"},          {"argv", {"true"}},
          {"duration", 600},         {"zones", {"DE"}},
          {"working_dir", work},     {"deadline", "+40h"},
          {"request_id", request_id}};
}

TEST(DaemonRestartTest, ARetriedSubmitReturnsTheSameJob) {
  Instance instance;
  instance.start();
  json first = instance.call(waiting_job(instance.work(), "retry-1"));
  json again = instance.call(waiting_job(instance.work(), "retry-1"));
  json other = instance.call(waiting_job(instance.work(), "retry-2"));
  ASSERT_TRUE(first.contains("id"));
  EXPECT_EQ(first["id"], again["id"]);
  EXPECT_EQ(true, again.value("duplicate", false));
  EXPECT_FALSE(first.value("duplicate", false));
  EXPECT_NE(first["id"], other["id"]);
  // And after a restart, from the state database.
  instance.daemon().kill_hard();
  instance.start();
  json later = instance.call(waiting_job(instance.work(), "retry-1"));
  EXPECT_EQ(first["id"], later["id"]);
  json all = instance.call({{"op", "list"}, {"all", true}});
  EXPECT_EQ(2u, all["jobs"].size());
}

// WAL checkpoints run on their own thread (common/wal_checkpointer.h); on a
// clean stop the daemon copies the whole WAL into the database file, so the
// file alone holds every job (what an admin copies for a backup). The WAL
// itself may not be empty: the forecast worker (detached, so that a hung
// provider cannot hold up a stop) can still record a forecast after that.
TEST(DaemonRestartTest, AStoppedDaemonLeavesItsJobsInTheDatabaseFileAlone) {
  Instance instance;
  instance.start();
  for (int i = 0; i < 3; ++i) {
    json submitted =
        instance.call(waiting_job(instance.work(), "wal-" + std::to_string(i)));
    ASSERT_TRUE(submitted.contains("id")) << submitted.dump();
  }
  ASSERT_EQ(0, instance.daemon().stop());

  const std::string copy = instance.db_path() + ".copy";
  std::filesystem::copy_file(instance.db_path(), copy);
  auto db = Database::open(copy);
  ASSERT_TRUE(db.has_value()) << db.error().message;
  auto rows = (*db)->query("SELECT COUNT(*) FROM jobs");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(3, (*rows)[0].integer(0));
}

TEST(DaemonRestartTest, ASubmitKilledInFlightIsStoredOnceAndTheRetryGetsIt) {
  Instance instance;
  instance.start();
  const std::vector<int> delays_ms = {0, 2, 10, 50, 200};
  int duplicates = 0;
  for (size_t i = 0; i < delays_ms.size(); ++i) {
    SCOPED_TRACE(fmt::format("delay {} ms", delays_ms[i]));
    const json request =
        waiting_job(instance.work(), fmt::format("in-flight-{}", i));
    send_only(instance.socket_path(), request.dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(delays_ms[i]));
    instance.daemon().kill_hard();
    instance.start();
    // The client's retry: the same request, the same id.
    json retry = instance.call(request);
    ASSERT_TRUE(retry.contains("id"));
    duplicates += retry.value("duplicate", false) ? 1 : 0;
    json all = instance.call({{"op", "list"}, {"all", true}});
    EXPECT_EQ(i + 1, all["jobs"].size()) << all.dump();
  }
  // The long delays let the first attempt commit before the kill.
  EXPECT_GE(duplicates, 1);
}

TEST(DaemonRestartTest, TheCliRetriesASubmitUntilTheDaemonAnswers) {
  Instance instance;
  CliRun run;
  std::thread client([&] {
    run = run_lowcarb({"submit", "--socket", instance.socket_path(),
                       "--duration", "10m", "--deadline", "+40h", "--zone",
                       "DE", "--quiet", "--", "true"});
  });
  // The daemon comes up a second after the first attempt failed.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  instance.start();
  client.join();
  ASSERT_EQ(0, run.status) << run.err;
  EXPECT_NE(std::string::npos, run.err.find("trying again")) << run.err;
  json all = instance.call({{"op", "list"}, {"all", true}});
  ASSERT_EQ(1u, all["jobs"].size());
  EXPECT_EQ(all["jobs"][0]["id"].get<std::string>() + "\n", run.out);
}

// kill_on_overrun counts running time only: a job paused (SIGSTOP) far
// longer than its overrun limit is not killed and finishes after resume; a
// job that really runs past it is.
TEST(DaemonOverrunTest, APausedJobIsNeverKilledAsOverrunButARunawayIs) {
  Instance instance(R"(executors:
  local:
    pause_mode: stop
    overrun_factor: 2
    kill_on_overrun: yes)");
  instance.start();
  auto job = [&](const std::string& seconds) {
    return json{{"op", "submit"},
                {"argv", {"sleep", seconds}},
                {"duration", 3},  // Overrun after 6 s of running.
                {"interruptible", true},
                {"zones", {"FR"}},
                {"working_dir", instance.work()},
                {"deadline", "+12h"}};
  };
  json paused = instance.call(job("4"));
  json runaway = instance.call(job("60"));
  const std::string paused_id = paused["id"];
  const std::string runaway_id = runaway["id"];
  ASSERT_TRUE(instance.reaches(paused_id, "running"))
      << instance.daemon().log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  json held = instance.call({{"op", "pause"}, {"id", paused_id}});
  EXPECT_EQ("paused", held["state"]);

  // The runaway is killed as overrun meanwhile; the paused job stays.
  ASSERT_TRUE(instance.reaches(runaway_id, "cancelled"))
      << instance.daemon().log();
  EXPECT_NE(std::string::npos,
            instance.call({{"op", "show"}, {"id", runaway_id}})["message"]
                .get<std::string>()
                .find("overrun"));
  std::this_thread::sleep_for(std::chrono::seconds(4));  // 1 + 10 s wall.
  EXPECT_EQ("paused",
            instance.call({{"op", "show"}, {"id", paused_id}})["state"]);

  json resumed = instance.call({{"op", "resume"}, {"id", paused_id}});
  EXPECT_EQ("running", resumed["state"]);
  ASSERT_TRUE(instance.reaches(paused_id, "succeeded"))
      << instance.daemon().log();
  // An overrun report for the runaway, none for the paused job.
  const std::string log = instance.daemon().log();
  EXPECT_EQ(std::string::npos, log.find("job " + paused_id + ": overrun"))
      << log;
}

}  // namespace
}  // namespace lowcarb::testing
