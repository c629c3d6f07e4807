// SPDX-License-Identifier: Apache-2.0
// The daemon's meter (scheduler/job_meters.h) for Slurm jobs, over a real
// SlurmExecutor whose commands go to a recording FakeProcessRunner fed with
// Slurm 22.05 output shapes (see slurm_output_test.cc for the captures).
#include <chrono>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "executors/slurm_executor.h"
#include "scheduler/job_meters.h"
#include "tests/fakes/fake_process_runner.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using executors::ProcessResult;
using std::chrono::seconds;

constexpr double kWattsPerCore = 10;
constexpr const char* kNoAccounting =
    "AccountingStorageType   = accounting_storage/none\n"
    "AcctGatherEnergyType    = acct_gather_energy/none\n";
constexpr const char* kSlurmdbd =
    "AccountingStorageType   = accounting_storage/slurmdbd\n"
    "AcctGatherEnergyType    = acct_gather_energy/none\n";
constexpr const char* kIpmiEnergy =
    "AccountingStorageType   = accounting_storage/none\n"
    "AcctGatherEnergyType    = acct_gather_energy/ipmi\n";
constexpr const char* kRaplEnergy =
    "AccountingStorageType   = accounting_storage/none\n"
    "AcctGatherEnergyType    = acct_gather_energy/rapl\n";
constexpr const char* kTwoCpus =
    "JobId=17 JobState=RUNNING Restarts=0 NumCPUs=2 "
    "TRES=cpu=2,node=1,billing=2 OverSubscribe=OK\n";
constexpr const char* kControllerDown =
    "sstat: error: Unable to contact slurm controller (connect failure)\n";

ProcessResult ok(std::string out) {
  return ProcessResult{0, std::move(out), ""};
}

// One sstat line of the batch step with `cpu` ("00:00:30") and `energy`.
std::string batch(const std::string& cpu, int energy = 0,
                  const std::string& mem = "0") {
  return fmt::format("17.batch|1|{0}|cpu={0},energy={1},mem={2}|{1}\n", cpu,
                     energy, mem);
}

class SlurmJobMetersTest : public ::testing::Test {
 protected:
  SlurmJobMetersTest()
      : proc_("/nonexistent-proc"),
        executor_(cluster(), runner_,
                  executors::SlurmExecutorOptions{0, "root", "", ""}) {
    hardware_.watts_per_core = kWattsPerCore;
    hardware_.memory_watts_per_gb = 0;
    job_.id = "j1";
    job_.executor = "slurm:alpha";
    job_.handle = executors::ExecutorHandle{"slurm", "alpha", "17"};
    job_.running_since = t0_;
  }

  static config::SlurmClusterConfig cluster() {
    config::SlurmClusterConfig c;
    c.name = "alpha";
    c.slurm_conf = "/srv/alpha/slurm.conf";
    return c;
  }

  JobMeters meters() {
    return JobMeters(hardware_, proc_, /*default_watts=*/5,
                     {{"slurm:alpha", &executor_}});
  }

  // The programs run, as "scontrol show", "sstat", "sacct", ...
  std::vector<std::string> programs() const {
    std::vector<std::string> names;
    for (const auto& command : runner_.commands_run()) {
      names.push_back(command.argv.size() > 1
                          ? command.argv[0] + " " + command.argv[1]
                          : command.argv[0]);
    }
    return names;
  }

  const TimePoint t0_ = *parse_time("2026-03-01T10:00:00Z");
  config::HardwareConfig hardware_;
  fakes::FakeProcessRunner runner_;
  executors::ProcReader proc_;
  executors::SlurmExecutor executor_;
  Job job_;
};

