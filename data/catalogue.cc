// SPDX-License-Identifier: Apache-2.0
#include "data/catalogue.h"

#include <algorithm>
#include <mutex>

#include "common/assert.h"
#include "common/strings.h"

namespace lowcarb::data {
namespace embedded {
extern const std::string_view kZonesCsv;
extern const std::string_view kHardwareCsv;
}  // namespace embedded

namespace {

// Rows of a comma-separated file; lines starting with '#' are comments and
// the first other line is the header.
std::vector<std::vector<std::string>> csv_rows(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  bool header_seen = false;
  for (const auto& raw : split(text, '\n')) {
    auto line = trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (!header_seen) {
      header_seen = true;
      continue;
    }
    rows.push_back(split(line, ','));
  }
  return rows;
}

std::string normalise(std::string_view name) {
  std::string out;
  for (char c : to_lower(name)) {
    if (c != ' ' && c != '-' && c != '_') {
      out += c;
    }
  }
  return out;
}

struct Tables {
  std::vector<ZoneInfo> zones;
  std::vector<HardwareInfo> hardware;
  double watts_per_core = 0;
  double memory_watts_per_gb = 0;
};

const Tables& tables() {
  static const Tables instance = [] {
    Tables t;
    for (const auto& row : csv_rows(embedded::kZonesCsv)) {
      LOWCARB_ASSERT(row.size() == 10);
      ZoneInfo zone;
      zone.id = row[0];
      zone.name = row[1];
      zone.time_zone = row[2];
      zone.annual_gco2_per_kwh = parse_double(row[3]).value_or(0);
      zone.annual_basis = row[4];
      zone.annual_year = static_cast<int>(parse_integer(row[5]).value_or(0));
      zone.annual_source = row[6];
      const char* providers[] = {"aws", "gcp", "azure"};
      for (int i = 0; i < 3; ++i) {
        for (const auto& region : split(row[7 + i], ';')) {
          if (!trim(region).empty()) {
            zone.cloud_regions.push_back({providers[i], std::string(trim(region))});
          }
        }
      }
      t.zones.push_back(std::move(zone));
    }
    for (const auto& row : csv_rows(embedded::kHardwareCsv)) {
      LOWCARB_ASSERT(row.size() == 5);
      HardwareInfo info;
      info.name = row[0];
      info.kind = row[1];
      info.tdp_watts = parse_double(row[2]).value_or(0);
      info.cores = static_cast<int>(parse_integer(row[3]).value_or(0));
      info.source = row[4];
      if (info.kind == "default") {
        if (info.name == "default-core") {
          t.watts_per_core = info.tdp_watts;
        } else if (info.name == "default-memory-per-gb") {
          t.memory_watts_per_gb = info.tdp_watts;
        }
        continue;
      }
      t.hardware.push_back(std::move(info));
    }
    return t;
  }();
  return instance;
}

}  // namespace

const std::vector<ZoneInfo>& zones() { return tables().zones; }

const ZoneInfo* find_zone(std::string_view id_or_region) {
  for (const auto& zone : zones()) {
    if (iequals(zone.id, id_or_region)) {
      return &zone;
    }
  }
  for (const auto& zone : zones()) {
    for (const auto& region : zone.cloud_regions) {
      if (iequals(region.region, id_or_region)) {
        return &zone;
      }
    }
  }
  return nullptr;
}

std::vector<std::string> zone_ids() {
  std::vector<std::string> ids;
  for (const auto& zone : zones()) {
    ids.push_back(zone.id);
  }
  return ids;
}

const std::vector<HardwareInfo>& hardware() { return tables().hardware; }

const HardwareInfo* find_hardware(std::string_view name) {
  auto wanted = normalise(name);
  for (const auto& info : hardware()) {
    if (normalise(info.name) == wanted) {
      return &info;
    }
  }
  return nullptr;
}

std::vector<std::string> hardware_names() {
  std::vector<std::string> names;
  for (const auto& info : hardware()) {
    names.push_back(info.name);
  }
  return names;
}

double default_watts_per_core() { return tables().watts_per_core; }
double default_memory_watts_per_gb() { return tables().memory_watts_per_gb; }

std::string_view zones_csv() { return embedded::kZonesCsv; }
std::string_view hardware_csv() { return embedded::kHardwareCsv; }

}  // namespace lowcarb::data
