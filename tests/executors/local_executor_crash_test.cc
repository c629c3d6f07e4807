// SPDX-License-Identifier: Apache-2.0
// LocalExecutor::find() across the windows in which a daemon can die while
// launching a job: before the spawn (intent only), after identifying the new
// process but before letting it exec, after the spawn (process running),
// and after the job ended meanwhile (status file). The "daemon" is a forked
// copy of this test process that calls start() and dies (_exit) at the chosen
// point; a fresh executor over the same state directory then recovers, with
// real processes under the real `lowcarb exec-wrapper`
// (testing::lowcarb_binary()). Every job appends a line to a file, so "ran
// exactly once" is counted.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "executors/exec_wrapper.h"
#include "executors/local_executor.h"
#include "executors/posix_process_spawner.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using lowcarb::testing::ScopedTempDir;
using lowcarb::testing::write_file;
using namespace std::chrono_literals;

using lowcarb::testing::eventually;

// Where the forked daemon dies.
enum class DeathPoint {
  kBeforeSpawn,  // Intent written, nothing spawned.
  kBeforeGo,     // Process identified and its run record written; no exec.
  kAfterSpawn,   // The wrapper runs; start() never returned.
};

// Passes everything to the real spawner and dies at `point`.
class DyingSpawner final : public ProcessSpawner {
 public:
  DyingSpawner(ProcessSpawner& real, DeathPoint point)
      : real_(real), point_(point) {}

  Result<ProcessIdentity> spawn(const SpawnRequest& request) override {
    if (point_ == DeathPoint::kBeforeSpawn) {
      ::_exit(0);
    }
    SpawnRequest copy = request;
    if (point_ == DeathPoint::kBeforeGo) {
      copy.on_identified = [&request](const ProcessIdentity& id) -> Status {
        if (auto s = request.on_identified(id); !s) {
          ::_exit(4);
        }
        ::_exit(0);
      };
    }
    auto identity = real_.spawn(copy);
    ::_exit(identity ? 0 : 5);
  }
  Result<ProcStat> stat(pid_t pid) override { return real_.stat(pid); }
  Status signal_process(pid_t pid, int signal) override {
    return real_.signal_process(pid, signal);
  }
  Status signal_group(pid_t pgrp, int signal) override {
    return real_.signal_group(pgrp, signal);
  }
  bool group_alive(pid_t pgrp) override { return real_.group_alive(pgrp); }
  TreeUsage session_usage(pid_t session) override {
    return real_.session_usage(session);
  }

 private:
  ProcessSpawner& real_;
  DeathPoint point_;
};

class LocalExecutorCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(lowcarb::testing::lowcarb_binary())) {
      GTEST_SKIP() << "build the lowcarb target first: "
                   << lowcarb::testing::lowcarb_binary();
    }
  }
  void TearDown() override {
    // A failed test may leave a job waiting for its stop file.
    write_file(temp_.file("stop"), "");
  }

  std::unique_ptr<LocalExecutor> make(ProcessSpawner& spawner) {
    LocalExecutorOptions options;
    options.wrapper_binary = lowcarb::testing::lowcarb_binary();
    options.state_dir = temp_.file("state");
    options.config.grace = Duration{2};
    options.wait_step = 20ms;
    auto executor = LocalExecutor::create(spawner, clock_, options);
    EXPECT_TRUE(executor) << executor.error().message;
    return executor ? std::move(*executor) : nullptr;
  }
  // Appends a line to `runs`, then waits for `stop` when asked to.
  LaunchSpec job(bool wait_for_stop) {
    LaunchSpec spec;
    spec.job_id = "job-1";
    spec.working_dir = temp_.path().string();
    spec.shell_command = wait_for_stop
                             ? "echo ran >> runs; "
                               "while [ ! -f stop ]; do sleep 0.02; done"
                             : "echo ran >> runs";
    return spec;
  }
  // Runs start() in a forked "daemon" that dies at `point`; returns its
  // exit status (0 = it died where asked).
  int start_and_die(const LaunchSpec& spec, DeathPoint point) {
    const pid_t daemon = ::fork();
    if (daemon == 0) {
      PosixProcessSpawner real;
      DyingSpawner dying(real, point);
      auto executor = make(dying);
      if (executor) {
        (void)executor->start(spec, clock_.now());
      }
      ::_exit(6);  // Not reached when the spawner dies as asked.
    }
    int status = 0;
    ::waitpid(daemon, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int runs() const {
    std::ifstream in(temp_.file("runs"));
    std::stringstream text;
    text << in.rdbuf();
    const std::string all = text.str();
    return static_cast<int>(std::count(all.begin(), all.end(), '\n'));
  }
  RunStatus wait_done(LocalExecutor& executor, const ExecutorHandle& handle) {
    RunStatus last;
    eventually([&] {
      auto status = executor.poll(handle);
      if (!status) {
        ADD_FAILURE() << status.error().message;
        return true;
      }
      last = *status;
      return is_terminal(last.state);
    });
    return last;
  }
  // What the scheduler does on recovery: adopt a found launch, or start it
  // again. Returns the handle that ran.
  ExecutorHandle recover(LocalExecutor& executor, const LaunchSpec& spec) {
    auto found = executor.find(spec.job_id, spec.segment);
    EXPECT_TRUE(found) << found.error().message;
    if (found && *found) {
      return **found;
    }
    auto started = executor.start(spec, clock_.now());
    EXPECT_TRUE(started) << started.error().message;
    return started ? *started : ExecutorHandle{};
  }

  ScopedTempDir temp_;
  SystemClock clock_;
  PosixProcessSpawner spawner_;
};

TEST_F(LocalExecutorCrashTest, NothingLaunchedIsNotFound) {
  auto executor = make(spawner_);

  auto found = executor->find("job-1", 0);

  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
}

TEST_F(LocalExecutorCrashTest, IntentOnlyIsNotStartedAndRunsOnceWhenRestarted) {
  const LaunchSpec spec = job(false);
  ASSERT_EQ(0, start_and_die(spec, DeathPoint::kBeforeSpawn));
  auto executor = make(spawner_);
  ASSERT_TRUE(std::filesystem::exists(executor->intent_file("job-1", 0)));

  auto found = executor->find("job-1", 0);
  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
  const ExecutorHandle handle = recover(*executor, spec);
  const RunStatus done = wait_done(*executor, handle);

  EXPECT_EQ(RunState::kSucceeded, done.state) << done.message;
  EXPECT_EQ(1, runs());
}

TEST_F(LocalExecutorCrashTest,
       DeathBeforeGoIsNotStartedAndRunsOnceWhenRestarted) {
  const LaunchSpec spec = job(false);
  ASSERT_EQ(0, start_and_die(spec, DeathPoint::kBeforeGo));
  auto executor = make(spawner_);
  // The run record names a process that never ran the job.
  ASSERT_FALSE(std::filesystem::is_empty(temp_.file("state/local")));

  auto found = executor->find("job-1", 0);
  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_EQ(0, runs());
  const ExecutorHandle handle = recover(*executor, spec);
  const RunStatus done = wait_done(*executor, handle);
  auto found_again = executor->find("job-1", 0);

  EXPECT_EQ(RunState::kSucceeded, done.state) << done.message;
  EXPECT_EQ(1, runs());
  ASSERT_OK(found_again);
  ASSERT_TRUE(found_again->has_value());
  EXPECT_EQ(handle, **found_again);
}

TEST_F(LocalExecutorCrashTest, IntentAndRunningProcessIsAdoptedNotRestarted) {
  const LaunchSpec spec = job(true);
  ASSERT_EQ(0, start_and_die(spec, DeathPoint::kAfterSpawn));
  auto executor = make(spawner_);

  auto found = executor->find("job-1", 0);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  const ExecutorHandle handle = recover(*executor, spec);
  auto running = executor->poll(handle);
  write_file(temp_.file("stop"), "");
  const RunStatus done = wait_done(*executor, handle);

  EXPECT_EQ(**found, handle);
  ASSERT_OK(running);
  EXPECT_EQ(RunState::kRunning, running->state);
  EXPECT_EQ(RunState::kSucceeded, done.state) << done.message;
  EXPECT_EQ(1, runs());
}

TEST_F(LocalExecutorCrashTest, IntentAndStatusFileIsFoundAndReportsTheEnd) {
  const LaunchSpec spec = job(false);
  ASSERT_EQ(0, start_and_die(spec, DeathPoint::kAfterSpawn));
  auto executor = make(spawner_);
  // The job ends while no daemon is running.
  ASSERT_TRUE(eventually([&] {
    return std::filesystem::exists(executor->status_file("job-1", 0));
  }));

  auto found = executor->find("job-1", 0);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  const ExecutorHandle handle = recover(*executor, spec);
  const RunStatus done = wait_done(*executor, handle);

  EXPECT_EQ(RunState::kSucceeded, done.state) << done.message;
  EXPECT_EQ(1, runs());
}

TEST_F(LocalExecutorCrashTest, LostRunRecordIsRebuiltFromTheStartedFile) {
  const LaunchSpec spec = job(true);
  auto first = make(spawner_);
  auto started = first->start(spec, clock_.now());
  ASSERT_OK(started);
  ASSERT_TRUE(eventually([&] {
    return std::filesystem::exists(first->started_file("job-1", 0));
  }));
  std::filesystem::remove_all(temp_.file("state/local"));
  std::filesystem::create_directories(temp_.file("state/local"));
  auto executor = make(spawner_);

  auto found = executor->find("job-1", 0);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  auto running = executor->poll(**found);
  write_file(temp_.file("stop"), "");
  const RunStatus done = wait_done(*executor, **found);

  EXPECT_EQ(*started, **found);
  ASSERT_OK(running);
  EXPECT_EQ(RunState::kRunning, running->state);
  EXPECT_EQ(RunState::kSucceeded, done.state) << done.message;
  EXPECT_EQ(1, runs());
}

TEST_F(LocalExecutorCrashTest, StartedFileNamesTheWrapperAndComesBeforeTheJob) {
  // The job checks that its wrapper's started file exists when it runs.
  LaunchSpec spec = job(false);
  auto executor = make(spawner_);
  spec.shell_command = "test -f '" + executor->started_file("job-1", 0) +
                       "' && echo ran >> runs";

  auto handle = executor->start(spec, clock_.now());
  ASSERT_OK(handle);
  const RunStatus done = wait_done(*executor, *handle);
  auto started = read_started_record(executor->started_file("job-1", 0));

  EXPECT_EQ(RunState::kSucceeded, done.state) << done.message;
  EXPECT_EQ(1, runs());
  ASSERT_OK(started);
  EXPECT_EQ(handle->native_id, format_native_id(*started));
}

}  // namespace
}  // namespace lowcarb::executors
