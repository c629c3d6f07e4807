// SPDX-License-Identifier: Apache-2.0
#include "scheduler/commands/script_directives.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kFile = "/jobs/train.sh";

Result<SubmitOptions> apply(std::string_view script, SubmitOptions given = {}) {
  return apply_script_directives(script, kFile, std::move(given));
}

// The error message for `script`, or a note that it was accepted.
std::string error_of(std::string_view script, SubmitOptions given = {}) {
  auto result = apply(script, std::move(given));
  if (result) {
    return "<accepted>";
  }
  EXPECT_EQ(ErrorCode::kInvalidArgument, result.error().code);
  return result.error().message;
}

TEST(ScriptDirectivesTest, LowcarbDirectivesSupplyEveryOption) {
  auto options = apply(R"(#!/bin/bash
# Train the model overnight.
#LOWCARB --deadline +12h --duration 2h
#LOWCARB --earliest=+1h --name "big run" --zone DE --zone FR
#LOWCARB --interruptible --pause-mode checkpoint --min-chunk 30m
#LOWCARB --executor slurm:gpu --power 350.5 --threshold 120
#LOWCARB --hardware 'gpu: A100 x 4'
srun python train.py
)");

  ASSERT_OK(options);
  EXPECT_EQ("+12h", options->deadline);
  EXPECT_EQ("2h", options->duration);
  EXPECT_EQ("+1h", options->earliest);
  EXPECT_EQ("big run", options->name);
  EXPECT_EQ((std::vector<std::string>{"DE", "FR"}), options->zones);
  EXPECT_TRUE(options->interruptible);
  EXPECT_EQ("checkpoint", options->pause_mode);
  EXPECT_EQ("30m", options->min_chunk);
  EXPECT_EQ("slurm:gpu", options->executor);
  ASSERT_TRUE(options->power.has_value());
  EXPECT_DOUBLE_EQ(350.5, *options->power);
  ASSERT_TRUE(options->threshold.has_value());
  EXPECT_DOUBLE_EQ(120, *options->threshold);
  EXPECT_EQ("gpu: A100 x 4", options->hardware);
}

TEST(ScriptDirectivesTest, CommandLineOptionsWinOverDirectives) {
  SubmitOptions given;
  given.deadline = "+6h";
  given.duration = "45m";
  given.name = "from-cli";
  given.zones = {"SE"};
  given.power = 100;
  given.executor = "local";

  auto options = apply(R"(#!/bin/sh
#LOWCARB --deadline +12h --duration 2h --name script --zone DE
#LOWCARB --power 350 --executor slurm --earliest +1h
#SBATCH --time=10:00:00 --job-name=slurm-name
true
)",
                       given);

  ASSERT_OK(options);
  EXPECT_EQ("+6h", options->deadline);
  EXPECT_EQ("45m", options->duration);
  EXPECT_EQ("from-cli", options->name);
  EXPECT_EQ(std::vector<std::string>{"SE"}, options->zones);
  EXPECT_DOUBLE_EQ(100, options->power.value_or(-1));
  EXPECT_EQ("local", options->executor);
  // What the command line left empty still comes from the script.
  EXPECT_EQ("+1h", options->earliest);
}

TEST(ScriptDirectivesTest, FirstLowcarbDirectiveOfAnOptionWins) {
  auto options = apply("#LOWCARB --deadline +3h\n#LOWCARB --deadline +9h\n");

  ASSERT_OK(options);
  EXPECT_EQ("+3h", options->deadline);
}

TEST(ScriptDirectivesTest, SbatchTimeFormatsGiveTheDurationInSeconds) {
  const struct {
    const char* time;
    long long seconds;
  } cases[] = {
      {"90", 90 * 60},                     // MM
      {"7:30", 7 * 60 + 30},               // MM:SS
      {"2:05:09", 2 * 3600 + 5 * 60 + 9},  // HH:MM:SS
      {"1-12", 36 * 3600},                 // D-HH
      {"0-12", 12 * 3600},                 // D-HH with no whole day
      {"2-03:04", 51 * 3600 + 4 * 60},     // D-HH:MM
      {"1-00:00:30", 24 * 3600 + 30},      // D-HH:MM:SS
      {"0-0:45", 45 * 60},                 // D-H:M
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.time);
    auto spaced = apply(fmt::format("#SBATCH --time {}\n", c.time));
    auto joined = apply(fmt::format("#SBATCH --time={}\n", c.time));
    auto short_form = apply(fmt::format("#SBATCH -t {}\n", c.time));
    ASSERT_OK(spaced);
    ASSERT_OK(joined);
    ASSERT_OK(short_form);
    EXPECT_EQ(std::to_string(c.seconds), spaced->duration);
    EXPECT_EQ(std::to_string(c.seconds), joined->duration);
    EXPECT_EQ(std::to_string(c.seconds), short_form->duration);
    ASSERT_TRUE(parse_slurm_time(c.time).has_value());
    EXPECT_EQ(c.seconds, parse_slurm_time(c.time)->count());
  }
}

