// SPDX-License-Identifier: Apache-2.0
// The dashboard on the real daemon, rendered by headless Chromium (Debian's
// `chromium`): a screenshot, and assertions on the DOM it built from the
// daemon's real jobs, forecasts and ledger. Skipped when chromium is absent.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "dashboard-test-token";
constexpr const char* kChromium = "/usr/bin/chromium";

// Runs headless Chromium on `url` with `args` ("--dump-dom",
// "--screenshot=..."); returns its stdout. Chromium's stderr goes to `log`.
std::string chromium(const std::string& profile_dir, const std::string& url,
                     const std::string& args, const std::string& log) {
  const std::string command = fmt::format(
      "timeout 90 {} --headless --no-sandbox --disable-gpu --disable-quic "
      "--no-first-run --disable-background-networking "
      "--disable-component-update --disable-sync --user-data-dir='{}' "
      "--virtual-time-budget=10000 --window-size=1200,1500 {} '{}' 2>>'{}'",
      kChromium, profile_dir, args, url, log);
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  ::pclose(pipe);
  return out;
}

class DashboardE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    work_ = dir_.file("work");
    std::filesystem::create_directories(work_);
    // DE: dirty for the next two hours, then clean. FR: always clean.
    write_file(dir_.file("intensity.csv"),
               intensity_csv(real_now(), 72, {"DE", "FR"},
                             [](const std::string& zone, int hour) {
                               if (zone == "FR") {
                                 return 50.0;
                               }
                               return hour < 2 ? 500.0 : 80.0 + hour;
                             }));
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
providers:
  testfile:
    type: file
    path: {}
zones:
  - id: DE
    providers: [testfile]
    executor: local
  - id: FR
    providers: [testfile]
    executor: local
daemon:
  poll_period: 1s
  sample_period: 1m
)",
                           dir_.file("intensity.csv")));
    write_file(dir_.file("token"), std::string(kToken) + "\n");
    ::chmod(dir_.file("token").c_str(), 0600);
    std::filesystem::create_directories(dir_.file("run"));
    port_ = free_loopback_port();
    DaemonLaunch l;
    l.config_path = dir_.file("lowcarb.yaml");
    l.state_dir = dir_.file("state");
    l.socket_path = dir_.file("run/lowcarb.sock");
    l.log_path = dir_.file("daemon.log");
    // One scheduled hour per 6 real seconds: the first job waits out DE's
    // two dirty hours in 12 s; the second stays queued for minutes, while
    // Chromium renders.
    l.clock_speed = 600;
    l.extra_args = {"--http", fmt::format("127.0.0.1:{}", port_),
                    "--http-token-file", dir_.file("token")};
    daemon_ = std::make_unique<DaemonProcess>(l);
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      daemon_->stop();
    }
  }

  std::string submit(json request) {
    request["op"] = "submit";
    request["working_dir"] = work_;
    auto job = daemon_->call(request);
    EXPECT_TRUE(job.has_value()) << job.error().message;
    return job ? (*job)["id"].get<std::string>() : "";
  }

  bool reaches(const std::string& id, const std::string& state) {
    return daemon_->reaches(id, state, std::chrono::seconds(90));
  }

  ScopedTempDir dir_;
  std::string work_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
};

TEST_F(DashboardE2eTest, PageIsSelfContainedAndDataNeedsTheToken) {
  HttpAnswer page = http_request(port_, "GET", "/dashboard", "");
  HttpAnswer data = http_request(port_, "GET", "/dashboard/data", "");
  HttpAnswer with_token = http_request(port_, "GET", "/dashboard/data", kToken);

  EXPECT_EQ(200, page.status);
  EXPECT_THAT(page.body, HasSubstr("<title>lowcarb dashboard</title>"));
  // Works offline: nothing to fetch but the daemon's own /dashboard/data.
  EXPECT_THAT(page.body, Not(HasSubstr("src=")));
  EXPECT_THAT(page.body, Not(HasSubstr("href=")));
  EXPECT_THAT(page.body, Not(HasSubstr("@import")));
  EXPECT_THAT(page.body, Not(HasSubstr("url(")));
  EXPECT_THAT(page.body, Not(HasSubstr(kToken)));
  EXPECT_EQ(401, data.status);
  ASSERT_EQ(200, with_token.status) << with_token.body;
  const json d = json::parse(with_token.body);
  ASSERT_EQ(2u, d.at("zones").size());
  EXPECT_EQ("DE", d["zones"][0]["zone"]);
  EXPECT_GE(d["zones"][0]["forecast"].size(), 48u);
  EXPECT_TRUE(d.at("report").contains("saved_kg"));
}

