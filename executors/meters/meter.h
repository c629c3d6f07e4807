// SPDX-License-Identifier: Apache-2.0
// Energy meters. A Meter measures (or models) the energy one thing used over
// an interval: a node (RAPL, NVML) or a job (CPU-time model, declared power).
// Each call to sample(now) closes the interval that began at the previous
// call and opens the next, so the daemon samples every sample_period and adds
// the results up. Every figure carries its source, because a measured joule
// and a modelled one are not equally trustworthy:
//   "rapl"            Intel/AMD RAPL energy counters (node, CPU packages+DRAM)
//   "nvml"            NVIDIA GPU energy counters or power samples (node, GPUs)
//   "cpu-time-model"  CPU seconds x watts per core + memory + idle share (job)
//   "declared"        the job's declared power x running wall time (job)
//   "slurm"           Slurm's accounting (ConsumedEnergy), via the Slurm
//                     executor
// Meters are not thread-safe; the daemon loop drives them.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb::executors {

struct EnergySample {
  TimePoint start;  // The previous sample (== end for the first sample).
  TimePoint end;    // The `now` of this sample.
  double joules_cpu = 0;
  double joules_gpu = 0;
  double joules_ram = 0;
  // The job's share of the node's idle (static) power; 0 for node meters.
  double joules_idle = 0;
  std::string source;  // See the list above.

  double joules() const {
    return joules_cpu + joules_gpu + joules_ram + joules_idle;
  }
};

class Meter {
 public:
  virtual ~Meter() = default;

  // The source name the samples carry ("rapl", "nvml", ...).
  virtual std::string source() const = 0;

  // Energy used since the previous call. The first call starts the interval
  // and returns 0 J (start == end). Errors are values: a counter that became
  // unreadable is an Error, never a silent zero. `now` must not go
  // backwards.
  virtual Result<EnergySample> sample(TimePoint now) = 0;
};

}  // namespace lowcarb::executors
