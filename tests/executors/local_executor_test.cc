// SPDX-License-Identifier: Apache-2.0
// LocalExecutor over a recording fake ProcessSpawner: what it asks the OS to
// do, and how it reads run records and status files. Real processes are in
// local_executor_integration_test.cc.
#include "executors/local_executor.h"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "executors/exec_wrapper.h"
#include "executors/job_environment.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using lowcarb::testing::ScopedTempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const TimePoint kStart{Duration{1'800'000'000}};

// The environment start() left for the wrapper of (`job_id`, `segment`).
Environment job_env(const LocalExecutor& executor, const std::string& job_id,
                    int segment) {
  const std::string path = executor.env_file(job_id, segment);
  auto env = parse_environment_file(lowcarb::testing::read_file(path), path);
  EXPECT_TRUE(env) << env.error().message;
  return env ? *env : Environment{};
}

// Processes exist only in its table; signals are recorded. A signal to a
// group ends every process in it unless `survives_signals` is set.
class FakeProcessSpawner final : public ProcessSpawner {
 public:
  struct Signal {
    pid_t target;
    bool group;
    int signal;
    bool operator==(const Signal&) const = default;
  };

  Result<ProcessIdentity> spawn(const SpawnRequest& request) override {
    requests.push_back(request);
    if (before_spawn) {
      before_spawn(request);
    }
    const pid_t pid = next_pid++;
    ProcStat stat;
    stat.pid = pid;
    stat.pgrp = pid;
    stat.session = pid;
    stat.state = 'S';
    stat.start_ticks = 1000 + static_cast<uint64_t>(pid);
    stat.utime_ticks = 150;
    const ProcessIdentity identity{pid, stat.start_ticks};
    if (call_hook && request.on_identified) {
      if (auto recorded = request.on_identified(identity); !recorded) {
        return tl::unexpected(recorded.error());  // It never runs.
      }
    }
    processes[pid] = stat;
    return identity;
  }
  Result<ProcStat> stat(pid_t pid) override {
    auto it = processes.find(pid);
    if (it == processes.end()) {
      return make_error(ErrorCode::kNotFound, "no such process");
    }
    return it->second;
  }
  Status signal_process(pid_t pid, int signal) override {
    signals.push_back({pid, false, signal});
    if (!survives_signals && (signal == SIGTERM || signal == SIGKILL)) {
      processes.erase(pid);
    }
    return ok_status();
  }
  Status signal_group(pid_t pgrp, int signal) override {
    signals.push_back({pgrp, true, signal});
    if (signal == SIGKILL || (signal == SIGSTOP && exits_on_stop)) {
      processes.erase(pgrp);
    } else if (auto it = processes.find(pgrp);
               it != processes.end() &&
               (signal == SIGSTOP || signal == SIGCONT)) {
      it->second.state = signal == SIGSTOP ? 'T' : 'S';
    }
    return ok_status();
  }
  bool group_alive(pid_t pgrp) override { return processes.count(pgrp) > 0; }
  TreeUsage session_usage(pid_t session) override {
    TreeUsage usage;
    if (processes.count(session)) {
      usage.processes = 1;
      usage.cpu_seconds = 1.5;
    }
    return usage;
  }

  pid_t next_pid = 4000;
  bool survives_signals = false;
  bool exits_on_stop = false;  // The job ends just as SIGSTOP is sent.
  bool call_hook = true;       // Whether spawn() calls request.on_identified.
  std::function<void(const SpawnRequest&)> before_spawn;
  std::map<pid_t, ProcStat> processes;
  std::vector<SpawnRequest> requests;
  std::vector<Signal> signals;
};

class LocalExecutorTest : public ::testing::Test {
 protected:
  LocalExecutorTest() : clock_(kStart) {}

  std::unique_ptr<LocalExecutor> make(config::LocalExecutorConfig config = {}) {
    LocalExecutorOptions options;
    options.wrapper_binary = "/bin/true";
    options.state_dir = temp_.path().string();
    config.grace = Duration{1};
    options.config = config;
    options.wait_step = std::chrono::milliseconds(1);
    auto executor = LocalExecutor::create(spawner_, clock_, options);
    EXPECT_TRUE(executor) << executor.error().message;
    return std::move(*executor);
  }
  LaunchSpec spec(const std::string& job_id = "job-1") {
    LaunchSpec s;
    s.job_id = job_id;
    s.argv = {"train", "--epochs", "3"};
    s.env = {{"FOO", "bar"}};
    return s;
  }

  ScopedTempDir temp_;
  ManualClock clock_;
  FakeProcessSpawner spawner_;
};

