// SPDX-License-Identifier: Apache-2.0
// The Carbon Aware SDK routes over real HTTP on the real daemon: the 23
// conformance vectors (../shared/data/sdk-conformance), SDK-client request
// forms (tests/testdata/carbon-aware-sdk/client-requests.txt), and our own
// SDK client (CarbonAwareSdkProvider over libcurl) reading the daemon.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/curl_http_client.h"
#include "common/http_client.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "forecast/carbon_aware_sdk_provider.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kToken = "sdk-routes-test-token";

class SdkRoutesE2eTest : public ::testing::Test {
 protected:
  // Starts the daemon with `csv` as its one file provider and `zones`
  // configured as custom UTC zones served by it.
  void start(const std::string& csv, const std::vector<std::string>& zones) {
    write_file(dir_.file("intensity.csv"), csv);
    std::string zone_list;
    for (const auto& zone : zones) {
      zone_list += fmt::format(
          "  - id: {}\n    time_zone: UTC\n    providers: [testfile]\n"
          "    executor: local\n",
          zone);
    }
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format("providers:\n  testfile:\n    type: file\n"
                           "    path: {}\nzones:\n{}daemon:\n"
                           "  poll_period: 1s\n",
                           dir_.file("intensity.csv"), zone_list));
    write_file(dir_.file("token"), std::string(kToken) + "\n");
    ::chmod(dir_.file("token").c_str(), 0600);
    std::filesystem::create_directories(dir_.file("run"));
    port_ = free_loopback_port();
    DaemonLaunch l;
    l.config_path = dir_.file("lowcarb.yaml");
    l.state_dir = dir_.file("state");
    l.socket_path = dir_.file("run/lowcarb.sock");
    l.log_path = dir_.file("daemon.log");
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

  HttpAnswer get(const std::string& target) {
    return http_request(port_, "GET", target, kToken);
  }

  ScopedTempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
};

// Each vector's forecast, moved to the future (the daemon forecasts from
// its real now) under zone V<index>. Every quantity the SDK semantics use
// is relative, so the shift changes no answer.
TEST_F(SdkRoutesE2eTest, PassesEveryConformanceVectorOverHttp) {
  LOWCARB_REQUIRE_SHARED_DATA();
  const auto doc = json::parse(
      read_file(shared_data("sdk-conformance/optimal_window_vectors.json")));
  const auto& cases = doc.at("cases");
  ASSERT_EQ(23u, cases.size());
  const TimePoint origin = *parse_time("2022-01-01T00:00:00Z");
  const TimePoint base =
      std::chrono::floor<std::chrono::hours>(real_now()) + 3h;
  const auto shift = base - origin;
  std::string csv = "timestamp,zone,gco2_per_kwh\n";
  std::vector<std::string> zones;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string zone = fmt::format("V{:02}", i);
    zones.push_back(zone);
    const auto& forecast = cases[i].at("input").at("forecast");
    for (const auto& p : forecast) {
      csv += fmt::format(
          "{},{},{}\n",
          format_utc(*parse_time(p.at("timestamp").get<std::string>()) + shift),
          zone, p.at("value").get<double>());
    }
  }
  start(csv, zones);

  int checked = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const auto& input = c.at("input");
    std::string target =
        fmt::format("/emissions/forecasts/current?location={}", zones[i]);
    for (const char* key : {"dataStartAt", "dataEndAt"}) {
      const auto value = input.value(key, json());
      if (!value.is_null()) {
        target += fmt::format(
            "&{}={}", key,
            url_encode(
                format_utc(*parse_time(value.get<std::string>()) + shift)));
      }
    }
    const auto window = input.value("windowSize", json());
    if (!window.is_null()) {
      target += fmt::format("&windowSize={}", window.get<int>());
    }

    HttpAnswer answer = get(target);

    const auto& expected = c.at("expected");
    if (expected.contains("error")) {
      EXPECT_EQ(400, answer.status) << answer.body;
      for (const auto& message : expected.at("messages")) {
        EXPECT_THAT(answer.body, HasSubstr(message.get<std::string>()));
      }
      ++checked;
      continue;
    }
    ASSERT_EQ(200, answer.status) << target << ": " << answer.body;
    const json body = json::parse(answer.body);
    ASSERT_EQ(1u, body.size());
    const json& forecast = body[0];
    EXPECT_EQ(zones[i], forecast.at("location"));
    for (const char* key : {"forecastData", "optimalDataPoints"}) {
      const auto& want = expected.at(key);
      const auto& got = forecast.at(key);
      ASSERT_EQ(want.size(), got.size()) << key;
      for (size_t k = 0; k < got.size(); ++k) {
        const TimePoint at =
            *parse_time(got[k].at("timestamp").get<std::string>()) - shift;
        EXPECT_EQ(want[k].at("timestamp").get<std::string>(), format_utc(at))
            << key << "[" << k << "]";
        EXPECT_EQ(want[k].at("duration").get<int>(),
                  got[k].at("duration").get<int>())
            << key << "[" << k << "]";
        // Bit-exact through the JSON text, as clients see it.
        EXPECT_EQ(want[k].at("value").get<double>(),
                  got[k].at("value").get<double>())
            << key << "[" << k << "] want " << want[k].at("value_repr");
        EXPECT_EQ(zones[i], got[k].at("location"));
      }
    }
    ++checked;
  }
  EXPECT_EQ(23, checked);
}

