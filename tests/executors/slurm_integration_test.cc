// SPDX-License-Identifier: Apache-2.0
// SlurmExecutor against two real one-host Slurm clusters ("alpha" and
// "beta", standing in for two zones), started for this test binary by
// scripts/slurm-cluster in a temporary directory and stopped at the end.
// Skipped, with the reason, when not root or Slurm is not installed
// (scripts/setup --with-slurm). Waits are bounded polls, never bare sleeps.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "scheduler/job_meters.h"
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
  return lowcarb::testing::source_dir() + "/scripts/slurm-cluster";
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

  // Where these tests' executors put job output (as App does under the
  // state directory); traversable by the test users.
  fs::path log_root() const { return alpha_.base.parent_path() / "logs"; }
  SlurmExecutorOptions options() const {
    SlurmExecutorOptions o;
    o.log_dir = log_root().string();
    return o;
  }

  // The uid and gid of test user `name`, created (without a home) if
  // missing; an existing one is reused.
  std::optional<std::pair<unsigned, unsigned>> test_user(
      const std::string& name) {
    Command add;
    add.argv = {"sh", "-c",
                "id -u \"$1\" >/dev/null 2>&1 || useradd --system -M -s "
                "/usr/sbin/nologin \"$1\" || id -u \"$1\" >/dev/null",
                "sh", name};
    auto added = runner_.run(add);
    if (!added || added->exit_code != 0) {
      return std::nullopt;
    }
    const passwd* entry = ::getpwnam(name.c_str());
    if (entry == nullptr) {
      return std::nullopt;
    }
    return std::make_pair(static_cast<unsigned>(entry->pw_uid),
                          static_cast<unsigned>(entry->pw_gid));
  }

  SystemClock clock_;
  PosixProcessRunner runner_;
  TestCluster alpha_;
  TestCluster beta_;
  fs::path dir_;
};

auto is = [](RunState wanted) {
  return [wanted](RunState state) { return state == wanted; };
};
auto is_terminal_state = [](RunState state) { return is_terminal(state); };

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

// Issue 13: with --time=ceil(factor x duration) and --deadline, Slurm ended
// a job whose start plus time limit passed its deadline as DEADLINE without
// running it. 1 minute of work due in 70 s, time_limit_factor 2: --time=2
// would pass the deadline by 50 s. Reproduced on this cluster with the old
// command line (state DEADLINE, reason DeadLine); now it must run.
TEST_F(SlurmIntegrationTest, TightDeadlineJobStartedAtOnceRunsToItsEnd) {
  SlurmExecutor executor(alpha_.config(), runner_, options());
  auto spec = shell_job("tight", "sleep 3; echo finished > done.txt", dir_);
  spec.expected_duration = std::chrono::minutes(1);
  spec.deadline = clock_.now() + std::chrono::seconds(70);

  auto handle = executor.start(spec, clock_.now());

  ASSERT_OK(handle);
  auto status =
      wait_for(executor, *handle, is_terminal_state, std::chrono::seconds(40));
  EXPECT_EQ(RunState::kSucceeded, status.state) << status.message;
  EXPECT_EQ("finished\n", lowcarb::testing::read_file((dir_ / "done.txt")));
}

// The script's own #SBATCH --time is the job's limit, not lowcarb's.
TEST_F(SlurmIntegrationTest, KeepsTheScriptsOwnTimeLimit) {
  const fs::path script = dir_ / "job.sh";
  lowcarb::testing::write_file(script.string(),
                               "#!/bin/sh\n#SBATCH --time=7\nsleep 60\n");
  SlurmExecutor executor(alpha_.config(), runner_, options());
  LaunchSpec spec = shell_job("own-time", "", dir_);
  spec.shell_command.clear();
  spec.sbatch_script = script.string();
  spec.expected_duration = std::chrono::minutes(1);  // lowcarb's: --time=2.

  auto handle = executor.start(spec, clock_.now() + std::chrono::hours(1));

  ASSERT_OK(handle);
  auto shown =
      runner_.run(show_job_command(alpha_.config(), handle->native_id));
  ASSERT_OK(shown);
  EXPECT_THAT(shown->out, HasSubstr("TimeLimit=00:07:00"));
  EXPECT_OK(executor.cancel(*handle));
}

