// SPDX-License-Identifier: Apache-2.0
// The daemon's JobMeter: picks, per job, the best figure available.
//  1. declared power (`--power W` or `--hardware SPEC`, resolved through the
//     hardware table) when the user gave one: they know their hardware;
//  2. local jobs, CPU and memory: "rapl" when the node's RAPL counters are
//     readable at construction: the package (+dram) energy of the interval x
//     the job's CPU seconds / the node's busy CPU seconds (/proc/stat), so
//     the part other processes used is charged to no job; memory is RSS x
//     memory_watts_per_gb as in the model when no dram domain is counted.
//     Otherwise (no RAPL, unreadable counters: reported once with the fix,
//     or a failed read for one interval) the CPU-time model over the job's
//     process session (executors/meters/cpu_time_meter.h),
//     "cpu-time-model". A job's first interval needs a node reading taken
//     shortly before it started (another job's sample): without one it is
//     modelled too;
//     GPUs: when NVML loads, a job whose environment has
//     CUDA_VISIBLE_DEVICES gets those GPUs' energy, each device's split
//     equally among the running local jobs that list it, as gpu_joules;
//     the source gains "+nvml" ("rapl+nvml", "cpu-time-model+nvml");
//  3. Slurm jobs (executor "slurm:<cluster>"), from the cluster itself:
//     "slurm-energy": the energy plugin's ConsumedEnergy (sstat while steps
//       run, sacct at the end), for exclusive jobs only: the figure is the
//       node's, and a shared node's energy is not the job's;
//     "slurm-cpu-time": the job's CPU time (sstat, or sacct's TotalCPU at
//       the end) x watts per core, plus memory as in the CPU-time model;
//     "slurm-allocation": allocated CPUs x watts per core x wall time, when
//       no CPU time can be read: no step is running (the tail after the
//       last sstat of a job that ended without slurmdbd) or sstat failed.
//     Allocated GPUs x their TDP are added to the last two (and to the
//     first when the plugin measures CPUs only, i.e. RAPL);
//  4. otherwise the configured default power x running time
//     ("default-power"), so no running job is ever counted as zero.
// Not thread-safe; the scheduler loop drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "executors/meters/cpu_time_meter.h"
#include "executors/meters/nvml_meter.h"
#include "executors/meters/rapl_meter.h"
#include "executors/proc_stat.h"
#include "executors/slurm_executor.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler {

// Slurm executors by executor name ("slurm:<cluster>"); borrowed.
using SlurmExecutors = std::map<std::string, executors::SlurmExecutor*>;

// Per-device GPU energy of the node: NVML in the daemon, a fake in tests.
struct GpuEnergySource {
  std::vector<std::string> uuids;  // One per device, in NVML index order.
  // Joules per device since the previous call; the first call returns 0s.
  std::function<Result<std::vector<double>>(TimePoint now)> sample_devices;
};

// Where the node meters are found; the defaults are the daemon's.
struct JobMetersOptions {
  // Probed for RAPL at construction; "" = no RAPL.
  std::string powercap_root = "/sys/class/powercap";
  bool rapl_include_dram = true;
  // The node's busy CPU time, the denominator of the RAPL split.
  std::string proc_stat_path = "/proc/stat";
  // A job's first interval starts from the newest node reading taken at most
  // this long before the job's `from`: an older one may span a counter wrap.
  Duration rapl_max_baseline_age{std::chrono::minutes(5)};
  // Loaded at construction; "" = no GPU meter.
  std::string nvml_library = "libnvidia-ml.so.1";
  // When set, used instead of loading `nvml_library`.
  std::optional<GpuEnergySource> gpus;
};

class JobMeters final : public JobMeter {
 public:
  // `proc` and the executors in `slurm` must outlive the meters. Probes RAPL
  // and NVML once; what is unusable is logged once and not tried again.
  JobMeters(const config::HardwareConfig& hardware, executors::ProcReader& proc,
            double default_watts, SlurmExecutors slurm = {},
            JobMetersOptions options = {});

  bool rapl_active() const { return rapl_ != nullptr; }
  bool gpus_active() const { return gpus_.has_value(); }

