// SPDX-License-Identifier: Apache-2.0
// LocalExecutor with real processes and real signals, each job under the
// real `lowcarb exec-wrapper` (testing::lowcarb_binary()). Every test is
// bounded by polling with a deadline; none takes more than a few seconds.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "executors/exec_wrapper.h"
#include "executors/local_executor.h"
#include "executors/meters/cpu_time_meter.h"
#include "executors/posix_process_spawner.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using lowcarb::testing::read_file;
using lowcarb::testing::ScopedTempDir;
using lowcarb::testing::write_file;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

using lowcarb::testing::eventually;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int count_lines(const std::string& path) {
  const std::string text = slurp(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class LocalExecutorIntegrationTest : public ::testing::Test {
 protected:
  LocalExecutorIntegrationTest() {
    std::filesystem::permissions(temp_.path(), std::filesystem::perms(0755));
  }

  std::unique_ptr<LocalExecutor> make(config::LocalExecutorConfig config = {}) {
    LocalExecutorOptions options;
    options.wrapper_binary = lowcarb::testing::lowcarb_binary();
    options.state_dir = temp_.file("state");
    if (config.grace == Duration{30}) {
      config.grace = Duration{2};
    }
    options.config = config;
    options.wait_step = 20ms;
    auto executor = LocalExecutor::create(spawner_, clock_, options);
    EXPECT_TRUE(executor) << executor.error().message;
    return executor ? std::move(*executor) : nullptr;
  }
  LaunchSpec shell(const std::string& job_id, const std::string& command) {
    LaunchSpec spec;
    spec.job_id = job_id;
    spec.shell_command = command;
    spec.working_dir = temp_.path().string();
    return spec;
  }
  // Polls until the job is in a terminal state (or 5 s pass).
  RunStatus wait_done(LocalExecutor& executor, const ExecutorHandle& handle) {
    RunStatus last;
    eventually([&] {
      auto status = executor.poll(handle);
      if (!status) {
        ADD_FAILURE() << status.error().message;
        return true;
      }
      last = *status;
      return is_terminal(last.state) || last.state == RunState::kPaused;
    });
    return last;
  }

  void SetUp() override {
    if (!std::filesystem::exists(lowcarb::testing::lowcarb_binary())) {
      GTEST_SKIP() << "build the lowcarb target first: "
                   << lowcarb::testing::lowcarb_binary();
    }
  }

  ScopedTempDir temp_;
  SystemClock clock_;
  PosixProcessSpawner spawner_;
};

TEST_F(LocalExecutorIntegrationTest, ReportsSuccessAndExitCodes) {
  auto executor = make();
  auto ok = executor->start(shell("ok", "exit 0"), clock_.now());
  auto three = executor->start(shell("three", "exit 3"), clock_.now());
  ASSERT_OK(ok);
  ASSERT_OK(three);

  RunStatus ok_status = wait_done(*executor, *ok);
  RunStatus three_status = wait_done(*executor, *three);

  EXPECT_EQ(RunState::kSucceeded, ok_status.state);
  EXPECT_EQ(0, ok_status.exit_code);
  EXPECT_EQ(RunState::kFailed, three_status.state);
  EXPECT_EQ(3, three_status.exit_code);
  EXPECT_EQ("exit 3", three_status.message);
}

TEST_F(LocalExecutorIntegrationTest, ReportsTheTerminatingSignal) {
  auto executor = make();
  auto handle = executor->start(shell("killed", "kill -KILL $$"), clock_.now());
  ASSERT_OK(handle);

  RunStatus status = wait_done(*executor, *handle);

  EXPECT_EQ(RunState::kFailed, status.state);
  EXPECT_EQ(SIGKILL, status.signal);
  EXPECT_EQ(128 + SIGKILL, status.exit_code);
  EXPECT_THAT(status.message, HasSubstr("SIGKILL"));
}

TEST_F(LocalExecutorIntegrationTest, MissingProgramFailsWithTheReason) {
  auto executor = make();
  LaunchSpec spec;
  spec.job_id = "missing";
  spec.argv = {"/nonexistent/program"};

  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  RunStatus status = wait_done(*executor, *handle);

  EXPECT_EQ(RunState::kFailed, status.state);
  EXPECT_EQ(127, status.exit_code);
  EXPECT_THAT(status.message, HasSubstr("/nonexistent/program"));
}

TEST_F(LocalExecutorIntegrationTest, JobGetsEnvironmentWorkingDirAndUmask) {
  auto executor = make();
  LaunchSpec spec = shell(
      "env-job",
      "echo \"$LOWCARB_JOB_ID $LOWCARB_SEGMENT ${LOWCARB_RESUME:-none} $FOO "
      "$(pwd) $(umask)\" > env.txt");
  spec.env = {{"FOO", "bar"}};
  spec.umask = 027;

  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  ASSERT_EQ(RunState::kSucceeded, wait_done(*executor, *handle).state);

  EXPECT_EQ("env-job 0 none bar " + temp_.path().string() + " 0027\n",
            slurp(temp_.file("env.txt")));
}

TEST_F(LocalExecutorIntegrationTest, JobNeverSeesTheDaemonsEnvironment) {
  ::setenv("LOWCARB_TEST_DAEMON_SECRET", "daemon-only-value-31337", 1);
  auto executor = make();
  LaunchSpec spec = shell("clean-env", "env > env.txt");
  spec.env = {{"SUBMITTED", "yes"}};

  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  ASSERT_EQ(RunState::kSucceeded, wait_done(*executor, *handle).state);
  ::unsetenv("LOWCARB_TEST_DAEMON_SECRET");

  const std::string env = slurp(temp_.file("env.txt"));
  EXPECT_THAT(env, HasSubstr("SUBMITTED=yes\n"));
  EXPECT_THAT(env, HasSubstr("LOWCARB_JOB_ID=clean-env\n"));
  EXPECT_THAT(env, HasSubstr("PATH="));
  EXPECT_THAT(env, Not(HasSubstr("daemon-only-value-31337")));
  // Read and removed by the wrapper.
  EXPECT_FALSE(std::filesystem::exists(executor->env_file("clean-env", 0)));
}

TEST_F(LocalExecutorIntegrationTest, MissingWorkingDirFailsTheJobWithChdir) {
  auto executor = make();
  LaunchSpec spec = shell("no-dir", "touch ran");
  spec.working_dir = temp_.file("does-not-exist");

  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  RunStatus status = wait_done(*executor, *handle);

  EXPECT_EQ(RunState::kFailed, status.state);
  EXPECT_EQ(127, status.exit_code);
  EXPECT_THAT(status.message,
              HasSubstr("chdir '" + temp_.file("does-not-exist") + "'"));
  EXPECT_THAT(status.message, HasSubstr("No such file or directory"));
}

TEST_F(LocalExecutorIntegrationTest, LogsAreReadableByTheJobsUserOnly) {
  auto executor = make();
  LaunchSpec spec = shell("log-mode", "echo hi");
  spec.stdout_path = temp_.file("mode.out");
  // An older, wider log is narrowed too.
  { std::ofstream(temp_.file("mode.out")) << "old\n"; }
  ::chmod(temp_.file("mode.out").c_str(), 0644);

  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  ASSERT_EQ(RunState::kSucceeded, wait_done(*executor, *handle).state);

  struct stat log {};
  ASSERT_EQ(0, ::stat(temp_.file("mode.out").c_str(), &log));
  EXPECT_EQ(0600u, log.st_mode & 07777);
}

TEST_F(LocalExecutorIntegrationTest, LogFilesAreAppendedNotTruncated) {
  auto executor = make();
  LaunchSpec first = shell("log-job", "echo first; echo oops >&2");
  first.stdout_path = temp_.file("job.out");
  first.stderr_path = temp_.file("job.err");
  LaunchSpec second = first;
  second.shell_command = "echo second";

  auto a = executor->start(first, clock_.now());
  ASSERT_OK(a);
  ASSERT_EQ(RunState::kSucceeded, wait_done(*executor, *a).state);
  auto b = executor->start(second, clock_.now());
  ASSERT_OK(b);
  ASSERT_EQ(RunState::kSucceeded, wait_done(*executor, *b).state);

  EXPECT_EQ("first\nsecond\n", slurp(temp_.file("job.out")));
  EXPECT_EQ("oops\n", slurp(temp_.file("job.err")));
}

TEST_F(LocalExecutorIntegrationTest, StopModeFreezesAndContinuesTheWholeGroup) {
  auto executor = make();
  // A child of the job's shell does the counting, so only a group-wide stop
  // freezes it.
  auto handle = executor->start(
      shell("ticker",
            "(while true; do echo t >> ticks.txt; sleep 0.05; done) & wait"),
      clock_.now());
  ASSERT_OK(handle);
  const std::string ticks = temp_.file("ticks.txt");
  ASSERT_TRUE(eventually([&] { return count_lines(ticks) >= 3; }));

  ASSERT_OK(executor->pause(*handle, PauseMode::kStop));
  std::this_thread::sleep_for(100ms);  // Let an in-flight write land.
  const int frozen = count_lines(ticks);
  std::this_thread::sleep_for(400ms);
  const int still_frozen = count_lines(ticks);
  auto paused = executor->poll(*handle);
  auto resumed = executor->resume(*handle, {}, PauseMode::kStop);
  const bool continued =
      eventually([&] { return count_lines(ticks) >= still_frozen + 3; });
  ASSERT_OK(executor->cancel(*handle));

  EXPECT_EQ(frozen, still_frozen);
  ASSERT_OK(paused);
  EXPECT_EQ(RunState::kPaused, paused->state);
  ASSERT_OK(resumed);
  EXPECT_EQ(*handle, *resumed);
  EXPECT_TRUE(continued);
}

TEST_F(LocalExecutorIntegrationTest,
       CheckpointStopsTheJobAndResumeContinuesIt) {
  auto executor = make();
  // Counts to 1000 in steps; on SIGTERM saves the count and exits; when
  // LOWCARB_RESUME=1 it starts from the saved count.
  const std::string script =
      "n=0; if [ \"$LOWCARB_RESUME\" = 1 ]; then n=$(cat progress.txt); "
      "echo \"resumed at $n segment $LOWCARB_SEGMENT\" >> resume.txt; fi; "
      "trap 'echo $n > progress.txt; exit 0' TERM; "
      "while [ $n -lt 1000 ]; do n=$((n+1)); sleep 0.02; done; echo done > "
      "finished.txt";
  LaunchSpec spec = shell("ckpt", script);
  spec.pause_mode = PauseMode::kCheckpoint;
  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  std::this_thread::sleep_for(300ms);

  ASSERT_OK(executor->pause(*handle, PauseMode::kCheckpoint));
  // pause() does not wait for the job to save: poll() says when it has.
  RunStatus paused = wait_done(*executor, *handle);
  const std::string progress = slurp(temp_.file("progress.txt"));
  auto next = executor->resume(*handle, spec, PauseMode::kCheckpoint);
  ASSERT_OK(next);
  const bool resumed =
      eventually([&] { return !slurp(temp_.file("resume.txt")).empty(); });
  ASSERT_OK(executor->cancel(*next));

  EXPECT_EQ(RunState::kPaused, paused.state);
  ASSERT_FALSE(progress.empty());
  EXPECT_GT(std::stoi(progress), 0);
  EXPECT_NE(handle->native_id, next->native_id);
  EXPECT_TRUE(resumed);
  EXPECT_EQ(
      "resumed at " + std::to_string(std::stoi(progress)) + " segment 1\n",
      slurp(temp_.file("resume.txt")));
}

// A job that takes 2 s to save its checkpoint: pause() returns at once, the
// job reads as pausing (running, not paused) while it saves, then paused;
// the next segment starts with LOWCARB_RESUME=1.
TEST_F(LocalExecutorIntegrationTest, CheckpointPauseReturnsWhileTheJobSaves) {
  config::LocalExecutorConfig config;
  config.grace = Duration{10};
  auto executor = make(config);
  LaunchSpec spec =
      shell("slowsave",
            "if [ \"$LOWCARB_RESUME\" = 1 ]; then echo resumed > resumed.txt; "
            "exit 0; fi; "
            "trap 'sleep 2; echo saved > saved.txt; exit 0' TERM; "
            "echo started > started.txt; while true; do sleep 0.05; done");
  spec.pause_mode = PauseMode::kCheckpoint;
  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  ASSERT_TRUE(eventually(
      [&] { return std::filesystem::exists(temp_.file("started.txt")); }));

  const auto before = std::chrono::steady_clock::now();
  ASSERT_OK(executor->pause(*handle, PauseMode::kCheckpoint));
  const auto took = std::chrono::steady_clock::now() - before;
  auto saving = executor->poll(*handle);
  const bool saved_already = std::filesystem::exists(temp_.file("saved.txt"));
  executor->housekeeping();  // Within the grace: kills nothing.
  RunStatus paused = wait_done(*executor, *handle);
  const bool saved = std::filesystem::exists(temp_.file("saved.txt"));
  auto next = executor->resume(*handle, spec, PauseMode::kCheckpoint);
  ASSERT_OK(next);
  RunStatus resumed = wait_done(*executor, *next);

  EXPECT_LT(took, 500ms);  // The 2 s save happens after pause() returned.
  ASSERT_OK(saving);
  EXPECT_FALSE(saved_already);
  EXPECT_EQ(RunState::kRunning, saving->state);
  EXPECT_TRUE(saving->pausing);
  EXPECT_THAT(saving->message, HasSubstr("pausing"));
  EXPECT_EQ(RunState::kPaused, paused.state);
  EXPECT_FALSE(paused.pausing);
  EXPECT_TRUE(saved);  // It was given the time to save, not killed.
  EXPECT_EQ(RunState::kSucceeded, resumed.state);
  EXPECT_EQ("resumed\n", slurp(temp_.file("resumed.txt")));
}

// The existing contract for a job that does not exit on the checkpoint
// signal: its group is killed after the grace (by housekeeping(), not by a
// waiting pause()) and the segment counts as paused; resume() runs the next
// one.
TEST_F(LocalExecutorIntegrationTest, CheckpointIgnoredIsKilledAfterTheGrace) {
  config::LocalExecutorConfig config;
  config.grace = Duration{1};
  auto executor = make(config);
  LaunchSpec spec =
      shell("deaf",
            "if [ \"$LOWCARB_RESUME\" = 1 ]; then echo resumed > resumed.txt; "
            "exit 0; fi; trap '' TERM; echo started > started.txt; "
            "while true; do sleep 0.05; done");
  spec.pause_mode = PauseMode::kCheckpoint;
  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  ASSERT_TRUE(eventually(
      [&] { return std::filesystem::exists(temp_.file("started.txt")); }));
  auto identity = parse_native_id(handle->native_id);
  ASSERT_OK(identity);

  const auto before = std::chrono::steady_clock::now();
  ASSERT_OK(executor->pause(*handle, PauseMode::kCheckpoint));
  const auto took = std::chrono::steady_clock::now() - before;
  executor->housekeeping();
  const bool alive_in_grace = spawner_.group_alive(identity->pid);
  auto in_grace = executor->poll(*handle);
  const bool killed = eventually([&] {
    executor->housekeeping();
    return !spawner_.group_alive(identity->pid);
  });
  auto after = executor->poll(*handle);
  auto next = executor->resume(*handle, spec, PauseMode::kCheckpoint);
  ASSERT_OK(next);
  RunStatus resumed = wait_done(*executor, *next);

  EXPECT_LT(took, 500ms);
  EXPECT_TRUE(alive_in_grace);
  ASSERT_OK(in_grace);
  EXPECT_TRUE(in_grace->pausing);
  EXPECT_TRUE(killed);
  ASSERT_OK(after);
  EXPECT_EQ(RunState::kPaused, after->state);
  EXPECT_EQ(RunState::kSucceeded, resumed.state);
  EXPECT_TRUE(std::filesystem::exists(temp_.file("resumed.txt")));
}

// The daemon died while a job saved its checkpoint: a new executor reports
// it pausing, gives it a fresh grace and kills it if that runs out.
TEST_F(LocalExecutorIntegrationTest, ANewExecutorSettlesACheckpointInProgress) {
  config::LocalExecutorConfig config;
  config.grace = Duration{1};
  auto executor = make(config);
  LaunchSpec spec = shell("orphan",
                          "trap '' TERM; echo started > started.txt; "
                          "while true; do sleep 0.05; done");
  spec.pause_mode = PauseMode::kCheckpoint;
  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  ASSERT_TRUE(eventually(
      [&] { return std::filesystem::exists(temp_.file("started.txt")); }));
  auto identity = parse_native_id(handle->native_id);
  ASSERT_OK(identity);
  ASSERT_OK(executor->pause(*handle, PauseMode::kCheckpoint));
  executor.reset();  // The daemon died within the grace period.

  auto next = make(config);
  auto found = next->find("orphan", 0);
  auto saving = next->poll(*handle);
  const bool killed = eventually([&] {
    next->housekeeping();
    return !spawner_.group_alive(identity->pid);
  });
  auto after = next->poll(*handle);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(*handle, **found);
  ASSERT_OK(saving);
  EXPECT_EQ(RunState::kRunning, saving->state);
  EXPECT_TRUE(saving->pausing);
  EXPECT_TRUE(killed);
  ASSERT_OK(after);
  EXPECT_EQ(RunState::kPaused, after->state);
}

TEST_F(LocalExecutorIntegrationTest, CancelKillsAJobThatIgnoresTerm) {
  config::LocalExecutorConfig config;
  config.grace = Duration{1};
  auto executor = make(config);
  auto handle =
      executor->start(shell("stubborn",
                            "trap '' TERM; echo started > started.txt; "
                            "while true; do sleep 0.05; done"),
                      clock_.now());
  ASSERT_OK(handle);
  ASSERT_TRUE(eventually(
      [&] { return std::filesystem::exists(temp_.file("started.txt")); }));
  auto identity = parse_native_id(handle->native_id);
  ASSERT_OK(identity);

  const auto before = std::chrono::steady_clock::now();
  ASSERT_OK(executor->cancel(*handle));
  const auto took = std::chrono::steady_clock::now() - before;
  auto status = executor->poll(*handle);

  EXPECT_LT(took, 500ms);  // The caller's loop is not blocked...
  ASSERT_OK(status);
  EXPECT_EQ(RunState::kCancelled, status->state);
  executor->housekeeping();
  EXPECT_TRUE(spawner_.group_alive(identity->pid));  // ...it has its grace...
  // ...and the group is killed by the first housekeeping after it.
  ASSERT_TRUE(eventually([&] {
    executor->housekeeping();
    return !spawner_.group_alive(identity->pid);
  }));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 900ms);
}

TEST_F(LocalExecutorIntegrationTest, CancelIsQuickForAJobThatHonoursTerm) {
  auto executor = make();
  auto handle = executor->start(shell("polite", "sleep 30"), clock_.now());
  ASSERT_OK(handle);

  const auto before = std::chrono::steady_clock::now();
  ASSERT_OK(executor->cancel(*handle));
  const auto took = std::chrono::steady_clock::now() - before;

  EXPECT_LT(took, 1500ms);
  auto status = executor->poll(*handle);
  ASSERT_OK(status);
  EXPECT_EQ(RunState::kCancelled, status->state);
}

TEST_F(LocalExecutorIntegrationTest, NewExecutorAdoptsARunningJob) {
  ExecutorHandle handle;
  {
    auto executor = make();
    auto started = executor->start(
        shell("adopt", "while [ ! -f stop ]; do sleep 0.05; done; exit 4"),
        clock_.now());
    ASSERT_OK(started);
    handle = *started;
  }  // The daemon "restarts".
  auto executor = make();

  auto running = executor->poll(handle);
  write_file(temp_.file("stop"), "");
  RunStatus finished = wait_done(*executor, handle);

  ASSERT_OK(running);
  EXPECT_EQ(RunState::kRunning, running->state);
  EXPECT_EQ(RunState::kFailed, finished.state);
  EXPECT_EQ(4, finished.exit_code);
}

TEST_F(LocalExecutorIntegrationTest, NewExecutorLearnsHowAJobEndedMeanwhile) {
  ExecutorHandle handle;
  {
    auto executor = make();
    auto started = executor->start(shell("meanwhile", "exit 0"), clock_.now());
    ASSERT_OK(started);
    handle = *started;
    auto identity = parse_native_id(handle.native_id);
    ASSERT_OK(identity);
    ASSERT_TRUE(
        eventually([&] { return !spawner_.group_alive(identity->pid); }));
  }
  auto executor = make();

  auto status = executor->poll(handle);

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kSucceeded, status->state);
  EXPECT_TRUE(status->ended_at.has_value());
}

