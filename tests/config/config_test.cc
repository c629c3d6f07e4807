// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/load_config.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string source_file(const std::string& relative) {
  return lowcarb::testing::source_dir() + "/" + relative;
}

Config parse_or_die(const std::string& yaml) {
  auto parsed = parse_config(yaml, "test.yaml");
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  return parsed ? *parsed : Config{};
}

TEST(DefaultConfigTest, NamesItsSource) {
  EXPECT_EQ("<embedded defaults>", default_config().source);
}

TEST(DefaultConfigTest, HasGermanyWithTheBuiltInProviders) {
  const Config config = default_config();

  ASSERT_EQ(1u, config.zones.size());
  EXPECT_EQ("DE", config.zones[0].id);
  EXPECT_EQ("Europe/Berlin", config.zones[0].time_zone);
  EXPECT_THAT(config.zones[0].providers,
              ElementsAre("history", "profile", "static"));
  EXPECT_EQ("local", config.zones[0].executor);
  for (const char* name : {"history", "profile", "static"}) {
    const ProviderConfig* provider = config.find_provider(name);
    ASSERT_NE(nullptr, provider) << name;
    EXPECT_EQ(name, provider->type);
  }
}

TEST(DefaultConfigTest, PutsSocketAndLogsUnderTheStateDir) {
  const Config config = default_config();

  EXPECT_FALSE(config.state_dir.empty());
  EXPECT_EQ(config.state_dir + "/lowcarb.sock", config.daemon.socket_path);
  EXPECT_EQ(config.state_dir + "/logs", config.executors.local.log_dir);
}

TEST(DefaultStateDirTest, FollowsRootThenXdgThenHome) {
  EXPECT_EQ("/var/lib/lowcarb", default_state_dir(0, "/x", "/home/ada"));
  EXPECT_EQ("/x/state/lowcarb",
            default_state_dir(1000, "/x/state", "/home/ada"));
  EXPECT_EQ("/home/ada/.local/state/lowcarb",
            default_state_dir(1000, nullptr, "/home/ada"));
  // A relative XDG_STATE_HOME is invalid per the spec and ignored.
  EXPECT_EQ("/home/ada/.local/state/lowcarb",
            default_state_dir(1000, "relative", "/home/ada"));
  EXPECT_EQ(".lowcarb-state", default_state_dir(1000, nullptr, nullptr));
}

TEST(ParseConfigTest, EmptyDocumentGivesTheDefaults) {
  const Config config = parse_or_die("");

  EXPECT_EQ("test.yaml", config.source);
  ASSERT_EQ(1u, config.zones.size());
  EXPECT_EQ("DE", config.zones[0].id);
  EXPECT_EQ(minutes(15), config.planner.replan_period);
}

TEST(ParseConfigTest, ZonesTakeCatalogueTimeZonesAndDefaultProviders) {
  const Config config = parse_or_die("zones: [fr, {id: US-CAL-CISO}]\n");

  ASSERT_EQ(2u, config.zones.size());
  EXPECT_EQ("FR", config.zones[0].id);
  EXPECT_EQ("Europe/Paris", config.zones[0].time_zone);
  EXPECT_EQ("America/Los_Angeles", config.zones[1].time_zone);
  EXPECT_THAT(config.zones[1].providers,
              ElementsAre("history", "profile", "static"));
  EXPECT_EQ("US-CAL-CISO", config.zones[1].provider_location);
}

TEST(ParseConfigTest, ReadsEveryZoneKey) {
  const Config config = parse_or_die(R"(
providers:
  ukci: {type: ukcarbonintensity}
executors:
  slurm:
    - {name: hpc, zone: GB}
zones:
  - id: GB
    time_zone: Europe/London
    priority: 2
    penalty: 30
    allowed_hours: "20-08"
    max_delay: 1d12h
    providers: [ukci, static]
    location: "13"
    capacity: 4
    executor: slurm:hpc
)");

  ASSERT_EQ(1u, config.zones.size());
  const ZoneConfig& zone = config.zones[0];
  EXPECT_EQ(2, zone.priority);
  EXPECT_EQ(30, zone.penalty_gco2_per_kwh);
  EXPECT_EQ(0, zone.penalty_percent);
  ASSERT_EQ(1u, zone.allowed_hours.size());
  EXPECT_EQ(20, zone.allowed_hours[0].start_hour);
  EXPECT_EQ(8, zone.allowed_hours[0].end_hour);
  EXPECT_EQ(hours(36), zone.max_delay);
  EXPECT_THAT(zone.providers, ElementsAre("ukci", "static"));
  EXPECT_EQ("13", zone.provider_location);
  EXPECT_EQ(4, zone.capacity);
  EXPECT_EQ("slurm:hpc", zone.executor);
  EXPECT_EQ(8, zone.line);
}

