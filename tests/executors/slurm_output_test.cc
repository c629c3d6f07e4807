// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_output.h"

#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"
#include "common/time_format.h"
#include "executors/slurm_time.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using ::testing::HasSubstr;

TimePoint at(const char* text) { return *parse_time(text); }
TimePoint epoch(long long seconds) {
  return TimePoint{std::chrono::seconds{seconds}};
}

// Captured from Slurm 22.05.8 (scontrol show job -o, TZ=UTC,
// SLURM_TIME_FORMAT=%s) on the test cluster.
constexpr const char* kShowJobFailed =
    "JobId=1 JobName=t1 UserId=root(0) GroupId=root(0) MCS_label=N/A "
    "Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=FAILED "
    "Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 "
    "BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:05 TimeLimit=00:01:00 "
    "TimeMin=N/A SubmitTime=1795458550 EligibleTime=1795458565 "
    "AccrueTime=1795458565 StartTime=1795458565 EndTime=1795458570 "
    "Deadline=1795462150 SuspendTime=None SecsPreSuspend=0 "
    "WorkDir=/tmp/h6c/a/jobs Comment=lowcarb:j1  StdErr=/tmp/slurm-1.out "
    "StdIn=/dev/null StdOut=/tmp/slurm-1.out Power= \n";

// Captured jobcomp/filetxt lines: job 2 was requeued (PENDING line) and
// later cancelled.
constexpr const char* kJobcomp =
    "JobId=1 UserId=root(0) GroupId=root(0) Name=t1 JobState=FAILED "
    "Partition=debug TimeLimit=1 StartTime=2026-11-23T18:29:25 "
    "EndTime=2026-11-23T18:29:30 NodeList=vm NodeCnt=1 ProcCnt=1 "
    "WorkDir=/tmp/h6c/a/jobs ReservationName= Tres=cpu=1,mem=1000M,node=1 "
    "Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-23T18:29:10 "
    "EligibleTime=2026-11-23T18:29:25 DerivedExitCode=0:0 ExitCode=3:0 \n"
    "JobId=2 UserId=root(0) GroupId=root(0) Name=wrap JobState=PENDING "
    "Partition=debug TimeLimit=10 StartTime=2026-11-23T18:31:23 "
    "EndTime=2026-11-23T18:31:31 ExitCode=0:0 \n"
    "JobId=2 UserId=root(0) GroupId=root(0) Name=wrap JobState=CANCELLED "
    "Partition=debug TimeLimit=10 StartTime=2026-11-23T18:31:38 "
    "EndTime=2026-11-23T18:31:38 NodeList=(null) ExitCode=0:15 \n";

TEST(SlurmOutputTest, ParsesSbatchParsableWithAndWithoutCluster) {
  auto with = parse_sbatch_parsable("4242;cluster-a\n");
  auto without = parse_sbatch_parsable("17\n");
  auto warned = parse_sbatch_parsable(
      "sbatch: warning: can't honor --ntasks-per-node\n18\n");

  ASSERT_OK(with);
  EXPECT_EQ("4242", with->job_id);
  EXPECT_EQ("cluster-a", with->cluster);
  ASSERT_OK(without);
  EXPECT_EQ("17", without->job_id);
  EXPECT_EQ("", without->cluster);
  ASSERT_OK(warned);
  EXPECT_EQ("18", warned->job_id);
}

TEST(SlurmOutputTest, RejectsSbatchOutputWithoutJobId) {
  auto parsed = parse_sbatch_parsable("Submitted batch job 12\n");

  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("Submitted batch job 12"));
}

TEST(SlurmOutputTest, ParsesSqueueRowsInOurFormat) {
  auto rows = parse_squeue(
      "7|PENDING|1795456346|1795456946|BeginTime|lowcarb:j1\n"
      "8|RUNNING|1795452746|1795453346|None|(null)\n"
      "9|PENDING|N/A|N/A|job requeued in held state|lowcarb:a|b\n");

  ASSERT_OK(rows);
  ASSERT_EQ(3u, rows->size());
  EXPECT_EQ("7", (*rows)[0].job_id);
  EXPECT_EQ("PENDING", (*rows)[0].state);
  EXPECT_EQ(epoch(1795456346), (*rows)[0].start);
  EXPECT_EQ(epoch(1795456946), (*rows)[0].end);
  EXPECT_EQ("BeginTime", (*rows)[0].reason);
  EXPECT_EQ("lowcarb:j1", (*rows)[0].comment);
  EXPECT_EQ("", (*rows)[1].comment);
  EXPECT_FALSE((*rows)[2].start.has_value());
  EXPECT_EQ("job requeued in held state", (*rows)[2].reason);
  EXPECT_EQ("lowcarb:a|b", (*rows)[2].comment);
}