TEST_F(SlurmJobMetersTest, ChargesSstatCpuTimeIncrementsAtWattsPerCore) {
  runner_.push_result(ok(kTwoCpus));       // scontrol show job
  runner_.push_result(ok(kNoAccounting));  // scontrol show config
  runner_.push_result(ok(batch("00:00:30")));
  runner_.push_result(ok(batch("00:00:45")));
  auto meter = meters();

  auto first = meter.energy(job_, t0_, t0_ + seconds(60));
  auto second = meter.energy(job_, t0_ + seconds(60), t0_ + seconds(120));

  ASSERT_OK(first);
  EXPECT_EQ("slurm-cpu-time", first->source);
  EXPECT_DOUBLE_EQ(30 * kWattsPerCore, first->cpu_joules);
  ASSERT_OK(second);
  EXPECT_DOUBLE_EQ(15 * kWattsPerCore, second->cpu_joules);
  EXPECT_DOUBLE_EQ(0, second->other_joules + second->gpu_joules);
  // The allocation and the site are read once per run, sstat every time.
  EXPECT_THAT(programs(),
              ::testing::ElementsAre("scontrol show", "scontrol show",
                                     "sstat -a", "sstat -a"));
}

// A daemon restart: the new meter continues from the ledger row's counter
// (30 CPU seconds counted) rather than re-metering the job from its start.
TEST_F(SlurmJobMetersTest, ContinuesFromTheLedgerCounterAfterARestart) {
  runner_.push_result(ok(kTwoCpus));
  runner_.push_result(ok(kNoAccounting));
  runner_.push_result(ok(batch("00:00:30")));
  runner_.push_result(ok(kTwoCpus));  // The new meter reads it again.
  runner_.push_result(ok(batch("00:00:45")));
  runner_.push_result(ok(batch("00:00:50")));
  auto before = meters();
  auto first = before.energy(job_, t0_, t0_ + seconds(60));
  ASSERT_OK(first);
  LedgerRecord last;
  last.end = t0_ + seconds(60);
  last.meter_source = first->source;
  last.meter_counter = first->counter;

  auto after = meters();
  after.resume(job_, last);
  auto second = after.energy(job_, last.end, t0_ + seconds(120));
  auto third = after.energy(job_, t0_ + seconds(120), t0_ + seconds(180));

  EXPECT_EQ(std::optional<double>(30), first->counter);
  ASSERT_OK(second);
  EXPECT_DOUBLE_EQ(15 * kWattsPerCore, second->cpu_joules);
  EXPECT_EQ(std::optional<double>(45), second->counter);
  ASSERT_OK(third);
  EXPECT_DOUBLE_EQ(5 * kWattsPerCore, third->cpu_joules);
}

TEST_F(SlurmJobMetersTest, ContinuesFromTheLedgerEnergyCounterAfterARestart) {
  job_.handle = executors::ExecutorHandle{"slurm", "alpha", "17"};
  runner_.push_result(
      ok("JobId=17 JobState=RUNNING Restarts=0 NumCPUs=2 "
         "TRES=cpu=2,node=1,billing=2 OverSubscribe=NO\n"));
  runner_.push_result(ok(kIpmiEnergy));
  runner_.push_result(ok(batch("00:00:30", 6000)));
  auto after = meters();
  LedgerRecord last;
  last.end = t0_ + seconds(60);
  last.meter_source = "slurm-energy";
  last.meter_counter = 4000;
  after.resume(job_, last);

  auto reading = after.energy(job_, last.end, t0_ + seconds(120));

  ASSERT_OK(reading);
  EXPECT_EQ("slurm-energy", reading->source);
  EXPECT_DOUBLE_EQ(2000, reading->other_joules);
  EXPECT_EQ(std::optional<double>(6000), reading->counter);
}

TEST_F(SlurmJobMetersTest, CountsMemoryHeldByTheSteps) {
  hardware_.memory_watts_per_gb = 0.5;
  runner_.push_result(ok(kTwoCpus));
  runner_.push_result(ok(kNoAccounting));
  runner_.push_result(ok(batch("00:00:10", 0, "2G")));
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  // sstat's "2G" is 2 GiB; the model's watts are per decimal GB.
  EXPECT_NEAR(2.0 * (1 << 30) / 1e9 * 0.5 * 60, reading->ram_joules, 1e-6);
}