TEST(ParseConfigTest, PercentPenaltyIsKeptApartFromAbsolutePenalty) {
  const Config config = parse_or_die(
      "zones:\n  - {id: DE, penalty: 10%}\n  - {id: FR, "
      "penalty: 12.5}\n");

  EXPECT_EQ(10, config.zones[0].penalty_percent);
  EXPECT_EQ(0, config.zones[0].penalty_gco2_per_kwh);
  EXPECT_EQ(0, config.zones[1].penalty_percent);
  EXPECT_EQ(12.5, config.zones[1].penalty_gco2_per_kwh);
}

TEST(ParseConfigTest, HourRangesAcceptStringsAndMapsAndWrapMidnight) {
  const Config config = parse_or_die(R"(
zones:
  - id: DE
    allowed_hours:
      - "22-06"
      - {start: "12:00", end: "14:00"}
      - {start: 18, end: 24}
)");

  const auto& hours_allowed = config.zones[0].allowed_hours;
  ASSERT_EQ(3u, hours_allowed.size());
  EXPECT_EQ(22, hours_allowed[0].start_hour);
  EXPECT_EQ(6, hours_allowed[0].end_hour);
  EXPECT_EQ(12, hours_allowed[1].start_hour);
  EXPECT_EQ(14, hours_allowed[1].end_hour);
  EXPECT_EQ(24, hours_allowed[2].end_hour);
}

TEST(ParseConfigTest, CloudRegionNamesResolveToTheirZone) {
  auto loaded =
      load_config(source_file("tests/config/good/cloud-regions.yaml"));

  ASSERT_OK(loaded);
  ASSERT_EQ(2u, loaded->zones.size());
  EXPECT_EQ("SE-SE3", loaded->zones[0].id);
  EXPECT_EQ("US-MIDW-MISO", loaded->zones[1].id);
}

TEST(ParseConfigTest, CustomZoneNeedsOnlyItsTimeZone) {
  auto loaded = load_config(source_file("tests/config/good/custom-zone.yaml"));

  ASSERT_OK(loaded);
  const ZoneConfig& zone = loaded->zones[0];
  EXPECT_EQ("LAB-BASEMENT", zone.id);
  EXPECT_EQ("America/Chicago", zone.time_zone);
  EXPECT_EQ(12.5, zone.penalty_percent);
  EXPECT_EQ(2u, zone.allowed_hours.size());
  EXPECT_EQ("/srv/lab/intensity.csv", loaded->find_provider("lab-meter")->path);
}

TEST(ParseConfigTest, EveryGoodFileLoads) {
  for (const char* name : {"empty.yaml", "minimal.yaml", "custom-zone.yaml",
                           "cloud-regions.yaml"}) {
    EXPECT_OK(
        load_config(source_file(std::string("tests/config/good/") + name)));
  }
}

TEST(ParseConfigTest, ProviderNamedAfterItsTypeNeedsNoType) {
  const Config config = parse_or_die(R"(
providers:
  electricitymaps:
    token_env: EM_TOKEN
    scope: lifecycle
    ttl: 10m
    horizon: 24h
    timeout: 5s
    retries: 1
zones:
  - id: DE
    providers: [electricitymaps, static]
)");

  const ProviderConfig* em = config.find_provider("electricitymaps");
  ASSERT_NE(nullptr, em);
  EXPECT_EQ("electricitymaps", em->type);
  EXPECT_EQ("EM_TOKEN", em->token_env);
  EXPECT_EQ("lifecycle", em->scope);
  EXPECT_EQ(minutes(10), em->ttl);
  EXPECT_EQ(hours(24), em->horizon);
  EXPECT_EQ(milliseconds(5000), em->timeout);
  EXPECT_EQ(1, em->retries);
  EXPECT_NE(nullptr, config.find_provider("history"));
}

TEST(ParseConfigTest, MissingTokenEnvironmentVariableIsNotAConfigError) {
  unsetenv("LOWCARB_TEST_SURELY_UNSET_TOKEN");

  auto loaded = parse_config(
      "providers:\n  watttime:\n    username_env: "
      "LOWCARB_TEST_SURELY_UNSET_TOKEN\n    password_env: "
      "LOWCARB_TEST_SURELY_UNSET_TOKEN\n",
      "test.yaml");

  EXPECT_OK(loaded);
}

