// SPDX-License-Identifier: Apache-2.0
// SlurmExecutor against two real one-host Slurm clusters ("alpha" and
// "beta", standing in for two zones), started for this test binary by
// scripts/slurm-cluster in a temporary directory and stopped at the end.
// Skipped, with the reason, when not root or Slurm is not installed
// (scripts/setup --with-slurm). Waits are bounded polls, never bare sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/strings.h"
#include "executors/posix_process_runner.h"
#include "executors/slurm_commands.h"
#include "executors/slurm_executor.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct TestCluster {
  std::string name;
  fs::path base;
  config::SlurmClusterConfig config() const {
    config::SlurmClusterConfig c;
    c.name = name;
    c.slurm_conf = (base / "etc/slurm.conf").string();
    c.time_limit_factor = 2.0;
    c.checkpoint_warning = std::chrono::seconds(30);
    return c;
  }
  fs::path jobs() const { return base / "jobs"; }
};

// A free TCP port on 127.0.0.1 (the kernel's choice; released at once).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

bool slurm_installed() {
  for (const char* path : {"/usr/sbin/slurmctld", "/usr/sbin/slurmd",
                           "/usr/bin/sbatch", "/usr/sbin/munged"}) {
    if (!fs::exists(path)) {
      return false;
    }
  }
  return true;
}

std::string script_path() {
  return std::string(LOWCARB_SOURCE_DIR) + "/scripts/slurm-cluster";
}

// Starts both clusters once per test binary run.
class SlurmClustersEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) {
      skip_reason_ = "needs root (slurmd runs jobs as their owners)";
      return;
    }
    if (!slurm_installed()) {
      skip_reason_ =
          "Slurm is not installed (run scripts/setup --with-slurm for "
          "slurmctld, slurmd, slurm-client and munge)";
      return;
    }
    char pattern[] = "/tmp/lowcarb-slurm-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      start_error_ = "mkdtemp failed";
      return;
    }
    root_ = pattern;
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read |
                               fs::perms::group_exec | fs::perms::others_read |
                               fs::perms::others_exec);
    for (const char* name : {"alpha", "beta"}) {
      TestCluster cluster{name, root_ / name};
      Command start;
      start.argv = {script_path(),
                    "start",
                    cluster.base.string(),
                    name,
                    std::to_string(free_port()),
                    std::to_string(free_port())};
      start.timeout = std::chrono::seconds(90);
      auto result = runner_.run(start);
      if (!result || result->exit_code != 0) {
        start_error_ = fmt::format(
            "{} start {}: {}", script_path(), name,
            result ? result->err + result->out : result.error().message);
        return;
      }
      clusters_.push_back(cluster);
    }
  }

  void TearDown() override {
    // Both clusters stop at once (each takes a few seconds).
    std::vector<std::thread> stoppers;
    for (const auto& cluster : clusters_) {
      stoppers.emplace_back([this, base = cluster.base.string()] {
        Command stop;
        stop.argv = {script_path(), "stop", base};
        stop.timeout = std::chrono::seconds(90);
        (void)runner_.run(stop);
      });
    }
    for (auto& stopper : stoppers) {
      stopper.join();
    }
    if (!root_.empty() && std::getenv("LOWCARB_KEEP_TEST_DIRS") == nullptr &&
        !::testing::UnitTest::GetInstance()->Failed()) {
      std::error_code ec;
      fs::remove_all(root_, ec);
    }
  }

  static SlurmClustersEnvironment* instance;
  std::string skip_reason_;
  std::string start_error_;
  std::vector<TestCluster> clusters_;

 private:
  fs::path root_;
  PosixProcessRunner runner_;
};

SlurmClustersEnvironment* SlurmClustersEnvironment::instance =
    static_cast<SlurmClustersEnvironment*>(
        ::testing::AddGlobalTestEnvironment(new SlurmClustersEnvironment));

// Polls `done` every 250 ms until it is true or `limit` has passed.
bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return done();
}

class SlurmIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto* env = SlurmClustersEnvironment::instance;
    if (!env->skip_reason_.empty()) {
      GTEST_SKIP() << "Slurm integration tests skipped: " << env->skip_reason_;
    }
    ASSERT_TRUE(env->start_error_.empty()) << env->start_error_;
    ASSERT_EQ(2u, env->clusters_.size());
    alpha_ = env->clusters_[0];
    beta_ = env->clusters_[1];
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = alpha_.jobs() / info->name();
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::all);
  }

  LaunchSpec shell_job(const std::string& job_id, const std::string& command,
                       const fs::path& dir) const {
    LaunchSpec spec;
    spec.job_id = job_id;
    spec.name = job_id;
    spec.shell_command = command;
    spec.working_dir = dir.string();
    spec.stdout_path = (dir / (job_id + ".out")).string();
    spec.expected_duration = std::chrono::minutes(2);
    spec.deadline = clock_.now() + std::chrono::hours(2);
    return spec;
  }

  // Waits for a state accepted by `accept`, returning the last status seen.
  RunStatus wait_for(SlurmExecutor& executor, const ExecutorHandle& handle,
                     const std::function<bool(RunState)>& accept,
                     std::chrono::seconds limit) {
    RunStatus last;
    wait_until(
        [&] {
          auto status = executor.poll(handle);
          if (!status) {
            last.message = status.error().message;
            return false;
          }
          last = *status;
          return accept(status->state);
        },
        limit);
    return last;
  }

  static std::optional<long long> epoch_in(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      return std::nullopt;
    }
    auto text = lowcarb::testing::read_file(file.string());
    return parse_integer(text.substr(0, text.find('\n')));
  }

  static long long epoch(TimePoint t) { return t.time_since_epoch().count(); }

  SystemClock clock_;
  PosixProcessRunner runner_;
  TestCluster alpha_;
  TestCluster beta_;
  fs::path dir_;
};

auto is = [](RunState wanted) {
  return [wanted](RunState state) { return state == wanted; };
};

TEST_F(SlurmIntegrationTest, DeferredJobStartsAtThePlannedTime) {
  SlurmExecutor executor(alpha_.config(), runner_);
  const TimePoint begin = clock_.now() + std::chrono::seconds(15);

  auto handle = executor.start(
      shell_job("deferred", "date +%s > started.txt", dir_), begin);

  ASSERT_OK(handle);
  auto early = executor.poll(*handle);
  ASSERT_OK(early);
  EXPECT_EQ(RunState::kPending, early->state) << early->message;
  auto status = wait_for(executor, *handle, is(RunState::kSucceeded),
                         std::chrono::seconds(40));
  EXPECT_EQ(RunState::kSucceeded, status.state) << status.message;
  auto started = epoch_in(dir_ / "started.txt");
  ASSERT_TRUE(started.has_value());
  EXPECT_GE(*started, epoch(begin));
  EXPECT_LE(*started, epoch(begin) + 10);  // sched_interval=2 on the cluster.
}