TEST_F(SlurmJobMetersTest, KeepsTheTimeOfStepsThatEndedAndAddsNewSteps) {
  runner_.push_result(ok(kTwoCpus));
  runner_.push_result(ok(kNoAccounting));
  runner_.push_result(ok(batch("00:00:10") +
                         "17.0|2|00:00:10|cpu=00:00:20,energy=0,mem=0|0\n"));
  // Step 0 ended (sstat forgets it); step 1 began.
  runner_.push_result(ok(batch("00:00:12") +
                         "17.1|1|00:00:05|cpu=00:00:05,energy=0,mem=0|0\n"));
  auto meter = meters();

  auto first = meter.energy(job_, t0_, t0_ + seconds(60));
  auto second = meter.energy(job_, t0_ + seconds(60), t0_ + seconds(120));

  ASSERT_OK(first);
  EXPECT_DOUBLE_EQ(30 * kWattsPerCore, first->cpu_joules);
  ASSERT_OK(second);
  EXPECT_DOUBLE_EQ(7 * kWattsPerCore, second->cpu_joules);
}

TEST_F(SlurmJobMetersTest, ChargesTheAllocationForTheTailAfterTheLastSstat) {
  runner_.push_result(ok(kTwoCpus));
  runner_.push_result(ok(kNoAccounting));
  runner_.push_result(ok(batch("00:00:10")));
  // The job ended; no slurmdbd, so nothing tells what it used last.
  runner_.push_result(
      ProcessResult{0, "", "sstat: error: No steps running for job 17\n"});
  auto meter = meters();

  auto first = meter.energy(job_, t0_, t0_ + seconds(60));
  auto tail = meter.energy(job_, t0_ + seconds(60), t0_ + seconds(90));

  ASSERT_OK(first);
  EXPECT_EQ("slurm-cpu-time", first->source);
  ASSERT_OK(tail);
  EXPECT_EQ("slurm-allocation", tail->source);
  EXPECT_DOUBLE_EQ(2 * kWattsPerCore * 30, tail->cpu_joules);
  EXPECT_EQ(4u, runner_.commands_run().size());  // No sacct, no scontrol.
}

TEST_F(SlurmJobMetersTest, FinalSacctTotalsChargeOnlyWhatSstatDidNotSee) {
  runner_.push_result(ok(kTwoCpus));
  runner_.push_result(ok(kSlurmdbd));
  runner_.push_result(ok(batch("00:00:10")));
  runner_.push_result(ok(""));  // sstat: the job ended.
  runner_.push_result(
      ok("17|COMPLETED|0:0|1|2|00:00:25|50|0\n"
         "17.batch|COMPLETED|0:0|1|2|00:00:25|50|0\n"));
  auto meter = meters();

  auto first = meter.energy(job_, t0_, t0_ + seconds(60));
  auto last = meter.energy(job_, t0_ + seconds(60), t0_ + seconds(65));

  ASSERT_OK(first);
  ASSERT_OK(last);
  EXPECT_EQ("slurm-cpu-time", last->source);
  EXPECT_DOUBLE_EQ(15 * kWattsPerCore, last->cpu_joules);
  EXPECT_EQ("sacct", runner_.commands_run().back().argv[0]);
}

TEST_F(SlurmJobMetersTest, ExclusiveJobUsesTheEnergyPluginsFigure) {
  runner_.push_result(
      ok("JobId=17 Restarts=0 NumCPUs=2 TRES=cpu=2 OverSubscribe=NO\n"));
  runner_.push_result(ok(kIpmiEnergy));
  runner_.push_result(ok(batch("00:00:30", 1000)));
  runner_.push_result(ok(batch("00:00:45", 1600)));
  auto meter = meters();

  auto first = meter.energy(job_, t0_, t0_ + seconds(60));
  auto second = meter.energy(job_, t0_ + seconds(60), t0_ + seconds(120));

  ASSERT_OK(first);
  EXPECT_EQ("slurm-energy", first->source);
  EXPECT_DOUBLE_EQ(1000, first->other_joules);
  EXPECT_DOUBLE_EQ(0, first->cpu_joules);
  ASSERT_OK(second);
  EXPECT_DOUBLE_EQ(600, second->other_joules);
}

TEST_F(SlurmJobMetersTest, SharedNodesEnergyIsNotTheJobs) {
  runner_.push_result(ok(kTwoCpus));  // OverSubscribe=OK.
  runner_.push_result(ok(kIpmiEnergy));
  runner_.push_result(ok(batch("00:00:30", 1000)));
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  EXPECT_EQ("slurm-cpu-time", reading->source);
  EXPECT_DOUBLE_EQ(30 * kWattsPerCore, reading->cpu_joules);
}

