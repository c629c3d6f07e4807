// SPDX-License-Identifier: Apache-2.0
#include "forecast/intensity_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "forecast/resample.h"

namespace lowcarb::forecast {

namespace {

// Used when a zone has a single row and the format gives no duration.
constexpr Duration kDefaultStep{3600};

struct Row {
  TimePoint start;
  std::optional<Duration> duration;
  std::optional<double> value;
};

// Rows per zone, in file order.
using ZoneRows = std::map<std::string, std::vector<Row>>;

std::string quoted(std::string_view text) {
  constexpr size_t kMax = 60;
  if (text.size() > kMax) {
    return fmt::format("\"{}...\"", text.substr(0, kMax));
  }
  return fmt::format("\"{}\"", text);
}

Error parse_error(const std::string& source, size_t line,
                  std::string_view field, std::string_view expected,
                  std::string_view found) {
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("{}:{}: {}: expected {}, found {}", source, line,
                           field, expected, quoted(found))};
}

std::string stem_of(const std::string& source_name) {
  return std::filesystem::path(source_name).stem().string();
}

// Splits one CSV record; double quotes may enclose separators ("" escapes).
std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      in_quotes = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

bool is_null_text(std::string_view text) {
  return text.empty() || iequals(text, "null") || iequals(text, "nan") ||
         iequals(text, "na") || iequals(text, "n/a") || iequals(text, "none");
}

Result<std::optional<double>> parse_value(std::string_view raw,
                                          const std::string& source,
                                          size_t line, std::string_view field) {
  const auto text = trim(raw);
  if (is_null_text(text)) {
    return std::optional<double>{};
  }
  auto value = parse_double(text);
  if (!value) {
    return make_error(parse_error(
        source, line, field, "a number of gCO2eq/kWh or an empty value", text));
  }
  if (*value < 0) {
    return make_error(
        parse_error(source, line, field, "a non-negative number", text));
  }
  return std::optional<double>{*value};
}

Result<TimePoint> parse_timestamp(std::string_view raw,
                                  const std::string& source, size_t line,
                                  std::string_view field,
                                  MissingOffset missing) {
  const auto text = trim(raw);
  auto time = parse_time(text, missing);
  if (!time) {
    return make_error(
        parse_error(source, line, field,
                    missing == MissingOffset::kReject
                        ? "an ISO 8601 date-time with Z or an offset"
                        : "a date-time like 2022-01-01 00:00:00 (UTC)",
                    text));
  }
  return *time;
}

// A line of the text with its 1-based number.
struct Line {
  size_t number;
  std::string_view text;
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  size_t number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    ++number;
    if (!trim(line).empty()) {
      lines.push_back({number, line});
    }
    pos = end + 1;
  }
  return lines;
}

// Where the columns of a CSV format are.
struct CsvLayout {
  enum class Format { kCanonical, kElectricityMaps, kTwoColumn } format;
  size_t time_column = 0;
  size_t value_column = 1;
  std::optional<size_t> zone_column;
  std::string fixed_zone;  // For formats without a zone column.
  std::string time_field;  // Column names for errors.
  std::string value_field;
  MissingOffset missing_offset = MissingOffset::kAssumeUtc;
  SignalKind kind;
};

std::optional<size_t> find_column(const std::vector<std::string>& lower,
                                  std::string_view name) {
  for (size_t i = 0; i < lower.size(); ++i) {
    if (lower[i] == name) {
      return i;
    }
  }
  return std::nullopt;
}

bool is_time_name(std::string_view lower) {
  return lower.find("time") != std::string_view::npos ||
         lower.find("date") != std::string_view::npos || lower == "ts" ||
         lower == "period" || lower == "start";
}

