// SPDX-License-Identifier: Apache-2.0
#include "scheduler/job_meters.h"

#include <sys/types.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/strings.h"
#include "data/catalogue.h"
#include "executors/meters/declared_power_meter.h"
#include "executors/meters/node_cpu_time.h"
#include "executors/meters/node_energy_split.h"

namespace lowcarb::scheduler {
namespace {

std::shared_ptr<spdlog::logger> logger() { return get_logger("meters"); }

// Node readings kept for the first intervals of jobs: a few rounds of
// samples of every running job.
constexpr size_t kMaxNodeReadings = 64;

}  // namespace

JobMeters::JobMeters(const config::HardwareConfig& hardware,
                     executors::ProcReader& proc, double default_watts,
                     SlurmExecutors slurm, JobMetersOptions options)
    : hardware_(hardware),
      proc_(proc),
      model_(executors::cpu_power_model(hardware)),
      default_watts_(default_watts),
      slurm_executors_(std::move(slurm)),
      options_(std::move(options)) {
  if (!options_.powercap_root.empty()) {
    auto rapl = executors::RaplMeter::create(
        options_.powercap_root,
        executors::RaplOptions{options_.rapl_include_dram});
    auto busy = executors::read_node_busy_cpu_seconds(options_.proc_stat_path,
                                                      proc_.ticks_per_second());
    if (!rapl) {
      // No RAPL (VMs, non-Intel/AMD) is normal; anything else is a
      // measurement the operator can enable.
      if (rapl.error().code == ErrorCode::kNotFound) {
        logger()->debug("{}; local jobs use the CPU-time model",
                        rapl.error().message);
      } else {
        logger()->warn(
            "RAPL energy counters unusable: {}; local jobs use "
            "the CPU-time model",
            rapl.error().message);
      }
    } else if (!busy) {
      logger()->warn(
          "RAPL found but {}: the node's energy cannot be split "
          "among jobs; local jobs use the CPU-time model",
          busy.error().message);
    } else {
      rapl_ = std::move(*rapl);
      for (const auto& domain : rapl_->domains()) {
        rapl_dram_ |= domain.kind == executors::RaplDomain::Kind::kDram;
      }
      // Sets the counters' baseline; the energy before it is nobody's.
      (void)rapl_->sample(TimePoint{});
      logger()->info("local jobs metered with RAPL ({} domain(s){})",
                     rapl_->domains().size(), rapl_dram_ ? ", dram" : "");
    }
  }
  if (options_.gpus) {
    gpus_ = std::move(options_.gpus);
    options_.gpus.reset();
  } else if (!options_.nvml_library.empty()) {
    auto nvml = executors::NvmlMeter::create(options_.nvml_library);
    if (nvml) {
      nvml_ = std::move(*nvml);
      executors::NvmlMeter* meter = nvml_.get();
      gpus_ = GpuEnergySource{meter->uuids(), [meter](TimePoint now) {
                                return meter->sample_devices(now);
                              }};
      logger()->info("GPU jobs metered with NVML ({} GPU(s))",
                     meter->device_count());
    } else {
      logger()->info("{}", nvml.error().message);
    }
  }
  if (gpus_) {
    gpu_per_user_joules_.assign(gpus_->uuids.size(), 0.0);
  }
}

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

void JobMeters::resume(const Job& job, const LedgerRecord& last) {
  if (!job.handle || !last.meter_counter) {
    return;
  }
  if (slurm_executors_.contains(job.executor)) {
    // The next sstat reading counts only what exceeds the ledger's counter.
    SlurmState state;
    state.native_id = job.handle->native_id;
    state.resumed = true;
    state.resumed_energy = last.meter_source == "slurm-energy";
    (state.resumed_energy ? state.counted_energy : state.counted_cpu) =
        *last.meter_counter;
    slurm_[job.id] = std::move(state);
    return;
  }
  if (job.executor != "local") {
    return;
  }
  const auto colon = job.handle->native_id.find(':');
  auto pid = parse_integer(job.handle->native_id.substr(0, colon));
  if (!pid) {
    return;
  }
  CpuState state;
  state.native_id = job.handle->native_id;
  state.session = static_cast<pid_t>(*pid);
  state.last_cpu_seconds = *last.meter_counter;
  cpu_[job.id] = std::move(state);
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
    state = CpuState{};
    state.native_id = job.handle->native_id;
    state.session = static_cast<pid_t>(*pid);
  }
  double delta = std::max(0.0, usage->cpu_seconds - state.last_cpu_seconds);
  state.last_cpu_seconds = usage->cpu_seconds;