TEST_F(LocalExecutorIntegrationTest, PidWithAnotherStartTimeIsNotSignalled) {
  auto executor = make();
  auto handle = executor->start(shell("victim", "sleep 30"), clock_.now());
  ASSERT_OK(handle);
  auto identity = parse_native_id(handle->native_id);
  ASSERT_OK(identity);
  // The same pid, as if it had been recycled since the handle was stored.
  ExecutorHandle stale = *handle;
  stale.native_id =
      format_native_id({identity->pid, identity->start_ticks - 1});

  ASSERT_OK(executor->cancel(stale));
  auto paused = executor->pause(stale, PauseMode::kStop);
  auto stale_status = executor->poll(stale);
  auto real_status = executor->poll(*handle);
  ASSERT_OK(executor->cancel(*handle));

  EXPECT_FALSE(paused);
  ASSERT_OK(stale_status);
  EXPECT_EQ(RunState::kLost, stale_status->state);
  ASSERT_OK(real_status);
  EXPECT_EQ(RunState::kRunning, real_status->state);
}

TEST_F(LocalExecutorIntegrationTest, RunsTheJobAsAnotherUserWhenRoot) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "privilege drop needs root";
  }
  auto executor = make();
  LaunchSpec spec = shell("as-nobody", "id -u > uid.txt; id -g >> uid.txt");
  spec.uid = 65534;
  spec.gid = 65534;
  spec.stdout_path = temp_.file("nobody.out");
  std::filesystem::permissions(temp_.path(), std::filesystem::perms::all);

  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  RunStatus status = wait_done(*executor, *handle);

  EXPECT_EQ(RunState::kSucceeded, status.state) << status.message;
  EXPECT_EQ("65534\n65534\n", slurp(temp_.file("uid.txt")));
  struct stat log {};
  ASSERT_EQ(0, ::stat(temp_.file("nobody.out").c_str(), &log));
  EXPECT_EQ(65534u, log.st_uid);  // The user can write its own log.
}

