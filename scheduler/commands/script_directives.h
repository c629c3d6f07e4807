// SPDX-License-Identifier: Apache-2.0
// `lowcarb submit --sbatch SCRIPT`: the `#LOWCARB` and `#SBATCH` directive
// lines of a batch script, merged into the options the command line gave.
// Pure: the caller reads the file; nothing here touches the file system.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb::scheduler {

// The submit options a script may supply, as the command line spells them
// (durations and times are still text; `lowcarb submit` parses them). An
// empty string or an unset optional means "not given".
struct SubmitOptions {
  std::string name;
  std::string duration;
  std::string deadline;
  std::string earliest;
  std::vector<std::string> zones;
  bool interruptible = false;
  std::string pause_mode;
  std::string executor;
  std::optional<double> power;
  std::string hardware;
  std::optional<double> threshold;
  std::string min_chunk;
};

// Parses a Slurm `--time` value: "M", "M:S", "H:M:S", "D-H", "D-H:M" or
// "D-H:M:S". Nullopt when `text` is none of these.
std::optional<Duration> parse_slurm_time(std::string_view text);

// Reads the directives of `script_text` and returns `given` with the options
// it left empty filled in:
//   `#LOWCARB --OPTION [VALUE]` supplies any submit option above (the first
//     directive for an option wins; --zone may repeat and is used only when
//     `given` has no zones; --interruptible is a flag);
//   `#SBATCH --time`/`-t` supplies the duration (in seconds, as text) and
//     `#SBATCH --job-name`/`-J` the name, when neither the command line nor a
//     `#LOWCARB` line did; other `#SBATCH` options are left to sbatch.
// As sbatch does, directives are read only up to the first line that is
// neither blank nor a comment; words from an unquoted `#` on are a comment.
// Errors are kInvalidArgument and start with "`file_name`:LINE: ".
Result<SubmitOptions> apply_script_directives(std::string_view script_text,
                                              std::string_view file_name,
                                              SubmitOptions given);

}  // namespace lowcarb::scheduler
