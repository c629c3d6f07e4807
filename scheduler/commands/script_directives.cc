// SPDX-License-Identifier: Apache-2.0
#include "scheduler/commands/script_directives.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace lowcarb::scheduler {
namespace {

constexpr std::string_view kLowcarb = "#LOWCARB";
constexpr std::string_view kSbatch = "#SBATCH";
// Larger Slurm time fields are typing mistakes, and the cap keeps the
// arithmetic below far from overflow.
constexpr long long kMaxSlurmField = 1'000'000;

// The text after `magic` when `line` is that directive ("#SBATCHX" is not).
std::optional<std::string_view> directive_body(std::string_view line,
                                               std::string_view magic) {
  if (line.substr(0, magic.size()) != magic) {
    return std::nullopt;
  }
  std::string_view body = line.substr(magic.size());
  if (!body.empty() && body.front() != ' ' && body.front() != '\t') {
    return std::nullopt;
  }
  return body;
}

// One directive line's words, read as `--key value` or `--key=value`.
class DirectiveWords {
 public:
  DirectiveWords(std::vector<std::string> words, std::string where)
      : words_(std::move(words)), where_(std::move(where)) {}

  // Moves to the next option; false at the end of the line.
  bool next() {
    if (index_ >= words_.size()) {
      return false;
    }
    key_ = words_[index_++];
    value_.reset();
    if (auto eq = key_.find('='); eq != std::string::npos) {
      value_ = key_.substr(eq + 1);
      key_.resize(eq);
    }
    return true;
  }

  const std::string& key() const { return key_; }
  const std::string& where() const { return where_; }

  // The option's value: after `=` or the next word.
  Result<std::string> value() {
    if (value_) {
      return *value_;
    }
    if (index_ >= words_.size()) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: {} needs a value", where_, key_));
    }
    value_ = words_[index_++];
    return *value_;
  }

  tl::unexpected<Error> error(std::string_view why) const {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: {}", where_, why));
  }

 private:
  std::vector<std::string> words_;
  std::string where_;
  size_t index_ = 0;
  std::string key_;
  std::optional<std::string> value_;
};

// What `#SBATCH` lines said that lowcarb uses; the last of each wins, as in
// sbatch.
struct SbatchValues {
  std::string time;
  std::string time_where;
  std::string name;
};

Status read_sbatch_line(DirectiveWords& words, SbatchValues& sbatch) {
  while (words.next()) {
    const std::string& key = words.key();
    const bool time = key == "--time" || key == "-t";
    const bool name = key == "--job-name" || key == "-J";
    if (!time && !name) {
      continue;  // sbatch reads its own options from the script.
    }
    auto value = words.value();
    if (!value) {
      return make_error(value.error());
    }
    if (time) {
      sbatch.time = *value;
      sbatch.time_where = words.where();
    } else {
      sbatch.name = *value;
    }
  }
  return {};
}

// Keeps the first directive of each option (`field` empty until then).
Status set_once(DirectiveWords& words, std::string& field) {
  auto value = words.value();
  if (!value) {
    return make_error(value.error());
  }
  if (field.empty()) {
    field = *value;
  }
  return {};
}

Status set_number_once(DirectiveWords& words, std::optional<double>& field) {
  auto value = words.value();
  if (!value) {
    return make_error(value.error());
  }
  auto number = parse_double(*value);
  if (!number) {
    return words.error(
        fmt::format("{} '{}' is not a number", words.key(), *value));
  }
  if (!field) {
    field = *number;
  }
  return {};
}

Status read_lowcarb_line(DirectiveWords& words, SubmitOptions& found) {
  while (words.next()) {
    const std::string& key = words.key();
    Status status;
    if (key == "--interruptible") {
      found.interruptible = true;
    } else if (key == "--deadline") {
      status = set_once(words, found.deadline);
    } else if (key == "--duration") {
      status = set_once(words, found.duration);
    } else if (key == "--earliest") {
      status = set_once(words, found.earliest);
    } else if (key == "--name") {
      status = set_once(words, found.name);
    } else if (key == "--pause-mode") {
      status = set_once(words, found.pause_mode);
    } else if (key == "--executor") {
      status = set_once(words, found.executor);
    } else if (key == "--hardware") {
      status = set_once(words, found.hardware);
    } else if (key == "--min-chunk") {
      status = set_once(words, found.min_chunk);
    } else if (key == "--zone") {
      std::string zone;
      status = set_once(words, zone);
      if (status && !zone.empty()) {
        found.zones.push_back(zone);
      }
    } else if (key == "--power") {
      status = set_number_once(words, found.power);
    } else if (key == "--threshold") {
      status = set_number_once(words, found.threshold);
    } else {
      return words.error(fmt::format("unknown #LOWCARB option '{}'", key));
    }
    if (!status) {
      return status;
    }
  }
  return {};
}

