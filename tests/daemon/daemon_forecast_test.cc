// SPDX-License-Identifier: Apache-2.0
// The real daemon against the real loopback provider server
// (tests/support/provider_server.py): a provider that hangs, one that
// answers only nulls and one whose credential is missing. In each case the
// socket keeps answering, the zone falls back along its chain and other
// zones are not affected.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"
#include "tests/forecast_http/provider_server.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kForecastPath[] = "/v3/carbon-intensity/forecast";

class DaemonForecastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    work_ = dir_.file("work");
    std::filesystem::create_directories(work_);
    std::filesystem::permissions(work_, std::filesystem::perms(0777));
    // The local fallback: flat, so a job may start at once.
    write_file(dir_.file("intensity.csv"),
               intensity_csv(real_now(), 96, {"DE", "FR"},
                             [](const std::string&, int) { return 120.0; }));
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      daemon_->stop();
    }
  }

  // DE asks `de_first` (a provider on the loopback server), then the file;
  // FR only the file.
  void write_config(const std::string& providers, const std::string& de_first) {
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
logging:
  level: info
providers:
  testfile:
    type: file
    path: {}
{}
zones:
  - id: DE
    providers: [{}, testfile]
    executor: local
  - id: FR
    providers: [testfile]
    executor: local
planner:
  replan_period: 15m
  safety_margin: 10m
daemon:
  poll_period: 1s
  sample_period: 1m
)",
                           dir_.file("intensity.csv"), providers, de_first));
  }

  std::string em_provider(const ProviderServer& server) {
    // 10 s per request and 3 retries: a hanging server holds one fetch for
    // about 20 s (the retry deadline), far longer than any answer below.
    return fmt::format(R"(  em:
    type: electricitymaps
    base_url: {}
    token_env: LOWCARB_TEST_EM_TOKEN
    timeout: 10s
    retries: 3
)",
                       server.url("/v3"));
  }

  void start(std::map<std::string, std::string> env = {}) {
    DaemonLaunch l;
    l.config_path = dir_.file("lowcarb.yaml");
    l.state_dir = dir_.file("state");
    std::filesystem::create_directories(dir_.file("run"));
    l.socket_path = dir_.file("run/lowcarb.sock");
    l.log_path = dir_.file("daemon.log");
    l.env = std::move(env);
    daemon_ = std::make_unique<DaemonProcess>(std::move(l));
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }

  json submit(const std::string& zone, const std::string& deadline) {
    json request = {{"op", "submit"},
                    {"name", "job-" + zone},
                    {"argv", {"sh", "-c", "sleep 1"}},
                    {"duration", 60},
                    {"zones", {zone}},
                    {"power_watts", 100},
                    {"deadline", deadline},
                    {"working_dir", work_}};
    auto job = daemon_->call(request);
    EXPECT_TRUE(job.has_value()) << job.error().message;
    return job ? *job : json();
  }

  std::string state_of(const std::string& id) {
    auto job = daemon_->call({{"op", "show"}, {"id", id}});
    return job ? (*job)["state"].get<std::string>() : "?";
  }

  // The slowest of `n` pings over fresh connections.
  std::chrono::milliseconds slowest_ping(int n) {
    std::chrono::milliseconds worst{0};
    for (int i = 0; i < n; ++i) {
      const auto started = std::chrono::steady_clock::now();
      auto pong = daemon_->call({{"op", "ping"}});
      EXPECT_TRUE(pong.has_value()) << pong.error().message;
      worst =
          std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started));
    }
    return worst;
  }

  ScopedTempDir dir_;
  std::string work_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(DaemonForecastTest, AHangingProviderNeverBlocksTheSocketOrAJobStart) {
  LOWCARB_START_PROVIDER_SERVER(server);
  ASSERT_OK(server.fault(kForecastPath, "timeout", 1000, "&delay=60"));
  write_config(em_provider(server), "em");
  start({{"LOWCARB_TEST_EM_TOKEN", kServerEmToken}});

  // Due in 80 min with 60 s to run: its latest safe start is about now.
  json job = submit("DE", "+80m");
  ASSERT_TRUE(job.contains("id")) << job.dump();
  const std::string id = job["id"];

  // The provider was asked and is hanging (the server sleeps 60 s).
  ASSERT_TRUE(wait_until(
      [&] {
        auto n = server.count(kForecastPath);
        return n && *n >= 1;
      },
      10s))
      << daemon_->log();
  // The socket answers as usual meanwhile: a blocked loop would hold every
  // request for the provider's ~20 s.
  EXPECT_LT(slowest_ping(20), 2000ms) << daemon_->log();
  auto listed = daemon_->call({{"op", "list"}});
  ASSERT_OK(listed);
  // The job started on the fallback without waiting for the provider.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto state = state_of(id);
        return state == "running" || state == "succeeded";
      },
      5s))
      << daemon_->log();
  auto shown = daemon_->call({{"op", "show"}, {"id", id}});
  ASSERT_OK(shown);
  EXPECT_EQ("testfile", (*shown)["forecast_provider"]) << shown->dump();
  const auto submitted =
      *parse_time((*shown)["submitted_at"].get<std::string>());
  const auto started = *parse_time((*shown)["started_at"].get<std::string>());
  EXPECT_LT(started - submitted, std::chrono::seconds(5));
}