Result<CsvLayout> detect_layout(const std::vector<std::string>& header,
                                std::string_view header_text,
                                const std::string& source,
                                const FileLoadOptions& options) {
  std::vector<std::string> lower;
  for (const auto& field : header) {
    lower.push_back(to_lower(trim(field)));
  }
  CsvLayout layout;
  const std::string default_zone =
      options.zone.empty() ? stem_of(source) : options.zone;

  auto timestamp = find_column(lower, "timestamp");
  auto zone = find_column(lower, "zone");
  auto value = find_column(lower, "gco2_per_kwh");
  if (timestamp && zone && value) {
    layout.format = CsvLayout::Format::kCanonical;
    layout.time_column = *timestamp;
    layout.zone_column = *zone;
    layout.value_column = *value;
    layout.time_field = "timestamp";
    layout.value_field = "gco2_per_kwh";
    layout.missing_offset = MissingOffset::kReject;
    layout.kind = options.kind;
    return layout;
  }

  auto zone_id = find_column(lower, "zone id");
  if (zone_id) {
    std::optional<size_t> time_column;
    std::optional<size_t> direct;
    std::optional<size_t> lifecycle;
    for (size_t i = 0; i < lower.size(); ++i) {
      const auto& name = lower[i];
      if (!time_column && name.rfind("datetime", 0) == 0) {
        time_column = i;
      }
      if (name.rfind("carbon intensity", 0) == 0) {
        if (name.find("(direct)") != std::string::npos) {
          direct = i;
        } else if (name.find("(lca)") != std::string::npos ||
                   name.find("(lifecycle)") != std::string::npos) {
          lifecycle = i;
        }
      }
    }
    const bool want_direct = options.scope == Scope::kDirect;
    auto chosen = want_direct ? direct : lifecycle;
    if (!time_column || !chosen) {
      return make_error(parse_error(
          source, 1, "header",
          fmt::format("an Electricity Maps export with columns \"Datetime "
                      "(UTC)\" and \"Carbon Intensity gCO₂eq/kWh ({})\"",
                      want_direct ? "direct" : "LCA"),
          header_text));
    }
    layout.format = CsvLayout::Format::kElectricityMaps;
    layout.time_column = *time_column;
    layout.value_column = *chosen;
    layout.zone_column = *zone_id;
    layout.fixed_zone = default_zone;  // For rows with an empty zone id.
    layout.time_field = trim(header[*time_column]);
    layout.value_field = trim(header[*chosen]);
    layout.kind = {Basis::kAverage, options.scope, Horizon::kObserved};
    return layout;
  }

  if (lower.size() == 2 && is_time_name(lower[0])) {
    layout.format = CsvLayout::Format::kTwoColumn;
    layout.time_column = 0;
    layout.value_column = 1;
    layout.time_field = trim(header[0]);
    layout.value_field = trim(header[1]);
    // Let's Wait Awhile names the column, not the zone; WattTime/vessim
    // files name the region.
    const bool named_region = lower[1] != "carbon intensity" &&
                              lower[1] != "value" && !lower[1].empty() &&
                              lower[1].find("intensity") == std::string::npos;
    layout.fixed_zone = !options.zone.empty() ? options.zone
                        : named_region        ? std::string(trim(header[1]))
                                              : default_zone;
    layout.kind = options.kind;
    return layout;
  }

  return make_error(parse_error(
      source, 1, "header",
      "\"timestamp,zone,gco2_per_kwh\", an Electricity Maps export (\"Zone "
      "Id\" column), \"Time,Carbon Intensity\" or \"<time>,<value>\"",
      header_text));
}

Result<ZoneRows> parse_csv(std::string_view text, const std::string& source,
                           const FileLoadOptions& options,
                           SignalKind& kind_out) {
  const auto lines = split_lines(text);
  if (lines.empty()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{}: empty file: expected a header line", source));
  }
  const auto header = split_csv(lines[0].text);
  auto layout = detect_layout(header, lines[0].text, source, options);
  if (!layout) {
    return make_error(layout.error());
  }
  kind_out = layout->kind;
  ZoneRows rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& line = lines[i];
    const auto fields = split_csv(line.text);
    if (fields.size() != header.size()) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}:{}: expected {} fields like the "
                      "header, found {}",
                      source, line.number, header.size(), fields.size()));
    }
    auto start =
        parse_timestamp(fields[layout->time_column], source, line.number,
                        layout->time_field, layout->missing_offset);
    if (!start) {
      return make_error(start.error());
    }
    auto value = parse_value(fields[layout->value_column], source, line.number,
                             layout->value_field);
    if (!value) {
      return make_error(value.error());
    }
    std::string zone = layout->fixed_zone;
    if (layout->zone_column) {
      auto named = std::string(trim(fields[*layout->zone_column]));
      if (!named.empty()) {
        zone = std::move(named);
      } else if (layout->format == CsvLayout::Format::kCanonical) {
        return make_error(
            parse_error(source, line.number, "zone", "a zone id", named));
      }
    }
    rows[zone].push_back({*start, std::nullopt, *value});
  }
  return rows;
}

