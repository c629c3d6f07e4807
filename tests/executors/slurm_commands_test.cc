// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TimePoint at(const char* text) { return *parse_time(text); }

config::SlurmClusterConfig cluster() {
  config::SlurmClusterConfig c;
  c.name = "alpha";
  c.slurm_conf = "/srv/alpha/slurm.conf";
  c.time_limit_factor = 1.5;
  return c;
}

LaunchSpec wrapped_spec() {
  LaunchSpec spec;
  spec.job_id = "j42";
  spec.name = "train";
  spec.argv = {"python3", "train.py", "--lr", "0.1"};
  spec.working_dir = "/home/u/run";
  spec.expected_duration = std::chrono::minutes(50);
  spec.deadline = at("2026-11-24T06:00:00Z");
  return spec;
}

TEST(SlurmCommandsTest, BuildsDeferredWrappedSbatchExactly) {
  auto command = sbatch_command(cluster(), wrapped_spec(),
                                at("2026-11-23T22:00:00Z"), std::nullopt);

  ASSERT_OK(command);
  EXPECT_THAT(
      command->argv,
      ElementsAre("sbatch", "--parsable", "--job-name=train",
                  "--comment=lowcarb:j42", "--begin=2026-11-23T22:00:00",
                  "--open-mode=append", "--export=ALL,LOWCARB_JOB_ID=j42",
                  "--time=75", "--deadline=2026-11-24T06:00:00",
                  "--chdir=/home/u/run",
                  "--wrap='python3' 'train.py' '--lr' '0.1'"));
  EXPECT_THAT(command->env,
              UnorderedElementsAre(Pair("SLURM_CONF", "/srv/alpha/slurm.conf"),
                                   Pair("TZ", "UTC")));
}

TEST(SlurmCommandsTest, BuildsScriptSbatchWithOptionsAndClusterSettings) {
  auto c = cluster();
  c.partition = "green";
  c.account = "lab";
  c.bin_dir = "/opt/slurm/bin";
  LaunchSpec spec;
  spec.job_id = "j1";
  spec.sbatch_script = "/home/u/job.sh";
  spec.sbatch_options = {"--mem=2G", "-c", "4"};
  spec.stdout_path = "/home/u/out.log";
  spec.stderr_path = "/home/u/err.log";
  spec.env = {{"OMP_NUM_THREADS", "4"}};

  auto command =
      sbatch_command(c, spec, at("2026-11-23T22:00:00Z"), "Europe/Berlin");

  ASSERT_OK(command);
  EXPECT_THAT(command->argv,
              ElementsAre("/opt/slurm/bin/sbatch", "--parsable",
                          "--job-name=j1", "--comment=lowcarb:j1",
                          "--begin=2026-11-23T22:00:00", "--open-mode=append",
                          "--export=ALL,LOWCARB_JOB_ID=j1,TZ=Europe/Berlin,"
                          "OMP_NUM_THREADS=4",
                          "--partition=green", "--account=lab",
                          "--output=/home/u/out.log", "--error=/home/u/err.log",
                          "--mem=2G", "-c", "4", "/home/u/job.sh"));
}

TEST(SlurmCommandsTest, AddsRequeueAndSignalForCheckpointableJobs) {
  auto spec = wrapped_spec();
  spec.interruptible = true;
  spec.pause_mode = PauseMode::kCheckpoint;
  spec.segment = 2;

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), std::nullopt);

  ASSERT_OK(command);
  EXPECT_THAT(command->argv, Contains("--requeue"));
  EXPECT_THAT(command->argv, Contains("--signal=B:USR1@60"));
  EXPECT_THAT(command->argv, Contains("--export=ALL,LOWCARB_JOB_ID=j42,"
                                      "LOWCARB_RESUME=1"));
}

TEST(SlurmCommandsTest, StopModeJobsAreNotRequeueable) {
  auto spec = wrapped_spec();
  spec.interruptible = true;
  spec.pause_mode = PauseMode::kStop;

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), std::nullopt);

  ASSERT_OK(command);
  EXPECT_THAT(command->argv, Not(Contains("--requeue")));
}

TEST(SlurmCommandsTest, WrapsShellCommandVerbatim) {
  LaunchSpec spec;
  spec.job_id = "j7";
  spec.shell_command = "make -j4 && ./run | tee log";

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), std::nullopt);

  ASSERT_OK(command);
  EXPECT_EQ("--wrap=make -j4 && ./run | tee log", command->argv.back());
  // No expected duration: the partition's default time limit applies.
  EXPECT_THAT(command->argv, Not(Contains(HasSubstr("--time"))));
  EXPECT_THAT(command->argv, Not(Contains(HasSubstr("--deadline"))));
}

