// SPDX-License-Identifier: Apache-2.0
// The daemon's meter (scheduler/job_meters.h) for local jobs, over a fake
// powercap tree, a fake /proc (the jobs' sessions and /proc/stat) and a fake
// GPU energy source: RAPL split by CPU share, wraparound, the fallbacks to
// the CPU-time model, declared power, and GPU attribution.
#include "scheduler/job_meters.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "common/logging.h"
#include "common/time_format.h"
#include "executors/meters/node_cpu_time.h"
#include "scheduler/memory_job_store.h"
#include "tests/fakes/log_capture.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

namespace fs = std::filesystem;
using lowcarb::testing::ScopedTempDir;
using lowcarb::testing::write_file;
using std::chrono::seconds;

constexpr long kTicks = 100;  // Clock ticks per second of the fake /proc.
constexpr long kPage = 4096;
constexpr double kWattsPerCore = 10;
constexpr double kMemoryWattsPerGb = 0.5;
constexpr uint64_t kMaxRangeUj = 262143328850;

using lowcarb::testing::LogCapture;

// A /proc/PID/stat line as the kernel writes it (see proc_stat_test.cc).
std::string stat_line(int pid, int session, int utime_ticks, int rss_pages) {
  return fmt::format(
      "{0} (job) S 1 {1} {1} 0 -1 4194304 100 0 0 0 {2} 0 0 0 20 0 1 0 "
      "5000 3133440 {3} 18446744073709551615 0 0 0 0 0 0 0\n",
      pid, session, utime_ticks, rss_pages);
}

class JobMetersTest : public ::testing::Test {
 protected:
  JobMetersTest()
      : powercap_(dir_.path() / "powercap"),
        proc_dir_(dir_.path() / "proc"),
        proc_(proc_dir_.string(), kTicks, kPage) {
    fs::create_directories(powercap_);
    fs::create_directories(proc_dir_);
    hardware_.watts_per_core = kWattsPerCore;
    hardware_.memory_watts_per_gb = kMemoryWattsPerGb;
    set_node_busy_ticks(0);
  }

  // A RAPL zone `zone` named `name` whose counter reads `uj`.
  void add_zone(const std::string& zone, const std::string& name, uint64_t uj) {
    fs::create_directories(powercap_ / zone);
    write_file((powercap_ / zone / "name").string(), name + "\n");
    write_file((powercap_ / zone / "max_energy_range_uj").string(),
               std::to_string(kMaxRangeUj) + "\n");
    set_counter(zone, uj);
  }
  void set_counter(const std::string& zone, uint64_t uj) {
    write_file((powercap_ / zone / "energy_uj").string(),
               std::to_string(uj) + "\n");
  }
  void add_package_and_dram(uint64_t package_uj, uint64_t dram_uj) {
    add_zone("intel-rapl:0", "package-0", package_uj);
    add_zone("intel-rapl:0:0", "dram", dram_uj);
  }
  // The node's busy CPU time, spread over the fields that count, with idle,
  // iowait and guest time that must not count.
  void set_node_busy_ticks(uint64_t busy) {
    const uint64_t system = busy / 4;
    write_file((proc_dir_ / "stat").string(),
               fmt::format("cpu  {} 0 {} 987654 4321 0 0 0 777 0\n"
                           "cpu0 0 0 0 0 0 0 0 0 0 0\n",
                           busy - system, system));
  }
  // The job whose wrapper (session leader) is `pid` used `cpu_ticks`.
  void set_job_usage(int pid, int cpu_ticks, int rss_pages = 0) {
    fs::create_directories(proc_dir_ / std::to_string(pid));
    write_file((proc_dir_ / std::to_string(pid) / "stat").string(),
               stat_line(pid, pid, cpu_ticks, rss_pages));
  }
  void end_job(int pid) { fs::remove_all(proc_dir_ / std::to_string(pid)); }

  Job local_job(const std::string& id, int pid, TimePoint since) {
    Job job;
    job.id = id;
    job.executor = "local";
    job.handle =
        executors::ExecutorHandle{"local", "", fmt::format("{}:5000", pid)};
    job.running_since = since;
    return job;
  }