TEST_F(SlurmJobMetersTest, AddsAllocatedGpusAtTheirTdp) {
  // A100 = 400 W in data/hardware.csv. RAPL measures CPUs and DRAM only.
  runner_.push_result(
      ok("JobId=17 Restarts=0 NumCPUs=2 "
         "TRES=cpu=2,gres/gpu=2,gres/gpu:a100=2 OverSubscribe=NO\n"));
  runner_.push_result(ok(kRaplEnergy));
  runner_.push_result(ok(batch("00:00:30", 1000)));
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  EXPECT_EQ("slurm-energy", reading->source);
  EXPECT_DOUBLE_EQ(1000, reading->other_joules);
  EXPECT_DOUBLE_EQ(2 * 400 * 60, reading->gpu_joules);
}

TEST_F(SlurmJobMetersTest, UntypedGpusTakeTheConfiguredGpuDevicesPower) {
  config::DeviceConfig device;
  device.name = "node";
  device.kind = "gpu";
  device.watts = 600;
  device.count = 4;
  hardware_.devices.push_back(device);
  runner_.push_result(
      ok("JobId=17 Restarts=0 NumCPUs=1 TRES=cpu=1,gres/gpu=1 "
         "OverSubscribe=OK\n"));
  runner_.push_result(ok(kNoAccounting));
  runner_.push_result(ok(batch("00:00:10")));
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  EXPECT_EQ("slurm-cpu-time", reading->source);
  EXPECT_DOUBLE_EQ(150 * 60, reading->gpu_joules);
}

TEST_F(SlurmJobMetersTest, UnreadableCpuTimeChargesTheAllocation) {
  runner_.push_result(ok(kTwoCpus));
  runner_.push_result(ok(kNoAccounting));
  runner_.push_result(ProcessResult{1, "", kControllerDown});
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  EXPECT_EQ("slurm-allocation", reading->source);
  EXPECT_DOUBLE_EQ(2 * kWattsPerCore * 60, reading->cpu_joules);
}

TEST_F(SlurmJobMetersTest, NothingReadableFallsBackToDefaultPower) {
  runner_.push_result(ProcessResult{1, "", kControllerDown});  // show job
  runner_.push_result(ProcessResult{1, "", kControllerDown});  // show config
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  EXPECT_EQ("default-power", reading->source);
  EXPECT_DOUBLE_EQ(5 * 60, reading->other_joules);
}

TEST_F(SlurmJobMetersTest, RequeuedRunCountsItsCpuTimeFromZero) {
  runner_.push_result(ok(kTwoCpus));
  runner_.push_result(ok(kNoAccounting));
  runner_.push_result(ok(batch("00:00:50")));
  // Requeued: a new run segment with Restarts=1 and a new batch step.
  runner_.push_result(
      ok("JobId=17 Restarts=1 NumCPUs=2 TRES=cpu=2 OverSubscribe=OK\n"));
  runner_.push_result(ok(batch("00:00:05")));
  auto meter = meters();

  auto first = meter.energy(job_, t0_, t0_ + seconds(60));
  job_.running_since = t0_ + seconds(600);
  auto second = meter.energy(job_, t0_ + seconds(600), t0_ + seconds(660));

  ASSERT_OK(first);
  EXPECT_DOUBLE_EQ(50 * kWattsPerCore, first->cpu_joules);
  ASSERT_OK(second);
  EXPECT_DOUBLE_EQ(5 * kWattsPerCore, second->cpu_joules);
}

TEST_F(SlurmJobMetersTest, DeclaredPowerStillWinsAndRunsNoCommand) {
  job_.spec.power_watts = 100;
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  EXPECT_EQ("declared", reading->source);
  EXPECT_TRUE(runner_.commands_run().empty());
}

TEST_F(SlurmJobMetersTest, UnknownClusterGetsDefaultPower) {
  job_.executor = "slurm:beta";
  job_.handle = executors::ExecutorHandle{"slurm", "beta", "17"};
  auto meter = meters();

  auto reading = meter.energy(job_, t0_, t0_ + seconds(60));

  ASSERT_OK(reading);
  EXPECT_EQ("default-power", reading->source);
  EXPECT_TRUE(runner_.commands_run().empty());
}

}  // namespace
}  // namespace lowcarb::scheduler