TEST_F(DaemonForecastTest, AnAllNullForecastFallsBackWithAWarning) {
  LOWCARB_START_PROVIDER_SERVER(server);
  ASSERT_OK(server.fault(kForecastPath, "nulls", 1000));
  write_config(em_provider(server), "em");
  start({{"LOWCARB_TEST_EM_TOKEN", kServerEmToken}});

  json job = submit("DE", "+6h");
  ASSERT_TRUE(job.contains("id")) << job.dump();

  // The background fetch got the nulls, rejected them and fell back.
  ASSERT_TRUE(wait_until(
      [&] {
        return daemon_->log().find("no usable value") != std::string::npos;
      },
      20s))
      << daemon_->log();
  EXPECT_THAT(daemon_->log(), HasSubstr("forecast for DE: provider em failed"));
  auto n = server.count(kForecastPath);
  ASSERT_OK(n);
  EXPECT_GE(*n, 1);
  // After the refresh the job was re-planned on the fallback, never on em.
  auto shown = daemon_->call({{"op", "show"}, {"id", job["id"]}});
  ASSERT_OK(shown);
  EXPECT_EQ("testfile", (*shown)["forecast_provider"]) << shown->dump();
}

TEST_F(DaemonForecastTest, AMissingCredentialDisablesOnlyThatProvider) {
  LOWCARB_START_PROVIDER_SERVER(server);
  write_config(fmt::format(R"(  wt:
    type: watttime
    base_url: {}
    username_env: LOWCARB_TEST_WT_USER
    password_env: LOWCARB_TEST_WT_PASSWORD_NOT_SET
)",
                           server.url()),
               "wt");
  // The user name is set, the password is not.
  start({{"LOWCARB_TEST_WT_USER", kServerWattTimeUser}});

  json de = submit("DE", "+6h");
  json fr = submit("FR", "+6h");

  ASSERT_TRUE(de.contains("id")) << de.dump();
  ASSERT_TRUE(fr.contains("id")) << fr.dump();
  EXPECT_EQ("testfile", de["forecast_provider"]) << de.dump();
  EXPECT_EQ("testfile", fr["forecast_provider"]) << fr.dump();
  const std::string log = daemon_->log();
  EXPECT_THAT(log, HasSubstr("LOWCARB_TEST_WT_PASSWORD_NOT_SET is not set"));
  EXPECT_THAT(log, HasSubstr("the provider is disabled"));
  EXPECT_THAT(log, Not(HasSubstr(kServerWattTimeUser)));
  auto logins = server.count("/login");
  ASSERT_OK(logins);
  EXPECT_EQ(0, *logins);  // Never tried without a password.

  // The CLI with the same configuration: not a usage error either.
  CliRun forecast = run_lowcarb(
      {"--config", dir_.file("lowcarb.yaml"), "forecast", "--zone", "DE"},
      {{"LOWCARB_TEST_WT_USER", kServerWattTimeUser}});
  EXPECT_EQ(0, forecast.status) << forecast.err;
  EXPECT_THAT(forecast.out, HasSubstr("testfile"));
}

}  // namespace
}  // namespace lowcarb::testing
