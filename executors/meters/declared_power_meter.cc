// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/declared_power_meter.h"

#include <algorithm>

#include <fmt/format.h>

#include "config/value_parsers.h"

namespace lowcarb::executors {

Result<DeclaredPower> resolve_declared_power(std::optional<double> power_w,
                                             const std::string& hardware_spec,
                                             const std::string& cpu_model) {
  if (power_w && *power_w > 0) {
    return DeclaredPower{*power_w, fmt::format("power_w {} W", *power_w),
                         false};
  }
  if (hardware_spec.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "declared power: the job sets neither power_w nor a "
                      "hardware spec");
  }
  auto device = config::parse_device_spec(hardware_spec, cpu_model);
  if (!device) {
    return tl::unexpected(device.error().with_context(
        fmt::format("declared power of hardware '{}'", hardware_spec)));
  }
  DeclaredPower power;
  power.watts = device->watts;
  power.gpu = device->kind == "gpu";
  power.origin = device->model.empty()
                     ? fmt::format("{} = {} W", hardware_spec, device->watts)
                     : fmt::format("{} = {} x {} ({} W)", hardware_spec,
                                   device->count, device->model, device->watts);
  return power;
}

DeclaredPowerMeter::DeclaredPowerMeter(DeclaredPower power,
                                       TimePoint running_since)
    : power_(std::move(power)),
      running_since_(running_since),
      first_start_(running_since) {}

void DeclaredPowerMeter::set_running(bool running, TimePoint now) {
  if (running == running_) {
    return;
  }
  if (running_) {
    unsampled_running_ += std::max(Duration{0}, now - running_since_);
  } else {
    running_since_ = now;
  }
  running_ = running;
}

Result<EnergySample> DeclaredPowerMeter::sample(TimePoint now) {
  const TimePoint start = last_time_.value_or(first_start_);
  Duration running = unsampled_running_;
  if (running_) {
    running += std::max(Duration{0}, now - running_since_);
    running_since_ = now;
  }
  unsampled_running_ = Duration{0};
  EnergySample sample;
  sample.source = "declared";
  sample.start = start;
  sample.end = now;
  const double joules = power_.watts * static_cast<double>(running.count());
  if (power_.gpu) {
    sample.joules_gpu = joules;
  } else {
    sample.joules_cpu = joules;
  }
  last_time_ = now;
  return sample;
}

}  // namespace lowcarb::executors