TEST_F(LocalExecutorIntegrationTest, RefusesAnotherUserWhenNotRoot) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: the refusal applies to other users";
  }
  auto executor = make();
  LaunchSpec spec = shell("other-user", "true");
  spec.uid = ::getuid() + 1;

  auto handle = executor->start(spec, clock_.now());

  ASSERT_FALSE(handle);
  EXPECT_EQ(ErrorCode::kPermissionDenied, handle.error().code);
}

TEST_F(LocalExecutorIntegrationTest, CpuTimeOfTheProcessTreeIsMeasured) {
  auto executor = make();
  // The busy loop (0.3-0.6 s of CPU on the 2-core CI machine; 150,000
  // iterations were as little as 0.14 s there, under the 0.15 s asserted)
  // runs in a child of the job's shell,
  // so the figure must come from the whole session.
  auto handle = executor->start(
      shell("burn",
            "(i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done); "
            "echo done > burned.txt; sleep 30"),
      clock_.now());
  ASSERT_OK(handle);
  auto identity = parse_native_id(handle->native_id);
  ASSERT_OK(identity);
  ProcReader reader;
  CpuTimeMeter meter(session_usage_source(reader, identity->pid),
                     CpuPowerModel{10, 0, 0, "test"});
  const TimePoint t0{Duration{1000}};
  ASSERT_OK(meter.sample(t0));
  const double cpu_at_baseline =
      reader.session_usage(identity->pid, t0).cpu_seconds;

  const bool burned = eventually(
      [&] { return std::filesystem::exists(temp_.file("burned.txt")); },
      20000ms);
  auto status = executor->poll(*handle);
  auto sample = meter.sample(t0 + Duration{10});
  ASSERT_OK(executor->cancel(*handle));

  ASSERT_TRUE(burned);
  ASSERT_OK(status);
  EXPECT_GE(status->cpu_seconds, 0.15);
  ASSERT_OK(sample);
  // Energy is proportional to the CPU time used since the baseline: 10 W.
  const double expected = 10 * (status->cpu_seconds - cpu_at_baseline);
  EXPECT_NEAR(expected, sample->joules_cpu, 0.05 * expected + 0.2);
}

