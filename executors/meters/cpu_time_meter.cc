// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/cpu_time_meter.h"

#include <algorithm>

#include <fmt/format.h>

#include "data/catalogue.h"

namespace lowcarb::executors {

CpuPowerModel cpu_power_model(const config::HardwareConfig& hardware) {
  CpuPowerModel model;
  model.memory_watts_per_gb = hardware.memory_watts_per_gb > 0
                                  ? hardware.memory_watts_per_gb
                                  : data::default_memory_watts_per_gb();
  model.idle_watts = hardware.idle_watts;
  if (hardware.watts_per_core > 0) {
    model.watts_per_core = hardware.watts_per_core;
    model.watts_per_core_origin = "config hardware.watts_per_core";
    return model;
  }
  if (!hardware.cpu_model.empty()) {
    const auto* info = data::find_hardware(hardware.cpu_model);
    if (info && info->cores > 0 && info->tdp_watts > 0) {
      model.watts_per_core = info->tdp_watts / info->cores;
      model.watts_per_core_origin =
          fmt::format("hardware table {} ({} W / {} cores)", info->name,
                      info->tdp_watts, info->cores);
      return model;
    }
  }
  model.watts_per_core = data::default_watts_per_core();
  model.watts_per_core_origin = "default watts per core";
  return model;
}

EnergySample estimate_cpu_time_energy(const CpuPowerModel& model,
                                      double cpu_seconds, uint64_t rss_bytes,
                                      Duration interval, double idle_share) {
  EnergySample sample;
  sample.source = "cpu-time-model";
  const double seconds = static_cast<double>(interval.count());
  sample.joules_cpu = std::max(0.0, cpu_seconds) * model.watts_per_core;
  sample.joules_ram = static_cast<double>(rss_bytes) / 1e9 *
                      model.memory_watts_per_gb * seconds;
  sample.joules_idle =
      model.idle_watts * std::clamp(idle_share, 0.0, 1.0) * seconds;
  return sample;
}

CpuTimeMeter::CpuTimeMeter(UsageSource usage, CpuPowerModel model)
    : usage_(std::move(usage)), model_(std::move(model)) {}

Result<EnergySample> CpuTimeMeter::sample(TimePoint now) {
  auto usage = usage_(now);
  if (!usage) {
    return tl::unexpected(usage.error());
  }
  const Duration interval = last_time_ ? now - *last_time_ : Duration{0};
  // Time of processes that exited unreaped drops out of the sum; never
  // report negative CPU.
  const double cpu =
      last_time_ ? std::max(0.0, usage->cpu_seconds - last_cpu_seconds_) : 0.0;
  EnergySample sample = estimate_cpu_time_energy(model_, cpu, usage->rss_bytes,
                                                 interval, idle_share_);
  sample.start = last_time_.value_or(now);
  sample.end = now;
  last_time_ = now;
  last_cpu_seconds_ = std::max(last_cpu_seconds_, usage->cpu_seconds);
  return sample;
}

CpuTimeMeter::UsageSource session_usage_source(ProcReader& reader,
                                               pid_t session) {
  return [&reader, session](TimePoint now) -> Result<TreeUsage> {
    return reader.session_usage(session, now);
  };
}

}  // namespace lowcarb::executors
