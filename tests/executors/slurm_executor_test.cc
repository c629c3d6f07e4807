// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_executor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/fake_process_runner.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TimePoint at(const char* text) { return *parse_time(text); }

ProcessResult ok(std::string out) {
  return ProcessResult{0, std::move(out), ""};
}
ProcessResult fail(int code, std::string err) {
  return ProcessResult{code, "", std::move(err)};
}

constexpr const char* kControllerDown =
    "slurm_load_jobs error: Unable to contact slurm controller (connect "
    "failure)\n";
constexpr const char* kUnknownJob =
    "slurm_load_jobs error: Invalid job id specified\n";
constexpr const char* kConfigNoAccounting =
    "AccountingStorageType   = accounting_storage/none\n"
    "ClusterName             = alpha\n"
    "JobCompLoc              = /srv/alpha/log/jobcomp.txt\n"
    "JobCompType             = jobcomp/filetxt\n"
    "SlurmUser               = slurm(64030)\n";

class SlurmExecutorTest : public ::testing::Test {
 protected:
  SlurmExecutorTest() {
    cluster_.name = "alpha";
    cluster_.slurm_conf = "/srv/alpha/slurm.conf";
    char pattern[] = "/tmp/lowcarb-slurm-unit-XXXXXX";
    if (::mkdtemp(pattern) != nullptr) {
      log_dir_ = pattern;
    }
  }
  ~SlurmExecutorTest() override {
    std::error_code ec;
    std::filesystem::remove_all(log_dir_, ec);
  }

  SlurmExecutor make(unsigned uid = 0, std::string user = "root",
                     std::string tz = "") {
    return SlurmExecutor(
        cluster_, runner_,
        SlurmExecutorOptions{uid, std::move(user), std::move(tz), log_dir_});
  }

  ExecutorHandle handle(std::string id = "17") const {
    return ExecutorHandle{"slurm", "alpha", std::move(id)};
  }

  std::vector<std::string> argv(size_t i) const {
    auto commands = runner_.commands_run();
    return i < commands.size() ? commands[i].argv : std::vector<std::string>{};
  }

  LaunchSpec spec() const {
    LaunchSpec s;
    s.job_id = "j1";
    s.name = "train";
    s.argv = {"./train"};
    s.expected_duration = std::chrono::minutes(10);
    return s;
  }

  config::SlurmClusterConfig cluster_;
  fakes::FakeProcessRunner runner_;
  std::string log_dir_;
};

TEST_F(SlurmExecutorTest, StartSubmitsDeferredJobAndReturnsHandle) {
  runner_.push_result(ok("4242;alpha\n"));
  auto executor = make();

  auto started = executor.start(spec(), at("2026-11-23T22:00:00Z"));

  ASSERT_OK(started);
  EXPECT_EQ((ExecutorHandle{"slurm", "alpha", "4242"}), *started);
  ASSERT_EQ(1u, runner_.commands_run().size());
  const auto command = runner_.commands_run()[0];
  EXPECT_EQ("sbatch", command.argv[0]);
  EXPECT_THAT(command.argv, Contains("--begin=2026-11-23T22:00:00"));
  EXPECT_THAT(command.argv, Contains("--comment=lowcarb:j1"));
  EXPECT_EQ("UTC", command.env.at("TZ"));
  EXPECT_EQ("/srv/alpha/slurm.conf", command.env.at("SLURM_CONF"));
  EXPECT_TRUE(executor.defers_start());
}

TEST_F(SlurmExecutorTest, StartPassesOurTimeZoneToTheJobNotToSbatch) {
  runner_.push_result(ok("5\n"));
  auto executor = make(0, "root", "America/New_York");

  ASSERT_OK(executor.start(spec(), at("2026-11-23T22:00:00Z")));

  const auto command = runner_.commands_run()[0];
  EXPECT_EQ("UTC", command.env.at("TZ"));
  EXPECT_FALSE(command.inherit_environment);
  EXPECT_THAT(command.argv, Contains("--export=ALL"));
  EXPECT_THAT(command.argv,
              Contains("--export-file=" + log_dir_ + "/alpha/0/.j1-0.env"));
  // The file held the job's environment only while sbatch ran.
  EXPECT_FALSE(std::filesystem::exists(log_dir_ + "/alpha/0/.j1-0.env"));
}

