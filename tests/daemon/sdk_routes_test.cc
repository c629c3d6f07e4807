// SPDX-License-Identifier: Apache-2.0
// The SDK routes and the dashboard's routing as pure functions, over a
// FakeForecastProvider; query-string decoding.
#include "scheduler/api/sdk_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "scheduler/api/dashboard.h"
#include "scheduler/api/http_routes.h"
#include "tests/fakes/fake_forecast_provider.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const TimePoint kNow = *parse_time("2026-11-23T10:00:00Z");

class SdkRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_.set_hourly("DE", kNow, {300, 200, 100, 150, 400});
    provider_.set_hourly("FR", kNow, {50, 60, 70, 80, 90});
  }

  std::optional<HttpReply> get(const std::string& target,
                               bool authorized = true) {
    return answer_sdk_route({"GET", target, "", authorized}, provider_, kNow,
                            72h);
  }

  fakes::FakeForecastProvider provider_;
};

TEST(HttpRoutesTest, DecodesRepeatedAndEscapedParameters) {
  auto t = parse_route_target(
      "/emissions/bylocations/?location=a&location=b&time=2022-08-23T14%3A00"
      "&x=a+b&bad=%zz&flag");

  EXPECT_EQ("/emissions/bylocations", t.path);
  EXPECT_THAT(all_params(t.params, "location"), ElementsAre("a", "b"));
  EXPECT_EQ("2022-08-23T14:00", first_param(t.params, "TIME").value_or(""));
  EXPECT_EQ("a b", first_param(t.params, "x").value_or(""));
  EXPECT_EQ("%zz", first_param(t.params, "bad").value_or(""));
  EXPECT_EQ("", first_param(t.params, "flag").value_or("missing"));
  EXPECT_FALSE(first_param(t.params, "nothing"));
}

TEST_F(SdkRoutesTest, ForecastsCurrentHasTheSdkShape) {
  auto reply = get("/emissions/forecasts/current?location=DE&windowSize=120");

  ASSERT_TRUE(reply);
  ASSERT_EQ(200, reply->status) << reply->body;
  const json body = json::parse(reply->body);
  ASSERT_EQ(1u, body.size());
  const json& f = body[0];
  EXPECT_EQ("DE", f["location"]);
  EXPECT_EQ("2026-11-23T10:00:00+00:00", f["requestedAt"]);
  EXPECT_EQ("2026-11-23T10:00:00+00:00", f["dataStartAt"]);
  EXPECT_EQ("2026-11-23T15:00:00+00:00", f["dataEndAt"]);
  EXPECT_EQ(120, f["windowSize"]);
  ASSERT_EQ(1u, f["optimalDataPoints"].size());
  const json& best = f["optimalDataPoints"][0];
  EXPECT_EQ("2026-11-23T12:00:00+00:00", best["timestamp"]);
  EXPECT_EQ(120, best["duration"]);
  EXPECT_EQ(125.0, best["value"]);
  EXPECT_EQ(4u, f["forecastData"].size());
}

TEST_F(SdkRoutesTest, ForecastsForSeveralLocationsInTheOrderAsked) {
  auto reply = get("/emissions/forecasts/current?location=FR&location=DE");

  ASSERT_TRUE(reply);
  ASSERT_EQ(200, reply->status) << reply->body;
  const json body = json::parse(reply->body);
  ASSERT_EQ(2u, body.size());
  EXPECT_EQ("FR", body[0]["location"]);
  EXPECT_EQ("DE", body[1]["location"]);
}

TEST_F(SdkRoutesTest, BadParametersAre400ProblemDetails) {
  auto none = get("/emissions/forecasts/current");
  auto window = get("/emissions/forecasts/current?location=DE&windowSize=x");
  auto start = get(
      "/emissions/forecasts/current?location=DE&dataStartAt=2026-11-23T09:00Z");
  auto time = get("/emissions/bylocation?location=DE&time=soon");
  auto two = get("/emissions/bylocation?location=DE&location=FR");

  for (const auto* r : {&none, &window, &start, &time, &two}) {
    ASSERT_TRUE(*r);
    EXPECT_EQ(400, (*r)->status) << (*r)->body;
    EXPECT_EQ(400, json::parse((*r)->body)["status"]);
  }
  EXPECT_THAT(none->body, HasSubstr("location"));
  EXPECT_THAT(window->body, HasSubstr("windowSize"));
  EXPECT_THAT(start->body, HasSubstr("dataStartAt out of range"));
  EXPECT_THAT(time->body, HasSubstr("time"));
}

