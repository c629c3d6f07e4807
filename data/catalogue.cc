// SPDX-License-Identifier: Apache-2.0
#include "data/catalogue.h"

#include <cstdio>
#include <string>

#include "common/assert.h"
#include "common/strings.h"

namespace lowcarb::data {
namespace embedded {
extern const std::string_view kZonesCsv;
extern const std::string_view kHardwareCsv;
}  // namespace embedded

namespace {

constexpr size_t kZoneFields = 10;
constexpr size_t kHardwareFields = 5;

struct CsvRow {
  int line = 0;  // 1-based line in the file.
  std::vector<std::string> fields;
};

// Rows of a comma-separated file; lines starting with '#' are comments and
// the first other line is the header.
std::vector<CsvRow> csv_rows(std::string_view text) {
  std::vector<CsvRow> rows;
  bool header_seen = false;
  int line_number = 0;
  for (const auto& raw : split(text, '\n')) {
    ++line_number;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (!header_seen) {
      header_seen = true;
      continue;
    }
    CsvRow row{line_number, {}};
    for (const auto& field : split(line, ',')) {
      row.fields.emplace_back(trim(field));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

tl::unexpected<Error> row_error(std::string_view source_name, int line,
                                const std::string& what) {
  return make_error(
      ErrorCode::kInvalidArgument,
      std::string(source_name) + ":" + std::to_string(line) + ": " + what);
}

std::string field_count_message(size_t expected, size_t found) {
  return "expected " + std::to_string(expected) +
         " comma-separated fields, found " + std::to_string(found);
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

// The embedded files are part of the build: a bad row is a bug in this
// repository, so it aborts with the parser's message rather than limping on.
template <typename T>
T embedded_or_abort(Result<T> parsed) {
  if (!parsed) {
    std::fprintf(stderr, "lowcarb: embedded data is invalid: %s\n",
                 parsed.error().message.c_str());
  }
  LOWCARB_ASSERT(parsed.has_value());
  return std::move(*parsed);
}

const Tables& tables() {
  static const Tables instance = [] {
    Tables t;
    t.zones =
        embedded_or_abort(parse_zones_csv(embedded::kZonesCsv, "zones.csv"));
    for (auto& info : embedded_or_abort(
             parse_hardware_csv(embedded::kHardwareCsv, "hardware.csv"))) {
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
    LOWCARB_ASSERT(t.watts_per_core > 0);
    LOWCARB_ASSERT(t.memory_watts_per_gb > 0);
    return t;
  }();
  return instance;
}

}  // namespace

Result<std::vector<ZoneInfo>> parse_zones_csv(std::string_view text,
                                              std::string_view source_name) {
  static const char* const kProviders[] = {"aws", "gcp", "azure"};
  std::vector<ZoneInfo> zones;
  for (const auto& row : csv_rows(text)) {
    const auto& f = row.fields;
    if (f.size() != kZoneFields) {
      return row_error(source_name, row.line,
                       field_count_message(kZoneFields, f.size()));
    }
    ZoneInfo zone;
    zone.id = f[0];
    if (zone.id.empty()) {
      return row_error(source_name, row.line, "zone_id: empty");
    }
    zone.name = f[1];
    zone.time_zone = f[2];
    auto intensity = parse_double(f[3]);
    if (!intensity || *intensity < 0) {
      return row_error(source_name, row.line,
                       "annual_gco2_per_kwh: expected a non-negative number, "
                       "found \"" +
                           f[3] + "\"");
    }
    zone.annual_gco2_per_kwh = *intensity;
    zone.annual_basis = f[4];
    if (zone.annual_basis != "lifecycle" && zone.annual_basis != "direct") {
      return row_error(
          source_name, row.line,
          "basis: expected lifecycle or direct, found \"" + f[4] + "\"");
    }
    auto year = parse_integer(f[5]);
    if (!year) {
      return row_error(source_name, row.line,
                       "year: expected a year, found \"" + f[5] + "\"");
    }
    zone.annual_year = static_cast<int>(*year);
    zone.annual_source = f[6];
    for (size_t i = 0; i < 3; ++i) {
      for (const auto& region : split(f[7 + i], ';')) {
        if (!trim(region).empty()) {
          zone.cloud_regions.push_back(
              {kProviders[i], std::string(trim(region))});
        }
      }
    }
    zones.push_back(std::move(zone));
  }
  return zones;
}

Result<std::vector<HardwareInfo>> parse_hardware_csv(
    std::string_view text, std::string_view source_name) {
  std::vector<HardwareInfo> rows;
  for (const auto& row : csv_rows(text)) {
    const auto& f = row.fields;
    if (f.size() != kHardwareFields) {
      return row_error(source_name, row.line,
                       field_count_message(kHardwareFields, f.size()));
    }
    HardwareInfo info;
    info.name = f[0];
    info.kind = f[1];
    if (info.kind != "gpu" && info.kind != "cpu" && info.kind != "default") {
      return row_error(
          source_name, row.line,
          "kind: expected gpu, cpu or default, found \"" + f[1] + "\"");
    }
    auto watts = parse_double(f[2]);
    if (!watts || *watts <= 0) {
      return row_error(
          source_name, row.line,
          "tdp_watts: expected a positive number, found \"" + f[2] + "\"");
    }
    info.tdp_watts = *watts;
    auto cores = parse_integer(f[3]);
    if (!cores || *cores < 0) {
      return row_error(
          source_name, row.line,
          "cores: expected a non-negative integer, found \"" + f[3] + "\"");
    }
    info.cores = static_cast<int>(*cores);
    info.source = f[4];
    rows.push_back(std::move(info));
  }
  return rows;
}

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