TEST_F(SlurmExecutorTest, StartWritesOutputToPerClusterPerUserFiles) {
  runner_.push_result(ok("5\n"));
  auto executor = make();

  ASSERT_OK(executor.start(spec(), at("2026-11-23T22:00:00Z")));

  const std::string dir = log_dir_ + "/alpha/0/";
  EXPECT_THAT(argv(0), Contains("--output=" + dir + "j1.out"));
  EXPECT_THAT(argv(0), Contains("--error=" + dir + "j1.err"));
  EXPECT_EQ(dir + "j1.out", executor.output_path(spec(), "5", false));
  EXPECT_EQ(dir + "j1.err", executor.output_path(spec(), "5", true));
}

TEST_F(SlurmExecutorTest, RootSubmitsAsTheJobOwnerIntoTheOwnersDirectory) {
  runner_.push_result(ok("5\n"));
  auto executor = make(0, "root");
  auto s = spec();
  s.uid = 4321;
  s.gid = 4322;

  ASSERT_OK(executor.start(s, at("2026-11-23T22:00:00Z")));

  EXPECT_THAT(
      argv(0),
      ElementsAre("setpriv", "--reuid=4321", "--regid=4322", "--init-groups",
                  "--", "sbatch", ::testing::_, ::testing::_, ::testing::_,
                  ::testing::_, ::testing::_, ::testing::_, ::testing::_,
                  ::testing::_, ::testing::_, ::testing::_, ::testing::_));
  struct stat info {};
  ASSERT_EQ(0, ::stat((log_dir_ + "/alpha/4321").c_str(), &info));
  EXPECT_EQ(4321u, info.st_uid);
  EXPECT_EQ(4322u, info.st_gid);
  EXPECT_EQ(0700u, info.st_mode & 07777);
}

TEST_F(SlurmExecutorTest, OrdinaryUserSubmitsAsItself) {
  runner_.push_result(ok("5\n"));
  auto executor = make(1000, "u");
  auto s = spec();
  s.uid = 4321;

  ASSERT_OK(executor.start(s, at("2026-11-23T22:00:00Z")));

  EXPECT_EQ("sbatch", argv(0).at(0));
}

TEST_F(SlurmExecutorTest, KeepsTheScriptsOwnOutputAndTimeAndLogsPointAtIt) {
  const std::string script = log_dir_ + "/job.sh";
  lowcarb::testing::write_file(script,
                               "#!/bin/sh\n"
                               "#SBATCH --time=00:20:00\n"
                               "#SBATCH -o out-%x-%j.txt\n"
                               "echo hi\n");
  runner_.push_result(ok("77\n"));
  auto executor = make();
  auto s = spec();
  s.argv.clear();
  s.sbatch_script = script;
  s.working_dir = "/home/u/run";

  ASSERT_OK(executor.start(s, at("2026-11-23T22:00:00Z")));

  EXPECT_THAT(argv(0), Not(Contains(HasSubstr("--time"))));
  EXPECT_THAT(argv(0), Not(Contains(HasSubstr("--output"))));
  EXPECT_THAT(argv(0), Not(Contains(HasSubstr("--error"))));
  EXPECT_EQ("/home/u/run/out-train-77.txt",
            executor.output_path(s, "77", false));
  // Only --output given: Slurm writes stderr there too.
  EXPECT_EQ("/home/u/run/out-train-77.txt",
            executor.output_path(s, "77", true));
}

TEST_F(SlurmExecutorTest, HoldsAndReleasesDeferredJob) {
  auto executor = make();

  ASSERT_OK(executor.hold(handle()));
  ASSERT_OK(executor.release(handle(), at("2026-11-23T23:00:00Z")));

  EXPECT_THAT(argv(0), ElementsAre("scontrol", "hold", "17"));
  EXPECT_THAT(argv(1), ElementsAre("scontrol", "release", "17"));
  EXPECT_THAT(argv(2), ElementsAre("scontrol", "update", "JobId=17",
                                   "StartTime=2026-11-23T23:00:00"));
}

TEST_F(SlurmExecutorTest, HoldOfStartedJobFailsWithSlurmsReason) {
  runner_.push_result(
      fail(1, "Job is no longer pending execution for job 17\n"));
  auto executor = make();

  auto held = executor.hold(handle());

  ASSERT_FALSE(held);
  EXPECT_THAT(held.error().message, HasSubstr("no longer pending"));
}

