// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_script.h"

#include <gtest/gtest.h>

namespace lowcarb::executors {
namespace {

TEST(SlurmScriptTest, ReadsTimeAndOutputDirectivesInAllSpellings) {
  auto d = read_sbatch_directives(
      "#!/bin/bash\n"
      "# a comment\n"
      "\n"
      "#SBATCH -t 10 --mem=1G\n"
      "#SBATCH --output=o-%j.txt   # trailing comment\n"
      "#SBATCH -e\"err file.txt\"\n"
      "echo start\n",
      {});
  EXPECT_TRUE(d.sets_time);
  EXPECT_EQ("o-%j.txt", d.output);
  EXPECT_EQ("err file.txt", d.error);
}

TEST(SlurmScriptTest, IgnoresDirectivesAfterTheFirstCommandAsSbatchDoes) {
  auto d = read_sbatch_directives(
      "#!/bin/sh\n"
      "echo start\n"
      "#SBATCH --time=5\n"
      "#SBATCH --output=late.txt\n",
      {});
  EXPECT_FALSE(d.sets_time);
  EXPECT_EQ("", d.output);
}

TEST(SlurmScriptTest, IgnoresLookalikeDirectives) {
  auto d = read_sbatch_directives(
      "#SBATCHX --time=5\n"
      "##SBATCH --time=5\n"
      "#SBATCH --timeout=5 --output-file=x\n",
      {});
  EXPECT_FALSE(d.sets_time);
  EXPECT_EQ("", d.output);
}

TEST(SlurmScriptTest, CommandLineOptionsWinOverTheScript) {
  auto d = read_sbatch_directives("#SBATCH -o script.txt\n",
                                  {"--output", "cli.txt", "--time=3"});
  EXPECT_TRUE(d.sets_time);
  EXPECT_EQ("cli.txt", d.output);
}

TEST(SlurmScriptTest, ExpandsOutputPatternsLikeSlurm) {
  SlurmPatternValues v;
  v.job_id = "42";
  v.job_name = "train";
  v.user = "ann";
  v.working_dir = "/home/ann/run";
  EXPECT_EQ("/home/ann/run/train-42.out",
            expand_slurm_output_pattern("%x-%j.out", v));
  EXPECT_EQ("/logs/ann/00042_%a.txt",
            expand_slurm_output_pattern("/logs/%u/%5j_%a.txt", v));
  EXPECT_EQ("/home/ann/run/100%.txt",
            expand_slurm_output_pattern("100%%.txt", v));
  // A backslash turns expansion off.
  EXPECT_EQ("/home/ann/run/%j.txt", expand_slurm_output_pattern("\\%j.txt", v));
  // %N is left as written when the node is unknown.
  EXPECT_EQ("/tmp/%N.txt", expand_slurm_output_pattern("/tmp/%N.txt", v));
}

}  // namespace
}  // namespace lowcarb::executors