TEST(SlurmOutputTest, RejectsShortSqueueLineNamingIt) {
  auto rows = parse_squeue("7|PENDING|1795456346\n");

  ASSERT_FALSE(rows);
  EXPECT_THAT(rows.error().message, HasSubstr("line 1"));
  EXPECT_THAT(rows.error().message, HasSubstr("7|PENDING|1795456346"));
}

// The recorded `squeue -o %i|%j|%T|%r|%S|%V|%e|%k` output with epoch times
// covers the states lowcarb meets: deferred, held, requeued-held,
// suspended, stopped, completed and deadline.
TEST(SlurmOutputTest, MapsEveryStateOfRecordedSqueueOutput) {
  LOWCARB_REQUIRE_SHARED_DATA();
  const std::string text = lowcarb::testing::read_file(
      lowcarb::testing::shared_data("slurm/squeue_o_epoch_slurm-22.05.8.txt"));
  const std::map<std::string, RunState> expected = {
      {"fx-completed", RunState::kSucceeded},
      {"fx-deadline", RunState::kFailed},
      {"fx-pending-begin", RunState::kPending},
      {"fx-requeued", RunState::kPaused},
      {"fx-held", RunState::kPaused},
      {"fx-suspended", RunState::kPaused},
      {"fx-running", RunState::kPaused},  // STOPPED by scancel --signal=STOP.
  };
  int seen = 0;

  for (const auto& line : split(text, '\n')) {
    if (trim(line).empty()) {
      continue;
    }
    const auto fields = split(line, '|');
    ASSERT_EQ(8u, fields.size()) << line;
    ASSERT_TRUE(expected.contains(fields[1])) << line;
    EXPECT_EQ(expected.at(fields[1]),
              run_state_from_slurm(fields[2], fields[3]))
        << line;
    EXPECT_OK(parse_slurm_time(fields[4]));
    ++seen;
  }

  EXPECT_EQ(7, seen);
}

TEST(SlurmOutputTest, ParsesKeyValuesWithSpacesAndEmptyValues) {
  auto values = parse_key_values(
      "JobId=5 Reason=job requeued in held state Comment=lowcarb:j1  Power= ");

  EXPECT_EQ("5", values["JobId"]);
  EXPECT_EQ("job requeued in held state", values["Reason"]);
  EXPECT_EQ("lowcarb:j1", values["Comment"]);
  EXPECT_EQ("", values["Power"]);
}

TEST(SlurmOutputTest, ParsesScontrolShowJob) {
  auto record = parse_scontrol_job(kShowJobFailed);

  ASSERT_OK(record);
  EXPECT_EQ("1", record->job_id);
  EXPECT_EQ("FAILED", record->state);
  EXPECT_EQ("NonZeroExitCode", record->reason);
  EXPECT_EQ(3, record->exit_code);
  EXPECT_EQ(0, record->signal);
  EXPECT_EQ(epoch(1795458565), record->started_at);
  EXPECT_EQ(epoch(1795458570), record->ended_at);
}

TEST(SlurmOutputTest, RejectsScontrolOutputWithoutJobState) {
  auto record = parse_scontrol_job("slurm_load_jobs error: whatever\n");

  ASSERT_FALSE(record);
  EXPECT_THAT(record.error().message, HasSubstr("JobState"));
}

TEST(SlurmOutputTest, TakesLastJobcompRecordOfJob) {
  auto first = parse_jobcomp(kJobcomp, "1");
  auto second = parse_jobcomp(kJobcomp, "2");

  ASSERT_OK(first);
  EXPECT_EQ("FAILED", first->state);
  EXPECT_EQ(3, first->exit_code);
  EXPECT_EQ(at("2026-11-23T18:29:25Z"), first->started_at);
  EXPECT_EQ(at("2026-11-23T18:29:30Z"), first->ended_at);
  ASSERT_OK(second);
  EXPECT_EQ("CANCELLED", second->state);
  EXPECT_EQ(0, second->exit_code);
  EXPECT_EQ(15, second->signal);
}