TEST_F(SlurmExecutorTest, FindAdoptsTheSubmissionByItsTag) {
  runner_.push_result(ok("9|PENDING|N/A|N/A|BeginTime|lowcarb:j1\n"));
  auto executor = make();

  auto found = executor.find("j1", 0);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(handle("9"), **found);
}

// Gone from squeue (ended while the daemon was down): the completion log,
// by the scheduler's default job name; the newest run wins.
TEST_F(SlurmExecutorTest, FindAdoptsAnEndedJobFromTheCompletionLog) {
  runner_.push_result(ok("8|RUNNING|1|N/A|None|lowcarb:other\n"));
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(
      ok("JobId=11 UserId=root(0) GroupId=root(0) Name=lowcarb-j1 "
         "JobState=FAILED ExitCode=3:0\n"
         "JobId=12 UserId=root(0) GroupId=root(0) Name=lowcarb-j1 "
         "JobState=COMPLETED ExitCode=0:0\n"));
  auto executor = make();

  auto found = executor.find("j1", 0);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(handle("12"), **found);
  EXPECT_THAT(argv(2), ElementsAre("grep", "-a", "-F", " Name=lowcarb-j1 ",
                                   "/srv/alpha/log/jobcomp.txt"));
}

TEST_F(SlurmExecutorTest, FindSaysNothingWhenNoRecordKnowsTheJob) {
  runner_.push_result(ok(""));
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(fail(1, ""));  // grep: no line.
  auto executor = make();

  auto found = executor.find("j1", 0);

  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
}

TEST_F(SlurmExecutorTest, FindReportsAnUnreadableCompletionLog) {
  runner_.push_result(ok(""));
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(fail(2,
                           "grep: /srv/alpha/log/jobcomp.txt: Permission "
                           "denied\n"));
  auto executor = make();

  auto found = executor.find("j1", 0);

  // Not "nothing was launched": the scheduler must not take it as a no.
  ASSERT_FALSE(found);
  EXPECT_THAT(found.error().message, HasSubstr("jobcomp.txt"));
}

// With slurmdbd: sacct by the comment tag (AccountingStoreFlags=job_comment)
// or, when accounting keeps no comment, by the default name.
TEST_F(SlurmExecutorTest, FindAdoptsAnEndedJobFromSacct) {
  runner_.push_result(ok(""));
  runner_.push_result(
      ok("AccountingStorageType = accounting_storage/slurmdbd\n"));
  runner_.push_result(
      ok("20|lowcarb-j1|lowcarb:j1\n"
         "21|lowcarb-j1|lowcarb:j12\n"
         "22|mine|\n"
         "23|lowcarb-j1|\n"));
  auto executor = make();

  auto found = executor.find("j1", 0);

  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(handle("23"), **found);
  EXPECT_EQ("sacct", argv(2).at(0));
  EXPECT_THAT(argv(2),
              ::testing::Contains("--format=JobIDRaw,JobName,Comment"));
}

TEST_F(SlurmExecutorTest, FindReportsControllerDownAsError) {
  runner_.push_result(fail(1, kControllerDown));
  auto executor = make();

  auto found = executor.find("j1", 0);

  ASSERT_FALSE(found);
  EXPECT_EQ(ErrorCode::kUnavailable, found.error().code);
}

TEST_F(SlurmExecutorTest, StartReportsRejectedSubmissionWithSbatchMessage) {
  runner_.push_result(fail(1,
                           "sbatch: error: Batch job submission failed: "
                           "Invalid partition name specified\n"));
  auto executor = make();

  auto started = executor.start(spec(), at("2026-11-23T22:00:00Z"));

  ASSERT_FALSE(started);
  EXPECT_EQ(ErrorCode::kInvalidArgument, started.error().code);
  EXPECT_THAT(started.error().message, HasSubstr("Invalid partition name"));
  EXPECT_THAT(started.error().message, HasSubstr("j1"));
  EXPECT_THAT(started.error().message, HasSubstr("alpha"));
}