  EnergyReading reading;
  bool measured = false;
  if (rapl_) {
    std::optional<NodeReading> baseline =
        state.node ? state.node : node_reading_before(from);
    auto node = read_node(to);
    if (!node) {
      // The meter logged the error once; this interval is modelled.
      state.node.reset();
    } else {
      state.node = *node;
      if (baseline) {
        const double busy = node->busy_cpu_seconds - baseline->busy_cpu_seconds;
        // The job's fraction of the node's busy CPU time; what other
        // processes used stays uncharged. No CPU time, no share (a job
        // alone on the node must not be charged the whole idle node).
        const double share = delta > 0 ? executors::split_node_energy(
                                             1.0, {{job.id, delta}}, busy)
                                             .front()
                                             .joules
                                       : 0.0;
        reading.cpu_joules =
            (node->package_joules - baseline->package_joules) * share;
        if (rapl_dram_) {
          reading.ram_joules =
              (node->dram_joules - baseline->dram_joules) * share;
        } else {
          reading.ram_joules = executors::estimate_cpu_time_energy(
                                   model_, 0, usage->rss_bytes, to - from, 0.0)
                                   .joules_ram;
        }
        reading.source = "rapl";
        measured = true;
      }
    }
  }
  if (!measured) {
    auto sample = executors::estimate_cpu_time_energy(
        model_, delta, usage->rss_bytes, to - from, 0.0);
    reading.cpu_joules = sample.joules_cpu;
    reading.ram_joules = sample.joules_ram;
    reading.other_joules = sample.joules_idle + sample.joules_gpu;
    reading.source = "cpu-time-model";
  }
  add_gpu_energy(job, state, from, to, reading);
  reading.counter = usage->cpu_seconds;
  return reading;
}

Result<JobMeters::NodeReading> JobMeters::read_node(TimePoint to) {
  if (!node_readings_.empty() && to <= node_readings_.back().at) {
    return node_readings_.back();
  }
  auto sample = rapl_->sample(to);
  if (!sample) {
    return make_error(sample.error());
  }
  // Counted before the /proc/stat read so a failure there loses no joules.
  rapl_package_joules_ += sample->joules_cpu;
  rapl_dram_joules_ += sample->joules_ram;
  auto busy = executors::read_node_busy_cpu_seconds(options_.proc_stat_path,
                                                    proc_.ticks_per_second());
  if (!busy) {
    logger()->debug("{}", busy.error().message);
    return make_error(busy.error());
  }
  node_readings_.push_back(
      NodeReading{to, rapl_package_joules_, rapl_dram_joules_, *busy});
  if (node_readings_.size() > kMaxNodeReadings) {
    node_readings_.pop_front();
  }
  return node_readings_.back();
}

std::optional<JobMeters::NodeReading> JobMeters::node_reading_before(
    TimePoint from) const {
  for (auto it = node_readings_.rbegin(); it != node_readings_.rend(); ++it) {
    if (it->at <= from) {
      if (from - it->at <= options_.rapl_max_baseline_age) {
        return *it;
      }
      break;
    }
  }
  return std::nullopt;
}

