// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/nvml_meter.h"

#include <dlfcn.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "common/strings.h"

namespace lowcarb::executors {

namespace {

// The few NVML declarations we need (nvml.h, NVML API version 11+); ABI
// stable since the _v2 entry points.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kNvmlSuccess = 0;
using NvmlInitFn = nvmlReturn_t (*)();
using NvmlShutdownFn = nvmlReturn_t (*)();
using NvmlGetCountFn = nvmlReturn_t (*)(unsigned int*);
using NvmlGetHandleFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using NvmlGetEnergyFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned long long*);
using NvmlGetPowerFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*);
using NvmlGetUuidFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);
using NvmlErrorStringFn = const char* (*)(nvmlReturn_t);

}  // namespace

struct NvmlMeter::Library {
  void* handle = nullptr;
  NvmlShutdownFn shutdown = nullptr;
  NvmlGetEnergyFn energy = nullptr;
  NvmlGetPowerFn power = nullptr;
  NvmlErrorStringFn error_string = nullptr;
  std::vector<nvmlDevice_t> devices;
  std::vector<std::string> uuids;
  std::vector<std::optional<unsigned long long>> last_mj;

  ~Library() {
    if (shutdown) {
      shutdown();
    }
    if (handle) {
      dlclose(handle);
    }
  }

  std::string describe(nvmlReturn_t code) const {
    return error_string ? error_string(code)
                        : fmt::format("NVML error {}", code);
  }
};

std::vector<GpuRef> parse_cuda_visible_devices(const std::string& value) {
  std::vector<GpuRef> refs;
  const std::string text(trim(value));
  if (text.empty() || text == "NoDevFiles") {
    return refs;
  }
  for (const auto& raw : split(text, ',')) {
    const std::string entry(trim(raw));
    if (entry.empty()) {
      break;
    }
    if (auto index = parse_integer(entry)) {
      if (*index < 0) {
        break;  // CUDA ignores this entry and every one after it.
      }
      refs.push_back(GpuRef{static_cast<int>(*index), ""});
    } else if (entry.rfind("GPU-", 0) == 0 || entry.rfind("MIG-", 0) == 0) {
      refs.push_back(GpuRef{std::nullopt, entry});
    } else {
      break;
    }
  }
  return refs;
}

std::vector<int> resolve_gpu_indices(const std::vector<GpuRef>& refs,
                                     const std::vector<std::string>& uuids) {
  std::vector<int> indices;
  std::set<int> seen;
  for (const auto& ref : refs) {
    std::optional<int> index;
    if (ref.index) {
      if (*ref.index < static_cast<int>(uuids.size())) {
        index = *ref.index;
      }
    } else {
      int matches = 0;
      for (size_t i = 0; i < uuids.size(); ++i) {
        if (uuids[i].rfind(ref.uuid, 0) == 0) {
          ++matches;
          index = static_cast<int>(i);
        }
      }
      if (matches != 1) {
        index.reset();
      }
    }
    if (index && seen.insert(*index).second) {
      indices.push_back(*index);
    }
  }
  return indices;
}

std::vector<double> attribute_gpu_energy(
    const std::vector<double>& joules_per_device,
    const std::vector<std::vector<int>>& devices_per_job) {
  std::vector<int> users(joules_per_device.size(), 0);
  for (const auto& devices : devices_per_job) {
    for (int d : devices) {
      if (d >= 0 && d < static_cast<int>(users.size())) {
        ++users[static_cast<size_t>(d)];
      }
    }
  }
  std::vector<double> result(devices_per_job.size(), 0.0);
  for (size_t j = 0; j < devices_per_job.size(); ++j) {
    for (int d : devices_per_job[j]) {
      if (d >= 0 && d < static_cast<int>(users.size())) {
        const auto device = static_cast<size_t>(d);
        result[j] += joules_per_device[device] / users[device];
      }
    }
  }
  return result;
}