TEST(SlurmCommandsTest, RejectsSpecWithNothingToRun) {
  LaunchSpec spec;
  spec.job_id = "j7";

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), std::nullopt);

  ASSERT_FALSE(command);
  EXPECT_EQ(ErrorCode::kInvalidArgument, command.error().code);
  EXPECT_THAT(command.error().message, HasSubstr("j7"));
}

TEST(SlurmCommandsTest, RejectsEnvValueThatExportCannotCarry) {
  auto spec = wrapped_spec();
  spec.env = {{"HOSTS", "a,b"}};

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), std::nullopt);

  ASSERT_FALSE(command);
  EXPECT_EQ(ErrorCode::kInvalidArgument, command.error().code);
  EXPECT_THAT(command.error().message, HasSubstr("HOSTS"));
  EXPECT_THAT(command.error().message, Not(HasSubstr("a,b")));
}

TEST(SlurmCommandsTest, RoundsTimeLimitUpToWholeMinutes) {
  EXPECT_EQ(75, slurm_time_limit_minutes(std::chrono::minutes(50), 1.5));
  EXPECT_EQ(1, slurm_time_limit_minutes(std::chrono::seconds(10), 1.5));
  EXPECT_EQ(2, slurm_time_limit_minutes(std::chrono::seconds(61), 1.0));
  // A factor below 1 would kill jobs before their expected end.
  EXPECT_EQ(10, slurm_time_limit_minutes(std::chrono::minutes(10), 0.5));
  EXPECT_EQ(std::nullopt,
            slurm_time_limit_minutes(std::chrono::seconds(0), 1.5));
}

TEST(SlurmCommandsTest, BuildsUpdateStartTimeInUtc) {
  auto command =
      update_start_command(cluster(), "17", at("2026-11-23T09:00:00-05:00"));

  EXPECT_THAT(command.argv, ElementsAre("scontrol", "update", "JobId=17",
                                        "StartTime=2026-11-23T14:00:00"));
  EXPECT_EQ("UTC", command.env.at("TZ"));
  EXPECT_EQ("/srv/alpha/slurm.conf", command.env.at("SLURM_CONF"));
}

TEST(SlurmCommandsTest, BuildsSqueueWithEpochTimes) {
  auto one = squeue_job_command(cluster(), "17");
  auto all = squeue_all_command(cluster());

  EXPECT_THAT(one.argv, ElementsAre("squeue", "-h", "-t", "all", "-j", "17",
                                    "-o", "%i|%T|%S|%e|%r|%k"));
  EXPECT_EQ("%s", one.env.at("SLURM_TIME_FORMAT"));
  EXPECT_THAT(all.argv, ElementsAre("squeue", "-h", "-t", "all", "-o",
                                    "%i|%T|%S|%e|%r|%k"));
  EXPECT_EQ("%s", all.env.at("SLURM_TIME_FORMAT"));
}

TEST(SlurmCommandsTest, BuildsControlCommands) {
  EXPECT_THAT(show_job_command(cluster(), "3").argv,
              ElementsAre("scontrol", "show", "job", "-o", "3"));
  EXPECT_THAT(show_config_command(cluster()).argv,
              ElementsAre("scontrol", "show", "config"));
  EXPECT_THAT(scontrol_job_command(cluster(), "requeuehold", "3").argv,
              ElementsAre("scontrol", "requeuehold", "3"));
  EXPECT_THAT(
      scancel_signal_command(cluster(), "3", "STOP", SignalTarget::kAllSteps)
          .argv,
      ElementsAre("scancel", "--signal=STOP", "--full", "3"));
  EXPECT_THAT(
      scancel_signal_command(cluster(), "3", "USR1", SignalTarget::kBatchShell)
          .argv,
      ElementsAre("scancel", "--signal=USR1", "--batch", "3"));
  EXPECT_THAT(scancel_command(cluster(), "3").argv,
              ElementsAre("scancel", "3"));
  EXPECT_THAT(jobcomp_grep_command(cluster(), "/var/log/jobcomp.txt", "3").argv,
              ElementsAre("grep", "-a", "^JobId=3 ", "/var/log/jobcomp.txt"));
  EXPECT_THAT(sacct_command(cluster(), "3").argv,
              ElementsAre("sacct", "-j", "3", "--noheader", "--parsable2",
                          "--format=JobIDRaw,State,ExitCode,Start,End,"
                          "TotalCPU,CPUTimeRAW,ConsumedEnergyRaw"));
}

TEST(SlurmCommandsTest, QuotesArgvForTheShell) {
  EXPECT_EQ("'a' 'b c' 'it'\\''s'", shell_quote({"a", "b c", "it's"}));
  EXPECT_EQ("''", shell_quote({""}));
}

}  // namespace
}  // namespace lowcarb::executors