TEST_F(SdkRoutesTest, UnknownZoneIs404AndProviderFailureIs503) {
  auto unknown = get("/emissions/forecasts/current?location=XX");
  provider_.fail_with(Error{ErrorCode::kUnavailable, "provider down"});
  auto down = get("/emissions/forecasts/current?location=DE");

  ASSERT_TRUE(unknown);
  EXPECT_EQ(404, unknown->status);
  ASSERT_TRUE(down);
  EXPECT_EQ(503, down->status);
  EXPECT_THAT(down->body, HasSubstr("provider down"));
}

TEST_F(SdkRoutesTest, BestAcrossLocationsKeepsEveryTie) {
  provider_.set_hourly("IT", kNow, {50, 300, 50});

  auto reply =
      get("/emissions/bylocations/best?location=FR&location=IT"
          "&time=2026-11-23T10:00:00Z&toTime=2026-11-23T13:00:00Z");

  ASSERT_TRUE(reply);
  ASSERT_EQ(200, reply->status) << reply->body;
  const json body = json::parse(reply->body);
  ASSERT_EQ(3u, body.size());
  EXPECT_EQ("FR", body[0]["location"]);
  EXPECT_EQ("IT", body[1]["location"]);
  EXPECT_EQ("2026-11-23T10:00:00+00:00", body[1]["time"]);
  EXPECT_EQ("IT", body[2]["location"]);
  EXPECT_EQ("2026-11-23T12:00:00+00:00", body[2]["time"]);
  EXPECT_EQ("01:00:00", body[0]["duration"]);
}

TEST_F(SdkRoutesTest, OtherPathsAndMissingTokensAreNotAnswered) {
  EXPECT_FALSE(get("/jobs"));
  EXPECT_FALSE(get("/emissions/forecasts/current?location=DE", false));
  auto post =
      answer_sdk_route({"POST", "/emissions/bylocation?location=DE", "", true},
                       provider_, kNow, 72h);
  ASSERT_TRUE(post);
  EXPECT_EQ(405, post->status);
}

TEST(DashboardRouteTest, PageIsPublicDataNeedsTheToken) {
  fakes::FakeForecastProvider provider;
  provider.set_hourly("DE", kNow, {300, 200});
  DashboardSources sources;
  sources.forecasts = &provider;
  sources.zones = {"DE"};
  sources.handler = [](std::string_view request, const Peer&) {
    const json r = json::parse(request);
    if (r["op"] == "list") {
      return std::string(
          R"({"result":{"jobs":[{"id":"7","state":"queued"}]}})");
    }
    return std::string(R"({"result":{"saved_kg":1.5,"job_count":1}})");
  };

  auto page =
      answer_dashboard_route({"GET", "/dashboard", "", false}, sources, kNow);
  auto refused = answer_dashboard_route({"GET", "/dashboard/data", "", false},
                                        sources, kNow);
  auto data = answer_dashboard_route({"GET", "/dashboard/data", "", true},
                                     sources, kNow);

  ASSERT_TRUE(page);
  EXPECT_EQ(200, page->status);
  EXPECT_THAT(page->content_type, HasSubstr("text/html"));
  EXPECT_FALSE(refused);
  ASSERT_TRUE(data);
  const json d = json::parse(data->body);
  EXPECT_EQ("2026-11-23T10:00:00Z", d["now"]);
  EXPECT_EQ("7", d["jobs"][0]["id"]);
  EXPECT_EQ(1.5, d["report"]["saved_kg"]);
  ASSERT_EQ(2u, d["zones"][0]["forecast"].size());
  EXPECT_EQ(300.0, d["zones"][0]["forecast"][0]["value"]);
}

}  // namespace
}  // namespace lowcarb::scheduler::api
