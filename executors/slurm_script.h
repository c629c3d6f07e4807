// SPDX-License-Identifier: Apache-2.0
// What lowcarb must know of a batch script's own `#SBATCH` lines (and of
// the extra sbatch options a submit gave) before it adds options of its
// own: whether the user set a time limit or output files, which lowcarb then
// leaves alone. Also the expansion of the file name patterns Slurm accepts
// in --output/--error, so that `lowcarb logs` reads the file Slurm writes.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lowcarb::executors {

// The options of interest, as the user wrote them ("" = not given). The
// last occurrence wins, as in sbatch; options given on the command line
// (`extra_options`) win over the script's lines.
struct SbatchDirectives {
  bool sets_time = false;  // --time/-t: lowcarb passes no --time then.
  std::string output;      // --output/-o
  std::string error;       // --error/-e
};

// Reads the `#SBATCH` lines of `script_text` up to the first line that is
// neither blank nor a comment (as sbatch does), then `extra_options` (argv
// words such as {"--output=x", "-t", "10"}).
SbatchDirectives read_sbatch_directives(
    std::string_view script_text,
    const std::vector<std::string>& extra_options);

// What the file name patterns of an --output/--error value stand for.
struct SlurmPatternValues {
  std::string job_id;       // %j, %A (no arrays: the job id)
  std::string job_name;     // %x
  std::string user;         // %u
  std::string node;         // %N (the first node; "" = left as written)
  std::string working_dir;  // A relative path is relative to it.
};

// The path Slurm writes for `pattern`: %j %A %x %u %N %% expanded (with an
// optional zero-padding width, "%5j"); the array and step patterns (%a %s
// %t %n %b) are left as written, since lowcarb submits no arrays; a `\\`
// anywhere turns expansion off (as in sbatch). A relative result is made
// absolute against `working_dir` (sbatch --chdir).
std::string expand_slurm_output_pattern(std::string_view pattern,
                                        const SlurmPatternValues& values);

}  // namespace lowcarb::executors
