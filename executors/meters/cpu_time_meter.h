// SPDX-License-Identifier: Apache-2.0
// A job's energy modelled from its CPU time, for machines without counters
// (VMs, containers, most laptops without root). Per interval:
//   E = dCPU_seconds x watts_per_core            (CPU; the Green Algorithms
//                                                  method: per-core TDP x
//                                                  core usage)
//     + RSS_GB x memory_watts_per_gb x dt        (memory; CodeCarbon's and
//                                                  Green Algorithms' 0.3725
//                                                  W/GB, i.e. 3 W per 8 GB)
//     + idle_watts x idle_share x dt             (the job's share of the
//                                                  node's static power)
// watts_per_core comes from hardware.watts_per_core, else the hardware
// table's TDP / cores of hardware.cpu_model, else
// data::default_watts_per_core() (Green Algorithms' 12 W "Any" CPU row).
// The job's CPU seconds are those of the live processes in its session
// (/proc; children's time counts once reaped by a process still in the
// session). CPU time used after the last sample before the job ends is not
// seen. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "config/config.h"
#include "executors/meters/meter.h"
#include "executors/proc_stat.h"

namespace lowcarb::executors {

struct CpuPowerModel {
  double watts_per_core = 0;
  double memory_watts_per_gb = 0;
  double idle_watts = 0;
  std::string watts_per_core_origin;  // "config", "cpu_model EPYC-7763", ...
};

// The model for `hardware`, following the precedence above.
CpuPowerModel cpu_power_model(const config::HardwareConfig& hardware);

// The energy of one interval (pure; see the formula above). `rss_bytes` is
// the memory held during the interval.
EnergySample estimate_cpu_time_energy(const CpuPowerModel& model,
                                      double cpu_seconds, uint64_t rss_bytes,
                                      Duration interval, double idle_share);

class CpuTimeMeter final : public Meter {
 public:
  // `usage` returns the job's cumulative CPU seconds and current memory at
  // `now` (e.g. session_usage_source()).
  using UsageSource = std::function<Result<TreeUsage>(TimePoint now)>;

  CpuTimeMeter(UsageSource usage, CpuPowerModel model);

  std::string source() const override { return "cpu-time-model"; }
  Result<EnergySample> sample(TimePoint now) override;

  // Fraction of the node's idle power charged to this job from now on,
  // e.g. 1 / number of running jobs. Default: 0.
  void set_idle_share(double share) { idle_share_ = share; }

 private:
  UsageSource usage_;
  CpuPowerModel model_;
  double idle_share_ = 0;
  std::optional<TimePoint> last_time_;
  double last_cpu_seconds_ = 0;
};

// A UsageSource over `reader` for the processes in `session` (the job's
// wrapper pid). `reader` must outlive the source; one /proc scan serves all
// jobs sampled with the same `now`.
CpuTimeMeter::UsageSource session_usage_source(ProcReader& reader,
                                               pid_t session);

}  // namespace lowcarb::executors