TEST(SlurmOutputTest, JobcompWithoutTheJobIsNotFound) {
  // "JobId=1 " must not match job 12 or 21.
  auto record = parse_jobcomp(kJobcomp, "12");

  ASSERT_FALSE(record);
  EXPECT_EQ(ErrorCode::kNotFound, record.error().code);
  EXPECT_THAT(record.error().message, HasSubstr("job 12"));
}

TEST(SlurmOutputTest, ParsesShowConfig) {
  auto info = parse_show_config(
      "Configuration data as of 2026-11-23T18:40:00\n"
      "AccountingStorageType   = accounting_storage/none\n"
      "ClusterName             = alpha\n"
      "JobCompLoc              = /tmp/a/log/jobcomp.txt\n"
      "JobCompType             = jobcomp/filetxt\n"
      "SlurmUser               = slurm(64030)\n");

  EXPECT_EQ("alpha", info.cluster_name);
  EXPECT_EQ("slurm", info.slurm_user);
  EXPECT_EQ("jobcomp/filetxt", info.job_comp_type);
  EXPECT_EQ("/tmp/a/log/jobcomp.txt", info.job_comp_loc);
  EXPECT_FALSE(info.has_accounting());
  info.accounting_storage_type = "accounting_storage/slurmdbd";
  EXPECT_TRUE(info.has_accounting());
}

// The field list of aws-samples/hpc-cost-simulator's SlurmLogParser, which
// produced the recorded sample (it has no header line), plus Partition.
const std::vector<std::string> kSampleFields = {
    "State",       "JobID",           "ReqCPUS",    "ReqMem",
    "ReqNodes",    "Constraints",     "Submit",     "Eligible",
    "Start",       "Elapsed",         "Suspended",  "End",
    "ExitCode",    "DerivedExitCode", "AllocNodes", "NCPUS",
    "MaxDiskRead", "MaxDiskWrite",    "MaxPages",   "MaxRSS",
    "MaxVMSize",   "CPUTime",         "UserCPU",    "SystemCPU",
    "TotalCPU",    "Partition"};

TEST(SlurmOutputTest, ParsesRecordedSacctSampleAndItsCpuTime) {
  LOWCARB_REQUIRE_SHARED_DATA();
  const std::string text = lowcarb::testing::read_file(
      lowcarb::testing::shared_data("workloads/sacct-output-sample.txt"));
  // Most lines were dumped without the Partition column: parse each group
  // with its own field list.
  std::string with_partition, without_partition;
  for (const auto& line : split(text, '\n')) {
    if (line.empty()) {
      continue;
    }
    (split(line, '|').size() == kSampleFields.size() ? with_partition
                                                     : without_partition) +=
        line + "\n";
  }
  std::vector<std::string> fields_without_partition = kSampleFields;
  fields_without_partition.pop_back();

  auto records = parse_sacct(with_partition, kSampleFields);
  auto more = parse_sacct(without_partition, fields_without_partition);

  ASSERT_OK(more);
  ASSERT_OK(records);
  records->insert(records->end(), more->begin(), more->end());
  EXPECT_EQ(878u, records->size());
  EXPECT_EQ("OUT_OF_MEMORY", records->front().at("State"));
  auto usage = usage_from_sacct(*records, "67108865");
  ASSERT_OK(usage);
  EXPECT_DOUBLE_EQ(130.584, usage->cpu_seconds);  // TotalCPU 02:10.584
  ASSERT_TRUE(usage->cpu_time_allocated_seconds.has_value());
  EXPECT_DOUBLE_EQ(316, *usage->cpu_time_allocated_seconds);  // 00:05:16
  EXPECT_FALSE(usage->energy_joules.has_value());
  EXPECT_FALSE(usage_from_sacct(*records, "1"));
}

