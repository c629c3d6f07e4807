// SPDX-License-Identifier: Apache-2.0
// Runs the built `lowcarb` binary: `config check` and the global --config
// option, checking exit codes and the exact stderr line.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// Runs `lowcarb <args>` with LOWCARB_CONFIG unset, stderr into a file of
// `dir`.
RunResult run_lowcarb(const std::string& args,
                      const testing::ScopedTempDir& dir) {
  const std::string err_path = dir.file("stderr.txt");
  const std::string command = "env -u LOWCARB_CONFIG " +
                              quote(lowcarb::testing::lowcarb_binary()) + " " +
                              args + " 2>" + quote(err_path);
  RunResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    return result;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    result.out.append(buffer, n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = testing::read_file(err_path);
  return result;
}

std::string source_file(const std::string& relative) {
  return lowcarb::testing::source_dir() + "/" + relative;
}

const char kZoneError[] =
    ":3:9: zones[1].id: expected an Electricity Maps zone id from the "
    "catalogue (or set time_zone for a custom zone), found \"US-CAL-CSIO\", "
    "did you mean 'US-CAL-CISO'?";

TEST(ConfigCliTest, CheckOfABrokenFileExitsTwoWithOneErrorLine) {
  testing::ScopedTempDir dir;
  const std::string file =
      source_file("tests/config/broken/unknown-zone-id.yaml");

  RunResult result = run_lowcarb("config check " + quote(file), dir);

  EXPECT_EQ(2, result.exit_code);
  EXPECT_EQ("lowcarb: " + file + kZoneError + "\n", result.err);
  EXPECT_EQ("", result.out);
}

TEST(ConfigCliTest, GlobalConfigOptionLoadsTheFile) {
  testing::ScopedTempDir dir;
  const std::string file =
      source_file("tests/config/broken/unknown-zone-id.yaml");

  RunResult result =
      run_lowcarb("--config " + quote(file) + " config check", dir);

  EXPECT_EQ(2, result.exit_code);
  EXPECT_EQ("lowcarb: " + file + kZoneError + "\n", result.err);
}

TEST(ConfigCliTest, CheckOfTheExamplePrintsTheEffectiveConfiguration) {
  testing::ScopedTempDir dir;
  const std::string file = source_file("config/examples/lowcarb.yaml");

  RunResult result = run_lowcarb("config check " + quote(file), dir);

  EXPECT_EQ(0, result.exit_code) << result.err;
  EXPECT_EQ("", result.err);
  EXPECT_THAT(result.out,
              HasSubstr("# lowcarb effective configuration from " + file));
  EXPECT_THAT(result.out, HasSubstr("name: taurus"));
  EXPECT_THAT(result.out, HasSubstr("penalty: 10%"));
}

TEST(ConfigCliTest, QuietCheckPrintsNothingForAValidFile) {
  testing::ScopedTempDir dir;
  const std::string file = source_file("config/examples/lowcarb.yaml");

  RunResult result = run_lowcarb("config check --quiet " + quote(file), dir);

  EXPECT_EQ(0, result.exit_code) << result.err;
  EXPECT_EQ("", result.out);
  EXPECT_EQ("", result.err);
}

TEST(ConfigCliTest, CheckRefusesAWorldReadableTokenWithoutPrintingIt) {
  testing::ScopedTempDir dir;
  const std::string file = dir.file("lowcarb.yaml");
  testing::write_file(file,
                      "providers:\n  electricitymaps:\n    token: "
                      "s3cr3t-t0ken-value\n");
  ASSERT_EQ(0, chmod(file.c_str(), 0644));

  RunResult result = run_lowcarb("config check " + quote(file), dir);

  EXPECT_EQ(2, result.exit_code);
  EXPECT_THAT(result.err, HasSubstr(file + ":3:12: "
                                           "providers.electricitymaps.token:"));
  EXPECT_THAT(result.err + result.out, Not(HasSubstr("s3cr3t")));
}

TEST(ConfigCliTest, CheckOfAnOwnerOnlyTokenFileRedactsTheToken) {
  testing::ScopedTempDir dir;
  const std::string file = dir.file("lowcarb.yaml");
  testing::write_file(file,
                      "providers:\n  electricitymaps:\n    token: "
                      "s3cr3t-t0ken-value\n");
  ASSERT_EQ(0, chmod(file.c_str(), 0600));

  RunResult result = run_lowcarb("config check " + quote(file), dir);

  EXPECT_EQ(0, result.exit_code) << result.err;
  EXPECT_THAT(result.out, HasSubstr("token: \"***\""));
  EXPECT_THAT(result.out, Not(HasSubstr("s3cr3t")));
}

TEST(ConfigCliTest, CheckOfAMissingFileExitsTwo) {
  testing::ScopedTempDir dir;

  RunResult result =
      run_lowcarb("config check " + quote(dir.file("absent.yaml")), dir);

  EXPECT_EQ(2, result.exit_code);
  EXPECT_THAT(result.err, HasSubstr(dir.file("absent.yaml")));
}

}  // namespace
}  // namespace lowcarb
