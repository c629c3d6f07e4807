// SPDX-License-Identifier: Apache-2.0
#include "config/value_parsers.h"

#include <cctype>
#include <cstdio>
#include <optional>
#include <regex>
#include <vector>

#include "common/strings.h"
#include "data/catalogue.h"

namespace lowcarb::config {
namespace {

tl::unexpected<Error> expected(const std::string& what,
                               std::string_view found) {
  return make_error(
      ErrorCode::kInvalidArgument,
      "expected " + what + ", found \"" + std::string(found) + "\"");
}

// "22" or "22:00"; minutes other than 00 are rejected because HourRange
// has whole hours.
std::optional<int> parse_hour(std::string_view text) {
  text = trim(text);
  auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    if (trim(text.substr(colon + 1)) != "00") {
      return std::nullopt;
    }
    text = trim(text.substr(0, colon));
  }
  if (text.empty() || text.size() > 2) {
    return std::nullopt;
  }
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  return static_cast<int>(*parse_integer(text));
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::vector<std::string> names_of_kind(std::string_view kind) {
  std::vector<std::string> names;
  for (const auto& info : data::hardware()) {
    if (kind.empty() || info.kind == kind) {
      names.push_back(info.name);
    }
  }
  return names;
}

}  // namespace

Result<HourRange> parse_hour_range(std::string_view text) {
  const std::string what =
      "an hour range like \"22-06\" (whole hours, start 0-23, end 1-24)";
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    return expected(what, text);
  }
  auto start = parse_hour(text.substr(0, dash));
  auto end = parse_hour(text.substr(dash + 1));
  if (!start || !end || *start > 23 || *end > 24 || *end < 0 ||
      *start == *end || (*end == 0 && *start == 0)) {
    return expected(what, text);
  }
  return HourRange{*start, *end == 0 ? 24 : *end};
}

std::string format_hour_range(const HourRange& range) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02d-%02d", range.start_hour,
                range.end_hour);
  return buffer;
}

Result<Penalty> parse_penalty(std::string_view text) {
  const std::string what =
      "a non-negative number (g/kWh) or a percentage like \"10%\"";
  auto trimmed = trim(text);
  Penalty penalty;
  if (!trimmed.empty() && trimmed.back() == '%') {
    auto value = parse_double(trimmed.substr(0, trimmed.size() - 1));
    if (!value || *value < 0) {
      return expected(what, text);
    }
    penalty.percent = *value;
    return penalty;
  }
  auto value = parse_double(trimmed);
  if (!value || *value < 0) {
    return expected(what, text);
  }
  penalty.gco2_per_kwh = *value;
  return penalty;
}

Result<DeviceSpec> parse_device_spec(std::string_view spec,
                                     std::string_view cpu_model) {
  const std::string what =
      "a device like \"gpu: A100 x 4\", \"cpu: EPYC-7763 x 2\" or \"350W\"";
  std::string text(trim(spec));
  DeviceSpec device;

  // A trailing multiplier: " x 4", " X4", "*4". Whitespace before the x is
  // required so that names like "RTX4090" keep their X.
  static const std::regex kCount(R"(^(.*?)(?:\s+[xX]|\s*\*)\s*([0-9]+)$)");
  std::smatch match;
  if (std::regex_match(text, match, kCount)) {
    auto count = parse_integer(match[2].str());
    if (!count || *count < 1 || *count > 100000) {
      return expected(what, spec);
    }
    device.count = static_cast<int>(*count);
    text = std::string(trim(match[1].str()));
  }
  if (text.empty()) {
    return expected(what, spec);
  }

  // Plain watts: "350", "350W", "350 W".
  std::string number = text;
  if (number.back() == 'W' || number.back() == 'w') {
    number = std::string(trim(number.substr(0, number.size() - 1)));
  }
  if (auto watts = parse_double(number)) {
    if (*watts < 0) {
      return expected("a non-negative number of watts", spec);
    }
    device.kind = "watts";
    device.watts = *watts * device.count;
    return device;
  }

  // "<kind>: <model>", "<kind>" or "<model>".
  std::string kind;
  std::string model = text;
  auto colon = text.find(':');
  if (colon != std::string::npos) {
    kind = to_lower(trim(text.substr(0, colon)));
    model = std::string(trim(text.substr(colon + 1)));
    if (kind != "gpu" && kind != "cpu") {
      return expected(what, spec);
    }
  } else if (iequals(text, "gpu") || iequals(text, "cpu")) {
    kind = to_lower(text);
    model.clear();
  }
  if (model.empty()) {
    if (kind == "cpu" && !cpu_model.empty()) {
      model = std::string(cpu_model);
    } else if (kind == "cpu") {
      return expected(
          "a CPU model (set hardware.cpu_model or write \"cpu: EPYC-7763\")",
          spec);
    } else {
      return expected("a GPU model, as in \"gpu: A100 x 4\"", spec);
    }
  }

  const data::HardwareInfo* info = data::find_hardware(model);
  if (!info) {
    std::string kind_name = kind.empty() ? "hardware" : upper(kind);
    return make_error(ErrorCode::kInvalidArgument,
                      "expected a " + kind_name +
                          " model from the hardware table, found \"" + model +
                          "\"" + did_you_mean(model, names_of_kind(kind)));
  }
  if (!kind.empty() && info->kind != kind) {
    return make_error(ErrorCode::kInvalidArgument,
                      "expected a " + upper(kind) + " model, found \"" + model +
                          "\" (a " + upper(info->kind) + ")");
  }
  device.kind = info->kind;
  device.model = info->name;
  device.watts = info->tdp_watts * device.count;
  return device;
}

}  // namespace lowcarb::config