void JobMeters::advance_gpus(TimePoint to) {
  if (gpu_last_time_ && to <= *gpu_last_time_) {
    return;
  }
  auto joules = gpus_->sample_devices(to);
  gpu_last_time_ = to;
  if (!joules) {
    logger()->debug("GPU energy: {}", joules.error().message);
    return;
  }
  // Users per device: local jobs that list it and still have a live
  // process (ProcReader scans /proc once per `to`).
  std::vector<int> users(gpu_per_user_joules_.size(), 0);
  for (auto& [id, state] : cpu_) {
    if (state.gpus.empty()) {
      continue;
    }
    if (proc_.session_usage(state.session, to).processes == 0) {
      continue;
    }
    for (int device : state.gpus) {
      ++users[static_cast<size_t>(device)];
    }
  }
  for (size_t d = 0; d < users.size() && d < joules->size(); ++d) {
    if (users[d] > 0) {
      gpu_per_user_joules_[d] += (*joules)[d] / users[d];
    }
  }
}

void JobMeters::add_gpu_energy(const Job& job, CpuState& state, TimePoint from,
                               TimePoint to, EnergyReading& reading) {
  if (!gpus_) {
    return;
  }
  auto env = job.spec.env.find("CUDA_VISIBLE_DEVICES");
  if (env == job.spec.env.end()) {
    return;
  }
  auto devices = executors::resolve_gpu_indices(
      executors::parse_cuda_visible_devices(env->second), gpus_->uuids);
  if (devices.empty()) {
    return;
  }
  if (state.gpus != devices) {
    // First sample of this process: it shares the energy since the last
    // GPU reading if that is recent (at most a sample period before it
    // started), else it starts from this one.
    state.gpus = devices;
    const bool recent =
        gpu_last_time_ &&
        *gpu_last_time_ + options_.rapl_max_baseline_age >= from;
    if (!recent) {
      advance_gpus(to);
    }
    state.gpu_baseline.clear();
    for (int device : devices) {
      state.gpu_baseline.push_back(
          gpu_per_user_joules_[static_cast<size_t>(device)]);
    }
  }
  advance_gpus(to);
  double joules = 0;
  for (size_t i = 0; i < state.gpus.size(); ++i) {
    const double now = gpu_per_user_joules_[static_cast<size_t>(state.gpus[i])];
    joules += now - state.gpu_baseline[i];
    state.gpu_baseline[i] = now;
  }
  reading.gpu_joules += joules;
  reading.source += "+nvml";
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
    if (!live->steps.empty() && state.resumed) {
      // The first reading after a restart: the steps' totals so far, less
      // what the ledger already counted (a step that ended while we were
      // down and left sstat is lost to this reading, never counted twice).
      double cpu_total = 0;
      double energy_total = 0;
      for (const auto& step : live->steps) {
        state.step_cpu[step.step_id] = step.cpu_seconds;
        cpu_total += step.cpu_seconds;
        rss_bytes += step.rss_bytes;
        if (!step.energy_joules) {
          energy_known = false;
          continue;
        }
        state.step_energy[step.step_id] = *step.energy_joules;
        energy_total += *step.energy_joules;
      }
      if (state.resumed_energy) {
        energy_delta = std::max(0.0, energy_total - state.counted_energy);
      } else {
        cpu_delta = std::max(0.0, cpu_total - state.counted_cpu);
      }
      state.resumed = false;
      if (allocation && allocation->cpus > 0) {
        cpu_delta = std::min(cpu_delta, allocation->cpus * seconds + 1.0);
      }
    } else if (!live->steps.empty()) {
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
      state.resumed = false;
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
      reading.counter = state.counted_energy;
      return reading;
    }
    auto sample = executors::estimate_cpu_time_energy(
        model_, cpu_delta, rss_bytes, to - from, 0.0);
    reading.cpu_joules = sample.joules_cpu;
    reading.ram_joules = sample.joules_ram;
    reading.gpu_joules = gpu_joules;
    reading.source = "slurm-cpu-time";
    reading.counter = state.counted_cpu;
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
  reading.counter = state.counted_cpu;  // Unchanged: no CPU time was read.
  return reading;
}

}  // namespace lowcarb::scheduler