// 5-minute values for lab-west and lab-east on 2022-08-23 13:00..16:00, the
// period of the SDK quickstart's examples.
std::string quickstart_csv() {
  std::string csv = "timestamp,zone,gco2_per_kwh\n";
  const TimePoint t0 = *parse_time("2022-08-23T13:00:00Z");
  for (const char* zone : {"lab-west", "lab-east"}) {
    for (int i = 0; i < 36; ++i) {
      const double value = std::string(zone) == "lab-west"
                               ? 440.0 - (i == 20 ? 40 : 0)
                               : 420.0 + (i % 3);
      csv += fmt::format("{},{},{}\n",
                         format_utc(t0 + std::chrono::minutes(5 * i)), zone,
                         value);
    }
  }
  return csv;
}

TEST_F(SdkRoutesE2eTest, AnswersTheRequestFormsOfSdkClients) {
  start(quickstart_csv(), {"lab-west", "lab-east"});
  std::istringstream lines(
      read_file(testdata("carbon-aware-sdk/client-requests.txt")));
  std::string line;
  int sent = 0;

  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const auto space = line.find(' ');
    const int want = std::stoi(line.substr(0, space));
    const std::string target = line.substr(space + 1);
    HttpAnswer answer = get(target);
    EXPECT_EQ(want, answer.status) << target << ": " << answer.body;
    if (want == 200) {
      const json body = json::parse(answer.body);
      ASSERT_TRUE(body.is_array()) << target;
      ASSERT_FALSE(body.empty()) << target;
      for (const auto& point : body) {
        // The SDK's EmissionsData: TimeSpan durations, offsets in times.
        EXPECT_EQ("00:05:00", point.at("duration")) << target;
        EXPECT_THAT(point.at("time").get<std::string>(), HasSubstr("+00:00"));
        EXPECT_TRUE(point.at("rating").is_number());
      }
    }
    if (want == 400) {
      EXPECT_EQ(400, json::parse(answer.body).at("status")) << target;
    }
    ++sent;
  }

  EXPECT_EQ(7, sent);
  // 14:00..14:30 holds 6 points per zone; lab-west's low point (14:40) is
  // outside it, so lab-east's two 420s win.
  const json best = json::parse(
      get("/emissions/bylocations/best?location=lab-east&location=lab-west"
          "&time=2022-08-23T14%3A00&toTime=2022-08-23T14%3A30")
          .body);
  ASSERT_EQ(2u, best.size());
  EXPECT_EQ("2022-08-23T14:00:00+00:00", best[0].at("time"));
  EXPECT_EQ("2022-08-23T14:15:00+00:00", best[1].at("time"));
  for (const auto& point : best) {
    EXPECT_EQ("lab-east", point.at("location"));
    EXPECT_EQ(420.0, point.at("rating").get<double>());
  }
  const json both = json::parse(
      get("/emissions/bylocations?location=lab-east&location=lab-west"
          "&time=2022-08-23T14%3A00&toTime=2022-08-23T14%3A30")
          .body);
  EXPECT_EQ(12u, both.size());
  const json wide = json::parse(
      get("/emissions/bylocations/best?location=lab-east&location=lab-west"
          "&time=2022-08-23T14:00:00Z&toTime=2022-08-23T15:00:00Z")
          .body);
  ASSERT_EQ(1u, wide.size());
  EXPECT_EQ("lab-west", wide[0].at("location"));
  EXPECT_EQ("2022-08-23T14:40:00+00:00", wide[0].at("time"));
  EXPECT_EQ(400.0, wide[0].at("rating").get<double>());
}

TEST_F(SdkRoutesE2eTest, RefusesSdkRoutesWithoutTheToken) {
  start(quickstart_csv(), {"lab-west"});

  HttpAnswer none =
      http_request(port_, "GET", "/emissions/bylocation?location=lab-west", "");

  EXPECT_EQ(401, none.status);
  EXPECT_THAT(none.body, ::testing::Not(HasSubstr("rating")));
}

// Our own SDK client, the provider that reads a Carbon Aware SDK server,
// pointed at the daemon: what it reads is the daemon's forecast.
TEST_F(SdkRoutesE2eTest, CarbonAwareSdkProviderReadsTheDaemon) {
  const auto now = real_now();
  start(intensity_csv(now, 24, {"lab-west", "lab-east"},
                      [](const std::string& zone, int hour) {
                        return (zone == "lab-west" ? 300.0 : 100.0) + hour;
                      }),
        {"lab-west", "lab-east"});
  forecast::CarbonAwareSdkOptions options;
  options.base_url = fmt::format("http://127.0.0.1:{}", port_);
  options.token = kToken;
  options.basis = forecast::Basis::kAverage;
  CurlHttpClient http;
  SystemClock clock;
  forecast::CarbonAwareSdkProvider client(options, http, clock);

  auto series = client.forecasts({"lab-west", "lab-east"}, now, 12h);
  auto history = client.history(
      "lab-east", std::chrono::floor<std::chrono::hours>(now) + 2h,
      std::chrono::floor<std::chrono::hours>(now) + 4h);

  ASSERT_OK(series);
  ASSERT_EQ(2u, series->size());
  EXPECT_EQ("lab-west", (*series)[0].zone);
  ASSERT_FALSE((*series)[0].empty());
  const auto& first = (*series)[0].points.front();
  EXPECT_EQ(std::chrono::floor<std::chrono::hours>(now), first.start);
  EXPECT_EQ(300.0, first.gco2_per_kwh.value_or(-1));
  EXPECT_EQ(123.0, (*series)[1].points.back().gco2_per_kwh.value_or(-1));
  ASSERT_OK(history);
  ASSERT_EQ(2u, history->points.size());
  EXPECT_EQ(102.0, history->points[0].gco2_per_kwh.value_or(-1));
  EXPECT_EQ(103.0, history->points[1].gco2_per_kwh.value_or(-1));
}

}  // namespace
}  // namespace lowcarb::testing