TEST_F(SlurmExecutorTest, StartReportsUnreachableControllerAsUnavailable) {
  runner_.push_result(fail(1,
                           "sbatch: error: Batch job submission failed: "
                           "Unable to contact slurm controller (connect "
                           "failure)\n"));
  auto executor = make();

  auto started = executor.start(spec(), at("2026-11-23T22:00:00Z"));

  ASSERT_FALSE(started);
  EXPECT_EQ(ErrorCode::kUnavailable, started.error().code);
}

TEST_F(SlurmExecutorTest, StartReportsMissingSbatchAsNotFound) {
  runner_.push_result(
      make_error(ErrorCode::kNotFound, "run sbatch: program not found"));
  auto executor = make();

  auto started = executor.start(spec(), at("2026-11-23T22:00:00Z"));

  ASSERT_FALSE(started);
  EXPECT_EQ(ErrorCode::kNotFound, started.error().code);
  EXPECT_THAT(started.error().message, HasSubstr("sbatch"));
}

TEST_F(SlurmExecutorTest, StartReportsGarbledSbatchOutput) {
  runner_.push_result(ok("Submitted batch job 5\n"));
  auto executor = make();

  auto started = executor.start(spec(), at("2026-11-23T22:00:00Z"));

  ASSERT_FALSE(started);
  EXPECT_THAT(started.error().message, HasSubstr("Submitted batch job 5"));
}

TEST_F(SlurmExecutorTest, RescheduleUpdatesStartTimeInUtc) {
  auto executor = make();

  ASSERT_OK(executor.reschedule(handle(), at("2026-11-23T10:00:00+02:00")));

  EXPECT_THAT(argv(0), ElementsAre("scontrol", "update", "JobId=17",
                                   "StartTime=2026-11-23T08:00:00"));
}

TEST_F(SlurmExecutorTest, RescheduleOfStartedJobIsConflict) {
  runner_.push_result(
      fail(1, "Job is no longer pending execution for job 17\n"));
  auto executor = make();

  auto moved = executor.reschedule(handle(), at("2026-11-23T10:00:00Z"));

  ASSERT_FALSE(moved);
  EXPECT_EQ(ErrorCode::kConflict, moved.error().code);
}

TEST_F(SlurmExecutorTest, RejectsHandleOfAnotherCluster) {
  auto executor = make();

  auto polled = executor.poll(ExecutorHandle{"slurm", "beta", "17"});

  ASSERT_FALSE(polled);
  EXPECT_EQ(ErrorCode::kInvalidArgument, polled.error().code);
  EXPECT_TRUE(runner_.commands_run().empty());
}

