// SPDX-License-Identifier: Apache-2.0
#include "forecast/electricitymaps_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_client.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *parse_time(text); }

std::string recorded(const std::string& name) {
  return testing::read_file(
      testing::shared_data("api-responses/electricitymaps/" + name));
}

TEST(ElectricityMapsParseTest, ForecastHas48HourlyPointsFromUpdatedAt) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto body = recorded("v3-carbon-intensity-forecast.green-elephpant.json");

  auto series =
      parse_electricitymaps_body(body, "DE", Horizon::kForecast, Scope::kDirect,
                                 at("2023-05-02T20:00:00Z"));

  ASSERT_OK(series);
  EXPECT_EQ("DE", series->zone);
  ASSERT_EQ(48u, series->points.size());
  EXPECT_EQ(at("2023-05-02T20:00:00Z"), series->begin_time());
  EXPECT_EQ(at("2023-05-04T20:00:00Z"), series->end_time());
  EXPECT_EQ(1h, series->points[0].end - series->points[0].start);
  EXPECT_EQ(557.0, series->points[0].gco2_per_kwh);
  EXPECT_EQ(590.0, series->points.back().gco2_per_kwh);
  EXPECT_EQ(at("2023-05-02T19:52:09Z"), series->generated_at);
  EXPECT_EQ((SignalKind{Basis::kAverage, Scope::kDirect, Horizon::kForecast}),
            series->kind);
}

TEST(ElectricityMapsParseTest, HistoryTakesLifecycleScopeFromTheBody) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto body = recorded("v3-carbon-intensity-history.aioelectricitymaps.json");

  auto series =
      parse_electricitymaps_body(body, "DE", Horizon::kObserved, Scope::kDirect,
                                 at("2024-03-06T20:00:00Z"));

  ASSERT_OK(series);
  ASSERT_EQ(24u, series->points.size());
  EXPECT_EQ(at("2024-03-05T20:00:00Z"), series->begin_time());
  EXPECT_EQ(at("2024-03-06T20:00:00Z"), series->end_time());
  EXPECT_EQ(599.0, series->points[0].gco2_per_kwh);
  EXPECT_EQ(Scope::kLifecycle, series->kind.scope);
  EXPECT_EQ(Horizon::kObserved, series->kind.horizon);
  EXPECT_EQ(at("2024-03-06T20:00:00Z"), series->generated_at);
}

TEST(ElectricityMapsParseTest, PastRangeHasTwoHourlyPoints) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto body =
      recorded("v3-carbon-intensity-past-range.if-electricitymaps.json");

  auto series =
      parse_electricitymaps_body(body, "DK-DK2", Horizon::kObserved,
                                 Scope::kLifecycle, at("2024-03-19T00:00:00Z"));

  ASSERT_OK(series);
  EXPECT_EQ("DK-DK2", series->zone);
  ASSERT_EQ(2u, series->points.size());
  EXPECT_EQ(at("2024-03-18T02:00:00Z"), series->begin_time());
  EXPECT_EQ(at("2024-03-18T04:00:00Z"), series->end_time());
  EXPECT_EQ(161.0, series->points[0].gco2_per_kwh);
  EXPECT_EQ(167.0, series->points[1].gco2_per_kwh);
}

TEST(ElectricityMapsParseTest, LatestIsOneSixtyMinutePoint) {
  LOWCARB_REQUIRE_SHARED_DATA();
  for (const auto& [file, zone, start, value] :
       {std::tuple{"v3-carbon-intensity-latest.green-elephpant.json", "DE",
                   "2024-03-01T23:00:00Z", 428.0},
        std::tuple{"v3-carbon-intensity-latest.aioelectricitymaps.json",
                   "US-CAR-DUK", "2024-03-06T19:00:00Z", 216.0}}) {
    auto series = parse_electricitymaps_body(
        recorded(file), "x", Horizon::kObserved, Scope::kDirect, at(start));

    ASSERT_OK(series);
    EXPECT_EQ(zone, series->zone) << file;
    ASSERT_EQ(1u, series->points.size()) << file;
    EXPECT_EQ(at(start), series->begin_time()) << file;
    EXPECT_EQ(60min, series->points[0].end - series->points[0].start) << file;
    EXPECT_EQ(value, series->points[0].gco2_per_kwh) << file;
  }
}

