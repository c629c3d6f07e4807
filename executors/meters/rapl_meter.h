// SPDX-License-Identifier: Apache-2.0
// Node energy from RAPL counters under /sys/class/powercap (powercap(7)):
// zones intel-rapl:<p> ("package-N"), sub-zones intel-rapl:<p>:<s> ("core",
// "uncore", "dram") and on newer kernels a second view intel-rapl-mmio:<p> of
// the same package. Rules:
//  - package zones are counted; "dram" only when RaplOptions::include_dram;
//  - "psys" (the whole SoC/platform) is never added, since it already
//    contains the packages; "core"/"uncore" are parts of a package;
//  - a domain exposed twice (intel-rapl and intel-rapl-mmio with the same
//    name in the same package) is counted once (the intel-rapl one);
//  - energy_uj wraps at max_energy_range_uj; deltas account for one wrap,
//    so sample at least once per wrap period (minutes on big servers);
//  - energy_uj is readable by root only on kernels >= 5.10: create() reports
//    that with the fix instead of reading zeros.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "executors/meters/meter.h"

namespace lowcarb::executors {

struct RaplOptions {
  bool include_dram = true;  // Default: true (DRAM is part of a job's cost).
};

struct RaplDomain {
  enum class Kind { kPackage, kDram };
  Kind kind = Kind::kPackage;
  std::string zone;     // Directory name, e.g. "intel-rapl:0:2".
  std::string name;     // Contents of `name`, e.g. "dram".
  std::string package;  // The package it belongs to, e.g. "package-0".
  std::string energy_path;
  uint64_t max_energy_range_uj = 0;  // 0 = unknown.
};

// The domains under `root` to add up, after the rules above. kNotFound when
// `root` has no usable RAPL zone.
Result<std::vector<RaplDomain>> discover_rapl_domains(
    const std::string& root, const RaplOptions& options);

// Energy between two readings of a counter that wraps at `max_range_uj`
// (0 = unknown: a decrease is then taken as a counter reset from 0).
uint64_t rapl_counter_delta(uint64_t previous_uj, uint64_t current_uj,
                            uint64_t max_range_uj);

class RaplMeter final : public Meter {
 public:
  // Finds the domains and reads each counter once. kNotFound when there is
  // no RAPL (e.g. in VMs), kPermissionDenied (with the fix in the message)
  // when energy_uj is unreadable.
  static Result<std::unique_ptr<RaplMeter>> create(
      const std::string& root = "/sys/class/powercap",
      const RaplOptions& options = {});

  std::string source() const override { return "rapl"; }
  // joules_cpu = packages, joules_ram = dram. A counter that cannot be read
  // is an error (logged once, returned every time).
  Result<EnergySample> sample(TimePoint now) override;

  const std::vector<RaplDomain>& domains() const { return domains_; }

 private:
  explicit RaplMeter(std::vector<RaplDomain> domains);

  std::vector<RaplDomain> domains_;
  std::vector<std::optional<uint64_t>> last_uj_;
  std::optional<TimePoint> last_time_;
  bool read_error_logged_ = false;
};

}  // namespace lowcarb::executors