  JobMetersOptions options() {
    JobMetersOptions o;
    o.powercap_root = powercap_.string();
    o.proc_stat_path = (proc_dir_ / "stat").string();
    o.nvml_library = "/nonexistent/libnvidia-ml.so.1";
    return o;
  }
  JobMeters meters(JobMetersOptions o) {
    return JobMeters(hardware_, proc_, /*default_watts=*/5, {}, std::move(o));
  }

  // The CPU-time model's memory term for `rss_pages` held `secs` seconds.
  static double model_ram_joules(int rss_pages, double secs) {
    return static_cast<double>(rss_pages) * kPage / 1e9 * kMemoryWattsPerGb *
           secs;
  }

  ScopedTempDir dir_;
  fs::path powercap_;
  fs::path proc_dir_;
  executors::ProcReader proc_;
  config::HardwareConfig hardware_;
  const TimePoint t0_ = *parse_time("2026-03-01T10:00:00Z");
};

TEST(NodeCpuTimeTest, CountsBusyFieldsOnlyOfTheAggregateLine) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  auto busy = executors::parse_node_busy_cpu_seconds(
      "cpu  100 20 30 1000 50 5 7 3 40 0\ncpu0 1 1 1 1 1 1 1 1 1 1\n", 100);
  ASSERT_OK(busy);
  EXPECT_DOUBLE_EQ((100 + 20 + 30 + 5 + 7 + 3) / 100.0, *busy);
  // Old kernels: four fields only.
  auto old = executors::parse_node_busy_cpu_seconds("cpu 10 0 10 500\n", 10);
  ASSERT_OK(old);
  EXPECT_DOUBLE_EQ(2.0, *old);
  EXPECT_FALSE(executors::parse_node_busy_cpu_seconds("cpu0 1 2 3 4\n", 100));
  EXPECT_FALSE(executors::parse_node_busy_cpu_seconds("cpu 1 2 x 4\n", 100));
  EXPECT_FALSE(executors::parse_node_busy_cpu_seconds("cpu 1 2\n", 100));
  EXPECT_FALSE(executors::read_node_busy_cpu_seconds("/nonexistent/stat", 100));
}

TEST_F(JobMetersTest, SplitsRaplEnergyByCpuShareAndLeavesOthersUncharged) {
  add_package_and_dram(5'000'000, 1'000'000);
  set_job_usage(100, 0, 1000);
  set_job_usage(200, 0, 2000);
  auto m = meters(options());
  ASSERT_TRUE(m.rapl_active());
  Job a = local_job("a", 100, t0_);
  Job b = local_job("b", 200, t0_);

  // First round: no node reading before the jobs started, so modelled.
  set_job_usage(100, 100, 1000);
  set_job_usage(200, 0, 2000);
  set_node_busy_ticks(300);
  auto a1 = m.energy(a, t0_, t0_ + seconds(10));
  auto b1 = m.energy(b, t0_, t0_ + seconds(10));
  ASSERT_OK(a1);
  ASSERT_OK(b1);
  EXPECT_EQ("cpu-time-model", a1->source);
  EXPECT_DOUBLE_EQ(1.0 * kWattsPerCore, a1->cpu_joules);

  // Second round: 100 J package, 20 J dram; the node was busy 10 CPU-s, of
  // which a used 4 and b 2; the other 4 CPU-s are other processes'.
  add_package_and_dram(105'000'000, 21'000'000);
  set_node_busy_ticks(300 + 1000);
  set_job_usage(100, 100 + 400, 1000);
  set_job_usage(200, 0 + 200, 2000);
  auto a2 = m.energy(a, t0_ + seconds(10), t0_ + seconds(20));
  auto b2 = m.energy(b, t0_ + seconds(10), t0_ + seconds(20));
  ASSERT_OK(a2);
  ASSERT_OK(b2);
  EXPECT_EQ("rapl", a2->source);
  EXPECT_EQ("rapl", b2->source);
  EXPECT_NEAR(100.0 * 4 / 10, a2->cpu_joules, 1e-9);
  EXPECT_NEAR(100.0 * 2 / 10, b2->cpu_joules, 1e-9);
  // Memory is the dram share, without the RSS model on top.
  EXPECT_NEAR(20.0 * 4 / 10, a2->ram_joules, 1e-9);
  EXPECT_NEAR(20.0 * 2 / 10, b2->ram_joules, 1e-9);
  EXPECT_DOUBLE_EQ(0, a2->gpu_joules);
  EXPECT_LT(a2->cpu_joules + b2->cpu_joules, 100.0);

  // A job started after the last reading is metered from that reading;
  // b samples on its own schedule and keeps its own interval.
  set_job_usage(300, 0);
  Job c = local_job("c", 300, t0_ + seconds(20));
  add_package_and_dram(155'000'000, 31'000'000);
  set_node_busy_ticks(1300 + 500);
  set_job_usage(300, 250);
  set_job_usage(100, 500 + 250, 1000);
  auto c3 = m.energy(c, t0_ + seconds(20), t0_ + seconds(30));
  auto a3 = m.energy(a, t0_ + seconds(20), t0_ + seconds(30));
  ASSERT_OK(c3);
  ASSERT_OK(a3);
  EXPECT_EQ("rapl", c3->source);
  EXPECT_NEAR(50.0 * 250 / 500, c3->cpu_joules, 1e-9);
  EXPECT_NEAR(50.0 * 250 / 500, a3->cpu_joules, 1e-9);

  // b's next sample spans both rounds: 150 J over 15 busy CPU-s, 1 of b's.
  add_package_and_dram(205'000'000, 41'000'000);
  set_node_busy_ticks(1800 + 1000);
  set_job_usage(200, 200 + 100, 2000);
  auto b3 = m.energy(b, t0_ + seconds(20), t0_ + seconds(40));
  ASSERT_OK(b3);
  EXPECT_EQ("rapl", b3->source);
  EXPECT_NEAR(100.0 * 1 / 15, b3->cpu_joules, 1e-9);
  EXPECT_NEAR(20.0 * 1 / 15, b3->ram_joules, 1e-9);
}