void fill(std::string& given, const std::string& found) {
  if (given.empty()) {
    given = found;
  }
}

}  // namespace

std::optional<Duration> parse_slurm_time(std::string_view text) {
  std::optional<long long> days;
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    days = parse_integer(text.substr(0, dash));
    if (!days || *days < 0 || *days > kMaxSlurmField) {
      return std::nullopt;
    }
    text = text.substr(dash + 1);
  }
  std::vector<long long> parts;
  for (const auto& part : split(text, ':')) {
    auto value = parse_integer(part);
    if (!value || *value < 0 || *value > kMaxSlurmField) {
      return std::nullopt;
    }
    parts.push_back(*value);
  }
  if (parts.empty() || parts.size() > 3) {
    return std::nullopt;
  }
  long long seconds = 0;
  if (days) {
    // With days the fields are hours, then minutes, then seconds.
    const long long h = parts[0];
    const long long m = parts.size() > 1 ? parts[1] : 0;
    const long long s = parts.size() > 2 ? parts[2] : 0;
    seconds = ((*days * 24 + h) * 60 + m) * 60 + s;
  } else if (parts.size() == 1) {
    seconds = parts[0] * 60;  // A lone number is minutes.
  } else if (parts.size() == 2) {
    seconds = parts[0] * 60 + parts[1];
  } else {
    seconds = (parts[0] * 60 + parts[1]) * 60 + parts[2];
  }
  return Duration(seconds);
}

Result<SubmitOptions> apply_script_directives(std::string_view script_text,
                                              std::string_view file_name,
                                              SubmitOptions given) {
  SubmitOptions found;
  SbatchValues sbatch;
  int line_number = 0;
  for (const std::string& line : split(script_text, '\n')) {
    ++line_number;
    const std::string_view text = trim(line);
    if (text.empty()) {
      continue;
    }
    if (text.front() != '#') {
      break;  // sbatch stops at the first command; so do we.
    }
    auto lowcarb = directive_body(text, kLowcarb);
    auto slurm = lowcarb ? std::nullopt : directive_body(text, kSbatch);
    if (!lowcarb && !slurm) {
      continue;  // A plain comment or the #! line.
    }
    DirectiveWords words(split_directive_words(lowcarb ? *lowcarb : *slurm),
                         fmt::format("{}:{}", file_name, line_number));
    Status status = lowcarb ? read_lowcarb_line(words, found)
                            : read_sbatch_line(words, sbatch);
    if (!status) {
      return make_error(status.error());
    }
  }

  fill(given.name, found.name);
  fill(given.duration, found.duration);
  fill(given.deadline, found.deadline);
  fill(given.earliest, found.earliest);
  fill(given.pause_mode, found.pause_mode);
  fill(given.executor, found.executor);
  fill(given.hardware, found.hardware);
  fill(given.min_chunk, found.min_chunk);
  if (given.zones.empty()) {
    given.zones = found.zones;
  }
  given.interruptible = given.interruptible || found.interruptible;
  if (!given.power) {
    given.power = found.power;
  }
  if (!given.threshold) {
    given.threshold = found.threshold;
  }
  if (given.duration.empty() && !sbatch.time.empty()) {
    auto limit = parse_slurm_time(sbatch.time);
    if (!limit) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: #SBATCH --time '{}' is not a Slurm time",
                      sbatch.time_where, sbatch.time));
    }
    given.duration = std::to_string(limit->count());
  }
  fill(given.name, sbatch.name);
  return given;
}

}  // namespace lowcarb::scheduler