TEST(SlurmOutputTest, ReadsEnergyAndRawCpuTimeFromOurSacctFormat) {
  const std::vector<std::string> fields = {
      "JobIDRaw", "State",    "ExitCode",   "Start",
      "End",      "TotalCPU", "CPUTimeRAW", "ConsumedEnergyRaw"};
  auto records = parse_sacct(
      "42|COMPLETED|0:0|1795452746|1795452846|01:40.500|200|\n"
      "42.batch|COMPLETED|0:0|1795452746|1795452846|01:30.500|200|1500\n"
      "42.0|COMPLETED|0:0|1795452750|1795452840|00:10|180|700\n",
      fields);

  ASSERT_OK(records);
  auto usage = usage_from_sacct(*records, "42");
  ASSERT_OK(usage);
  // The allocation line holds the total over its steps.
  EXPECT_DOUBLE_EQ(100.5, usage->cpu_seconds);
  EXPECT_DOUBLE_EQ(200, *usage->cpu_time_allocated_seconds);
  ASSERT_TRUE(usage->energy_joules.has_value());
  EXPECT_DOUBLE_EQ(2200, *usage->energy_joules);  // Summed over steps.
}

TEST(SlurmOutputTest, SumsStepsWhenAllocationLineHasNoCpuTime) {
  const std::vector<std::string> fields = {"JobIDRaw", "TotalCPU"};
  auto records =
      parse_sacct("7||\n7.batch|00:01:00\n7.0|00:00:30\n", {
                                                               "JobIDRaw",
                                                               "TotalCPU",
                                                           });

  ASSERT_FALSE(records);  // "7||" has three fields.
  records = parse_sacct("7|\n7.batch|00:01:00\n7.0|00:00:30\n", fields);
  ASSERT_OK(records);
  auto usage = usage_from_sacct(*records, "7");
  ASSERT_OK(usage);
  EXPECT_DOUBLE_EQ(90, usage->cpu_seconds);
}

TEST(SlurmOutputTest, RejectsSacctLineWithWrongFieldCountNamingTheLine) {
  auto records = parse_sacct("1|COMPLETED\n2\n", {"JobIDRaw", "State"});

  ASSERT_FALSE(records);
  EXPECT_THAT(records.error().message, HasSubstr("line 2"));
}

TEST(SlurmOutputTest, MapsSlurmStatesToRunStates) {
  EXPECT_EQ(RunState::kPending, run_state_from_slurm("PENDING", "BeginTime"));
  EXPECT_EQ(RunState::kPending, run_state_from_slurm("PENDING", "Priority"));
  EXPECT_EQ(RunState::kPaused, run_state_from_slurm("PENDING", "JobHeldUser"));
  EXPECT_EQ(RunState::kPaused, run_state_from_slurm("PENDING", "JobHeldAdmin"));
  EXPECT_EQ(RunState::kRunning, run_state_from_slurm("RUNNING", "None"));
  EXPECT_EQ(RunState::kRunning, run_state_from_slurm("COMPLETING", "None"));
  EXPECT_EQ(RunState::kRunning, run_state_from_slurm("SIGNALING", "None"));
  EXPECT_EQ(RunState::kPaused, run_state_from_slurm("SUSPENDED", "None"));
  EXPECT_EQ(RunState::kPaused, run_state_from_slurm("STOPPED", "None"));
  EXPECT_EQ(RunState::kSucceeded, run_state_from_slurm("COMPLETED", "None"));
  EXPECT_EQ(RunState::kCancelled, run_state_from_slurm("CANCELLED", "None"));
  for (const char* state : {"FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                            "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}) {
    EXPECT_EQ(RunState::kFailed, run_state_from_slurm(state, "None")) << state;
  }
}

TEST(SlurmOutputTest, ClassifiesSlurmErrorMessages) {
  // Messages captured from Slurm 22.05 clients.
  EXPECT_EQ(ErrorCode::kUnavailable,
            classify_slurm_error("slurm_load_jobs error: Unable to contact "
                                 "slurm controller (connect failure)"));
  EXPECT_EQ(ErrorCode::kUnavailable,
            classify_slurm_error("sbatch: error: Batch job submission failed: "
                                 "Unable to contact slurm controller (connect "
                                 "failure)"));
  EXPECT_EQ(ErrorCode::kNotFound,
            classify_slurm_error("Invalid job id specified for job 999"));
  EXPECT_EQ(
      ErrorCode::kNotFound,
      classify_slurm_error("slurm_load_jobs error: Invalid job id specified"));
  EXPECT_EQ(
      ErrorCode::kConflict,
      classify_slurm_error("Job is no longer pending execution for job 2"));
  EXPECT_EQ(ErrorCode::kPermissionDenied,
            classify_slurm_error("Access/permission denied for job 7"));
  EXPECT_EQ(ErrorCode::kInvalidArgument,
            classify_slurm_error("sbatch: error: Batch job submission failed: "
                                 "Invalid partition name specified"));
  EXPECT_EQ(ErrorCode::kUnavailable, classify_slurm_error("something odd"));
}