Result<std::unique_ptr<NvmlMeter>> NvmlMeter::create(
    const std::string& library) {
  auto lib = std::make_unique<Library>();
  lib->handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) {
    const char* why = dlerror();
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("GPU energy meter: cannot load NVML ({}): {}; no GPU "
                    "energy is measured (install the NVIDIA driver, or "
                    "declare the job's power)",
                    library, why ? why : "unknown error"));
  }
  auto symbol = [&](const char* name) { return dlsym(lib->handle, name); };
  auto init = reinterpret_cast<NvmlInitFn>(symbol("nvmlInit_v2"));
  auto count =
      reinterpret_cast<NvmlGetCountFn>(symbol("nvmlDeviceGetCount_v2"));
  auto get_handle = reinterpret_cast<NvmlGetHandleFn>(
      symbol("nvmlDeviceGetHandleByIndex_v2"));
  auto shutdown = reinterpret_cast<NvmlShutdownFn>(symbol("nvmlShutdown"));
  lib->energy = reinterpret_cast<NvmlGetEnergyFn>(
      symbol("nvmlDeviceGetTotalEnergyConsumption"));
  lib->power =
      reinterpret_cast<NvmlGetPowerFn>(symbol("nvmlDeviceGetPowerUsage"));
  lib->error_string =
      reinterpret_cast<NvmlErrorStringFn>(symbol("nvmlErrorString"));
  auto get_uuid = reinterpret_cast<NvmlGetUuidFn>(symbol("nvmlDeviceGetUUID"));
  if (!init || !count || !get_handle || !shutdown ||
      (!lib->energy && !lib->power)) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("GPU energy meter: {} lacks the NVML "
                                  "functions lowcarb needs",
                                  library));
  }
  if (nvmlReturn_t rc = init(); rc != kNvmlSuccess) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("GPU energy meter: nvmlInit failed: {}",
                                  lib->describe(rc)));
  }
  lib->shutdown = shutdown;
  unsigned int devices = 0;
  if (nvmlReturn_t rc = count(&devices); rc != kNvmlSuccess || devices == 0) {
    return make_error(ErrorCode::kUnavailable,
                      rc != kNvmlSuccess
                          ? fmt::format("GPU energy meter: counting GPUs: {}",
                                        lib->describe(rc))
                          : std::string("GPU energy meter: NVML sees no GPU"));
  }
  for (unsigned int i = 0; i < devices; ++i) {
    nvmlDevice_t device = nullptr;
    if (nvmlReturn_t rc = get_handle(i, &device); rc != kNvmlSuccess) {
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("GPU energy meter: GPU {}: {}", i, lib->describe(rc)));
    }
    char uuid[96] = {};
    if (!get_uuid || get_uuid(device, uuid, sizeof(uuid)) != kNvmlSuccess) {
      uuid[0] = '\0';
    }
    lib->devices.push_back(device);
    lib->uuids.emplace_back(uuid);
  }
  lib->last_mj.resize(lib->devices.size());
  return std::unique_ptr<NvmlMeter>(new NvmlMeter(std::move(lib)));
}

NvmlMeter::NvmlMeter(std::unique_ptr<Library> library)
    : library_(std::move(library)) {}

NvmlMeter::~NvmlMeter() = default;

int NvmlMeter::device_count() const {
  return static_cast<int>(library_->devices.size());
}

const std::vector<std::string>& NvmlMeter::uuids() const {
  return library_->uuids;
}

Result<std::vector<double>> NvmlMeter::sample_devices(TimePoint now) {
  auto& lib = *library_;
  const double seconds =
      last_time_ ? static_cast<double>((now - *last_time_).count()) : 0.0;
  std::vector<double> joules(lib.devices.size(), 0.0);
  for (size_t i = 0; i < lib.devices.size(); ++i) {
    unsigned long long mj = 0;
    if (lib.energy && lib.energy(lib.devices[i], &mj) == kNvmlSuccess) {
      if (lib.last_mj[i] && last_time_ && mj >= *lib.last_mj[i]) {
        joules[i] = static_cast<double>(mj - *lib.last_mj[i]) / 1000.0;
      }
      lib.last_mj[i] = mj;
      continue;
    }
    // Pre-Volta: the current power draw stands for the whole interval.
    unsigned int mw = 0;
    if (!lib.power) {
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("GPU {}: no energy counter and no power "
                                    "reading",
                                    i));
    }
    if (nvmlReturn_t rc = lib.power(lib.devices[i], &mw); rc != kNvmlSuccess) {
      return make_error(
          ErrorCode::kUnavailable,
          fmt::format("GPU {}: reading power: {}", i, lib.describe(rc)));
    }
    joules[i] = static_cast<double>(mw) / 1000.0 * seconds;
  }
  last_time_ = now;
  return joules;
}

Result<EnergySample> NvmlMeter::sample(TimePoint now) {
  EnergySample sample;
  sample.source = "nvml";
  sample.start = last_time_.value_or(now);
  sample.end = now;
  auto devices = sample_devices(now);
  if (!devices) {
    return tl::unexpected(devices.error());
  }
  for (double joules : *devices) {
    sample.joules_gpu += joules;
  }
  return sample;
}

}  // namespace lowcarb::executors