// A job that ends while the disk is full (here: the wrapper may write no
// byte, RLIMIT_FSIZE 0) keeps its end: the wrapper stays alive, trying the
// status file again, and writes it once space is back (the limit raised).
TEST(ExecWrapperDiskFullTest, TheStatusFileIsWrittenOnceTheDiskHasRoomAgain) {
  const std::string binary = lowcarb::testing::lowcarb_binary();
  if (!std::filesystem::exists(binary)) {
    GTEST_SKIP() << "build the lowcarb target first: " << binary;
  }
  ScopedTempDir temp;
  const std::string status = temp.file("status-0.json");
  const pid_t wrapper = ::fork();
  ASSERT_GE(wrapper, 0);
  if (wrapper == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // Writes fail with EFBIG, as ENOSPC would.
    rlimit none{0, RLIM_INFINITY};
    ::setrlimit(RLIMIT_FSIZE, &none);
    ::execl(binary.c_str(), binary.c_str(), "exec-wrapper", "--status-file",
            status.c_str(), "--", "/bin/sh", "-c", "exit 3",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The job is over, its end not yet written: the wrapper waits.
  std::this_thread::sleep_for(1500ms);
  int wstatus = 0;
  EXPECT_EQ(0, ::waitpid(wrapper, &wstatus, WNOHANG));
  EXPECT_FALSE(std::filesystem::exists(status));

  rlimit room{RLIM_INFINITY, RLIM_INFINITY};
  ASSERT_EQ(0, ::prlimit(wrapper, RLIMIT_FSIZE, &room, nullptr));
  ASSERT_TRUE(eventually(
      [&] { return ::waitpid(wrapper, &wstatus, WNOHANG) == wrapper; }, 10s));
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(3, WEXITSTATUS(wstatus));
  auto record = read_exit_record(status);
  ASSERT_OK(record);
  EXPECT_EQ(3, record->exit_code);
  EXPECT_FALSE(std::filesystem::exists(status + ".tmp"));
}

}  // namespace
}  // namespace lowcarb::executors