TEST(ParseConfigTest, ReadsPlannerHardwareExecutorsAndDaemon) {
  const Config config = parse_or_die(R"(
state_dir: /srv/lowcarb
logging: {level: debug, format: journald, file: /var/log/lowcarb.log}
planner:
  replan_period: 5m
  safety_margin: 30m
  resume_overhead: 2m
  max_forecast_age: 3h
  default_horizon: 72h
  comparison: {basis: marginal, scope: lifecycle}
  threshold: 120
hardware:
  pue: 1.4
  cpu_model: epyc 7763
  watts_per_core: 4.5
  memory_watts_per_gb: 0.4
  idle_watts: 80
  devices:
    gpus: "gpu: A100-80GB-SXM x 4"
    cpus: cpu x 2
    nic: 25W
executors:
  local:
    pause_mode: checkpoint
    checkpoint_signal: SIGUSR1
    grace: 2m
    overrun_factor: 3
    kill_on_overrun: yes
  slurm:
    - name: alpha
      zone: de
      slurm_conf: /etc/slurm-alpha/slurm.conf
      partition: gpu
      account: ml
      time_limit_factor: 2
      pause_method: requeuehold
      bin_dir: /opt/slurm/bin
daemon:
  socket: /run/lowcarb.sock
  socket_group: lowcarb
  http_listen: "127.0.0.1:8787"
  http_token_file: /etc/lowcarb/http-token
  poll_period: 2s
  sample_period: 30s
  max_request_bytes: 65536
)");

  EXPECT_EQ("/srv/lowcarb", config.state_dir);
  EXPECT_EQ("debug", config.logging.level);
  EXPECT_EQ("journald", config.logging.format);
  EXPECT_EQ(minutes(5), config.planner.replan_period);
  EXPECT_EQ(hours(72), config.planner.default_horizon);
  EXPECT_EQ(minutes(2), config.planner.resume_overhead);
  EXPECT_EQ("marginal", config.planner.comparison.basis);
  EXPECT_EQ(120, config.planner.threshold_gco2_per_kwh);
  EXPECT_EQ(1.4, config.hardware.pue);
  EXPECT_EQ("EPYC-7763", config.hardware.cpu_model);
  ASSERT_EQ(3u, config.hardware.devices.size());
  EXPECT_EQ(1600, config.hardware.devices[0].watts);
  EXPECT_EQ("A100-80GB-SXM", config.hardware.devices[0].model);
  EXPECT_EQ(4, config.hardware.devices[0].count);
  EXPECT_EQ(560, config.hardware.devices[1].watts);  // 2 x 280 W.
  EXPECT_EQ("watts", config.hardware.devices[2].kind);
  EXPECT_EQ(25, config.hardware.devices[2].watts);
  EXPECT_EQ("checkpoint", config.executors.local.pause_mode);
  EXPECT_EQ("USR1", config.executors.local.checkpoint_signal);
  EXPECT_EQ(seconds(120), config.executors.local.grace);
  EXPECT_TRUE(config.executors.local.kill_on_overrun);
  EXPECT_EQ("/srv/lowcarb/logs", config.executors.local.log_dir);
  ASSERT_EQ(1u, config.executors.slurm.size());
  EXPECT_EQ("DE", config.executors.slurm[0].zone);
  EXPECT_EQ("requeuehold", config.executors.slurm[0].pause_method);
  EXPECT_EQ(2, config.executors.slurm[0].time_limit_factor);
  EXPECT_EQ("/run/lowcarb.sock", config.daemon.socket_path);
  EXPECT_EQ("127.0.0.1:8787", config.daemon.http_listen);
  EXPECT_EQ(seconds(2), config.daemon.poll_period);
  EXPECT_EQ(65536u, config.daemon.max_request_bytes);
}

TEST(ParseConfigTest, NullSectionValueIsReportedAtItsKey) {
  auto loaded = parse_config("zones:\n  - id:\n", "t.yaml");

  ASSERT_FALSE(loaded);
  EXPECT_EQ("t.yaml:2:5: zones[0].id: expected a string, found nothing",
            loaded.error().message);
}

TEST(ParseConfigTest, HttpTokensMapFilesToUsers) {
  auto loaded = parse_config(R"(daemon:
  max_connections_per_user: 8
  http_tokens:
    - {file: /etc/lowcarb/tokens/alice, user: alice}
    - file: /etc/lowcarb/tokens/bob
      user: "1002"
)",
                             "t.yaml");

  ASSERT_OK(loaded);
  EXPECT_EQ(8u, loaded->daemon.max_connections_per_user);
  ASSERT_EQ(2u, loaded->daemon.http_tokens.size());
  EXPECT_EQ("/etc/lowcarb/tokens/alice", loaded->daemon.http_tokens[0].file);
  EXPECT_EQ("alice", loaded->daemon.http_tokens[0].user);
  EXPECT_EQ("1002", loaded->daemon.http_tokens[1].user);
  auto reparsed = parse_config(dump_config(*loaded), "dump.yaml");
  ASSERT_OK(reparsed);
  EXPECT_EQ(loaded->daemon.http_tokens, reparsed->daemon.http_tokens);
}