TEST_F(LocalExecutorTest, StartRunsTheJobUnderTheWrapperWithItsEnvironment) {
  auto executor = make();

  auto handle = executor->start(spec(), kStart);

  ASSERT_OK(handle);
  EXPECT_EQ("local", handle->executor);
  EXPECT_EQ("4000:5000", handle->native_id);
  ASSERT_EQ(1u, spawner_.requests.size());
  const auto& request = spawner_.requests[0];
  EXPECT_THAT(request.argv,
              ElementsAre("/bin/true", "exec-wrapper", "--status-file",
                          executor->status_file("job-1", 0), "--started-file",
                          executor->started_file("job-1", 0), "--env-file",
                          executor->env_file("job-1", 0), "--", "train",
                          "--epochs", "3"));
  // The wrapper gets a fixed environment; the job's goes through a 0600
  // file the wrapper applies after dropping privileges.
  EXPECT_EQ(wrapper_environment(), request.env);
  auto env = job_env(*executor, "job-1", 0);
  EXPECT_EQ("bar", env.at("FOO"));
  EXPECT_EQ("job-1", env.at("LOWCARB_JOB_ID"));
  EXPECT_EQ("0", env.at("LOWCARB_SEGMENT"));
  EXPECT_EQ(0u, env.count("LOWCARB_RESUME"));
  struct stat st {};
  ASSERT_EQ(0, ::stat(executor->env_file("job-1", 0).c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 07777);
  EXPECT_EQ("/", request.working_dir);
  EXPECT_THAT(request.stdout_path, HasSubstr("logs/job-1.out"));
  EXPECT_THAT(request.stderr_path, HasSubstr("logs/job-1.err"));
}

TEST_F(LocalExecutorTest, ShellCommandRunsThroughBinSh) {
  auto executor = make();
  LaunchSpec s = spec();
  s.argv.clear();
  s.shell_command = "echo hi | wc -c";

  ASSERT_OK(executor->start(s, kStart));

  const auto& argv = spawner_.requests[0].argv;
  EXPECT_THAT(std::vector<std::string>(argv.end() - 3, argv.end()),
              ElementsAre("/bin/sh", "-c", "echo hi | wc -c"));
}

TEST_F(LocalExecutorTest, LaterSegmentsRunWithResumeSet) {
  auto executor = make();
  LaunchSpec s = spec();
  s.segment = 2;

  ASSERT_OK(executor->start(s, kStart));

  EXPECT_EQ("2", job_env(*executor, "job-1", 2).at("LOWCARB_SEGMENT"));
  EXPECT_EQ("1", job_env(*executor, "job-1", 2).at("LOWCARB_RESUME"));
}

TEST_F(LocalExecutorTest, RejectsJobIdsThatAreNotSafeFileNames) {
  auto executor = make();

  auto handle = executor->start(spec("../etc"), kStart);

  ASSERT_FALSE(handle);
  EXPECT_EQ(ErrorCode::kInvalidArgument, handle.error().code);
  EXPECT_TRUE(spawner_.requests.empty());
}

TEST_F(LocalExecutorTest, CreateRejectsUnknownPauseModeWithHint) {
  LocalExecutorOptions options;
  options.wrapper_binary = "/bin/true";
  options.state_dir = temp_.path().string();
  options.config.pause_mode = "stopp";

  auto executor = LocalExecutor::create(spawner_, clock_, options);

  ASSERT_FALSE(executor);
  EXPECT_THAT(executor.error().message, HasSubstr("pause_mode"));
  EXPECT_THAT(executor.error().message, HasSubstr("did you mean 'stop'"));
}

TEST_F(LocalExecutorTest, CreateRejectsMissingWrapperBinary) {
  LocalExecutorOptions options;
  options.wrapper_binary = temp_.file("no-lowcarb");
  options.state_dir = temp_.path().string();

  auto executor = LocalExecutor::create(spawner_, clock_, options);

  ASSERT_FALSE(executor);
  EXPECT_THAT(executor.error().message, HasSubstr("no-lowcarb"));
}

TEST_F(LocalExecutorTest, PollReportsRunningWithCpuTime) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);

  auto status = executor->poll(*handle);

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kRunning, status->state);
  EXPECT_DOUBLE_EQ(1.5, status->cpu_seconds);
  EXPECT_EQ(kStart, status->started_at);
}

