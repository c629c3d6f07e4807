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

SbatchPlan plan() {
  SbatchPlan p;
  p.export_file = "/state/logs/alpha/0/.j42-0.env";
  p.path = "/usr/bin:/bin";
  return p;
}

TEST(SlurmCommandsTest, BuildsDeferredWrappedSbatchExactly) {
  auto p = plan();
  p.stdout_path = "/state/logs/alpha/0/j42.out";
  p.stderr_path = "/state/logs/alpha/0/j42.err";
  auto command =
      sbatch_command(cluster(), wrapped_spec(), at("2026-11-23T22:00:00Z"), p);

  ASSERT_OK(command);
  EXPECT_THAT(
      command->argv,
      ElementsAre("sbatch", "--parsable", "--job-name=train",
                  "--comment=lowcarb:j42", "--begin=2026-11-23T22:00:00",
                  "--open-mode=append", "--export=ALL",
                  "--export-file=/state/logs/alpha/0/.j42-0.env", "--time=75",
                  "--chdir=/home/u/run", "--output=/state/logs/alpha/0/j42.out",
                  "--error=/state/logs/alpha/0/j42.err",
                  "--wrap='python3' 'train.py' '--lr' '0.1'"));
  // sbatch sees nothing of the daemon's environment.
  EXPECT_FALSE(command->inherit_environment);
  EXPECT_THAT(
      command->env,
      UnorderedElementsAre(Pair("SLURM_CONF", "/srv/alpha/slurm.conf"),
                           Pair("TZ", "UTC"), Pair("PATH", "/usr/bin:/bin")));
}

TEST(SlurmCommandsTest, NeverPassesDeadlineSoSlurmCannotEndAJobStartedInTime) {
  // 2 minutes of work due in 3: --time=3 with --deadline would let Slurm
  // end the job as DEADLINE the moment start + 3 min passes the deadline.
  auto spec = wrapped_spec();
  spec.expected_duration = std::chrono::minutes(2);
  spec.deadline = at("2026-11-23T22:03:00Z");

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), plan());

  ASSERT_OK(command);
  EXPECT_THAT(command->argv, Not(Contains(HasSubstr("--deadline"))));
  EXPECT_THAT(command->argv, Contains("--time=3"));
}

TEST(SlurmCommandsTest, LeavesTheScriptsOwnTimeLimitAlone) {
  auto p = plan();
  p.user_sets_time = true;

  auto command =
      sbatch_command(cluster(), wrapped_spec(), at("2026-11-23T22:00:00Z"), p);

  ASSERT_OK(command);
  EXPECT_THAT(command->argv, Not(Contains(HasSubstr("--time"))));
}

TEST(SlurmCommandsTest, RunsSbatchAsTheJobOwnerThroughSetpriv) {
  auto p = plan();
  p.run_as_uid = 1234;
  p.run_as_gid = 99;

  auto command =
      sbatch_command(cluster(), wrapped_spec(), at("2026-11-23T22:00:00Z"), p);

  ASSERT_OK(command);
  ASSERT_GE(command->argv.size(), 6u);
  EXPECT_THAT(std::vector<std::string>(command->argv.begin(),
                                       command->argv.begin() + 6),
              ElementsAre("setpriv", "--reuid=1234", "--regid=99",
                          "--init-groups", "--", "sbatch"));
  EXPECT_FALSE(command->inherit_environment);
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
  auto p = plan();
  p.export_file = "/e";
  p.stdout_path = "/home/u/out.log";
  p.stderr_path = "/home/u/err.log";

  auto command = sbatch_command(c, spec, at("2026-11-23T22:00:00Z"), p);

  ASSERT_OK(command);
  EXPECT_THAT(
      command->argv,
      ElementsAre("/opt/slurm/bin/sbatch", "--parsable", "--job-name=j1",
                  "--comment=lowcarb:j1", "--begin=2026-11-23T22:00:00",
                  "--open-mode=append", "--export=ALL", "--export-file=/e",
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
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), plan());

  ASSERT_OK(command);
  EXPECT_THAT(command->argv, Contains("--requeue"));
  EXPECT_THAT(command->argv, Contains("--signal=B:USR1@60"));
  auto env = sbatch_export_file(spec, std::nullopt);
  ASSERT_OK(env);
  EXPECT_THAT(*env, HasSubstr(std::string("LOWCARB_RESUME=1\0", 17)));
}

TEST(SlurmCommandsTest, StopModeJobsAreNotRequeueable) {
  auto spec = wrapped_spec();
  spec.interruptible = true;
  spec.pause_mode = PauseMode::kStop;

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), plan());

  ASSERT_OK(command);
  EXPECT_THAT(command->argv, Not(Contains("--requeue")));
}

TEST(SlurmCommandsTest, WrapsShellCommandVerbatim) {
  LaunchSpec spec;
  spec.job_id = "j7";
  spec.shell_command = "make -j4 && ./run | tee log";

  auto command =
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), plan());

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
      sbatch_command(cluster(), spec, at("2026-11-23T22:00:00Z"), plan());

  ASSERT_FALSE(command);
  EXPECT_EQ(ErrorCode::kInvalidArgument, command.error().code);
  EXPECT_THAT(command.error().message, HasSubstr("j7"));
}

TEST(SlurmCommandsTest,
     ExportFileCarriesCommasNewlinesAndOnlyTheJobsVariables) {
  auto spec = wrapped_spec();
  spec.env = {{"CUDA_VISIBLE_DEVICES", "0,1"}, {"MSG", "a b\nc"}};

  auto env = sbatch_export_file(spec, "Europe/Berlin");

  ASSERT_OK(env);
  using namespace std::string_literals;
  EXPECT_EQ(
      "CUDA_VISIBLE_DEVICES=0,1\0LOWCARB_JOB_ID=j42\0MSG=a b\nc\0"
      "SLURM_JOB_NAME=train\0TZ=Europe/Berlin\0"s,
      *env);
}

TEST(SlurmCommandsTest, TheJobsOwnTzWinsOverOurs) {
  auto spec = wrapped_spec();
  spec.env = {{"TZ", "Asia/Tokyo"}};

  auto env = sbatch_export_file(spec, "Europe/Berlin");

  ASSERT_OK(env);
  EXPECT_THAT(*env, HasSubstr("TZ=Asia/Tokyo"));
  EXPECT_THAT(*env, Not(HasSubstr("Berlin")));
}

TEST(SlurmCommandsTest, RejectsEnvNameTheFileCannotCarryWithoutItsValue) {
  auto spec = wrapped_spec();
  spec.env = {{"A=B", "secret-value"}};

  auto env = sbatch_export_file(spec, std::nullopt);

  ASSERT_FALSE(env);
  EXPECT_EQ(ErrorCode::kInvalidArgument, env.error().code);
  EXPECT_THAT(env.error().message, HasSubstr("A=B"));
  EXPECT_THAT(env.error().message, Not(HasSubstr("secret-value")));
}

TEST(SlurmCommandsTest, RejectsSbatchWithoutExportFile) {
  auto p = plan();
  p.export_file.clear();

  auto command =
      sbatch_command(cluster(), wrapped_spec(), at("2026-11-23T22:00:00Z"), p);

  ASSERT_FALSE(command);
  EXPECT_EQ(ErrorCode::kInvalidArgument, command.error().code);
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
