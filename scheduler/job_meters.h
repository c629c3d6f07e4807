// SPDX-License-Identifier: Apache-2.0
// The daemon's JobMeter: picks, per job, the best figure available.
//  1. declared power (`--power W` or `--hardware SPEC`, resolved through the
//     hardware table) when the user gave one: they know their hardware;
//  2. local jobs: the CPU-time model over the job's process session
//     (executors/meters/cpu_time_meter.h), the only measurement this kind of
//     machine (no RAPL, no GPU) allows;
//  3. otherwise the configured default power x running time
//     ("default-power"), so no running job is ever counted as zero.
// Not thread-safe; the scheduler loop drives it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "executors/meters/cpu_time_meter.h"
#include "executors/proc_stat.h"
#include "scheduler/tracker.h"

namespace lowcarb::scheduler {

class JobMeters final : public JobMeter {
 public:
  // `proc` must outlive the meters.
  JobMeters(const config::HardwareConfig& hardware, executors::ProcReader& proc,
            double default_watts);

  Result<EnergyReading> energy(const Job& job, TimePoint from,
                               TimePoint to) override;

 private:
  struct CpuState {
    std::string native_id;
    double last_cpu_seconds = 0;
  };
  Result<EnergyReading> local_cpu_energy(const Job& job, TimePoint from,
                                         TimePoint to);

  config::HardwareConfig hardware_;
  executors::ProcReader& proc_;
  executors::CpuPowerModel model_;
  double default_watts_;
  std::map<std::string, CpuState> cpu_;  // By job id.
};

}  // namespace lowcarb::scheduler