size_t line_of_offset(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<size_t>(std::count(
                 text.begin(),
                 text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

Result<ZoneRows> parse_json(std::string_view text, const std::string& source,
                            const FileLoadOptions& options) {
  const std::string zone =
      options.zone.empty() ? stem_of(source) : options.zone;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}:{}: invalid JSON: {}", source,
                                  line_of_offset(text, e.byte), e.what()));
  }
  if (!doc.is_array()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}:1: top level: expected an array of "
                                  "{{\"timestamp\", \"duration\", \"value\"}}, "
                                  "found {}",
                                  source, doc.type_name()));
  }
  ZoneRows rows;
  auto& out = rows[zone];
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& item = doc[i];
    const std::string where = fmt::format("{}: [{}]", source, i);
    auto fail = [&](std::string_view field, std::string_view expected,
                    std::string_view found) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}.{}: expected {}, found {}", where,
                                    field, expected, quoted(found)));
    };
    if (!item.is_object()) {
      return fail("", "an object", item.dump());
    }
    auto ts = item.find("timestamp");
    if (ts == item.end() || !ts->is_string()) {
      return fail("timestamp", "an ISO 8601 date-time string",
                  ts == item.end() ? "nothing" : ts->dump());
    }
    auto start = parse_time(ts->get<std::string>(), MissingOffset::kReject);
    if (!start) {
      return fail("timestamp", "an ISO 8601 date-time with Z or an offset",
                  ts->get<std::string>());
    }
    Row row{*start, std::nullopt, std::nullopt};
    auto duration = item.find("duration");
    if (duration != item.end() && !duration->is_null()) {
      std::optional<Duration> parsed;
      if (duration->is_number_integer() || duration->is_number_unsigned()) {
        if (duration->get<long long>() > 0) {
          parsed = Duration{duration->get<long long>()};
        }
      } else if (duration->is_string()) {
        auto d = parse_duration(duration->get<std::string>());
        if (d && d->count() > 0) {
          parsed = *d;
        }
      }
      if (!parsed) {
        return fail("duration",
                    "a positive ISO 8601 duration (\"PT1H\") or seconds",
                    duration->dump());
      }
      row.duration = parsed;
    }
    auto value = item.find("value");
    if (value != item.end() && !value->is_null()) {
      if (!value->is_number()) {
        return fail("value", "a number of gCO2eq/kWh or null", value->dump());
      }
      const double v = value->get<double>();
      if (v < 0) {
        return fail("value", "a non-negative number", value->dump());
      }
      row.value = v;
    }
    out.push_back(row);
  }
  return rows;
}

IntensitySeries build_series(const std::string& zone,
                             const std::vector<Row>& rows,
                             const SignalKind& kind) {
  std::vector<TimePoint> starts;
  starts.reserve(rows.size());
  for (const auto& row : rows) {
    starts.push_back(row.start);
  }
  const Duration step = infer_step(starts).value_or(kDefaultStep);
  IntensitySeries series;
  series.zone = zone;
  series.kind = kind;
  series.provider = "file";
  series.points.reserve(rows.size());
  for (const auto& row : rows) {
    series.points.push_back(
        {row.start, row.start + row.duration.value_or(step), row.value});
  }
  normalise_series(series);
  if (!series.empty()) {
    series.generated_at = series.end_time();
  }
  return series;
}

}  // namespace

Result<std::vector<IntensitySeries>> parse_intensity_text(
    std::string_view text, const std::string& source_name,
    const FileLoadOptions& options) {
  // A UTF-8 byte order mark is not part of the first header.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: empty file: expected a CSV header or "
                                  "a JSON array",
                                  source_name));
  }
  ZoneRows rows;
  SignalKind kind = options.kind;
  if (text[first] == '[' || text[first] == '{') {
    auto parsed = parse_json(text, source_name, options);
    if (!parsed) {
      return make_error(parsed.error());
    }
    rows = std::move(*parsed);
  } else {
    auto parsed = parse_csv(text, source_name, options, kind);
    if (!parsed) {
      return make_error(parsed.error());
    }
    rows = std::move(*parsed);
  }
  std::vector<IntensitySeries> result;
  for (const auto& [zone, zone_rows] : rows) {  // std::map: sorted by zone.
    result.push_back(build_series(zone, zone_rows, kind));
  }
  return result;
}

Result<std::vector<IntensitySeries>> load_intensity_file(
    const std::string& path, const FileLoadOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    return make_error(exists ? ErrorCode::kUnavailable : ErrorCode::kNotFound,
                      fmt::format("reading intensity file {}: {}", path,
                                  exists ? "cannot open it" : "no such file"));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  return parse_intensity_text(buffer.str(), path, options);
}

}  // namespace lowcarb::forecast