TEST_F(SlurmExecutorTest, PollReportsDeferredJobAsPending) {
  runner_.push_result(
      ok("17|PENDING|1795456346|1795456946|BeginTime|lowcarb:j1\n"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kPending, status->state);
  EXPECT_FALSE(status->started_at.has_value());
  EXPECT_EQ("PENDING (BeginTime)", status->message);
  EXPECT_THAT(argv(0), ElementsAre("squeue", "-h", "-t", "all", "-j", "17",
                                   "-o", "%i|%T|%S|%e|%r|%k"));
}

TEST_F(SlurmExecutorTest, PollReportsRunningJobWithStartTime) {
  runner_.push_result(ok("17|RUNNING|1795452746|1795453346|None|lowcarb:j1\n"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kRunning, status->state);
  EXPECT_EQ(TimePoint{std::chrono::seconds{1795452746}}, status->started_at);
}

TEST_F(SlurmExecutorTest, PollReadsExitCodeOfFinishedJobStillInSqueue) {
  runner_.push_result(
      ok("17|FAILED|1795458565|1795458570|NonZeroExitCode|x\n"));
  runner_.push_result(
      ok("JobId=17 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 "
         "StartTime=1795458565 EndTime=1795458570\n"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kFailed, status->state);
  EXPECT_EQ(3, status->exit_code);
  EXPECT_EQ("FAILED (exit 3)", status->message);
  EXPECT_THAT(argv(1), ElementsAre("scontrol", "show", "job", "-o", "17"));
}

TEST_F(SlurmExecutorTest, PollReadsJobcompLogAfterJobLeftSqueue) {
  runner_.push_result(fail(1, kUnknownJob));
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(
      ok("JobId=17 UserId=u(1000) JobState=COMPLETED StartTime="
         "2026-11-23T18:29:25 EndTime=2026-11-23T18:29:30 ExitCode=0:0\n"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kSucceeded, status->state);
  EXPECT_EQ(0, status->exit_code);
  EXPECT_EQ(at("2026-11-23T18:29:30Z"), status->ended_at);
  EXPECT_THAT(argv(1), ElementsAre("scontrol", "show", "config"));
  EXPECT_THAT(argv(2), ElementsAre("grep", "-a", "^JobId=17 ",
                                   "/srv/alpha/log/jobcomp.txt"));
}

TEST_F(SlurmExecutorTest, PollPrefersConfiguredJobcompLog) {
  cluster_.jobcomp_log = "/elsewhere/jobcomp.txt";
  runner_.push_result(fail(1, kUnknownJob));
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(ok("JobId=17 JobState=TIMEOUT ExitCode=0:15\n"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kFailed, status->state);
  EXPECT_EQ(15, status->signal);
  EXPECT_THAT(status->message, HasSubstr("TIMEOUT"));
  EXPECT_EQ("/elsewhere/jobcomp.txt", argv(2).back());
}

TEST_F(SlurmExecutorTest, PollReadsSacctWhenClusterHasAccounting) {
  runner_.push_result(fail(1, kUnknownJob));
  runner_.push_result(
      ok("AccountingStorageType = accounting_storage/slurmdbd\n"));
  runner_.push_result(
      ok("17|OUT_OF_MEMORY|0:125|1795452746|1795452846|01:40|200|\n"
         "17.batch|OUT_OF_MEMORY|0:125|1795452746|1795452846|01:40|200|\n"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kFailed, status->state);
  EXPECT_EQ(125, status->signal);
  EXPECT_DOUBLE_EQ(100, status->cpu_seconds);
  EXPECT_EQ("sacct", argv(2)[0]);
}

TEST_F(SlurmExecutorTest, PollReportsJobWithoutAnyRecordAsLost) {
  runner_.push_result(fail(1, kUnknownJob));
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(fail(1, ""));           // grep: no line.
  runner_.push_result(fail(1, kUnknownJob));  // scontrol show job.
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kLost, status->state);
  EXPECT_THAT(status->message, HasSubstr("17"));
  EXPECT_THAT(status->message, HasSubstr("alpha"));
}

TEST_F(SlurmExecutorTest, PollReportsControllerDownAsUnavailable) {
  runner_.push_result(fail(1, kControllerDown));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_FALSE(status);
  EXPECT_EQ(ErrorCode::kUnavailable, status.error().code);
  EXPECT_THAT(status.error().message, HasSubstr("Unable to contact"));
  // Nothing was concluded from the failure: the next poll asks again.
  runner_.push_result(ok("17|RUNNING|1795452746|1795453346|None|x\n"));
  auto again = executor.poll(handle());
  ASSERT_OK(again);
  EXPECT_EQ(RunState::kRunning, again->state);
}

TEST_F(SlurmExecutorTest, PollReportsSqueueTimeoutAsTimeout) {
  runner_.push_result(make_error(ErrorCode::kTimeout, "run squeue: killed"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_FALSE(status);
  EXPECT_EQ(ErrorCode::kTimeout, status.error().code);
}

TEST_F(SlurmExecutorTest, PollSaysWhenJobWasCancelledOutsideLowcarb) {
  runner_.push_result(ok("17|CANCELLED|1795452746|1795452800|None|x\n"));
  runner_.push_result(ok("JobId=17 JobState=CANCELLED ExitCode=0:15\n"));
  auto executor = make();

  auto status = executor.poll(handle());

  ASSERT_OK(status);
  EXPECT_EQ(RunState::kCancelled, status->state);
  EXPECT_THAT(status->message, HasSubstr("outside lowcarb"));
}

TEST_F(SlurmExecutorTest, CancelRunsScancelAndPollDoesNotBlameOthers) {
  auto executor = make();
  ASSERT_OK(executor.cancel(handle()));
  runner_.push_result(ok("17|CANCELLED|1795452746|1795452800|None|x\n"));
  runner_.push_result(ok("JobId=17 JobState=CANCELLED ExitCode=0:15\n"));

  auto status = executor.poll(handle());

  EXPECT_THAT(argv(0), ElementsAre("scancel", "17"));
  ASSERT_OK(status);
  EXPECT_EQ(RunState::kCancelled, status->state);
  EXPECT_THAT(status->message, ::testing::Not(HasSubstr("outside")));
}

TEST_F(SlurmExecutorTest, CancelOfJobAlreadyGoneSucceeds) {
  runner_.push_result(fail(1,
                           "scancel: error: Kill job error on job id 17: "
                           "Invalid job id specified\n"));
  auto executor = make();

  EXPECT_OK(executor.cancel(handle()));
}

TEST_F(SlurmExecutorTest, CancelWithControllerDownFails) {
  runner_.push_result(fail(1, kControllerDown));
  auto executor = make();

  auto cancelled = executor.cancel(handle());

  ASSERT_FALSE(cancelled);
  EXPECT_EQ(ErrorCode::kUnavailable, cancelled.error().code);
}

TEST(SlurmPauseMethodTest, ChoosesSuspendOnlyForAdmins) {
  EXPECT_EQ(SlurmPauseMethod::kSuspend,
            choose_pause_method("auto", 0, "root", "slurm"));
  EXPECT_EQ(SlurmPauseMethod::kSuspend,
            choose_pause_method("auto", 64030, "slurm", "slurm"));
  EXPECT_EQ(SlurmPauseMethod::kSignal,
            choose_pause_method("auto", 1000, "alice", "slurm"));
  EXPECT_EQ(SlurmPauseMethod::kSignal,
            choose_pause_method("auto", 1000, "alice", ""));
  EXPECT_EQ(SlurmPauseMethod::kRequeueHold,
            choose_pause_method("requeuehold", 0, "root", "root"));
  EXPECT_EQ(SlurmPauseMethod::kSuspend,
            choose_pause_method("suspend", 1000, "alice", "slurm"));
  EXPECT_EQ(SlurmPauseMethod::kSignal,
            choose_pause_method("signal", 0, "root", "root"));
}

TEST_F(SlurmExecutorTest, PausesAndResumesWithSuspendAsRoot) {
  runner_.push_result(ok(kConfigNoAccounting));
  auto executor = make(0, "root");

  ASSERT_OK(executor.pause(handle(), PauseMode::kStop));
  auto resumed = executor.resume(handle(), spec(), PauseMode::kStop);

  ASSERT_OK(resumed);
  EXPECT_EQ(handle(), *resumed);
  EXPECT_EQ(SlurmPauseMethod::kSuspend, executor.pause_method());
  EXPECT_THAT(argv(1), ElementsAre("scontrol", "suspend", "17"));
  EXPECT_THAT(argv(2), ElementsAre("scontrol", "resume", "17"));
  EXPECT_EQ(3u, runner_.commands_run().size());  // show config only once.
}

TEST_F(SlurmExecutorTest, PausesAndResumesWithSignalsAsOrdinaryUser) {
  runner_.push_result(ok(kConfigNoAccounting));
  auto executor = make(1000, "alice");

  ASSERT_OK(executor.pause(handle(), PauseMode::kStop));
  ASSERT_OK(executor.resume(handle(), spec(), PauseMode::kStop));

  EXPECT_THAT(argv(1), ElementsAre("scancel", "--signal=STOP", "--full", "17"));
  EXPECT_THAT(argv(2), ElementsAre("scancel", "--signal=CONT", "--full", "17"));
}

TEST_F(SlurmExecutorTest, ReportsStoppedJobAsPausedUntilResumed) {
  cluster_.pause_method = "signal";
  auto executor = make(1000, "alice");
  ASSERT_OK(executor.pause(handle(), PauseMode::kStop));
  // Slurm keeps listing a SIGSTOPped job as RUNNING.
  runner_.push_result(ok("17|RUNNING|1795452746|1795453346|None|x\n"));

  auto paused = executor.poll(handle());
  ASSERT_OK(executor.resume(handle(), spec(), PauseMode::kStop));
  runner_.push_result(ok("17|RUNNING|1795452746|1795453346|None|x\n"));
  auto resumed = executor.poll(handle());

  ASSERT_OK(paused);
  EXPECT_EQ(RunState::kPaused, paused->state);
  EXPECT_THAT(paused->message, HasSubstr("SIGSTOP"));
  ASSERT_OK(resumed);
  EXPECT_EQ(RunState::kRunning, resumed->state);
}

TEST_F(SlurmExecutorTest, ConfiguredPauseMethodSkipsDetection) {
  cluster_.pause_method = "requeuehold";
  auto executor = make(0, "root");

  EXPECT_EQ(SlurmPauseMethod::kRequeueHold, executor.pause_method());
  EXPECT_TRUE(runner_.commands_run().empty());
}

TEST_F(SlurmExecutorTest, CheckpointPauseSignalsThenRequeueHolds) {
  cluster_.checkpoint_signal = "USR2";
  auto executor = make(1000, "alice");

  ASSERT_OK(executor.pause(handle(), PauseMode::kCheckpoint));
  ASSERT_OK(executor.resume(handle(), spec(), PauseMode::kCheckpoint));

  EXPECT_THAT(argv(0),
              ElementsAre("scancel", "--signal=USR2", "--batch", "17"));
  EXPECT_THAT(argv(1), ElementsAre("scontrol", "requeuehold", "17"));
  EXPECT_THAT(argv(2), ElementsAre("scontrol", "release", "17"));
}

TEST_F(SlurmExecutorTest, PauseWithoutPermissionIsPermissionDenied) {
  cluster_.pause_method = "suspend";
  runner_.push_result(fail(1, "Access/permission denied for job 17\n"));
  auto executor = make(1000, "alice");

  auto paused = executor.pause(handle(), PauseMode::kStop);

  ASSERT_FALSE(paused);
  EXPECT_EQ(ErrorCode::kPermissionDenied, paused.error().code);
}

TEST_F(SlurmExecutorTest, AdoptsNewestJobCarryingTheTag) {
  runner_.push_result(
      ok("5|COMPLETED|1|2|None|lowcarb:j1\n"
         "9|PENDING|N/A|N/A|BeginTime|lowcarb:j1\n"
         "12|RUNNING|1|2|None|lowcarb:j10\n"));
  auto executor = make();

  auto adopted = executor.adopt_by_tag("j1");

  ASSERT_OK(adopted);
  ASSERT_TRUE(adopted->has_value());
  EXPECT_EQ(handle("9"), **adopted);
  EXPECT_THAT(argv(0), ElementsAre("squeue", "-h", "-t", "all", "-o",
                                   "%i|%T|%S|%e|%r|%k"));
}

TEST_F(SlurmExecutorTest, AdoptFindsNothingForUnknownTag) {
  runner_.push_result(ok("12|RUNNING|1|2|None|lowcarb:j10\n"));
  auto executor = make();

  auto adopted = executor.adopt_by_tag("j1");

  ASSERT_OK(adopted);
  EXPECT_FALSE(adopted->has_value());
}

TEST_F(SlurmExecutorTest, UsageIsUnavailableWithoutAccounting) {
  runner_.push_result(ok(kConfigNoAccounting));
  auto executor = make();

  auto usage = executor.usage(handle());

  ASSERT_FALSE(usage);
  EXPECT_EQ(ErrorCode::kUnavailable, usage.error().code);
  EXPECT_THAT(usage.error().message, HasSubstr("accounting"));
}

TEST_F(SlurmExecutorTest, UsageReadsCpuTimeAndEnergyFromSacct) {
  runner_.push_result(
      ok("AccountingStorageType = accounting_storage/slurmdbd\n"));
  runner_.push_result(
      ok("17|COMPLETED|0:0|1|2|00:02:00|480|5000\n"
         "17.batch|COMPLETED|0:0|1|2|00:02:00|480|5000\n"));
  auto executor = make();

  auto usage = executor.usage(handle());

  ASSERT_OK(usage);
  EXPECT_DOUBLE_EQ(120, usage->cpu_seconds);
  EXPECT_DOUBLE_EQ(480, *usage->cpu_time_allocated_seconds);
  EXPECT_DOUBLE_EQ(5000, *usage->energy_joules);
}

TEST_F(SlurmExecutorTest, LiveUsageReadsRunningStepsWithSstat) {
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(
      ok("17.batch|1|00:00:04|cpu=00:00:04,energy=0,mem=1M|0\n"));
  auto executor = make();

  auto live = executor.live_usage(handle());

  ASSERT_OK(live);
  ASSERT_EQ(1u, live->steps.size());
  EXPECT_DOUBLE_EQ(4, live->steps[0].cpu_seconds);
  EXPECT_FALSE(live->final_usage);
  EXPECT_FALSE(live->energy_gathered);
  EXPECT_THAT(argv(1), ElementsAre("sstat", "-a", "-j", "17", "--noheader",
                                   "--parsable2",
                                   "--format=JobID,NTasks,AveCPU,"
                                   "TRESUsageInTot,ConsumedEnergyRaw"));
  EXPECT_EQ("/srv/alpha/slurm.conf",
            runner_.commands_run()[1].env.at("SLURM_CONF"));
}

TEST_F(SlurmExecutorTest, LiveUsageOfEndedJobWithoutAccountingHasNoSteps) {
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(
      ProcessResult{0, "", "sstat: error: No steps running for job 17\n"});
  auto executor = make();

  auto live = executor.live_usage(handle());

  ASSERT_OK(live);
  EXPECT_TRUE(live->steps.empty());
  EXPECT_FALSE(live->final_usage);
  EXPECT_EQ(2u, runner_.commands_run().size());  // No sacct to ask.
}

TEST_F(SlurmExecutorTest, LiveUsageOfEndedJobReadsFinalTotalsFromSacct) {
  runner_.push_result(
      ok("AccountingStorageType = accounting_storage/slurmdbd\n"
         "AcctGatherEnergyType = acct_gather_energy/ipmi\n"));
  runner_.push_result(ok(""));
  runner_.push_result(
      ok("17|COMPLETED|0:0|1|2|00:02:00|480|5000\n"
         "17.batch|COMPLETED|0:0|1|2|00:02:00|480|5000\n"));
  auto executor = make();

  auto live = executor.live_usage(handle());

  ASSERT_OK(live);
  ASSERT_TRUE(live->final_usage);
  EXPECT_DOUBLE_EQ(120, live->final_usage->cpu_seconds);
  EXPECT_DOUBLE_EQ(5000, *live->final_usage->energy_joules);
  EXPECT_TRUE(live->energy_gathered);
  EXPECT_TRUE(live->energy_covers_gpus);
  EXPECT_EQ("sacct", argv(2)[0]);
}

TEST_F(SlurmExecutorTest, LiveUsageOfPendingJobHasNoFinalTotals) {
  runner_.push_result(
      ok("AccountingStorageType = accounting_storage/slurmdbd\n"));
  runner_.push_result(ok(""));
  runner_.push_result(ok("17|PENDING|0:0|Unknown|Unknown|00:00:00|0|0\n"));
  auto executor = make();

  auto live = executor.live_usage(handle());

  ASSERT_OK(live);
  EXPECT_TRUE(live->steps.empty());
  EXPECT_FALSE(live->final_usage);
}

TEST_F(SlurmExecutorTest, LiveUsageWithControllerDownIsUnavailable) {
  runner_.push_result(ok(kConfigNoAccounting));
  runner_.push_result(fail(1, kControllerDown));
  auto executor = make();

  auto live = executor.live_usage(handle());

  ASSERT_FALSE(live);
  EXPECT_EQ(ErrorCode::kUnavailable, live.error().code);
  EXPECT_THAT(live.error().message, HasSubstr("sstat"));
}

TEST_F(SlurmExecutorTest, AllocationReadsScontrolShowJob) {
  runner_.push_result(
      ok("JobId=17 JobState=RUNNING Restarts=0 NumCPUs=4 "
         "TRES=cpu=4,node=1,billing=4,gres/gpu=1 OverSubscribe=OK\n"));
  auto executor = make();

  auto allocation = executor.allocation(handle());

  ASSERT_OK(allocation);
  EXPECT_EQ(4, allocation->cpus);
  EXPECT_EQ(1, allocation->gpus);
  EXPECT_THAT(argv(0), ElementsAre("scontrol", "show", "job", "-o", "17"));
}

TEST_F(SlurmExecutorTest, AllocationOfForgottenJobIsNotFound) {
  runner_.push_result(fail(1, kUnknownJob));
  auto executor = make();

  auto allocation = executor.allocation(handle());

  ASSERT_FALSE(allocation);
  EXPECT_EQ(ErrorCode::kNotFound, allocation.error().code);
}

}  // namespace
}  // namespace lowcarb::executors
