// SPDX-License-Identifier: Apache-2.0
#include "scheduler/job_meters.h"

#include <sys/types.h>

#include "common/strings.h"
#include "executors/meters/declared_power_meter.h"

namespace lowcarb::scheduler {

JobMeters::JobMeters(const config::HardwareConfig& hardware,
                     executors::ProcReader& proc, double default_watts)
    : hardware_(hardware),
      proc_(proc),
      model_(executors::cpu_power_model(hardware)),
      default_watts_(default_watts) {}

Result<EnergyReading> JobMeters::energy(const Job& job, TimePoint from,
                                        TimePoint to) {
  double seconds = static_cast<double>((to - from).count());
  if (job.spec.power_watts > 0 || !job.spec.hardware.empty()) {
    auto declared = executors::resolve_declared_power(
        job.spec.power_watts > 0 ? std::optional<double>(job.spec.power_watts)
                                 : std::nullopt,
        job.spec.hardware, hardware_.cpu_model);
    if (declared) {
      EnergyReading reading;
      (declared->gpu ? reading.gpu_joules : reading.cpu_joules) =
          declared->watts * seconds;
      reading.source = "declared";
      return reading;
    }
  }
  if (job.executor == "local" && job.handle) {
    auto reading = local_cpu_energy(job, from, to);
    if (reading) {
      return reading;
    }
  }
  EnergyReading reading;
  reading.other_joules = default_watts_ * seconds;
  reading.source = "default-power";
  return reading;
}

Result<EnergyReading> JobMeters::local_cpu_energy(const Job& job,
                                                  TimePoint from,
                                                  TimePoint to) {
  // native_id is "<pid>:<start ticks>"; the wrapper leads the job's session.
  auto colon = job.handle->native_id.find(':');
  auto pid = parse_integer(job.handle->native_id.substr(0, colon));
  if (!pid) {
    return make_error(ErrorCode::kInvalidArgument,
                      "bad local handle " + job.handle->native_id);
  }
  auto usage = executors::session_usage_source(proc_, static_cast<pid_t>(*pid))(to);
  if (!usage) {
    return make_error(usage.error());
  }
  auto& state = cpu_[job.id];
  if (state.native_id != job.handle->native_id) {
    // A new process (first sample, or restarted from a checkpoint): its
    // CPU time counts from zero.
    state = {job.handle->native_id, 0};
  }
  double delta = std::max(0.0, usage->cpu_seconds - state.last_cpu_seconds);
  state.last_cpu_seconds = usage->cpu_seconds;
  auto sample = executors::estimate_cpu_time_energy(
      model_, delta, usage->rss_bytes, to - from, 0.0);
  EnergyReading reading;
  reading.cpu_joules = sample.joules_cpu;
  reading.ram_joules = sample.joules_ram;
  reading.other_joules = sample.joules_idle + sample.joules_gpu;
  reading.source = "cpu-time-model";
  return reading;
}

}  // namespace lowcarb::scheduler
