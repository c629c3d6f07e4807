// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/rapl_meter.h"

#include <errno.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/strings.h"

namespace lowcarb::executors {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_line(const fs::path& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::string line;
  std::getline(in, line);
  return std::string(trim(line));
}

// Reads a counter; distinguishes "permission denied" for the error message.
Result<uint64_t> read_counter(const std::string& path) {
  errno = 0;
  std::ifstream in(path);
  if (!in) {
    const int saved = errno;
    if (saved == EACCES || saved == EPERM) {
      return make_error(
          ErrorCode::kPermissionDenied,
          fmt::format("reading RAPL counter {}: permission denied (energy_uj "
                      "is readable by root only on Linux >= 5.10); fix: "
                      "'chmod a+r {}' (e.g. from a udev rule or systemd "
                      "tmpfiles) or run the lowcarb daemon as root",
                      path, path));
    }
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("reading RAPL counter {}: {}", path,
                    saved ? std::strerror(saved) : "cannot open"));
  }
  std::string line;
  std::getline(in, line);
  auto value = parse_integer(line);
  if (!value || *value < 0) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("reading RAPL counter {}: '{}' is not a "
                                  "number",
                                  path, line));
  }
  return static_cast<uint64_t>(*value);
}

// "intel-rapl:0:2" -> 2 colons; control-type directories have none.
int colons(const std::string& zone) {
  return static_cast<int>(std::count(zone.begin(), zone.end(), ':'));
}

bool is_mmio(const std::string& zone) {
  return zone.rfind("intel-rapl-mmio", 0) == 0;
}

}  // namespace

Result<std::vector<RaplDomain>> discover_rapl_domains(
    const std::string& root, const RaplOptions& options) {
  std::vector<std::string> zones;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string zone = it->path().filename().string();
    if (zone.find("rapl") != std::string::npos && colons(zone) >= 1) {
      zones.push_back(zone);
    }
  }
  if (zones.empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no RAPL zones under {}{}", root,
                                  ec ? ": " + ec.message() : std::string()));
  }
  // intel-rapl before intel-rapl-mmio, so the duplicate dropped is the mmio
  // view; parents before children.
  std::sort(zones.begin(), zones.end(),
            [](const std::string& a, const std::string& b) {
              if (is_mmio(a) != is_mmio(b)) {
                return !is_mmio(a);
              }
              return a < b;
            });
  std::map<std::string, std::string> zone_names;
  for (const auto& zone : zones) {
    zone_names[zone] = read_line(fs::path(root) / zone / "name").value_or("");
  }
  std::vector<RaplDomain> domains;
  std::set<std::pair<std::string, std::string>> seen;  // (package, name)
  for (const auto& zone : zones) {
    const std::string& name = zone_names[zone];
    RaplDomain domain;
    domain.zone = zone;
    domain.name = name;
    if (colons(zone) == 1) {
      domain.package = name;
    } else {
      const std::string parent = zone.substr(0, zone.rfind(':'));
      domain.package = zone_names.count(parent) ? zone_names[parent] : parent;
    }
    if (name.rfind("package", 0) == 0 && colons(zone) == 1) {
      domain.kind = RaplDomain::Kind::kPackage;
    } else if (name == "dram" && options.include_dram) {
      domain.kind = RaplDomain::Kind::kDram;
    } else {
      continue;  // psys, core, uncore, or dram when not wanted.
    }
    if (!seen.insert({domain.package, name}).second) {
      continue;  // The same domain seen through intel-rapl-mmio.
    }
    domain.energy_path = (fs::path(root) / zone / "energy_uj").string();
    auto max_range = read_line(fs::path(root) / zone / "max_energy_range_uj");
    if (max_range) {
      if (auto value = parse_integer(*max_range); value && *value > 0) {
        domain.max_energy_range_uj = static_cast<uint64_t>(*value);
      }
    }
    domains.push_back(std::move(domain));
  }
  if (domains.empty()) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no RAPL package domain under {}", root));
  }
  return domains;
}

uint64_t rapl_counter_delta(uint64_t previous_uj, uint64_t current_uj,
                            uint64_t max_range_uj) {
  if (current_uj >= previous_uj) {
    return current_uj - previous_uj;
  }
  if (max_range_uj == 0 || previous_uj > max_range_uj) {
    return current_uj;  // Reset (or a bogus range): count from zero.
  }
  // Wrapped once: from previous up to max_range, then from 0 to current.
  return (max_range_uj - previous_uj) + current_uj;
}

Result<std::unique_ptr<RaplMeter>> RaplMeter::create(
    const std::string& root, const RaplOptions& options) {
  auto domains = discover_rapl_domains(root, options);
  if (!domains) {
    return tl::unexpected(domains.error());
  }
  for (const auto& domain : *domains) {
    auto value = read_counter(domain.energy_path);
    if (!value) {
      return tl::unexpected(value.error());
    }
  }
  return std::unique_ptr<RaplMeter>(new RaplMeter(std::move(*domains)));
}

RaplMeter::RaplMeter(std::vector<RaplDomain> domains)
    : domains_(std::move(domains)), last_uj_(domains_.size()) {}

Result<EnergySample> RaplMeter::sample(TimePoint now) {
  EnergySample sample;
  sample.source = "rapl";
  sample.end = now;
  sample.start = last_time_.value_or(now);
  std::vector<uint64_t> current(domains_.size());
  for (size_t i = 0; i < domains_.size(); ++i) {
    auto value = read_counter(domains_[i].energy_path);
    if (!value) {
      if (!read_error_logged_) {
        get_logger("executors.meters")->error("{}", value.error().message);
        read_error_logged_ = true;
      }
      return tl::unexpected(value.error());
    }
    current[i] = *value;
  }
  for (size_t i = 0; i < domains_.size(); ++i) {
    if (last_uj_[i] && last_time_) {
      const double joules =
          static_cast<double>(rapl_counter_delta(
              *last_uj_[i], current[i], domains_[i].max_energy_range_uj)) /
          1e6;
      if (domains_[i].kind == RaplDomain::Kind::kPackage) {
        sample.joules_cpu += joules;
      } else {
        sample.joules_ram += joules;
      }
    }
    last_uj_[i] = current[i];
  }
  last_time_ = now;
  return sample;
}

}  // namespace lowcarb::executors
