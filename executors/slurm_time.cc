// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_time.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "common/time_format.h"

namespace lowcarb::executors {

std::string to_slurm_time(TimePoint time) {
  // format_utc gives "YYYY-MM-DDTHH:MM:SSZ"; Slurm rejects the `Z`.
  std::string text = format_utc(time);
  if (!text.empty() && text.back() == 'Z') {
    text.pop_back();
  }
  return text;
}

Result<std::optional<TimePoint>> parse_slurm_time(std::string_view text) {
  const std::string_view value = trim(text);
  if (value.empty() || value == "N/A" || value == "None" ||
      value == "Unknown" || value == "0") {
    return std::optional<TimePoint>{};
  }
  if (auto epoch = parse_integer(value)) {
    if (*epoch < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("Slurm time '{}': negative epoch", value));
    }
    return std::optional<TimePoint>{TimePoint{std::chrono::seconds{*epoch}}};
  }
  auto parsed = parse_time(value, MissingOffset::kAssumeUtc);
  if (!parsed) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("Slurm time '{}': {}", value, parsed.error().message));
  }
  return std::optional<TimePoint>{*parsed};
}

Result<double> parse_slurm_duration(std::string_view text) {
  std::string_view value = trim(text);
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("Slurm duration '{}': {}", value, why));
  };
  if (value.empty()) {
    return bad("empty");
  }
  double days = 0;
  if (auto dash = value.find('-'); dash != std::string_view::npos) {
    auto d = parse_integer(value.substr(0, dash));
    if (!d || *d < 0) {
      return bad("bad day count");
    }
    days = static_cast<double>(*d);
    value = value.substr(dash + 1);
  }
  const auto parts = split(value, ':');
  if (parts.empty() || parts.size() > 3) {
    return bad("expected [D-]HH:MM:SS or MM:SS");
  }
  double seconds = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    std::optional<double> part;
    if (last) {
      part = parse_double(parts[i]);
    } else if (auto whole = parse_integer(parts[i])) {
      part = static_cast<double>(*whole);
    }
    if (!part || *part < 0) {
      return bad(fmt::format("bad field '{}'", parts[i]));
    }
    seconds = seconds * 60 + *part;
  }
  return days * 86400 + seconds;
}

}  // namespace lowcarb::executors
