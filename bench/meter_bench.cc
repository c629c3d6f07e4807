// SPDX-License-Identifier: Apache-2.0
// Cost of metering: one sample round of the CPU-time model over 100 running
// jobs (real `sleep` processes, each in its own session as LocalExecutor
// starts them). The daemon samples every sample_period (default 10 s), so
// the CPU time of one round / 10 s is the meter's share of a core.
//   BM_CpuTimeModelRound/shared_scan: one /proc scan serves all 100 jobs
//     (ProcReader::session_usage with the same `now`), as the daemon does.
//   BM_CpuTimeModelRound/scan_per_job: each job scans /proc itself.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "executors/meters/cpu_time_meter.h"
#include "executors/posix_process_spawner.h"

namespace {

using lowcarb::Duration;
using lowcarb::TimePoint;
namespace ex = lowcarb::executors;

constexpr int kJobs = 100;

std::vector<ex::ProcessIdentity>& jobs() {
  static std::vector<ex::ProcessIdentity> identities;
  return identities;
}

ex::PosixProcessSpawner& spawner() {
  static ex::PosixProcessSpawner instance;
  return instance;
}

void BM_CpuTimeModelRound(benchmark::State& state) {
  const bool shared = state.range(0) == 1;
  ex::ProcReader reader;
  std::vector<std::unique_ptr<ex::CpuTimeMeter>> meters;
  for (const auto& job : jobs()) {
    meters.push_back(std::make_unique<ex::CpuTimeMeter>(
        ex::session_usage_source(reader, job.pid),
        ex::CpuPowerModel{12, 0.3725, 0, "bench"}));
  }
  long long tick = 0;
  for (auto _ : state) {
    const TimePoint now{Duration{10 * ++tick}};
    double joules = 0;
    for (size_t i = 0; i < meters.size(); ++i) {
      // Without sharing, every job sees a fresh `now` and scans /proc.
      const TimePoint when =
          shared ? now : now + Duration{static_cast<long long>(i) * 100000};
      auto sample = meters[i]->sample(when);
      if (sample) {
        joules += sample->joules();
      }
    }
    benchmark::DoNotOptimize(joules);
  }
  state.counters["jobs"] = static_cast<double>(meters.size());
  state.SetLabel(shared ? "shared_scan" : "scan_per_job");
}
BENCHMARK(BM_CpuTimeModelRound)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  for (int i = 0; i < kJobs; ++i) {
    ex::SpawnRequest request;
    request.argv = {"sleep", "600"};
    auto identity = spawner().spawn(request);
    if (!identity) {
      std::fprintf(stderr, "meter_bench: %s\n",
                   identity.error().message.c_str());
      return 1;
    }
    jobs().push_back(*identity);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const auto& job : jobs()) {
    (void)spawner().signal_group(job.pid, SIGKILL);
  }
  return 0;
}