TEST_F(JobMetersTest, CountsEnergyAcrossACounterWrap) {
  // Package only: memory comes from the RSS model.
  add_zone("intel-rapl:0", "package-0", kMaxRangeUj - 80'000'000);
  set_job_usage(100, 0, 5000);
  auto m = meters(options());
  ASSERT_TRUE(m.rapl_active());
  Job a = local_job("a", 100, t0_);
  ASSERT_OK(m.energy(a, t0_, t0_ + seconds(10)));  // Modelled, sets baseline.

  set_counter("intel-rapl:0", kMaxRangeUj - 30'000'000);
  set_node_busy_ticks(1000);
  set_job_usage(100, 1000, 5000);
  auto before = m.energy(a, t0_ + seconds(10), t0_ + seconds(20));
  ASSERT_OK(before);
  EXPECT_EQ("rapl", before->source);
  EXPECT_NEAR(50.0, before->cpu_joules, 1e-6);

  // 30 J up to the wrap, then 20 J from zero.
  set_counter("intel-rapl:0", 20'000'000);
  set_node_busy_ticks(2000);
  set_job_usage(100, 2000, 5000);
  auto across = m.energy(a, t0_ + seconds(20), t0_ + seconds(30));
  ASSERT_OK(across);
  EXPECT_EQ("rapl", across->source);
  EXPECT_NEAR(50.0, across->cpu_joules, 1e-6);
  EXPECT_NEAR(model_ram_joules(5000, 10), across->ram_joules, 1e-9);
}

TEST_F(JobMetersTest, ModelsAnIntervalWhoseRaplReadFailsThenMeasuresAgain) {
  add_zone("intel-rapl:0", "package-0", 1'000'000);
  set_job_usage(100, 0);
  auto m = meters(options());
  Job a = local_job("a", 100, t0_);
  ASSERT_OK(m.energy(a, t0_, t0_ + seconds(10)));

  fs::remove(powercap_ / "intel-rapl:0" / "energy_uj");
  set_job_usage(100, 300);
  set_node_busy_ticks(600);
  auto failed = m.energy(a, t0_ + seconds(10), t0_ + seconds(20));
  ASSERT_OK(failed);
  EXPECT_EQ("cpu-time-model", failed->source);
  EXPECT_DOUBLE_EQ(3.0 * kWattsPerCore, failed->cpu_joules);

  set_counter("intel-rapl:0", 61'000'000);
  set_job_usage(100, 600);
  set_node_busy_ticks(1200);
  auto again = m.energy(a, t0_ + seconds(20), t0_ + seconds(30));
  ASSERT_OK(again);
  EXPECT_EQ("rapl", again->source);
  // The reading of the first round is the baseline: 60 J over 12 busy
  // CPU-s, of which the job's 3 of this interval.
  EXPECT_NEAR(60.0 * 3 / 12, again->cpu_joules, 1e-6);
}