// `lowcarb pause` of a deferred job: Slurm must not start it at its begin
// time; `resume` releases it and it runs.
TEST_F(SlurmIntegrationTest, HeldDeferredJobDoesNotStartUntilReleased) {
  SlurmExecutor executor(alpha_.config(), runner_, options());
  auto handle =
      executor.start(shell_job("held", "date +%s > started.txt", dir_),
                     clock_.now() + std::chrono::seconds(3));
  ASSERT_OK(handle);

  ASSERT_OK(executor.hold(*handle));

  // Past its begin time and several scheduling rounds (every 2 s): still
  // waiting, and lowcarb sees it as held.
  EXPECT_FALSE(wait_until([&] { return fs::exists(dir_ / "started.txt"); },
                          std::chrono::seconds(10)));
  auto held = executor.poll(*handle);
  ASSERT_OK(held);
  EXPECT_EQ(RunState::kPaused, held->state) << held->message;

  const TimePoint released = clock_.now();
  ASSERT_OK(executor.release(*handle, released));
  auto status = wait_for(executor, *handle, is(RunState::kSucceeded),
                         std::chrono::seconds(30));
  EXPECT_EQ(RunState::kSucceeded, status.state) << status.message;
  auto started = epoch_in(dir_ / "started.txt");
  ASSERT_TRUE(started.has_value());
  EXPECT_GE(*started, epoch(released) - 1);
}

// Lowcarb job "1" on two clusters (two zones) writes two files, each in
// its cluster's directory, and output_path() names them.
TEST_F(SlurmIntegrationTest, SameJobIdOnTwoClustersWritesSeparateFiles) {
  SlurmExecutor alpha(alpha_.config(), runner_, options());
  SlurmExecutor beta(beta_.config(), runner_, options());
  auto on_alpha = shell_job("1", "echo from-alpha", dir_);
  on_alpha.stdout_path.clear();
  auto on_beta = on_alpha;
  on_beta.shell_command = "echo from-beta";

  auto a = alpha.start(on_alpha, clock_.now());
  auto b = beta.start(on_beta, clock_.now());

  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(
      RunState::kSucceeded,
      wait_for(alpha, *a, is_terminal_state, std::chrono::seconds(30)).state);
  EXPECT_EQ(
      RunState::kSucceeded,
      wait_for(beta, *b, is_terminal_state, std::chrono::seconds(30)).state);
  const std::string alpha_out =
      alpha.output_path(on_alpha, a->native_id, false);
  const std::string beta_out = beta.output_path(on_beta, b->native_id, false);
  EXPECT_EQ((log_root() / "alpha/0/1.out").string(), alpha_out);
  EXPECT_EQ((log_root() / "beta/0/1.out").string(), beta_out);
  EXPECT_EQ("from-alpha\n", lowcarb::testing::read_file(alpha_out));
  EXPECT_EQ("from-beta\n", lowcarb::testing::read_file(beta_out));
}

// The script's own #SBATCH --output is kept, and output_path() finds the
// file Slurm wrote there (%j and %x expanded).
TEST_F(SlurmIntegrationTest, KeepsTheScriptsOwnOutputAndFindsIt) {
  const fs::path script = dir_ / "out.sh";
  lowcarb::testing::write_file(
      script.string(), "#!/bin/sh\n#SBATCH --output=mine-%x-%j.txt\necho hi\n");
  SlurmExecutor executor(alpha_.config(), runner_, options());
  LaunchSpec spec = shell_job("own-output", "", dir_);
  spec.shell_command.clear();
  spec.stdout_path.clear();
  spec.sbatch_script = script.string();

  auto handle = executor.start(spec, clock_.now());

  ASSERT_OK(handle);
  EXPECT_EQ(RunState::kSucceeded, wait_for(executor, *handle, is_terminal_state,
                                           std::chrono::seconds(30))
                                      .state);
  const std::string path = executor.output_path(spec, handle->native_id, false);
  EXPECT_EQ((dir_ / ("mine-own-output-" + handle->native_id + ".txt")).string(),
            path);
  EXPECT_EQ("hi\n", lowcarb::testing::read_file(path));
}

// The job's environment is the spec's, whatever its values hold, and
// nothing of the daemon's (whose environment holds provider tokens).
TEST_F(SlurmIntegrationTest, JobGetsExactlyItsEnvironmentCommasIncluded) {
  ::setenv("LOWCARB_TEST_DAEMON_TOKEN", "token-of-the-daemon", 1);
  SlurmExecutor executor(alpha_.config(), runner_, options());
  auto spec = shell_job("env", "env > env.txt", dir_);
  spec.env = {{"CUDA_VISIBLE_DEVICES", "0,1"},
              {"GREETING", "hello, world; \"quoted\""},
              {"PATH", "/usr/bin:/bin"}};

  auto handle = executor.start(spec, clock_.now());
  ::unsetenv("LOWCARB_TEST_DAEMON_TOKEN");

  ASSERT_OK(handle);
  EXPECT_EQ(RunState::kSucceeded, wait_for(executor, *handle, is_terminal_state,
                                           std::chrono::seconds(30))
                                      .state);
  const std::string env = lowcarb::testing::read_file((dir_ / "env.txt"));
  EXPECT_THAT(env, HasSubstr("\nCUDA_VISIBLE_DEVICES=0,1\n"));
  EXPECT_THAT(env, HasSubstr("\nGREETING=hello, world; \"quoted\"\n"));
  EXPECT_THAT(env, HasSubstr("\nLOWCARB_JOB_ID=env\n"));
  EXPECT_THAT(env, Not(HasSubstr("token-of-the-daemon")));
  EXPECT_THAT(env, Not(HasSubstr("HOME=/root")));
}

