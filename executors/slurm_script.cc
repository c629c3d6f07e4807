// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_script.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"

namespace lowcarb::executors {
namespace {

// Applies sbatch option words to `out`.
void read_words(const std::vector<std::string>& words, SbatchDirectives& out) {
  for (size_t i = 0; i < words.size(); ++i) {
    std::string key = words[i];
    std::string value;
    bool has_value = false;
    if (key.rfind("--", 0) == 0) {
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key.resize(eq);
        has_value = true;
      }
    } else if (key.size() > 2 && key[0] == '-' && key[1] != '-') {
      // "-t10", "-oout.txt": short option glued to its value.
      value = key.substr(2);
      key.resize(2);
      has_value = true;
    }
    const bool time = key == "--time" || key == "-t";
    const bool output = key == "--output" || key == "-o";
    const bool error = key == "--error" || key == "-e";
    if (!time && !output && !error) {
      continue;
    }
    if (!has_value) {
      if (i + 1 >= words.size()) {
        continue;  // sbatch itself reports the missing value.
      }
      value = words[++i];
    }
    if (time) {
      out.sets_time = true;
    } else if (output) {
      out.output = value;
    } else {
      out.error = value;
    }
  }
}

}  // namespace

SbatchDirectives read_sbatch_directives(
    std::string_view script_text,
    const std::vector<std::string>& extra_options) {
  SbatchDirectives out;
  size_t pos = 0;
  bool first = true;
  while (pos <= script_text.size()) {
    size_t end = script_text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = script_text.size();
    }
    std::string_view line = trim(script_text.substr(pos, end - pos));
    pos = end + 1;
    if (first && line.rfind("#!", 0) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) {
      continue;
    }
    if (line.front() != '#') {
      break;  // The first command ends the directives.
    }
    constexpr std::string_view kMagic = "#SBATCH";
    if (line.substr(0, kMagic.size()) != kMagic ||
        (line.size() > kMagic.size() && line[kMagic.size()] != ' ' &&
         line[kMagic.size()] != '\t')) {
      continue;
    }
    read_words(split_directive_words(line.substr(kMagic.size())), out);
  }
  read_words(extra_options, out);
  return out;
}

std::string expand_slurm_output_pattern(std::string_view pattern,
                                        const SlurmPatternValues& values) {
  std::string out;
  if (pattern.find('\\') != std::string_view::npos) {
    for (char c : pattern) {
      if (c != '\\') {
        out += c;
      }
    }
  } else {
    for (size_t i = 0; i < pattern.size(); ++i) {
      const char c = pattern[i];
      if (c != '%' || i + 1 >= pattern.size()) {
        out += c;
        continue;
      }
      size_t j = i + 1;
      size_t width = 0;
      while (j < pattern.size() &&
             std::isdigit(static_cast<unsigned char>(pattern[j]))) {
        width = width * 10 + static_cast<size_t>(pattern[j] - '0');
        ++j;
      }
      if (j >= pattern.size()) {
        out += pattern.substr(i);
        break;
      }
      std::string value;
      bool known = true;
      switch (pattern[j]) {
        case '%':
          value = "%";
          break;
        case 'j':
        case 'A':
          value = values.job_id;
          break;
        case 'x':
          value = values.job_name;
          break;
        case 'u':
          value = values.user;
          break;
        case 'N':
          known = !values.node.empty();
          value = values.node;
          break;
        default:
          known = false;
      }
      if (!known) {
        out += pattern.substr(i, j - i + 1);
      } else {
        const size_t padded = std::min<size_t>(width, 10);
        if (pattern[j] != '%' && value.size() < padded) {
          value.insert(0, padded - value.size(), '0');
        }
        out += value;
      }
      i = j;
    }
  }
  if (!out.empty() && out.front() != '/' && !values.working_dir.empty()) {
    out = values.working_dir + (values.working_dir.back() == '/' ? "" : "/") +
          out;
  }
  return out;
}

}  // namespace lowcarb::executors