TEST_F(LocalExecutorTest, PollReadsTheStatusFileOnceTheProcessIsGone) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.processes.clear();
  ASSERT_OK(write_exit_record(
      executor->status_file("job-1", 0),
      ExitRecord{3, std::nullopt, kStart + Duration{60}, ""}));

  auto status = executor->poll(*handle);

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kFailed, status->state);
  EXPECT_EQ(3, status->exit_code);
  EXPECT_EQ(kStart + Duration{60}, status->ended_at);
  EXPECT_EQ("exit 3", status->message);
}

TEST_F(LocalExecutorTest, GoneWithoutStatusFileIsLost) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.processes.clear();

  auto status = executor->poll(*handle);

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kLost, status->state);
  EXPECT_THAT(status->message, HasSubstr("no status file"));
}

TEST_F(LocalExecutorTest, RecycledPidIsNeverSignalled) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.processes[4000].start_ticks = 999999;  // Someone else's process.

  auto status = executor->poll(*handle);
  auto cancelled = executor->cancel(*handle);
  auto paused = executor->pause(*handle, PauseMode::kStop);

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kLost, status->state);
  EXPECT_OK(cancelled);
  EXPECT_FALSE(paused);
  EXPECT_TRUE(spawner_.signals.empty());
}

TEST_F(LocalExecutorTest, OverrunIsReportedInTheMessage) {
  auto executor = make();
  LaunchSpec s = spec();
  s.expected_duration = Duration{100};
  auto handle = executor->start(s, kStart);
  ASSERT_OK(handle);

  clock_.advance(Duration{150});
  auto within = executor->poll(*handle);
  clock_.advance(Duration{100});
  auto over = executor->poll(*handle);

  ASSERT_OK(within);
  ASSERT_OK(over);
  EXPECT_EQ("", within->message);
  EXPECT_EQ(RunState::kRunning, over->state);
  EXPECT_THAT(over->message,
              HasSubstr("overrun: running longer than 2x its expected"));
  // The same text while it lasts: the scheduler logs changes only.
  clock_.advance(Duration{100});
  auto later = executor->poll(*handle);
  ASSERT_OK(later);
  EXPECT_EQ(over->message, later->message);
}

TEST_F(LocalExecutorTest, StoppedTimeIsNotRunningTimeForOverrun) {
  config::LocalExecutorConfig config;
  config.kill_on_overrun = true;
  auto executor = make(config);
  LaunchSpec s = spec();
  s.expected_duration = Duration{100};  // Overrun after 200 s of running.
  auto handle = executor->start(s, kStart);
  ASSERT_OK(handle);

  clock_.advance(Duration{150});
  ASSERT_OK(executor->pause(*handle, PauseMode::kStop));
  clock_.advance(Duration{1000});  // Paused by lowcarb: not running.
  auto paused = executor->poll(*handle);
  ASSERT_OK(paused);
  EXPECT_EQ(RunState::kPaused, paused->state);
  EXPECT_EQ("", paused->message);

  ASSERT_OK(executor->resume(*handle, s, PauseMode::kStop));
  clock_.advance(Duration{40});  // 190 s of running.
  auto running = executor->poll(*handle);
  ASSERT_OK(running);
  EXPECT_EQ(RunState::kRunning, running->state);
  EXPECT_EQ("", running->message);

  // Stopped by someone else: noticed by polling, not counted either.
  spawner_.processes[4000].state = 'T';
  (void)executor->poll(*handle);
  clock_.advance(Duration{500});
  auto stopped = executor->poll(*handle);
  ASSERT_OK(stopped);
  EXPECT_EQ(RunState::kPaused, stopped->state);
  spawner_.processes[4000].state = 'S';
  (void)executor->poll(*handle);
  for (const auto& sent : spawner_.signals) {
    EXPECT_NE(SIGTERM, sent.signal) << "killed while paused";
  }

  clock_.advance(Duration{20});  // 210 s of running: overrun.
  auto over = executor->poll(*handle);
  ASSERT_OK(over);
  EXPECT_EQ(RunState::kCancelled, over->state);
  EXPECT_THAT(over->message, HasSubstr("overrun"));
}

TEST_F(LocalExecutorTest, AStoppedJobIsNeverKilledAsOverrun) {
  config::LocalExecutorConfig config;
  config.kill_on_overrun = true;
  auto executor = make(config);
  LaunchSpec s = spec();
  s.expected_duration = Duration{100};
  auto handle = executor->start(s, kStart);
  ASSERT_OK(handle);
  clock_.advance(Duration{190});
  ASSERT_OK(executor->pause(*handle, PauseMode::kStop));
  // The stopped time of a daemon that restarted while the job was paused
  // is known from the run record.
  auto again = make(config);
  clock_.advance(Duration{10000});
  auto status = again->poll(*handle);
  ASSERT_OK(status);
  EXPECT_EQ(RunState::kPaused, status->state);
  EXPECT_EQ((std::vector<FakeProcessSpawner::Signal>{{4000, true, SIGSTOP}}),
            spawner_.signals);
}

