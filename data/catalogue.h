// SPDX-License-Identifier: Apache-2.0
// The data lowcarb ships inside its binary: the zone catalogue (Electricity
// Maps zone ids, names, time zones, annual average intensity, cloud regions)
// and the hardware power table (TDPs of GPUs and CPUs). The text sources are
// zones.csv and hardware.csv beside this file, with every value's source
// named; the build embeds them, so the binary works from any directory.
// Parsed once on first use; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace lowcarb::data {

struct CloudRegion {
  std::string provider;  // "aws" | "gcp" | "azure"
  std::string region;    // "eu-central-1", "europe-west3", "germanywestcentral"
};

struct ZoneInfo {
  std::string id;         // Electricity Maps zone id: "DE", "US-CAL-CISO".
  std::string name;       // "Germany".
  std::string time_zone;  // IANA: "Europe/Berlin".
  double annual_gco2_per_kwh = 0;  // Annual average in gCO2eq/kWh, on the
  std::string annual_basis;        // basis "lifecycle" | "direct".
  int annual_year = 0;             // The year the figure is for.
  std::string annual_source;       // Who published it.
  std::vector<CloudRegion> cloud_regions;
};

struct HardwareInfo {
  std::string name;      // "A100-80GB-SXM", "H100-SXM", "EPYC-7763".
  std::string kind;      // "gpu" | "cpu"
  double tdp_watts = 0;  // TDP (GPU: board power) in watts.
  int cores = 0;         // Physical cores; CPUs only, 0 for GPUs.
  std::string source;
};

const std::vector<ZoneInfo>& zones();
// Case-insensitive lookup by zone id; also accepts a cloud region name
// ("eu-central-1") and returns the zone that holds it.
const ZoneInfo* find_zone(std::string_view id_or_region);
std::vector<std::string> zone_ids();

const std::vector<HardwareInfo>& hardware();
// Case-insensitive; ignores spaces, '-' and '_' ("a100 80gb sxm" matches).
const HardwareInfo* find_hardware(std::string_view name);
std::vector<std::string> hardware_names();

// Fallbacks when the CPU model is unknown, with their sources in hardware.csv.
double default_watts_per_core();
double default_memory_watts_per_gb();

// The raw embedded files (for `lowcarb data dump` and tests).
std::string_view zones_csv();
std::string_view hardware_csv();

// Parse the text of zones.csv / hardware.csv: '#' lines are comments, the
// first other line is the header. Zones have exactly 10 fields, hardware rows
// exactly 5 (fields hold no commas). kInvalidArgument on the first bad row,
// naming `source_name`:line, the column and what was found. The embedded
// tables go through these on first use and a bad embedded row aborts.
Result<std::vector<ZoneInfo>> parse_zones_csv(std::string_view text,
                                              std::string_view source_name);
// Rows of kind "default" (default-core, default-memory-per-gb) are included.
Result<std::vector<HardwareInfo>> parse_hardware_csv(
    std::string_view text, std::string_view source_name);

}  // namespace lowcarb::data
