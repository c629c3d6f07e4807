// SPDX-License-Identifier: Apache-2.0
// Node GPU energy from NVIDIA's NVML, loaded with dlopen at run time so
// lowcarb neither links against nor requires the driver. Per device it uses
// the total-energy counter (mJ since driver load, Volta and newer) and falls
// back to power samples (mW) x the interval on older GPUs. No library or no
// GPU means no GPU meter: create() says why, and the caller reports it once.
// Also: which GPUs a job uses (CUDA_VISIBLE_DEVICES) and how to split each
// GPU's energy among the jobs bound to it. Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "executors/meters/meter.h"

namespace lowcarb::executors {

// One entry of CUDA_VISIBLE_DEVICES: an index ("0") or a UUID
// ("GPU-8f3c...", "MIG-..."; a unique prefix is allowed by CUDA).
struct GpuRef {
  std::optional<int> index;
  std::string uuid;

  bool operator==(const GpuRef&) const = default;
};

// Parses CUDA_VISIBLE_DEVICES as CUDA does: comma-separated, whitespace
// ignored; parsing stops at the first invalid entry (so "0,1,-1,2" is
// {0, 1}); "" or "NoDevFiles" is no GPU.
std::vector<GpuRef> parse_cuda_visible_devices(const std::string& value);

// Device indices (NVML order) of `refs`, given each device's UUID by index.
// Unknown indices and UUIDs that match no device (or more than one) are
// dropped; duplicates are kept once.
std::vector<int> resolve_gpu_indices(const std::vector<GpuRef>& refs,
                                     const std::vector<std::string>& uuids);

// Splits each device's joules equally among the jobs bound to it; result[j]
// is job j's energy. Devices no job uses are not attributed.
std::vector<double> attribute_gpu_energy(
    const std::vector<double>& joules_per_device,
    const std::vector<std::vector<int>>& devices_per_job);

class NvmlMeter final : public Meter {
 public:
  // kUnavailable with the reason (library missing, init failed, no GPU).
  static Result<std::unique_ptr<NvmlMeter>> create(
      const std::string& library = "libnvidia-ml.so.1");
  ~NvmlMeter() override;
  NvmlMeter(const NvmlMeter&) = delete;
  NvmlMeter& operator=(const NvmlMeter&) = delete;

  std::string source() const override { return "nvml"; }
  // joules_gpu = all devices.
  Result<EnergySample> sample(TimePoint now) override;
  // Per-device joules since the previous call of either sampling function.
  Result<std::vector<double>> sample_devices(TimePoint now);

  int device_count() const;
  const std::vector<std::string>& uuids() const;

 private:
  struct Library;
  explicit NvmlMeter(std::unique_ptr<Library> library);

  std::unique_ptr<Library> library_;
  std::optional<TimePoint> last_time_;
};

}  // namespace lowcarb::executors
