// SPDX-License-Identifier: Apache-2.0
#include "executors/posix_process_runner.h"

#include <chrono>

#include <gtest/gtest.h>

#include "executors/slurm_commands.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

Command sh(const std::string& script) {
  Command command;
  command.argv = {"/bin/sh", "-c", script};
  return command;
}

TEST(PosixProcessRunnerTest, CapturesStdoutStderrAndExitCode) {
  PosixProcessRunner runner;

  auto result = runner.run(sh("echo out; echo err >&2; exit 3"));

  ASSERT_OK(result);
  EXPECT_EQ("out\n", result->out);
  EXPECT_EQ("err\n", result->err);
  EXPECT_EQ(3, result->exit_code);
}

TEST(PosixProcessRunnerTest, FindsProgramsInPath) {
  PosixProcessRunner runner;
  Command command;
  command.argv = {"echo", "a b", "c"};

  auto result = runner.run(command);

  ASSERT_OK(result);
  EXPECT_EQ("a b c\n", result->out);
  EXPECT_EQ(0, result->exit_code);
}

TEST(PosixProcessRunnerTest, AddsAndOverridesEnvironment) {
  PosixProcessRunner runner;
  auto command = sh("printf '%s/%s' \"$LOWCARB_TEST_VAR\" \"$TZ\"");
  command.env = {{"LOWCARB_TEST_VAR", "x y"}, {"TZ", "UTC"}};

  auto result = runner.run(command);

  ASSERT_OK(result);
  EXPECT_EQ("x y/UTC", result->out);
}

TEST(PosixProcessRunnerTest, FeedsStdinText) {
  PosixProcessRunner runner;
  Command command;
  command.argv = {"cat"};
  command.stdin_text = "line one\nline two\n";

  auto result = runner.run(command);

  ASSERT_OK(result);
  EXPECT_EQ("line one\nline two\n", result->out);
}

TEST(PosixProcessRunnerTest, SurvivesCommandThatIgnoresLargeStdin) {
  PosixProcessRunner runner;
  Command command;
  command.argv = {"true"};
  command.stdin_text = std::string(4 << 20, 'x');

  auto result = runner.run(command);

  ASSERT_OK(result);
  EXPECT_EQ(0, result->exit_code);
}

TEST(PosixProcessRunnerTest, DrainsLargeOutputOnBothStreams) {
  PosixProcessRunner runner;

  auto result =
      runner.run(sh("head -c 1000000 /dev/zero; head -c 300000 /dev/zero >&2"));

  ASSERT_OK(result);
  EXPECT_EQ(1000000u, result->out.size());
  EXPECT_EQ(300000u, result->err.size());
}

TEST(PosixProcessRunnerTest, MissingProgramIsNotFound) {
  PosixProcessRunner runner;
  Command command;
  command.argv = {"lowcarb-no-such-program", "x"};

  auto result = runner.run(command);

  ASSERT_FALSE(result);
  EXPECT_EQ(ErrorCode::kNotFound, result.error().code);
  EXPECT_NE(std::string::npos,
            result.error().message.find("lowcarb-no-such-program"));
}

TEST(PosixProcessRunnerTest, MissingAbsolutePathIsNotFound) {
  PosixProcessRunner runner;
  Command command;
  command.argv = {"/nonexistent/sbatch"};

  auto result = runner.run(command);

  ASSERT_FALSE(result);
  EXPECT_EQ(ErrorCode::kNotFound, result.error().code);
}

TEST(PosixProcessRunnerTest, EmptyArgvIsInvalid) {
  PosixProcessRunner runner;

  auto result = runner.run(Command{});

  ASSERT_FALSE(result);
  EXPECT_EQ(ErrorCode::kInvalidArgument, result.error().code);
}

TEST(PosixProcessRunnerTest, TimeoutKillsTheWholeGroup) {
  PosixProcessRunner runner;
  // The child keeps stdout open through a grandchild: the group must die.
  auto command = sh("sleep 30 & sleep 30");
  command.timeout = std::chrono::seconds(1);
  const auto before = std::chrono::steady_clock::now();

  auto result = runner.run(command);

  const auto took = std::chrono::steady_clock::now() - before;
  ASSERT_FALSE(result);
  EXPECT_EQ(ErrorCode::kTimeout, result.error().code);
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST(PosixProcessRunnerTest, KilledCommandReportsShellStyleExitCode) {
  PosixProcessRunner runner;

  auto result = runner.run(sh("kill -9 $$"));

  ASSERT_OK(result);
  EXPECT_EQ(128 + 9, result->exit_code);
}

// sbatch --wrap hands its text to /bin/sh; shell_quote must survive it.
TEST(PosixProcessRunnerTest, ShellQuotedArgvSurvivesTheShell) {
  PosixProcessRunner runner;
  const std::vector<std::string> argv = {"printf", "[%s]", "it's", "a \"b\"",
                                         "$HOME",  "`x`",  "",     "\\n"};

  auto result = runner.run(sh(shell_quote(argv)));

  ASSERT_OK(result);
  EXPECT_EQ("[it's][a \"b\"][$HOME][`x`][][\\n]", result->out);
}

}  // namespace
}  // namespace lowcarb::executors