// Builds the meters over an unreadable counter and checks the fallback;
// returns "" or what went wrong. Runs in a child process when root.
std::string check_unreadable_rapl(JobMeters& m, Job job, TimePoint t0,
                                  const LogCapture& log) {
  if (m.rapl_active()) {
    return "RAPL active over an unreadable counter";
  }
  auto reading = m.energy(job, t0, t0 + seconds(10));
  if (!reading || reading->source != "cpu-time-model") {
    return "not metered with the CPU-time model";
  }
  if (reading->cpu_joules != 2.0 * kWattsPerCore) {
    return fmt::format("cpu joules {}", reading->cpu_joules);
  }
  (void)m.energy(job, t0 + seconds(10), t0 + seconds(20));
  if (log.count("warning ") != 1 || log.count("permission denied") != 1 ||
      log.count("chmod a+r") != 1) {
    return "expected one permission warning with the fix, got: " + log.text();
  }
  return "";
}

TEST_F(JobMetersTest, UnreadableRaplFallsBackToTheModelWithOneWarning) {
  add_zone("intel-rapl:0", "package-0", 1'000'000);
  const auto counter = powercap_ / "intel-rapl:0" / "energy_uj";
  ASSERT_EQ(0, chmod(counter.c_str(), 0400));
  set_job_usage(100, 200);
  Job job = local_job("a", 100, t0_);
  if (geteuid() != 0) {
    ASSERT_EQ(0, chmod(counter.c_str(), 0000));  // Ours: 0400 is readable.
    LogCapture log("meters");
    auto m = meters(options());
    EXPECT_EQ("", check_unreadable_rapl(m, job, t0_, log));
    return;
  }
  // Root reads any file: the check runs as nobody, for whom the root-owned
  // 0400 counter is unreadable as on a real kernel >= 5.10.
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec |
                                   fs::perms::others_read |
                                   fs::perms::others_exec);
  EXPECT_EXIT(
      {
        if (setgid(65534) != 0 || setuid(65534) != 0) {
          _exit(3);
        }
        LogCapture log("meters");
        auto m = meters(options());
        const std::string problem = check_unreadable_rapl(m, job, t0_, log);
        if (!problem.empty()) {
          fprintf(stderr, "%s\n", problem.c_str());
          _exit(1);
        }
        _exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(JobMetersTest, DeclaredPowerStillWinsOverRapl) {
  add_package_and_dram(1'000'000, 1'000'000);
  set_job_usage(100, 0);
  auto m = meters(options());
  ASSERT_TRUE(m.rapl_active());
  Job job = local_job("a", 100, t0_);
  job.spec.power_watts = 42;
  ASSERT_OK(m.energy(job, t0_, t0_ + seconds(10)));
  add_package_and_dram(91'000'000, 11'000'000);
  set_job_usage(100, 500);
  set_node_busy_ticks(500);
  auto reading = m.energy(job, t0_ + seconds(10), t0_ + seconds(20));
  ASSERT_OK(reading);
  EXPECT_EQ("declared", reading->source);
  EXPECT_DOUBLE_EQ(42.0 * 10, reading->cpu_joules);
}

TEST_F(JobMetersTest, WithoutRaplLocalJobsUseTheCpuTimeModelAsBefore) {
  // Empty powercap root (a VM), and the daemon's default path when this
  // machine has none.
  std::vector<JobMetersOptions> variants{options()};
  if (!fs::exists("/sys/class/powercap")) {
    variants.push_back(options());
    variants.back().powercap_root = "/sys/class/powercap";
  }
  for (auto& o : variants) {
    SCOPED_TRACE(o.powercap_root);
    set_job_usage(100, 0, 3000);
    auto m = meters(o);
    EXPECT_FALSE(m.rapl_active());
    EXPECT_FALSE(m.gpus_active());
    Job job = local_job("a", 100, t0_);
    job.spec.env["CUDA_VISIBLE_DEVICES"] = "0";  // No NVML: no GPU part.
    auto first = m.energy(job, t0_, t0_ + seconds(10));
    set_job_usage(100, 700, 3000);
    auto second = m.energy(job, t0_ + seconds(10), t0_ + seconds(20));
    ASSERT_OK(first);
    ASSERT_OK(second);
    EXPECT_EQ("cpu-time-model", first->source);
    EXPECT_EQ("cpu-time-model", second->source);
    EXPECT_DOUBLE_EQ(0, first->cpu_joules);
    EXPECT_DOUBLE_EQ(7.0 * kWattsPerCore, second->cpu_joules);
    EXPECT_NEAR(model_ram_joules(3000, 10), second->ram_joules, 1e-12);
    EXPECT_DOUBLE_EQ(0, second->gpu_joules);
  }
}

TEST_F(JobMetersTest, SplitsEachGpusEnergyAmongTheLiveJobsListingIt) {
  add_package_and_dram(1'000'000, 1'000'000);
  // Per call, the joules of GPU 0 and GPU 1 since the previous call.
  auto queue = std::make_shared<std::deque<std::vector<double>>>(
      std::deque<std::vector<double>>{{0, 0}, {100, 40}, {60, 30}});
  auto calls = std::make_shared<int>(0);
  JobMetersOptions o = options();
  o.gpus = GpuEnergySource{
      {"GPU-aaaa-1111", "GPU-bbbb-2222"},
      [queue, calls](TimePoint) -> Result<std::vector<double>> {
        ++*calls;
        if (queue->empty()) {
          return make_error(ErrorCode::kUnavailable, "no more samples");
        }
        auto next = queue->front();
        queue->pop_front();
        return next;
      }};
  set_job_usage(100, 0);
  set_job_usage(200, 0);
  set_job_usage(300, 0);
  auto m = meters(std::move(o));
  ASSERT_TRUE(m.gpus_active());
  Job a = local_job("a", 100, t0_);
  a.spec.env["CUDA_VISIBLE_DEVICES"] = "0";
  Job b = local_job("b", 200, t0_);
  b.spec.env["CUDA_VISIBLE_DEVICES"] = "GPU-bbbb, 0";  // UUID prefix + index.
  Job cpu_only = local_job("c", 300, t0_);

  auto a1 = m.energy(a, t0_, t0_ + seconds(10));
  auto b1 = m.energy(b, t0_, t0_ + seconds(10));
  auto c1 = m.energy(cpu_only, t0_, t0_ + seconds(10));
  ASSERT_OK(a1);
  ASSERT_OK(b1);
  ASSERT_OK(c1);
  EXPECT_EQ(1, *calls);  // One GPU reading per round.
  EXPECT_EQ("cpu-time-model+nvml", a1->source);
  EXPECT_EQ("cpu-time-model", c1->source);

  auto a2 = m.energy(a, t0_ + seconds(10), t0_ + seconds(20));
  auto b2 = m.energy(b, t0_ + seconds(10), t0_ + seconds(20));
  auto c2 = m.energy(cpu_only, t0_ + seconds(10), t0_ + seconds(20));
  ASSERT_OK(a2);
  ASSERT_OK(b2);
  ASSERT_OK(c2);
  EXPECT_EQ(2, *calls);
  EXPECT_EQ("rapl+nvml", a2->source);
  EXPECT_EQ("rapl+nvml", b2->source);
  EXPECT_DOUBLE_EQ(100.0 / 2, a2->gpu_joules);
  EXPECT_DOUBLE_EQ(100.0 / 2 + 40.0, b2->gpu_joules);
  EXPECT_DOUBLE_EQ(0, c2->gpu_joules);

  // b ended: a alone holds GPU 0; GPU 1's energy is nobody's.
  end_job(200);
  auto a3 = m.energy(a, t0_ + seconds(20), t0_ + seconds(30));
  ASSERT_OK(a3);
  EXPECT_DOUBLE_EQ(60.0, a3->gpu_joules);
}

// One intensity everywhere, for tracker-level tests.
class FlatHistory final : public IntensityHistory {
 public:
  std::optional<RealizedIntensity> realized(const std::string&, TimePoint,
                                            TimePoint) override {
    return RealizedIntensity{200, "flat/observed"};
  }
};

double ledger_joules(JobStore& store, const std::string& job_id) {
  double joules = 0;
  auto rows = store.ledger(LedgerFilter{job_id, {}, {}});
  for (const auto& row : *rows) {
    joules += row.joules();
  }
  return joules;
}

// A daemon restart builds new meters and a new tracker over the same store:
// the first interval after it starts at the last ledger row and counts only
// the CPU time used since that row, so the ledger equals an unbroken run's.
TEST_F(JobMetersTest, ARestartedDaemonMetersFromTheLastLedgerRowNotTheStart) {
  FlatHistory history;
  auto o = options();
  o.powercap_root = "";  // The CPU-time model: exact expected figures.
  // cpu ticks at 0, 10, ..., 60 s: the job uses 50% of a core.
  const int ticks_at[] = {0, 500, 1000, 1500, 2000, 2500, 3000};

  MemoryJobStore unbroken_store;
  {
    auto m = meters(o);
    Tracker tracker(unbroken_store, history, m, 1.0, "DE");
    Job job = local_job("1", 100, t0_);
    for (int i = 1; i <= 6; ++i) {
      set_job_usage(100, ticks_at[i], 1000);
      ASSERT_OK(tracker.sample(job, t0_ + seconds(10 * i)));
    }
  }

  MemoryJobStore store;
  Job job = local_job("1", 100, t0_);
  {
    auto m = meters(o);
    Tracker tracker(store, history, m, 1.0, "DE");
    for (int i = 1; i <= 2; ++i) {
      set_job_usage(100, ticks_at[i], 1000);
      ASSERT_OK(tracker.sample(job, t0_ + seconds(10 * i)));
    }
  }  // The daemon dies at 25 s; the job keeps running.
  {
    auto m = meters(o);
    Tracker tracker(store, history, m, 1.0, "DE");
    for (int i = 4; i <= 6; ++i) {  // Back at 40 s.
      set_job_usage(100, ticks_at[i], 1000);
      ASSERT_OK(tracker.sample(job, t0_ + seconds(10 * i)));
    }
  }
  auto rows = *store.ledger(LedgerFilter{"1", {}, {}});
  ASSERT_EQ(5u, rows.size());
  EXPECT_EQ(t0_ + seconds(20), rows[2].start);  // Not t0_: no re-metering.
  EXPECT_EQ(t0_ + seconds(40), rows[2].end);
  ASSERT_TRUE(rows[2].meter_counter.has_value());
  EXPECT_DOUBLE_EQ(20.0, *rows[2].meter_counter);
  EXPECT_DOUBLE_EQ(10.0 * kWattsPerCore, rows[2].cpu_joules);  // 10 CPU-s.
  const double unbroken = ledger_joules(unbroken_store, "1");
  EXPECT_GT(unbroken, 0);
  EXPECT_NEAR(unbroken, ledger_joules(store, "1"), 1e-9 * unbroken);

  // A new run segment (paused and resumed) starts afresh: rows of the old
  // segment are no resume point.
  Job resumed = local_job("1", 200, t0_ + seconds(100));
  auto m = meters(o);
  Tracker tracker(store, history, m, 1.0, "DE");
  set_job_usage(200, 300, 0);
  ASSERT_OK(tracker.sample(resumed, t0_ + seconds(110)));
  rows = *store.ledger(LedgerFilter{"1", {}, {}});
  EXPECT_EQ(t0_ + seconds(100), rows.back().start);
  EXPECT_DOUBLE_EQ(3.0 * kWattsPerCore, rows.back().cpu_joules);
}

}  // namespace
}  // namespace lowcarb::scheduler