// lowcarb itself runs in New York: the job must still start at the right
// UTC instant (a wrong zone would put it 5 hours off) and see our TZ.
TEST_F(SlurmIntegrationTest, StartsAtTheRightUtcTimeWhenOurTzIsNewYork) {
  const char* old = std::getenv("TZ");
  const std::optional<std::string> saved =
      old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("TZ", "America/New_York", 1);
  ::tzset();
  SlurmExecutor executor(alpha_.config(), runner_);
  const TimePoint begin = clock_.now() + std::chrono::seconds(12);

  auto handle = executor.start(
      shell_job("new-york", "date +%s > started.txt; echo \"$TZ\" > tz.txt",
                dir_),
      begin);
  auto status = handle ? wait_for(executor, *handle, is(RunState::kSucceeded),
                                  std::chrono::seconds(40))
                       : RunStatus{};

  if (saved) {
    ::setenv("TZ", saved->c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  ASSERT_OK(handle);
  EXPECT_EQ(RunState::kSucceeded, status.state) << status.message;
  auto started = epoch_in(dir_ / "started.txt");
  ASSERT_TRUE(started.has_value());
  EXPECT_GE(*started, epoch(begin));
  EXPECT_LE(*started, epoch(begin) + 10);
  EXPECT_EQ("America/New_York\n",
            lowcarb::testing::read_file((dir_ / "tz.txt").string()));
}

TEST_F(SlurmIntegrationTest, RescheduleMovesStartAndReleasesAtLatestStart) {
  SlurmExecutor executor(alpha_.config(), runner_);
  const TimePoint first = clock_.now() + std::chrono::seconds(6);
  auto handle = executor.start(
      shell_job("moved", "date +%s > started.txt; sleep 30", dir_), first);
  ASSERT_OK(handle);

  // Later: it must not start at the first planned time.
  ASSERT_OK(executor.reschedule(*handle, clock_.now() + std::chrono::hours(1)));
  EXPECT_FALSE(wait_until([&] { return fs::exists(dir_ / "started.txt"); },
                          std::chrono::seconds(10)));
  auto pending = executor.poll(*handle);
  ASSERT_OK(pending);
  EXPECT_EQ(RunState::kPending, pending->state);

  // Slurm enforces no deadline for deferred jobs: lowcarb releases it at
  // the latest safe start with StartTime=now.
  const TimePoint release = clock_.now();
  ASSERT_OK(executor.reschedule(*handle, release));
  auto running = wait_for(executor, *handle, is(RunState::kRunning),
                          std::chrono::seconds(20));
  EXPECT_EQ(RunState::kRunning, running.state) << running.message;
  ASSERT_TRUE(wait_until([&] { return fs::exists(dir_ / "started.txt"); },
                         std::chrono::seconds(10)));
  EXPECT_LE(*epoch_in(dir_ / "started.txt"), epoch(release) + 10);

  auto too_late = executor.reschedule(*handle, clock_.now());
  ASSERT_FALSE(too_late);
  EXPECT_EQ(ErrorCode::kConflict, too_late.error().code);
  EXPECT_OK(executor.cancel(*handle));
}

TEST_F(SlurmIntegrationTest, PausesAndResumesWithSuspendAsAdmin) {
  SlurmExecutor executor(alpha_.config(), runner_);
  ASSERT_EQ(SlurmPauseMethod::kSuspend, executor.pause_method());
  auto handle =
      executor.start(shell_job("suspended", "sleep 60", dir_), clock_.now());
  ASSERT_OK(handle);
  auto running = wait_for(executor, *handle, is(RunState::kRunning),
                          std::chrono::seconds(20));
  ASSERT_EQ(RunState::kRunning, running.state) << running.message;

  ASSERT_OK(executor.pause(*handle, PauseMode::kStop));
  auto paused = executor.poll(*handle);
  ASSERT_OK(paused);
  EXPECT_EQ(RunState::kPaused, paused->state) << paused->message;
  EXPECT_THAT(paused->message, HasSubstr("SUSPENDED"));

  auto resumed = executor.resume(*handle, shell_job("suspended", "", dir_),
                                 PauseMode::kStop);
  ASSERT_OK(resumed);
  EXPECT_EQ(*handle, *resumed);
  auto again = wait_for(executor, *handle, is(RunState::kRunning),
                        std::chrono::seconds(10));
  EXPECT_EQ(RunState::kRunning, again.state) << again.message;
  EXPECT_OK(executor.cancel(*handle));
}

// The state letter of process `pid` from /proc/<pid>/stat ('T' = stopped).
char process_state(const std::string& pid) {
  const std::string stat =
      lowcarb::testing::read_file("/proc/" + pid + "/stat");
  const auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size()
             ? '?'
             : stat[paren + 2];
}

TEST_F(SlurmIntegrationTest, PausesWithSignalsWhenConfigured) {
  auto config = alpha_.config();
  config.pause_method = "signal";
  SlurmExecutor executor(config, runner_);
  auto handle = executor.start(
      shell_job("stopped", "echo $$ > pid.txt; sleep 60", dir_), clock_.now());
  ASSERT_OK(handle);
  ASSERT_EQ(RunState::kRunning,
            wait_for(executor, *handle, is(RunState::kRunning),
                     std::chrono::seconds(20))
                .state);
  ASSERT_TRUE(wait_until([&] { return epoch_in(dir_ / "pid.txt").has_value(); },
                         std::chrono::seconds(10)));
  const std::string pid =
      std::to_string(*epoch_in(dir_ / "pid.txt"));  // A number, like epochs.

  ASSERT_OK(executor.pause(*handle, PauseMode::kStop));
  auto paused = executor.poll(*handle);
  ASSERT_OK(paused);
  EXPECT_EQ(RunState::kPaused, paused->state) << paused->message;
  EXPECT_TRUE(wait_until([&] { return process_state(pid) == 'T'; },
                         std::chrono::seconds(10)))
      << "batch shell " << pid << " is in state " << process_state(pid);

  ASSERT_OK(executor.resume(*handle, LaunchSpec{}, PauseMode::kStop));
  // Slurm shows STOPPED until it has delivered SIGCONT.
  auto again = wait_for(executor, *handle, is(RunState::kRunning),
                        std::chrono::seconds(10));
  EXPECT_EQ(RunState::kRunning, again.state) << again.message;
  EXPECT_TRUE(wait_until([&] { return process_state(pid) != 'T'; },
                         std::chrono::seconds(10)));
  EXPECT_OK(executor.cancel(*handle));
}

TEST_F(SlurmIntegrationTest, CheckpointPauseRequeuesHeldAndReleaseRestarts) {
  SlurmExecutor executor(alpha_.config(), runner_);
  const fs::path script = dir_ / "ckpt.sh";
  lowcarb::testing::write_file(
      script.string(),
      "#!/bin/bash\n"
      "echo \"run ${SLURM_RESTART_COUNT:-0}\" >> runs.txt\n"
      "trap 'echo saved >> checkpoint.txt; exit 0' USR1 TERM\n"
      "for i in $(seq 1 120); do sleep 0.2; done\n");
  fs::permissions(script, fs::perms::all);
  auto spec = shell_job("ckpt", "", dir_);
  spec.shell_command.clear();
  spec.sbatch_script = script.string();
  spec.interruptible = true;
  spec.pause_mode = PauseMode::kCheckpoint;
  auto handle = executor.start(spec, clock_.now());
  ASSERT_OK(handle);
  ASSERT_EQ(RunState::kRunning,
            wait_for(executor, *handle, is(RunState::kRunning),
                     std::chrono::seconds(20))
                .state);
  ASSERT_TRUE(wait_until([&] { return fs::exists(dir_ / "runs.txt"); },
                         std::chrono::seconds(10)));

  ASSERT_OK(executor.pause(*handle, PauseMode::kCheckpoint));
  auto paused = wait_for(executor, *handle, is(RunState::kPaused),
                         std::chrono::seconds(20));
  EXPECT_EQ(RunState::kPaused, paused.state) << paused.message;
  EXPECT_TRUE(wait_until([&] { return fs::exists(dir_ / "checkpoint.txt"); },
                         std::chrono::seconds(10)));

  auto resumed = executor.resume(*handle, spec, PauseMode::kCheckpoint);
  ASSERT_OK(resumed);
  EXPECT_EQ(*handle, *resumed);
  // The test cluster sets cred_expire=10: a requeued job waits that long.
  auto again = wait_for(executor, *handle, is(RunState::kRunning),
                        std::chrono::seconds(40));
  EXPECT_EQ(RunState::kRunning, again.state) << again.message;
  EXPECT_TRUE(wait_until(
      [&] {
        return lowcarb::testing::read_file((dir_ / "runs.txt").string())
                   .find("run 1") != std::string::npos;
      },
      std::chrono::seconds(10)));
  EXPECT_OK(executor.cancel(*handle));
}

TEST_F(SlurmIntegrationTest, CancelByUsAndByOthersEndAsCancelled) {
  SlurmExecutor executor(alpha_.config(), runner_);
  auto ours = executor.start(shell_job("ours", "sleep 60", dir_), clock_.now());
  auto theirs =
      executor.start(shell_job("theirs", "sleep 60", dir_), clock_.now());
  ASSERT_OK(ours);
  ASSERT_OK(theirs);

  ASSERT_OK(executor.cancel(*ours));
  auto outside =
      runner_.run(scancel_command(alpha_.config(), theirs->native_id));
  ASSERT_OK(outside);
  ASSERT_EQ(0, outside->exit_code) << outside->err;

  auto mine = wait_for(executor, *ours, is(RunState::kCancelled),
                       std::chrono::seconds(20));
  auto other = wait_for(executor, *theirs, is(RunState::kCancelled),
                        std::chrono::seconds(20));
  EXPECT_EQ(RunState::kCancelled, mine.state) << mine.message;
  EXPECT_THAT(mine.message, Not(HasSubstr("outside")));
  EXPECT_EQ(RunState::kCancelled, other.state) << other.message;
  EXPECT_THAT(other.message, HasSubstr("outside lowcarb"));
}

// Job ids overlap between clusters: each executor answers for its own.
// Finished jobs leave squeue after MinJobAge (10 s, purged about once a
// minute); the exit code then comes from the jobcomp/filetxt log.
TEST_F(SlurmIntegrationTest, TwoZonesAndCompletionAfterJobLeftSqueue) {
  SlurmExecutor alpha(alpha_.config(), runner_);
  SlurmExecutor beta(beta_.config(), runner_);
  fs::create_directories(beta_.jobs() / "zones");
  fs::permissions(beta_.jobs() / "zones", fs::perms::all);

  auto on_alpha =
      alpha.start(shell_job("zone-a", "exit 7", dir_), clock_.now());
  auto on_beta = beta.start(
      shell_job("zone-b", "echo beta > beta.txt", beta_.jobs() / "zones"),
      clock_.now());
  ASSERT_OK(on_alpha);
  ASSERT_OK(on_beta);
  EXPECT_EQ("alpha", on_alpha->cluster);
  EXPECT_EQ("beta", on_beta->cluster);
  EXPECT_FALSE(alpha.poll(*on_beta));

  auto failed = wait_for(alpha, *on_alpha, is(RunState::kFailed),
                         std::chrono::seconds(30));
  auto succeeded = wait_for(beta, *on_beta, is(RunState::kSucceeded),
                            std::chrono::seconds(30));
  EXPECT_EQ(RunState::kFailed, failed.state) << failed.message;
  EXPECT_EQ(7, failed.exit_code);
  EXPECT_EQ(RunState::kSucceeded, succeeded.state) << succeeded.message;
  EXPECT_TRUE(fs::exists(beta_.jobs() / "zones" / "beta.txt"));

  // Wait until squeue forgets the job, then poll again.
  const bool purged = wait_until(
      [&] {
        auto listed = runner_.run(
            squeue_job_command(alpha_.config(), on_alpha->native_id));
        return listed && listed->exit_code != 0 &&
               listed->err.find("Invalid job id") != std::string::npos;
      },
      std::chrono::seconds(100));
  ASSERT_TRUE(purged) << "job " << on_alpha->native_id
                      << " still listed by squeue after 100 s";
  auto after = alpha.poll(*on_alpha);
  ASSERT_OK(after);
  EXPECT_EQ(RunState::kFailed, after->state) << after->message;
  EXPECT_EQ(7, after->exit_code);
  EXPECT_TRUE(after->ended_at.has_value());
}

TEST_F(SlurmIntegrationTest, AdoptsJobByTagAfterRestart) {
  SlurmExecutor first(alpha_.config(), runner_);
  auto handle = first.start(shell_job("adopt-me", "sleep 30", dir_),
                            clock_.now() + std::chrono::hours(1));
  ASSERT_OK(handle);

  SlurmExecutor restarted(alpha_.config(), runner_);
  auto adopted = restarted.adopt_by_tag("adopt-me");

  ASSERT_OK(adopted);
  ASSERT_TRUE(adopted->has_value());
  EXPECT_EQ(*handle, **adopted);
  EXPECT_OK(restarted.cancel(*handle));
}

}  // namespace
}  // namespace lowcarb::executors
