// SPDX-License-Identifier: Apache-2.0
#include "scheduler/job_meters.h"

#include <sys/types.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/strings.h"
#include "data/catalogue.h"
#include "executors/meters/declared_power_meter.h"

namespace lowcarb::scheduler {
namespace {

std::shared_ptr<spdlog::logger> logger() { return get_logger("meters"); }

}  // namespace

JobMeters::JobMeters(const config::HardwareConfig& hardware,
                     executors::ProcReader& proc, double default_watts,
                     SlurmExecutors slurm)
    : hardware_(hardware),
      proc_(proc),
      model_(executors::cpu_power_model(hardware)),
      default_watts_(default_watts),
      slurm_executors_(std::move(slurm)) {}

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
  if (job.handle) {
    if (auto it = slurm_executors_.find(job.executor);
        it != slurm_executors_.end() && it->second != nullptr) {
      auto reading = slurm_energy(*it->second, job, from, to);
      if (reading) {
        return reading;
      }
      logger()->debug("job {}: {}; counting default power", job.id,
                      reading.error().message);
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
  auto usage =
      executors::session_usage_source(proc_, static_cast<pid_t>(*pid))(to);
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

double JobMeters::gpu_watts(
    const executors::SlurmAllocation& allocation) const {
  if (!allocation.gpu_type.empty()) {
    const auto* info = data::find_hardware(allocation.gpu_type);
    if (info != nullptr && info->kind == "gpu") {
      return info->tdp_watts;
    }
  }
  for (const auto& device : hardware_.devices) {
    if (device.kind == "gpu" && device.watts > 0) {
      return device.watts / std::max(1, device.count);
    }
  }
  return 0;
}

Result<EnergyReading> JobMeters::slurm_energy(
    executors::SlurmExecutor& executor, const Job& job, TimePoint from,
    TimePoint to) {
  const executors::ExecutorHandle& handle = *job.handle;
  auto& state = slurm_[job.id];
  if (state.native_id != handle.native_id) {
    state = SlurmState{};
    state.native_id = handle.native_id;
  }
  // The allocation is read once per run segment (a requeued job may get
  // other resources); Slurm forgets it MinJobAge after the end, so the
  // copy also serves the last interval.
  if (!state.allocation || state.segment != job.running_since) {
    auto allocation = executor.allocation(handle);
    if (allocation) {
      if (state.allocation &&
          allocation->restarts != state.allocation->restarts) {
        // A requeued run: its steps and totals count from zero again.
        const auto kept = state.native_id;
        state = SlurmState{};
        state.native_id = kept;
      }
      if (allocation->gpus > 0 && gpu_watts(*allocation) <= 0) {
        logger()->warn(
            "job {}: {} GPU(s) of unknown type '{}' and no gpu device in "
            "hardware.devices: their power is not counted",
            job.id, allocation->gpus, allocation->gpu_type);
      }
      state.allocation = *allocation;
      state.segment = job.running_since;
    } else {
      logger()->debug("job {}: {}", job.id, allocation.error().message);
    }
  }
  const double seconds = static_cast<double>((to - from).count());
  const auto& allocation = state.allocation;
  const double gpu_joules =
      allocation ? allocation->gpus * gpu_watts(*allocation) * seconds : 0.0;

  EnergyReading reading;
  auto live = executor.live_usage(handle);
  if (!live) {
    logger()->debug("job {}: {}; counting its allocation", job.id,
                    live.error().message);
  } else if (!live->steps.empty() || live->final_usage) {
    double cpu_delta = 0;
    double energy_delta = 0;
    bool energy_known = true;
    uint64_t rss_bytes = 0;
    if (!live->steps.empty()) {
      for (const auto& step : live->steps) {
        // A step lower than last time was started again under its id.
        double& last_cpu = state.step_cpu[step.step_id];
        cpu_delta +=
            step.cpu_seconds - (step.cpu_seconds < last_cpu ? 0.0 : last_cpu);
        last_cpu = step.cpu_seconds;
        rss_bytes += step.rss_bytes;
        if (!step.energy_joules) {
          energy_known = false;
          continue;
        }
        double& last_energy = state.step_energy[step.step_id];
        energy_delta += *step.energy_joules -
                        (*step.energy_joules < last_energy ? 0.0 : last_energy);
        last_energy = *step.energy_joules;
      }
      // No job uses more CPU time in an interval than its CPUs x the wall
      // time: a larger delta is a counter Slurm reset or a value it lost.
      if (allocation && allocation->cpus > 0) {
        cpu_delta = std::min(cpu_delta, allocation->cpus * seconds + 1.0);
      }
    } else {
      // The final totals: what the sstat samples did not see.
      const auto& total = *live->final_usage;
      cpu_delta = std::max(0.0, total.cpu_seconds - state.counted_cpu);
      energy_known = total.energy_joules.has_value();
      if (energy_known) {
        energy_delta =
            std::max(0.0, *total.energy_joules - state.counted_energy);
      }
    }
    state.counted_cpu += cpu_delta;
    state.counted_energy += energy_delta;
    // Node-level energy is the job's only when the job has the node to
    // itself; a plugin that reads nothing (all zero) is no measurement.
    if (live->energy_gathered && energy_known && allocation &&
        allocation->exclusive && state.counted_energy > 0) {
      reading.other_joules = energy_delta;
      if (!live->energy_covers_gpus) {
        reading.gpu_joules = gpu_joules;
      }
      reading.source = "slurm-energy";
      return reading;
    }
    auto sample = executors::estimate_cpu_time_energy(
        model_, cpu_delta, rss_bytes, to - from, 0.0);
    reading.cpu_joules = sample.joules_cpu;
    reading.ram_joules = sample.joules_ram;
    reading.gpu_joules = gpu_joules;
    reading.source = "slurm-cpu-time";
    return reading;
  }
  if (!allocation) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("Slurm job {}: neither its usage nor its "
                                  "allocation could be read",
                                  handle.native_id));
  }
  // No CPU time to read (no step runs: the tail after the last sstat of a
  // job that ended without slurmdbd, or sstat failed): charge every
  // allocated CPU as busy, an upper bound.
  reading.cpu_joules = allocation->cpus * model_.watts_per_core * seconds;
  reading.gpu_joules = gpu_joules;
  reading.source = "slurm-allocation";
  return reading;
}

}  // namespace lowcarb::scheduler