TEST(ParseConfigTest, HttpTokenWithoutUserIsAnError) {
  auto loaded =
      parse_config("daemon:\n  http_tokens:\n    - {file: /etc/t}\n", "t.yaml");

  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message, HasSubstr("daemon.http_tokens[0]"));
  EXPECT_THAT(loaded.error().message, HasSubstr("{file: PATH, user: NAME}"));
}

TEST(ParseConfigTest, RepeatedKeyIsAnError) {
  auto loaded =
      parse_config("planner:\n  threshold: 1\n  threshold: 2\n", "t.yaml");

  ASSERT_FALSE(loaded);
  EXPECT_EQ(
      "t.yaml:3:3: planner.threshold: expected each key once, found "
      "\"threshold\" again",
      loaded.error().message);
}

TEST(LoadConfigTest, MissingFileIsNotFound) {
  testing::ScopedTempDir dir;

  auto loaded = load_config(dir.file("nope.yaml"));

  ASSERT_FALSE(loaded);
  EXPECT_EQ(ErrorCode::kNotFound, loaded.error().code);
  EXPECT_THAT(loaded.error().message, HasSubstr(dir.file("nope.yaml")));
}

constexpr const char* kTokenConfig =
    "providers:\n"
    "  electricitymaps:\n"
    "    token: s3cr3t-t0ken-value\n";

TEST(LoadConfigTest, LiteralTokenInAFileOthersCanReadIsRefused) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("lowcarb.yaml");
  testing::write_file(path, kTokenConfig);
  ASSERT_EQ(0, chmod(path.c_str(), 0644));

  auto loaded = load_config(path);

  ASSERT_FALSE(loaded);
  EXPECT_EQ(ErrorCode::kPermissionDenied, loaded.error().code);
  EXPECT_EQ(path +
                ":3:12: providers.electricitymaps.token: expected a file "
                "only its owner can read (mode 0600) to hold a literal "
                "token, found a file readable by others; run chmod 600 " +
                path + " or use token_env",
            loaded.error().message);
  EXPECT_THAT(loaded.error().message, Not(HasSubstr("s3cr3t")));
}

TEST(LoadConfigTest, LiteralTokenInAGroupReadableFileIsRefused) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("lowcarb.yaml");
  testing::write_file(path, kTokenConfig);
  ASSERT_EQ(0, chmod(path.c_str(), 0640));

  auto loaded = load_config(path);

  ASSERT_FALSE(loaded);
  EXPECT_EQ(ErrorCode::kPermissionDenied, loaded.error().code);
}

TEST(LoadConfigTest, LiteralTokenInAnOwnerOnlyFileIsAccepted) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("lowcarb.yaml");
  testing::write_file(path, kTokenConfig);
  ASSERT_EQ(0, chmod(path.c_str(), 0600));

  auto loaded = load_config(path);

  ASSERT_OK(loaded);
  EXPECT_EQ("s3cr3t-t0ken-value",
            loaded->find_provider("electricitymaps")->token);
}

TEST(LoadConfigTest, SharedFileWithoutLiteralTokenIsAccepted) {
  testing::ScopedTempDir dir;
  const std::string path = dir.file("lowcarb.yaml");
  testing::write_file(path,
                      "providers:\n  electricitymaps:\n    token_env: EM\n");
  ASSERT_EQ(0, chmod(path.c_str(), 0644));

  EXPECT_OK(load_config(path));
}

TEST(DumpConfigTest, RedactsTokensAndUrlCredentials) {
  const Config config = parse_or_die(R"(
providers:
  electricitymaps:
    token: s3cr3t-t0ken-value
  sdk:
    type: carbon-aware-sdk
    base_url: https://ada:hunter2@sdk.example.org
)");

  const std::string dumped = dump_config(config);

  EXPECT_THAT(dumped, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(dumped, Not(HasSubstr("hunter2")));
  EXPECT_THAT(dumped, HasSubstr("token: \"***\""));
  EXPECT_THAT(dumped, HasSubstr("sdk.example.org"));
}

TEST(DumpConfigTest, DumpParsesBackToTheSameConfiguration) {
  auto example = load_config(source_file("config/examples/lowcarb.yaml"));
  ASSERT_OK(example);
  const std::string first = dump_config(*example);

  auto reparsed = parse_config(first, example->source);

  ASSERT_OK(reparsed);
  EXPECT_EQ(first, dump_config(*reparsed));
}

TEST(ExampleConfigTest, LoadsWithNoEnvironmentVariablesSet) {
  auto loaded = load_config(source_file("config/examples/lowcarb.yaml"));

  ASSERT_OK(loaded);
  EXPECT_GE(loaded->zones.size(), 3u);
  EXPECT_EQ(2u, loaded->executors.slurm.size());
  EXPECT_FALSE(loaded->hardware.devices.empty());
}

}  // namespace
}  // namespace lowcarb::config
