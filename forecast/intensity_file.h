// SPDX-License-Identifier: Apache-2.0
// Loads carbon-intensity series from files, recognising the format from the
// header line:
//   - canonical CSV      `timestamp,zone,gco2_per_kwh` (interval starts, ISO
//                        8601; one or many zones per file)
//   - Electricity Maps dataset export `Datetime (UTC),Country,Zone Name,Zone
//                        Id,Carbon Intensity gCO₂eq/kWh (direct),...`
//   - Let's Wait Awhile  `Time,Carbon Intensity`
//   - WattTime/vessim    `<time column>,<one value column>` (e.g.
//   oootime,Caiso_North)
//   - JSON               `[{"timestamp": ..., "duration": ..., "value": ...}]`
// Point durations are inferred from spacing where the format has none.
// Errors name the file, line and field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct FileLoadOptions {
  // Zone name for single-zone formats (Let's Wait Awhile, WattTime CSV,
  // JSON). Default: derived from the file name.
  std::string zone;
  // Electricity Maps export: which column to read.
  Scope scope = Scope::kDirect;
  // Signal kind for formats that do not say (default: average/direct,
  // observed).
  SignalKind kind{Basis::kAverage, Scope::kDirect, Horizon::kObserved};
};

// One series per zone found in the file, sorted by zone id.
Result<std::vector<IntensitySeries>> load_intensity_file(
    const std::string& path, const FileLoadOptions& options = {});

// The same for text already in memory; `source_name` is used in errors.
Result<std::vector<IntensitySeries>> parse_intensity_text(
    std::string_view text, const std::string& source_name,
    const FileLoadOptions& options = {});

}  // namespace lowcarb::forecast