  Result<EnergyReading> energy(const Job& job, TimePoint from,
                               TimePoint to) override;
  // Local jobs continue from the CPU seconds in `last.meter_counter`; the
  // first interval after it is modelled (no node reading from before the
  // restart), never counted from the process's start. Slurm jobs continue
  // from the counter of the row's source: the job's counted CPU seconds
  // ("slurm-cpu-time", "slurm-allocation") or ConsumedEnergy joules
  // ("slurm-energy"); the next reading counts the job's sstat totals beyond
  // it (a step that ended during the restart is not counted at all).
  void resume(const Job& job, const LedgerRecord& last) override;

 private:
  // Cumulative node counters at one instant (RAPL joules since
  // construction, busy CPU seconds since boot).
  struct NodeReading {
    TimePoint at;
    double package_joules = 0;
    double dram_joules = 0;
    double busy_cpu_seconds = 0;
  };
  struct CpuState {
    std::string native_id;
    pid_t session = 0;
    double last_cpu_seconds = 0;
    std::optional<NodeReading> node;   // At the job's last sample.
    std::vector<int> gpus;             // NVML indices from its environment.
    std::vector<double> gpu_baseline;  // gpu_per_user_joules_ at last sample.
  };
  // What has been counted of one Slurm job's current run.
  struct SlurmState {
    std::string native_id;
    std::optional<TimePoint> segment;  // job.running_since when read.
    std::optional<executors::SlurmAllocation> allocation;
    // Last CPU seconds / energy seen per step: sstat forgets a step once it
    // ends, so the job's figure is the sum of per-step increases.
    std::map<std::string, double> step_cpu;
    std::map<std::string, double> step_energy;
    double counted_cpu = 0;  // Sums of what was turned into joules.
    double counted_energy = 0;
    // Continued from a ledger row (resume()): the next reading's steps have
    // no baseline, so it counts their totals beyond the row's counter.
    bool resumed = false;
    bool resumed_energy = false;  // The counter was energy, not CPU time.
  };
  Result<EnergyReading> local_cpu_energy(const Job& job, TimePoint from,
                                         TimePoint to);
  // The node's counters at `to`, read once per distinct `to` (a `to` not
  // after the newest reading gets that reading).
  Result<NodeReading> read_node(TimePoint to);
  // The newest reading taken in [from - rapl_max_baseline_age, from].
  std::optional<NodeReading> node_reading_before(TimePoint from) const;
  // Samples the GPUs at `to` (once per distinct `to`) and splits each
  // device's energy among the live jobs that list it.
  void advance_gpus(TimePoint to);
  // Adds the job's GPU energy since its last sample to `reading`.
  void add_gpu_energy(const Job& job, CpuState& state, TimePoint from,
                      TimePoint to, EnergyReading& reading);
  Result<EnergyReading> slurm_energy(executors::SlurmExecutor& executor,
                                     const Job& job, TimePoint from,
                                     TimePoint to);
  // Watts of one of the job's GPUs: the hardware table's TDP of the gres
  // type, else the first `gpu` device of the hardware config; 0 (logged)
  // when neither is known.
  double gpu_watts(const executors::SlurmAllocation& allocation) const;

  config::HardwareConfig hardware_;
  executors::ProcReader& proc_;
  executors::CpuPowerModel model_;
  double default_watts_;
  SlurmExecutors slurm_executors_;
  JobMetersOptions options_;
  std::unique_ptr<executors::RaplMeter> rapl_;  // Null: no usable RAPL.
  bool rapl_dram_ = false;                      // A dram domain is counted.
  double rapl_package_joules_ = 0;              // Since construction.
  double rapl_dram_joules_ = 0;
  std::deque<NodeReading> node_readings_;  // Newest last, bounded.
  std::unique_ptr<executors::NvmlMeter> nvml_;
  std::optional<GpuEnergySource> gpus_;
  std::optional<TimePoint> gpu_last_time_;
  // Per device: joules since construction that one user of it was charged.
  std::vector<double> gpu_per_user_joules_;
  std::map<std::string, CpuState> cpu_;      // By job id.
  std::map<std::string, SlurmState> slurm_;  // By job id.
};

}  // namespace lowcarb::scheduler