TEST(ElectricityMapsParseTest, LegacyCo2SignalAndZonesBodiesAreRejected) {
  LOWCARB_REQUIRE_SHARED_DATA();
  for (const char* file :
       {"legacy-co2signal-v1-latest.aioelectricitymaps.json",
        "legacy-co2signal-v1-no-data.aioelectricitymaps.json",
        "v3-zones.aioelectricitymaps.json"}) {
    auto series =
        parse_electricitymaps_body(recorded(file), "DE", Horizon::kObserved,
                                   Scope::kDirect, at("2024-01-01T00:00:00Z"));

    ASSERT_FALSE(series) << file;
    EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code) << file;
    EXPECT_THAT(series.error().message, HasSubstr("unexpected response"));
  }
}

TEST(ElectricityMapsParseTest, NullValuesStayNullAndSpacingSetsDuration) {
  std::string body = R"({"zone":"FR","forecast":[
      {"carbonIntensity":50,"datetime":"2026-01-01T00:00:00.000Z"},
      {"carbonIntensity":null,"datetime":"2026-01-01T00:15:00.000Z"},
      {"carbonIntensity":70,"datetime":"2026-01-01T00:30:00.000Z"}]})";

  auto series =
      parse_electricitymaps_body(body, "FR", Horizon::kForecast, Scope::kDirect,
                                 at("2026-01-01T00:00:00Z"));

  ASSERT_OK(series);
  ASSERT_EQ(3u, series->points.size());
  EXPECT_EQ(15min, series->points[0].end - series->points[0].start);
  EXPECT_FALSE(series->points[1].gco2_per_kwh.has_value());
  EXPECT_EQ(70.0, series->points[2].gco2_per_kwh);
}