TEST_F(DashboardE2eTest, ChromiumDrawsZonesQueueJobsAndTotals) {
  if (::access(kChromium, X_OK) != 0) {
    GTEST_SKIP() << kChromium
                 << " not found: install Debian's chromium (scripts/setup) "
                    "to run the dashboard test";
  }
  // One job runs after DE's dirty hours and is metered; one waits far
  // ahead, in the queue.
  const std::string ran = submit({{"name", "train-small"},
                                  {"argv", {"sh", "-c", "sleep 1"}},
                                  {"duration", 3600},
                                  {"zones", {"DE"}},
                                  {"power_watts", 200},
                                  {"deadline", "+12h"}});
  const std::string queued = submit({{"name", "train-big"},
                                     {"argv", json::array({"true"})},
                                     {"duration", 7200},
                                     {"zones", {"DE"}},
                                     {"earliest", "+30h"},
                                     {"deadline", "+40h"}});
  ASSERT_TRUE(reaches(ran, "succeeded")) << daemon_->log();
  auto report = daemon_->call({{"op", "report"}});
  ASSERT_OK(report);
  ASSERT_GT((*report)["kwh"].get<double>(), 0);
  const std::string url =
      fmt::format("http://127.0.0.1:{}/dashboard#token={}", port_, kToken);
  const std::string shot = dir_.file("dashboard.png");

  const std::string dom = chromium(dir_.file("profile-dom"), url, "--dump-dom",
                                   dir_.file("chromium.log"));
  chromium(dir_.file("profile-shot"), url, "--screenshot=" + shot,
           dir_.file("chromium.log"));

  ASSERT_THAT(dom, HasSubstr("data-state=\"ready\""))
      << dom.substr(0, 2000) << read_file(dir_.file("chromium.log"));
  // Per zone: the forecast curve, and the two jobs' windows on DE's.
  EXPECT_THAT(dom, HasSubstr("<svg viewBox=\"0 0 600 200\" data-zone=\"DE\""));
  EXPECT_THAT(dom, HasSubstr("data-zone=\"FR\""));
  EXPECT_THAT(dom, HasSubstr("class=\"forecast\""));
  EXPECT_THAT(dom,
              HasSubstr(fmt::format("class=\"window\" data-job=\"{}\"", ran)));
  EXPECT_THAT(
      dom, HasSubstr(fmt::format("class=\"window\" data-job=\"{}\"", queued)));
  // The queue holds the waiting job with its planned start and deadline.
  auto shown = daemon_->call({{"op", "show"}, {"id", queued}});
  ASSERT_OK(shown);
  // As the page writes times: "2026-12-02 15:00Z", seconds only if any.
  std::string planned = (*shown)["planned_start"].get<std::string>();
  planned[10] = ' ';
  if (planned.size() == 20 && planned.substr(16) == ":00Z") {
    planned = planned.substr(0, 16) + "Z";
  }
  EXPECT_THAT(dom, HasSubstr(fmt::format(
                       "<td data-field=\"planned_start\">{}</td>", planned)));
  EXPECT_THAT(dom, HasSubstr(fmt::format("<tr data-job=\"{}\">", queued)));
  // The finished job: realized vs run-now, from the ledger.
  auto finished = daemon_->call({{"op", "show"}, {"id", ran}});
  ASSERT_OK(finished);
  const auto& e = (*finished)["emissions"];
  EXPECT_THAT(dom,
              HasSubstr(fmt::format(
                  "<td class=\"num\" data-field=\"realized_kg\">{:.4f}</td>",
                  e["realized_kg"].get<double>())));
  EXPECT_THAT(
      dom, HasSubstr(fmt::format(
               "<td class=\"num\" data-field=\"counterfactual_kg\">{:.4f}</td>",
               e["counterfactual_kg"].get<double>())));
  EXPECT_LT(e["realized_kg"].get<double>(),
            e["counterfactual_kg"].get<double>());
  // Totals.
  EXPECT_THAT(dom, HasSubstr(fmt::format(
                       "<div data-field=\"saved_kg\"><b class=\"saved\">{:.3f}",
                       (*report)["saved_kg"].get<double>())));
  // The screenshot is a real PNG of a drawn page.
  ASSERT_TRUE(std::filesystem::exists(shot))
      << read_file(dir_.file("chromium.log"));
  const std::string png = read_file(shot);
  EXPECT_EQ("\x89PNG", png.substr(0, 4));
  EXPECT_GT(png.size(), 20000u);
}

}  // namespace
}  // namespace lowcarb::testing
