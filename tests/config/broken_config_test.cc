// SPDX-License-Identifier: Apache-2.0
// Every file in tests/config/broken/ with the one-line error it must give:
// file:line:column, the key path, what was expected and what was found.
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/load_config.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::config {
namespace {

struct BrokenCase {
  const char* file;
  const char* message;  // Exactly, with "broken/<file>" as the source.
};

const BrokenCase kBrokenCases[] = {
    {"syntax-error.yaml",
     // yaml-cpp finds an unclosed flow list only at the end of the file.
     "broken/syntax-error.yaml:5:1: invalid YAML: end of sequence flow not "
     "found"},
    {"bad-indentation.yaml",
     "broken/bad-indentation.yaml:3:13: invalid YAML: illegal map value"},
    {"unknown-section.yaml",
     "broken/unknown-section.yaml:2:1: planer: expected a known key, found "
     "\"planer\", did you mean 'planner'?"},
    {"unknown-zone-key.yaml",
     "broken/unknown-zone-key.yaml:3:5: zones[0].prority: expected a known "
     "key, found \"prority\", did you mean 'priority'?"},
    {"unknown-zone-id.yaml",
     "broken/unknown-zone-id.yaml:3:9: zones[1].id: expected an Electricity "
     "Maps zone id from the catalogue (or set time_zone for a custom zone), "
     "found \"US-CAL-CSIO\", did you mean 'US-CAL-CISO'?"},
    {"bad-penalty.yaml",
     "broken/bad-penalty.yaml:4:14: zones[1].penalty: expected a "
     "non-negative number (g/kWh) or a percentage like \"10%\", found "
     "\"ten\""},
    {"bad-hour-range.yaml",
     "broken/bad-hour-range.yaml:3:30: zones[0].allowed_hours[1]: expected "
     "an hour range like \"22-06\" (whole hours, start 0-23, end 1-24), "
     "found \"25-07\""},
    {"negative-capacity.yaml",
     "broken/negative-capacity.yaml:3:15: zones[0].capacity: expected a "
     "non-negative integer (0 = no limit), found \"-2\""},
    {"pue-below-one.yaml",
     "broken/pue-below-one.yaml:2:8: hardware.pue: expected a number >= 1.0 "
     "(power usage effectiveness), found \"0.9\""},
    {"bad-time-zone.yaml",
     "broken/bad-time-zone.yaml:4:16: zones[0].time_zone: expected an IANA "
     "time zone like \"Europe/Berlin\", found \"Europe/Gotham\""},
    {"unknown-provider-reference.yaml",
     "broken/unknown-provider-reference.yaml:6:17: zones[0].providers[0]: "
     "expected a provider defined under providers (electricitymaps, history, "
     "profile, static), found \"electricitymap\", did you mean "
     "'electricitymaps'?"},
    {"unknown-provider-type.yaml",
     "broken/unknown-provider-type.yaml:3:11: providers.em.type: expected "
     "one of carbon-aware-sdk, electricitymaps, file, history, profile, "
     "static, ukcarbonintensity, watttime, found \"electricitymap\", did you "
     "mean 'electricitymaps'?"},
    {"slurm-cluster-zone-not-configured.yaml",
     "broken/slurm-cluster-zone-not-configured.yaml:6:13: "
     "executors.slurm[0].zone: expected a zone configured under zones (DE), "
     "found \"FR\""},
    {"executor-unknown-cluster.yaml",
     "broken/executor-unknown-cluster.yaml:3:15: zones[0].executor: expected "
     "a Slurm cluster defined under executors.slurm (cluster-b), found "
     "\"slurm:clusterb\", did you mean 'cluster-b'?"},
    {"duplicate-zone.yaml",
     "broken/duplicate-zone.yaml:4:9: zones[2].id: expected each zone once, "
     "found \"DE\" again (first at zones[0], line 2)"},
    {"unknown-gpu.yaml",
     "broken/unknown-gpu.yaml:3:14: hardware.devices.trainer: expected a GPU "
     "model from the hardware table, found \"A1000\", did you mean 'A100'?"},
    {"bad-duration.yaml",
     "broken/bad-duration.yaml:3:16: zones[0].max_delay: expected a duration "
     "like \"90s\", \"15m\", \"2h\" or \"1d\", found \"three days\""},
    {"token-in-token-env.yaml",
     "broken/token-in-token-env.yaml:4:16: "
     "providers.electricitymaps.token_env: expected an environment variable "
     "name like EM_TOKEN (not the secret itself), found a value that is not "
     "one"},
    {"zones-not-a-list.yaml",
     "broken/zones-not-a-list.yaml:2:3: zones: expected a list, found a map"},
    {"gpu-spec-names-a-cpu.yaml",
     "broken/gpu-spec-names-a-cpu.yaml:3:10: hardware.devices.box: expected "
     "a GPU model, found \"EPYC-7763\" (a CPU)"},
    {"empty-zone-list.yaml",
     "broken/empty-zone-list.yaml:1:8: zones: expected at least one zone, "
     "found an empty list"},
    {"file-provider-without-path.yaml",
     "broken/file-provider-without-path.yaml:3:5: providers.recorded: "
     "expected a path for a provider of type file, found none"},
    {"negative-threshold.yaml",
     "broken/negative-threshold.yaml:2:14: planner.threshold: expected a "
     "non-negative number (g/kWh; 0 = none), found \"-50\""},
};

std::string broken_dir() {
  return lowcarb::testing::source_dir() + "/tests/config/broken";
}

class BrokenConfigTest : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenConfigTest, GivesItsOneLineError) {
  const BrokenCase& c = GetParam();
  const std::string text = testing::read_file(broken_dir() + "/" + c.file);

  auto loaded = parse_config(text, std::string("broken/") + c.file);

  ASSERT_FALSE(loaded) << c.file << " loaded";
  EXPECT_EQ(ErrorCode::kInvalidArgument, loaded.error().code);
  EXPECT_EQ(c.message, loaded.error().message);
  EXPECT_EQ(std::string::npos, loaded.error().message.find('\n'));
}

INSTANTIATE_TEST_SUITE_P(
    AllFiles, BrokenConfigTest, ::testing::ValuesIn(kBrokenCases),
    [](const ::testing::TestParamInfo<BrokenCase>& case_info) {
      std::string name;
      for (const char* p = case_info.param.file; *p && *p != '.'; ++p) {
        name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      }
      return name;
    });

// A file dropped into broken/ without a row above would never be checked.
TEST(BrokenConfigFilesTest, EveryFileHasAnExpectedError) {
  std::set<std::string> listed;
  for (const auto& c : kBrokenCases) {
    listed.insert(c.file);
  }
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(broken_dir())) {
    on_disk.insert(entry.path().filename().string());
  }

  EXPECT_EQ(listed, on_disk);
  EXPECT_GE(on_disk.size(), 12u);
}

TEST(BrokenConfigFilesTest, ErrorForAMisplacedTokenDoesNotEchoIt) {
  auto loaded = parse_config(
      testing::read_file(broken_dir() + "/token-in-token-env.yaml"),
      "broken/token-in-token-env.yaml");

  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message,
              ::testing::Not(::testing::HasSubstr("sk-live")));
}

TEST(BrokenConfigFilesTest, LoadConfigNamesTheRealPath) {
  const std::string path = broken_dir() + "/unknown-section.yaml";

  auto loaded = load_config(path);

  ASSERT_FALSE(loaded);
  EXPECT_EQ(path +
                ":2:1: planer: expected a known key, found \"planer\", "
                "did you mean 'planner'?",
            loaded.error().message);
}

}  // namespace
}  // namespace lowcarb::config