TEST(ElectricityMapsParseTest, EmptyForecastIsNotFound) {
  auto series = parse_electricitymaps_body(
      R"({"zone":"DE","forecast":[]})", "DE", Horizon::kForecast,
      Scope::kDirect, at("2026-01-01T00:00:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kNotFound, series.error().code);
}

TEST(ElectricityMapsParseTest, HtmlBodyIsUnavailableWithExcerpt) {
  auto series = parse_electricitymaps_body(
      "<html><body>502 Bad Gateway</body></html>", "DE", Horizon::kForecast,
      Scope::kDirect, at("2026-01-01T00:00:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("502 Bad Gateway"));
}

TEST(ElectricityMapsHorizonTest, RoundsUpToAnAllowedValueAndCapsAt72) {
  EXPECT_EQ(6, electricitymaps_horizon_hours(1h));
  EXPECT_EQ(24, electricitymaps_horizon_hours(24h));
  EXPECT_EQ(48, electricitymaps_horizon_hours(25h));
  EXPECT_EQ(72, electricitymaps_horizon_hours(72h));
  EXPECT_EQ(72, electricitymaps_horizon_hours(240h));
}

class ElectricityMapsProviderTest : public ::testing::Test {
 protected:
  ElectricityMapsProvider make(Scope scope = Scope::kDirect) {
    ElectricityMapsOptions options;
    options.base_url = "https://em.example/v3/";
    options.token = "secret-em-token";
    options.scope = scope;
    return ElectricityMapsProvider(options, http_, clock_);
  }

  fakes::FakeClock clock_{at("2023-05-02T20:30:00Z")};
  fakes::FakeHttpClient http_;
};

TEST_F(ElectricityMapsProviderTest, ForecastRequestCarriesZoneHorizonScope) {
  LOWCARB_REQUIRE_SHARED_DATA();
  http_.push_body(
      "https://em.example/v3/carbon-intensity/forecast", 200,
      recorded("v3-carbon-intensity-forecast.green-elephpant.json"));
  auto provider = make(Scope::kLifecycle);

  auto series = provider.forecast("DE", clock_.now(), 30h);

  ASSERT_OK(series);
  ASSERT_EQ(1u, http_.requests().size());
  auto all_requests = http_.requests();
  const auto& request = all_requests[0];
  EXPECT_EQ(
      "https://em.example/v3/carbon-intensity/forecast?zone=DE"
      "&emissionFactorType=lifecycle&disableCallerLookup=true"
      "&horizonHours=48",
      request.url);
  EXPECT_THAT(request.headers,
              ::testing::Contains(std::pair<std::string, std::string>(
                  "auth-token", "secret-em-token")));
  // The 20:00-21:00 point is still running at 20:30: kept.
  EXPECT_EQ(48u, series->points.size());
  EXPECT_EQ("electricitymaps", series->provider);
}

TEST_F(ElectricityMapsProviderTest, ForecastDropsPointsThatEndedBeforeNow) {
  LOWCARB_REQUIRE_SHARED_DATA();
  http_.push_body(
      "https://em.example/v3/carbon-intensity/forecast", 200,
      recorded("v3-carbon-intensity-forecast.green-elephpant.json"));
  auto provider = make();

  auto series = provider.forecast("DE", at("2023-05-03T00:00:00Z"), 24h);

  ASSERT_OK(series);
  EXPECT_EQ(44u, series->points.size());
  EXPECT_EQ(at("2023-05-03T00:00:00Z"), series->begin_time());
}

TEST_F(ElectricityMapsProviderTest, LongHistoryIsSplitIntoTenDayPastRanges) {
  LOWCARB_REQUIRE_SHARED_DATA();
  http_.push_body("https://em.example/v3/carbon-intensity/past-range", 200,
                  recorded("v3-carbon-intensity-past-range.if-electricitymaps."
                           "json"));
  auto provider = make();

  auto series = provider.history("DK-DK2", at("2024-03-01T00:00:00Z"),
                                 at("2024-03-25T00:00:00Z"));

  ASSERT_OK(series);
  auto requests = http_.requests();
  ASSERT_EQ(3u, requests.size());
  EXPECT_THAT(requests[0].url,
              HasSubstr("past-range?zone=DK-DK2&emissionFactorType=direct"
                        "&disableCallerLookup=true"
                        "&start=2024-03-01T00%3A00%3A00Z"
                        "&end=2024-03-11T00%3A00%3A00Z"));
  EXPECT_THAT(requests[1].url, HasSubstr("&start=2024-03-11T00%3A00%3A00Z"
                                         "&end=2024-03-21T00%3A00%3A00Z"));
  EXPECT_THAT(requests[2].url, HasSubstr("&start=2024-03-21T00%3A00%3A00Z"
                                         "&end=2024-03-25T00%3A00%3A00Z"));
  // Every chunk answered the same two points: joined without duplicates.
  EXPECT_EQ(2u, series->points.size());
}

TEST_F(ElectricityMapsProviderTest, RejectedTokenIsPermissionDeniedAndHidden) {
  http_.push_body("https://em.example/v3/carbon-intensity/latest", 401,
                  R"({"message":"Invalid auth-token secret-em-token"})");
  auto provider = make();

  auto series = provider.latest("DE");

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kPermissionDenied, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("electricitymaps"));
  EXPECT_THAT(series.error().message, HasSubstr("HTTP 401"));
  EXPECT_THAT(series.error().message, Not(HasSubstr("secret-em-token")));
}

TEST_F(ElectricityMapsProviderTest, RecentHistoryUsesTheHistoryEndpoint) {
  LOWCARB_REQUIRE_SHARED_DATA();
  http_.push_body("https://em.example/v3/carbon-intensity/history", 200,
                  recorded("v3-carbon-intensity-history.aioelectricitymaps."
                           "json"));
  auto provider = make();

  auto series = provider.recent_history("DE");

  ASSERT_OK(series);
  EXPECT_EQ(24u, series->points.size());
  EXPECT_THAT(http_.requests()[0].url,
              HasSubstr("/carbon-intensity/history?zone=DE&"));
}

}  // namespace
}  // namespace lowcarb::forecast