// Captured from Slurm 22.05 on the test cluster (scripts/slurm-cluster):
// `sstat -a -j 6 --noheader --parsable2 --format=JobID,NTasks,AveCPU,
// TRESUsageInTot,ConsumedEnergyRaw` while `srun -n 2` ran in the batch
// step; the CPU times are edited up from zero to make the sums visible.
constexpr const char* kSstatTwoSteps =
    "6.batch|1|00:00:03|cpu=00:00:03,energy=0,fs/disk=27743,mem=10676K,"
    "pages=2,vmem=219444K|0\n"
    "6.0|2|00:00:05|cpu=00:00:10,energy=0,fs/disk=7962,mem=3228K,pages=0,"
    "vmem=5184K|0\n";

const std::vector<std::string> kSstatFields = {
    "JobID", "NTasks", "AveCPU", "TRESUsageInTot", "ConsumedEnergyRaw"};

TEST(SlurmOutputTest, ReadsTotalCpuTimeAndMemoryOfEveryRunningStep) {
  auto steps = parse_sstat(kSstatTwoSteps, "6", kSstatFields);

  ASSERT_OK(steps);
  ASSERT_EQ(2u, steps->size());
  EXPECT_EQ("6.batch", (*steps)[0].step_id);
  EXPECT_DOUBLE_EQ(3, (*steps)[0].cpu_seconds);
  EXPECT_EQ(10676u * 1024u, (*steps)[0].rss_bytes);
  // TRESUsageInTot sums the tasks; AveCPU (5 s) is per task.
  EXPECT_EQ("6.0", (*steps)[1].step_id);
  EXPECT_DOUBLE_EQ(10, (*steps)[1].cpu_seconds);
  // Without an energy plugin Slurm prints 0, which is a value; the meter
  // decides from AcctGatherEnergyType whether it means anything.
  ASSERT_TRUE((*steps)[1].energy_joules.has_value());
  EXPECT_DOUBLE_EQ(0, *(*steps)[1].energy_joules);
}

TEST(SlurmOutputTest, FallsBackToAverageCpuTimesTasksWithoutTresUsage) {
  auto steps =
      parse_sstat("9.0|4|01:00:00||18446744073709551614\n", "9", kSstatFields);

  ASSERT_OK(steps);
  ASSERT_EQ(1u, steps->size());
  EXPECT_DOUBLE_EQ(4 * 3600, (*steps)[0].cpu_seconds);
  EXPECT_FALSE((*steps)[0].energy_joules.has_value());  // NO_VAL64.
}

TEST(SlurmOutputTest, ReadsMeasuredStepEnergyAndSkipsOtherJobs) {
  auto steps = parse_sstat(
      "61.batch|1|00:10:00|cpu=00:10:00,energy=41000,mem=2G|41000\n"
      "612.batch|1|00:00:01|cpu=00:00:01,energy=1,mem=1M|1\n",
      "61", kSstatFields);

  ASSERT_OK(steps);
  ASSERT_EQ(1u, steps->size());
  EXPECT_DOUBLE_EQ(600, (*steps)[0].cpu_seconds);
  EXPECT_DOUBLE_EQ(41000, *(*steps)[0].energy_joules);
  EXPECT_EQ(2ull << 30, (*steps)[0].rss_bytes);
}

TEST(SlurmOutputTest, NoRunningStepIsAnEmptyList) {
  // sstat then says "No steps running for job 6" on stderr and exits 0.
  auto steps = parse_sstat("", "6", kSstatFields);

  ASSERT_OK(steps);
  EXPECT_TRUE(steps->empty());
}

