// SPDX-License-Identifier: Apache-2.0
// Parsers for the small value languages inside the configuration: hour
// ranges ("22-06"), penalties ("25" or "10%") and device specs
// ("gpu: A100 x 4", "350W"). Pure functions, thread-safe. Errors are
// kInvalidArgument with a message "expected <what>, found <what>" and no
// location: load_config() prefixes file:line:column and the key path.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "config/config.h"

namespace lowcarb::config {

// "22-06", "22:00-06:00", "9-17", "0-24": whole local hours, start 0..23,
// end 1..24 (24 only as an end), start != end. An end below the start wraps
// past midnight.
Result<HourRange> parse_hour_range(std::string_view text);
// The inverse: "22-06" (two digits each).
std::string format_hour_range(const HourRange& range);

// A zone penalty: a plain non-negative number is g/kWh added to the zone's
// intensity; "N%" multiplies it by (1 + N/100).
struct Penalty {
  double gco2_per_kwh = 0;
  double percent = 0;
};
Result<Penalty> parse_penalty(std::string_view text);

// A resolved device spec. `kind` is "gpu", "cpu" or "watts".
struct DeviceSpec {
  std::string kind;
  std::string model;  // The hardware table's name; empty for "watts".
  int count = 1;
  double watts = 0;  // count x the model's TDP, or the watts given.
};
// Accepts "350", "350W", "350 W", "gpu: A100 x 4", "cpu: EPYC-7763 x 2",
// "A100-80GB-SXM" (kind taken from the table), "cpu" / "cpu x 2" (the
// model is `cpu_model`, which must then be set). Model names are matched
// through data::find_hardware(); unknown names get a "did you mean" hint.
Result<DeviceSpec> parse_device_spec(std::string_view spec,
                                     std::string_view cpu_model);

}  // namespace lowcarb::config
