// SPDX-License-Identifier: Apache-2.0
// The daemon's JobMeter: picks, per job, the best figure available.
//  1. declared power (`--power W` or `--hardware SPEC`, resolved through the
//     hardware table) when the user gave one: they know their hardware;
//  2. local jobs: the CPU-time model over the job's process session
//     (executors/meters/cpu_time_meter.h), the only measurement this kind of
//     machine (no RAPL, no GPU) allows;
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

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "executors/meters/cpu_time_meter.h"
#include "executors/proc_stat.h"
#include "executors/slurm_executor.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler {

// Slurm executors by executor name ("slurm:<cluster>"); borrowed.
using SlurmExecutors = std::map<std::string, executors::SlurmExecutor*>;

class JobMeters final : public JobMeter {
 public:
  // `proc` and the executors in `slurm` must outlive the meters.
  JobMeters(const config::HardwareConfig& hardware, executors::ProcReader& proc,
            double default_watts, SlurmExecutors slurm = {});

  Result<EnergyReading> energy(const Job& job, TimePoint from,
                               TimePoint to) override;

 private:
  struct CpuState {
    std::string native_id;
    double last_cpu_seconds = 0;
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
  };
  Result<EnergyReading> local_cpu_energy(const Job& job, TimePoint from,
                                         TimePoint to);
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
  std::map<std::string, CpuState> cpu_;      // By job id.
  std::map<std::string, SlurmState> slurm_;  // By job id.
};

}  // namespace lowcarb::scheduler