// Issue 11: as root, a job submitted for a real non-root user runs as that
// user in Slurm (squeue %u) and on the node, and writes its output into
// that user's directory.
TEST_F(SlurmIntegrationTest, RootSubmitsJobsAsTheirOwner) {
  auto user = test_user("lcslurm1");
  ASSERT_TRUE(user.has_value()) << "could not create user lcslurm1";
  SlurmExecutor executor(alpha_.config(), runner_, options());
  auto spec = shell_job("owned", "id -un; id -u", dir_);
  spec.stdout_path.clear();
  spec.uid = user->first;
  spec.gid = user->second;

  auto handle = executor.start(spec, clock_.now() + std::chrono::seconds(4));

  ASSERT_OK(handle);
  Command owner;
  owner.argv = {"squeue", "-h", "-j", handle->native_id, "-o", "%u"};
  owner.env["SLURM_CONF"] = alpha_.config().slurm_conf;
  auto listed = runner_.run(owner);
  ASSERT_OK(listed);
  EXPECT_EQ("lcslurm1", std::string(trim(listed->out)));
  EXPECT_EQ(RunState::kSucceeded, wait_for(executor, *handle, is_terminal_state,
                                           std::chrono::seconds(30))
                                      .state);
  const std::string out = executor.output_path(spec, handle->native_id, false);
  EXPECT_EQ((log_root() / "alpha" / std::to_string(user->first) / "owned.out")
                .string(),
            out);
  EXPECT_EQ(fmt::format("lcslurm1\n{}\n", user->first),
            lowcarb::testing::read_file(out));
  struct stat info {};
  ASSERT_EQ(0, ::stat(out.c_str(), &info));
  EXPECT_EQ(user->first, info.st_uid);
}

// A daemon restarted after a crash finds what it had submitted by the
// comment tag (Executor::find, used by Scheduler::recover).
TEST_F(SlurmIntegrationTest, FindAdoptsTheSubmissionOfACrashedDaemon) {
  SlurmExecutor first(alpha_.config(), runner_, options());
  auto handle = first.start(shell_job("crashed-7", "sleep 30", dir_),
                            clock_.now() + std::chrono::hours(1));
  ASSERT_OK(handle);

  SlurmExecutor restarted(alpha_.config(), runner_, options());
  auto found = restarted.find("crashed-7", 0);
  auto other = restarted.find("crashed-77", 0);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(*handle, **found);
  ASSERT_OK(other);
  EXPECT_FALSE(other->has_value());
  EXPECT_OK(restarted.cancel(*handle));
}

// Issue 13: the daemon died after sbatch and before it stored the handle, and
// the job ran and ended (and left squeue and scontrol) while it was down.
// This cluster has no slurmdbd (accounting_storage/none: sacct has nothing),
// so find() reads the jobcomp/filetxt log by the default job name, and the
// job is adopted with its real end instead of being submitted again.
TEST_F(SlurmIntegrationTest, FindAdoptsAJobThatEndedWhileTheDaemonWasDown) {
  const std::string id = "ended-while-down";
  ExecutorHandle handle;
  {
    SlurmExecutor first(alpha_.config(), runner_, options());
    auto spec = shell_job(id, "exit 3", dir_);
    spec.name = slurm_default_job_name(id);  // As the scheduler names it.
    auto started = first.start(spec, clock_.now());
    ASSERT_OK(started);
    handle = *started;
  }  // The daemon dies here.
  const bool purged = wait_until(
      [&] {
        auto listed =
            runner_.run(squeue_job_command(alpha_.config(), handle.native_id));
        auto shown =
            runner_.run(show_job_command(alpha_.config(), handle.native_id));
        return listed && listed->exit_code != 0 && shown &&
               shown->exit_code != 0;
      },
      std::chrono::seconds(120));
  ASSERT_TRUE(purged) << "job " << handle.native_id
                      << " still known to squeue/scontrol after 120 s";

  SlurmExecutor restarted(alpha_.config(), runner_, options());
  auto found = restarted.find(id, 0);
  auto never = restarted.find("never-submitted", 0);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  auto status = restarted.poll(**found);
  const std::string log =
      lowcarb::testing::read_file((alpha_.base / "log/jobcomp.txt").string());
  int runs = 0;
  for (size_t at = 0;
       (at = log.find(" Name=" + slurm_default_job_name(id) + " ", at)) !=
       std::string::npos;
       ++at) {
    ++runs;
  }

  EXPECT_EQ(handle, **found);
  ASSERT_OK(never);
  EXPECT_FALSE(never->has_value());
  ASSERT_OK(status);
  EXPECT_EQ(RunState::kFailed, status->state) << status->message;
  EXPECT_EQ(3, status->exit_code);
  EXPECT_EQ(1, runs);  // Ran once: nothing submitted it again.
}