TEST(ScriptDirectivesTest, ParseSlurmTimeRejectsWhatSlurmRejects) {
  for (const char* bad : {"", "abc", "1:2:3:4", "1-2:3:4:5", "-5", "1:-2",
                          "1::2", "x-3", "1-", "UNLIMITED", "1.5"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(parse_slurm_time(bad).has_value());
  }
}

TEST(ScriptDirectivesTest, LastSbatchTimeWinsAsInSbatch) {
  auto options = apply("#SBATCH --time=10\n#SBATCH --time=20\n");

  ASSERT_OK(options);
  EXPECT_EQ("1200", options->duration);
}

TEST(ScriptDirectivesTest, LowcarbDurationWinsOverSbatchTime) {
  auto options = apply("#SBATCH --time=10\n#LOWCARB --duration 3h\n");

  ASSERT_OK(options);
  EXPECT_EQ("3h", options->duration);
}

TEST(ScriptDirectivesTest, SbatchJobNameGivesTheName) {
  auto long_form = apply("#SBATCH --job-name=nightly --partition=gpu\n");
  auto short_form = apply("#SBATCH -J 'with space'\n");
  auto lowcarb_first = apply("#SBATCH -J slurm\n#LOWCARB --name mine\n");

  ASSERT_OK(long_form);
  ASSERT_OK(short_form);
  ASSERT_OK(lowcarb_first);
  EXPECT_EQ("nightly", long_form->name);
  EXPECT_EQ("with space", short_form->name);
  EXPECT_EQ("mine", lowcarb_first->name);
}

TEST(ScriptDirectivesTest, OtherSbatchOptionsAreLeftToSbatch) {
  auto options = apply(
      "#SBATCH --partition=gpu --gres gpu:1 --mem 4G --exclusive\n"
      "#SBATCH --bogus-option\n");

  ASSERT_OK(options);
  EXPECT_TRUE(options->duration.empty());
  EXPECT_TRUE(options->name.empty());
}

TEST(ScriptDirectivesTest, UnknownLowcarbOptionIsAnErrorNamingFileAndLine) {
  std::string message =
      error_of("#!/bin/bash\n#LOWCARB --deadline +2h\n#LOWCARB --colour red\n");

  EXPECT_THAT(message, StartsWith("/jobs/train.sh:3: "));
  EXPECT_THAT(message, HasSubstr("unknown #LOWCARB option '--colour'"));
}

TEST(ScriptDirectivesTest, DirectivesAfterTheFirstCommandAreIgnored) {
  // sbatch: "stop processing further #SBATCH directives once the first
  // non-comment non-whitespace line has been reached".
  auto options = apply(R"(#!/bin/bash

# Comments and blank lines do not end the directives.
#LOWCARB --deadline +4h
#SBATCH --job-name=indented

cd /scratch
#LOWCARB --duration 2h
#SBATCH --time=30
#LOWCARB --colour red
#SBATCH --time=garbage
)");

  ASSERT_OK(options);
  EXPECT_EQ("+4h", options->deadline);
  EXPECT_EQ("indented", options->name);
  EXPECT_TRUE(options->duration.empty());
}

TEST(ScriptDirectivesTest, TrailingCommentAndLookalikeMagicWordsAreNotOptions) {
  auto options = apply(
      "#LOWCARB --deadline +5h  # tomorrow morning\n"
      "#LOWCARBS --colour red\n"
      "#SBATCHED --time=garbage\n");

  ASSERT_OK(options);
  EXPECT_EQ("+5h", options->deadline);
  EXPECT_TRUE(options->duration.empty());
}

TEST(ScriptDirectivesTest, BadValuesNameTheLine) {
  EXPECT_THAT(error_of("#!/bin/sh\n\n#SBATCH --time=1:2:3:4\n"),
              StartsWith("/jobs/train.sh:3: #SBATCH --time '1:2:3:4' is not "
                         "a Slurm time"));
  EXPECT_THAT(error_of("#LOWCARB --name x\n#LOWCARB --power lots\n"),
              StartsWith("/jobs/train.sh:2: --power 'lots' is not a number"));
  EXPECT_THAT(error_of("#LOWCARB --threshold=1e\n"),
              StartsWith("/jobs/train.sh:1: --threshold '1e' is not a number"));
  EXPECT_THAT(error_of("# setup\n#LOWCARB --deadline\n"),
              StartsWith("/jobs/train.sh:2: --deadline needs a value"));
  EXPECT_THAT(error_of("#SBATCH --job-name\n"),
              StartsWith("/jobs/train.sh:1: --job-name needs a value"));
}

TEST(ScriptDirectivesTest, BadSbatchTimeIsIgnoredWhenTheDurationIsGiven) {
  SubmitOptions given;
  given.duration = "1h";

  auto options = apply("#SBATCH --time=UNLIMITED\n", given);

  ASSERT_OK(options);
  EXPECT_EQ("1h", options->duration);
}

TEST(ScriptDirectivesTest, WindowsLineEndingsAndNoFinalNewlineAreRead) {
  auto options =
      apply("#!/bin/bash\r\n#LOWCARB --deadline +8h\r\n#SBATCH -t 5");

  ASSERT_OK(options);
  EXPECT_EQ("+8h", options->deadline);
  EXPECT_EQ("300", options->duration);
}

TEST(ScriptDirectivesTest, ScriptWithoutDirectivesChangesNothing) {
  SubmitOptions given;
  given.deadline = "+1h";

  auto options = apply("#!/bin/sh\necho hello\n", given);

  ASSERT_OK(options);
  EXPECT_EQ("+1h", options->deadline);
  EXPECT_TRUE(options->duration.empty());
  EXPECT_TRUE(options->zones.empty());
  EXPECT_FALSE(options->interruptible);
  EXPECT_FALSE(options->power.has_value());
}

}  // namespace
}  // namespace lowcarb::scheduler