TEST_F(LocalExecutorTest, OverrunKillsWhenConfigured) {
  config::LocalExecutorConfig config;
  config.kill_on_overrun = true;
  auto executor = make(config);
  LaunchSpec s = spec();
  s.expected_duration = Duration{100};
  auto handle = executor->start(s, kStart);
  ASSERT_OK(handle);

  clock_.advance(Duration{300});
  auto status = executor->poll(*handle);

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kCancelled, status->state);
  EXPECT_THAT(status->message, HasSubstr("overrun"));
  ASSERT_FALSE(spawner_.signals.empty());
  EXPECT_EQ((FakeProcessSpawner::Signal{4000, false, SIGTERM}),
            spawner_.signals[0]);
}

TEST_F(LocalExecutorTest, DeadlinePassedWhileRunningIsReported) {
  auto executor = make();
  LaunchSpec s = spec();
  s.deadline = kStart + Duration{60};
  auto handle = executor->start(s, kStart);
  ASSERT_OK(handle);

  clock_.advance(Duration{61});
  auto status = executor->poll(*handle);

  ASSERT_OK(status);
  EXPECT_THAT(status->message, HasSubstr("deadline"));
  EXPECT_THAT(status->message, HasSubstr("passed while running"));
}

TEST_F(LocalExecutorTest, CancelEscalatesToKillForTheGroup) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.survives_signals = true;

  ASSERT_OK(executor->cancel(*handle));  // Returns without waiting.
  auto status = executor->poll(*handle);
  ASSERT_OK(status);
  EXPECT_EQ(RunState::kCancelled, status->state);
  EXPECT_EQ((FakeProcessSpawner::Signal{4000, false, SIGTERM}),
            spawner_.signals.front());
  executor->housekeeping();  // Within the grace period: nothing more.
  EXPECT_NE(SIGKILL, spawner_.signals.back().signal);

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // Grace 1 s.
  executor->housekeeping();
  EXPECT_EQ((FakeProcessSpawner::Signal{4000, true, SIGKILL}),
            spawner_.signals.back());
  status = executor->poll(*handle);
  ASSERT_OK(status);
  EXPECT_EQ(RunState::kCancelled, status->state);
}

TEST_F(LocalExecutorTest, ANewExecutorEndsACancelledJobAPreviousOneLeftAlive) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.survives_signals = true;
  ASSERT_OK(executor->cancel(*handle));
  executor.reset();  // The daemon died within the grace period.

  auto next = make();
  next->housekeeping();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  next->housekeeping();
  EXPECT_EQ((FakeProcessSpawner::Signal{4000, true, SIGKILL}),
            spawner_.signals.back());
}

TEST_F(LocalExecutorTest, StopModePausesTheWholeGroup) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);

  ASSERT_OK(executor->pause(*handle, PauseMode::kStop));
  auto resumed = executor->resume(*handle, spec(), PauseMode::kStop);

  ASSERT_OK(resumed);
  EXPECT_EQ(*handle, *resumed);
  EXPECT_THAT(spawner_.signals,
              ElementsAre(FakeProcessSpawner::Signal{4000, true, SIGSTOP},
                          FakeProcessSpawner::Signal{4000, true, SIGCONT}));
}

TEST_F(LocalExecutorTest,
       CheckpointSendsTheConfiguredSignalAndResumeStartsNextSegment) {
  config::LocalExecutorConfig config;
  config.checkpoint_signal = "USR1";
  auto executor = make(config);
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.processes.clear();  // Exits as soon as it is told.
  spawner_.processes[4000].start_ticks = 5000;
  spawner_.processes[4000].state = 'S';

  ASSERT_OK(executor->pause(*handle, PauseMode::kCheckpoint));
  auto saving = executor->poll(*handle);  // Still there: saving.
  spawner_.processes.clear();
  auto paused = executor->poll(*handle);
  auto next = executor->resume(*handle, spec(), PauseMode::kCheckpoint);

  EXPECT_EQ((FakeProcessSpawner::Signal{4000, false, SIGUSR1}),
            spawner_.signals.front());
  ASSERT_OK(saving);
  EXPECT_EQ(RunState::kRunning, saving->state);
  EXPECT_TRUE(saving->pausing);
  ASSERT_OK(paused);
  EXPECT_EQ(RunState::kPaused, paused->state);
  EXPECT_FALSE(paused->pausing);
  ASSERT_OK(next);
  EXPECT_NE(handle->native_id, next->native_id);
  EXPECT_EQ("1", job_env(*executor, "job-1", 1).at("LOWCARB_SEGMENT"));
  EXPECT_EQ("1", job_env(*executor, "job-1", 1).at("LOWCARB_RESUME"));
}