// Issue 12 for Slurm jobs: the daemon's meter restarted mid-run continues
// from the ledger row's counter (JobMeters::resume) instead of re-metering
// the job's CPU time from its start. Two meters watch one real job on the
// same sampling instants; one is replaced by a fresh meter and executor
// (the restart) and misses one sample while "down". Their sums must agree
// within 2 %.
TEST_F(SlurmIntegrationTest, SlurmMeteringAcrossARestartEqualsAnUnbrokenRun) {
  SlurmExecutor executor(alpha_.config(), runner_, options());
  auto spec = shell_job(
      "metered",
      "end=$(( $(date +%s) + 24 )); while [ $(date +%s) -lt $end ]; do "
      "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; done",
      dir_);
  auto handle = executor.start(spec, clock_.now());
  ASSERT_OK(handle);
  auto running = wait_for(executor, *handle, is(RunState::kRunning),
                          std::chrono::seconds(30));
  ASSERT_EQ(RunState::kRunning, running.state) << running.message;

  config::HardwareConfig hardware;
  hardware.watts_per_core = 10;
  hardware.memory_watts_per_gb = 0;
  ProcReader proc("/nonexistent-proc");
  scheduler::JobMetersOptions meter_options;
  meter_options.powercap_root = "";
  meter_options.nvml_library = "";
  scheduler::Job job;
  job.id = "metered";
  job.executor = "slurm:alpha";
  job.handle = *handle;
  job.running_since = clock_.now();
  auto make_meters = [&](SlurmExecutor& on) {
    return std::make_unique<scheduler::JobMeters>(
        hardware, proc, 5.0, scheduler::SlurmExecutors{{"slurm:alpha", &on}},
        meter_options);
  };
  auto unbroken = make_meters(executor);
  auto restarted_executor =
      std::make_unique<SlurmExecutor>(alpha_.config(), runner_, options());
  auto restarted = make_meters(*restarted_executor);

  double unbroken_joules = 0;
  double restarted_joules = 0;
  std::vector<std::string> sources;
  scheduler::LedgerRecord last;  // The restarted meter's newest ledger row.
  TimePoint from = clock_.now();
  last.end = from;
  bool ended = false;
  for (int sample = 0; sample < 20 && !ended; ++sample) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    auto status = executor.poll(*handle);
    ended = status && is_terminal(status->state);
    const TimePoint to = clock_.now();
    auto a = unbroken->energy(job, from, to);
    ASSERT_OK(a);
    unbroken_joules += a->cpu_joules + a->ram_joules + a->other_joules;
    if (sample == 3) {
      // The daemon dies: a new executor and meter, which miss this sample.
      restarted_executor =
          std::make_unique<SlurmExecutor>(alpha_.config(), runner_, options());
      restarted = make_meters(*restarted_executor);
      restarted->resume(job, last);
    } else {
      auto b = restarted->energy(job, last.end, to);
      ASSERT_OK(b);
      restarted_joules += b->cpu_joules + b->ram_joules + b->other_joules;
      sources.push_back(b->source);
      last.end = to;
      last.meter_source = b->source;
      last.meter_counter = b->counter;
    }
    from = to;
  }

  // One more reading by both once the job is over: the two read one after
  // the other, so the job can end between them, and then only the second
  // would have seen the final totals (a CI run failed by 10 J that way).
  if (ended) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const TimePoint to = clock_.now();
    auto a = unbroken->energy(job, from, to);
    ASSERT_OK(a);
    unbroken_joules += a->cpu_joules + a->ram_joules + a->other_joules;
    auto b = restarted->energy(job, last.end, to);
    ASSERT_OK(b);
    restarted_joules += b->cpu_joules + b->ram_joules + b->other_joules;
  }

  EXPECT_TRUE(ended) << "the 24 s job did not end in 60 s";
  EXPECT_THAT(sources, ::testing::Contains("slurm-cpu-time"));
  ASSERT_GT(unbroken_joules, 0);
  EXPECT_NEAR(unbroken_joules, restarted_joules, 0.02 * unbroken_joules)
      << "unbroken " << unbroken_joules << " J, restarted " << restarted_joules
      << " J";
  std::cout << fmt::format(
      "Slurm job metered: unbroken {:.1f} J, across a "
      "restart {:.1f} J ({:+.2f} %)\n",
      unbroken_joules, restarted_joules,
      100.0 * (restarted_joules - unbroken_joules) / unbroken_joules);
}

}  // namespace
}  // namespace lowcarb::executors
