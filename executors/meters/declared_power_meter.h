// SPDX-License-Identifier: Apache-2.0
// A job's energy from the power it declares: `power_w: 350` or hardware such
// as `gpu: A100 x 4` (TDPs from the hardware table, data/hardware.csv). The
// energy is watts x the wall time the job was running; time paused does not
// count. TDP is an upper bound of the average draw, so declared figures
// overestimate rather than underestimate. Not thread-safe.
#pragma once

#include <optional>
#include <string>

#include "executors/meters/meter.h"

namespace lowcarb::executors {

struct DeclaredPower {
  double watts = 0;
  std::string origin;  // "power_w", "gpu: A100 x 4 = 4 x 400 W", ...
  bool gpu = false;    // Counted as GPU energy (else CPU).
};

// From `power_w` when set (> 0), else from `hardware_spec` (see
// config::parse_device_spec; `cpu_model` resolves a bare "cpu").
// kInvalidArgument naming the spec when neither gives a figure.
Result<DeclaredPower> resolve_declared_power(std::optional<double> power_w,
                                             const std::string& hardware_spec,
                                             const std::string& cpu_model);

class DeclaredPowerMeter final : public Meter {
 public:
  // The job is running from `running_since`; unlike the node meters, the
  // first sample already counts the time since then.
  DeclaredPowerMeter(DeclaredPower power, TimePoint running_since);

  std::string source() const override { return "declared"; }
  Result<EnergySample> sample(TimePoint now) override;

  // The job paused or resumed at `now`; time paused is not counted.
  void set_running(bool running, TimePoint now);

 private:
  DeclaredPower power_;
  bool running_ = true;
  TimePoint running_since_;
  Duration unsampled_running_{0};  // Running time not yet sampled.
  TimePoint first_start_;
  std::optional<TimePoint> last_time_;
};

}  // namespace lowcarb::executors