TEST_F(LocalExecutorTest, FindReturnsTheHandleOfAStartedSegment) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);

  auto found = executor->find("job-1", 0);
  auto other = executor->find("job-1", 1);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(*handle, **found);
  ASSERT_OK(other);
  EXPECT_FALSE(other->has_value());
}

TEST_F(LocalExecutorTest, StopPauseOfAJobThatEndsMeanwhileIsAConflict) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.exits_on_stop = true;

  auto paused = executor->pause(*handle, PauseMode::kStop);

  ASSERT_FALSE(paused);
  EXPECT_EQ(ErrorCode::kConflict, paused.error().code);
}

TEST_F(LocalExecutorTest, WritesTheIntentBeforeSpawningAndTheRecordBeforeExec) {
  auto executor = make();
  bool intent_before_spawn = false;
  spawner_.before_spawn = [&](const SpawnRequest&) {
    intent_before_spawn =
        std::filesystem::exists(executor->intent_file("job-1", 0));
  };

  auto handle = executor->start(spec(), kStart);

  ASSERT_OK(handle);
  EXPECT_TRUE(intent_before_spawn);
  EXPECT_TRUE(std::filesystem::exists(temp_.file("local/4000-5000.json")));
}

TEST_F(LocalExecutorTest, RecordsAfterSpawnWhenTheSpawnerHasNoHook) {
  spawner_.call_hook = false;
  auto executor = make();

  auto handle = executor->start(spec(), kStart);
  auto found = executor->find("job-1", 0);

  ASSERT_OK(handle);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(*handle, **found);
}

TEST_F(LocalExecutorTest, FailedRunRecordWriteMeansNoLaunch) {
  auto executor = make();
  // A directory where the run record should go makes its rename fail.
  std::filesystem::create_directories(temp_.file("local/4000-5000.json/x"));

  auto handle = executor->start(spec(), kStart);

  ASSERT_FALSE(handle);
  EXPECT_EQ(ErrorCode::kUnavailable, handle.error().code);
  EXPECT_TRUE(spawner_.processes.empty());
}

TEST_F(LocalExecutorTest, FindSkipsALaunchThatEndedWithoutStartedFile) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  spawner_.processes.clear();  // Exited before its wrapper got to the job.

  auto found = executor->find("job-1", 0);

  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_FALSE(std::filesystem::exists(temp_.file("local/4000-5000.json")));
}

TEST_F(LocalExecutorTest, FindReturnsAnEndedLaunchWhoseWrapperStartedTheJob) {
  auto executor = make();
  auto handle = executor->start(spec(), kStart);
  ASSERT_OK(handle);
  ASSERT_OK(write_started_record(executor->started_file("job-1", 0),
                                 ProcessIdentity{4000, 5000}));
  spawner_.processes.clear();

  auto found = executor->find("job-1", 0);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(*handle, **found);
}

TEST_F(LocalExecutorTest, FindPrefersTheLaunchThatRan) {
  auto executor = make();
  auto never_ran = executor->start(spec(), kStart);
  ASSERT_OK(never_ran);
  spawner_.processes.erase(4000);
  clock_.advance(Duration{60});
  auto ran = executor->start(spec(), kStart);
  ASSERT_OK(ran);

  auto found = executor->find("job-1", 0);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(*ran, **found);
}

TEST(LocalExecutorNamesTest, ParsesSignalNames) {
  EXPECT_EQ(SIGTERM, parse_signal_name("TERM"));
  EXPECT_EQ(SIGUSR1, parse_signal_name("sigusr1"));
  auto bad = parse_signal_name("USR3");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("checkpoint_signal"));
}

TEST(LocalExecutorNamesTest, NativeIdRoundTripsAndRejectsGarbage) {
  auto parsed = parse_native_id(format_native_id({1234, 567890}));

  ASSERT_OK(parsed);
  EXPECT_EQ((ProcessIdentity{1234, 567890}), *parsed);
  EXPECT_FALSE(parse_native_id("1234"));
  EXPECT_FALSE(parse_native_id("abc:1"));
  EXPECT_FALSE(parse_native_id("1:5"));  // Never pid 1.
}

}  // namespace
}  // namespace lowcarb::executors