TEST(SlurmOutputTest, SstatStepReportingNoValueCpuTimeIsSkipped) {
  // A batch step that is ending reports NO_VAL64 milliseconds of CPU time
  // (seen on 22.05); the other step still counts.
  auto steps = parse_sstat(
      "6.batch|1|213503982334-14:25:51|cpu=213503982334-14:25:51,mem=1K|0\n"
      "6.0|1|00:00:05|cpu=00:00:05,mem=2K|0\n",
      "6", kSstatFields);
  ASSERT_TRUE(steps.has_value()) << steps.error().message;
  ASSERT_EQ(1u, steps->size());
  EXPECT_EQ("6.0", (*steps)[0].step_id);
  EXPECT_DOUBLE_EQ(5, (*steps)[0].cpu_seconds);
}

TEST(SlurmOutputTest, RejectsSstatLineWithoutCpuTimeNamingTheStep) {
  auto wrong_count = parse_sstat("6.batch|1|00:00:01\n", "6", kSstatFields);
  ASSERT_FALSE(wrong_count);
  EXPECT_THAT(wrong_count.error().message, HasSubstr("sstat output line 1"));

  auto no_cpu = parse_sstat("6.batch|1|junk|mem=1K|0\n", "6", kSstatFields);
  ASSERT_FALSE(no_cpu);
  EXPECT_THAT(no_cpu.error().message, HasSubstr("6.batch"));
}

// Captured from Slurm 22.05 (scontrol show job -o) on the test cluster: a
// job submitted with --exclusive, shortened.
constexpr const char* kShowJobExclusive =
    "JobId=4 JobName=wrap UserId=root(0) GroupId=root(0) JobState=RUNNING "
    "Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 "
    "ExitCode=0:0 RunTime=00:00:01 TimeLimit=00:10:00 NodeList=vm "
    "BatchHost=vm NumNodes=1 NumCPUs=2 NumTasks=1 CPUs/Task=1 "
    "ReqB:S:C:T=0:0:*:* TRES=cpu=2,node=1,billing=2 Socks/Node=* "
    "OverSubscribe=NO Contiguous=0 Licenses=(null) Network=(null) "
    "Command=(null) WorkDir=/tmp/c/jobs Power= \n";

TEST(SlurmOutputTest, ReadsAllocatedCpusAndExclusivityFromScontrol) {
  auto allocation = parse_allocation(kShowJobExclusive);

  ASSERT_OK(allocation);
  EXPECT_EQ(2, allocation->cpus);
  EXPECT_EQ(0, allocation->gpus);
  EXPECT_TRUE(allocation->exclusive);
  EXPECT_EQ(0, allocation->restarts);
}

TEST(SlurmOutputTest, ReadsAllocatedGpusTheirTypeAndRestarts) {
  auto allocation = parse_allocation(
      "JobId=8 JobState=RUNNING Restarts=2 NumCPUs=16 "
      "TRES=cpu=16,mem=64G,node=1,billing=16,gres/gpu=4,gres/gpu:a100=4 "
      "OverSubscribe=OK\n");

  ASSERT_OK(allocation);
  EXPECT_EQ(16, allocation->cpus);
  EXPECT_EQ(4, allocation->gpus);  // Not 8: the typed entry repeats them.
  EXPECT_EQ("a100", allocation->gpu_type);
  EXPECT_FALSE(allocation->exclusive);
  EXPECT_EQ(2, allocation->restarts);
}

TEST(SlurmOutputTest, AllocationWithoutNumCpusIsAnError) {
  auto allocation = parse_allocation("JobId=8 JobState=PENDING\n");

  ASSERT_FALSE(allocation);
  EXPECT_EQ(ErrorCode::kInvalidArgument, allocation.error().code);
}

TEST(SlurmOutputTest, ReadsTheEnergyPluginFromShowConfig) {
  auto none =
      parse_show_config("AcctGatherEnergyType    = acct_gather_energy/none\n");
  EXPECT_FALSE(none.gathers_energy());
  auto rapl =
      parse_show_config("AcctGatherEnergyType    = acct_gather_energy/rapl\n");
  EXPECT_TRUE(rapl.gathers_energy());
  EXPECT_FALSE(rapl.energy_covers_gpus());
  auto ipmi =
      parse_show_config("AcctGatherEnergyType    = acct_gather_energy/ipmi\n");
  EXPECT_TRUE(ipmi.energy_covers_gpus());
}

}  // namespace
}  // namespace lowcarb::executors
