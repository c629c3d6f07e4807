// SPDX-License-Identifier: Apache-2.0
#include "forecast/carbon_aware_sdk_provider.h"

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
      testing::shared_data("api-responses/carbon-aware-sdk/" + name));
}

// The documented EmissionsForecast shape (the SDK's swagger example).
constexpr char kForecastBody[] = R"([{
  "generatedAt": "2022-06-01T14:45:00Z",
  "requestedAt": "2022-06-01T14:46:00Z",
  "location": "eastus",
  "dataStartAt": "2022-06-01T14:50:00Z",
  "dataEndAt": "2022-06-01T15:05:00Z",
  "windowSize": 0,
  "optimalDataPoints": [{"location": "eastus",
      "timestamp": "2022-06-01T14:55:00Z", "duration": 5, "value": 359.2}],
  "forecastData": [
    {"location": "eastus", "timestamp": "2022-06-01T14:50:00Z",
     "duration": 5, "value": 447.2},
    {"location": "eastus", "timestamp": "2022-06-01T14:55:00Z",
     "duration": 5, "value": 359.2},
    {"location": "eastus", "timestamp": "2022-06-01T15:00:00Z",
     "duration": 5, "value": null}]
}, {
  "generatedAt": "2022-06-01T14:45:00Z",
  "location": "westus",
  "forecastData": [
    {"location": "westus", "timestamp": "2022-06-01T14:50:00Z",
     "duration": 30, "value": 120}]
}])";

TEST(CarbonAwareSdkParseTest, ForecastsHaveTimestampDurationAndNulls) {
  auto all = parse_sdk_forecasts(kForecastBody, Basis::kMarginal,
                                 at("2022-06-01T14:46:00Z"));

  ASSERT_OK(all);
  ASSERT_EQ(2u, all->size());
  const auto& east = (*all)[0];
  EXPECT_EQ("eastus", east.zone);
  EXPECT_EQ(at("2022-06-01T14:45:00Z"), east.generated_at);
  ASSERT_EQ(3u, east.points.size());
  EXPECT_EQ(at("2022-06-01T14:50:00Z"), east.begin_time());
  EXPECT_EQ(at("2022-06-01T15:05:00Z"), east.end_time());
  EXPECT_EQ(447.2, east.points[0].gco2_per_kwh);
  EXPECT_FALSE(east.points[2].gco2_per_kwh.has_value());
  EXPECT_EQ(30min, (*all)[1].points[0].end - (*all)[1].points[0].start);
  EXPECT_EQ((SignalKind{Basis::kMarginal, Scope::kDirect, Horizon::kForecast}),
            east.kind);
}

TEST(CarbonAwareSdkParseTest, ByLocationIsSortedWithTimeSpanDurations) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto all = parse_sdk_emissions(
      recorded("emissions-bylocation.documented-example.gsf-quickstart.json"),
      Basis::kMarginal, at("2022-08-23T15:00:00Z"));

  ASSERT_OK(all);
  ASSERT_EQ(1u, all->size());
  const auto& series = all->front();
  EXPECT_EQ("CAISO_NORTH", series.zone);
  ASSERT_EQ(8u, series.points.size());
  EXPECT_EQ(at("2022-08-23T13:55:00Z"), series.begin_time());
  EXPECT_EQ(at("2022-08-23T14:35:00Z"), series.end_time());
  EXPECT_EQ(5min, series.points[0].end - series.points[0].start);
  EXPECT_DOUBLE_EQ(445.42770734000004, *series.points[0].gco2_per_kwh);
  EXPECT_EQ(Horizon::kObserved, series.kind.horizon);
}

TEST(CarbonAwareSdkParseTest, BestObjectIsOnePoint) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto all = parse_sdk_emissions(
      recorded("emissions-bylocations-best.documented-example.gsf-quickstart."
               "json"),
      Basis::kMarginal, at("2022-08-23T15:00:00Z"));

  ASSERT_OK(all);
  ASSERT_EQ(1u, all->size());
  EXPECT_EQ("AZPS", all->front().zone);
  ASSERT_EQ(1u, all->front().points.size());
  EXPECT_EQ(at("2022-08-23T08:05:00Z"), all->front().begin_time());
  EXPECT_DOUBLE_EQ(398.70769323, *all->front().points[0].gco2_per_kwh);
}

TEST(CarbonAwareSdkParseTest, EmptyArraysAreNotFound) {
  auto forecasts =
      parse_sdk_forecasts("[]", Basis::kMarginal, at("2022-08-23T15:00:00Z"));
  auto emissions =
      parse_sdk_emissions("[]", Basis::kMarginal, at("2022-08-23T15:00:00Z"));

  ASSERT_FALSE(forecasts);
  EXPECT_EQ(ErrorCode::kNotFound, forecasts.error().code);
  ASSERT_FALSE(emissions);
  EXPECT_EQ(ErrorCode::kNotFound, emissions.error().code);
}

TEST(CarbonAwareSdkParseTest, TimeSpans) {
  EXPECT_EQ(Duration(300), *parse_sdk_timespan("00:05:00"));
  EXPECT_EQ(Duration(86400 + 3600), *parse_sdk_timespan("1.01:00:00"));
  EXPECT_EQ(Duration(1), *parse_sdk_timespan("00:00:01.5000000"));
  EXPECT_FALSE(parse_sdk_timespan("5 minutes"));
}

class CarbonAwareSdkProviderTest : public ::testing::Test {
 protected:
  CarbonAwareSdkProvider make() {
    CarbonAwareSdkOptions options;
    options.base_url = "http://sdk.example:8080";
    return CarbonAwareSdkProvider(options, http_, clock_);
  }

  fakes::FakeClock clock_{at("2022-06-01T14:52:00Z")};
  fakes::FakeHttpClient http_;
};

TEST_F(CarbonAwareSdkProviderTest, SeveralLocationsAreRepeatedParameters) {
  http_.push_body("http://sdk.example:8080/emissions/forecasts/current", 200,
                  kForecastBody);
  auto provider = make();

  auto all = provider.forecasts({"eastus", "westus"}, clock_.now(), 1h);

  ASSERT_OK(all);
  EXPECT_EQ(
      "http://sdk.example:8080/emissions/forecasts/current?location=eastus"
      "&location=westus",
      http_.requests()[0].url);
  ASSERT_EQ(2u, all->size());
  EXPECT_EQ("eastus", (*all)[0].zone);
  EXPECT_EQ(3u, (*all)[0].points.size());  // 14:50-14:55 is still running.
  EXPECT_EQ("westus", (*all)[1].zone);
}

TEST_F(CarbonAwareSdkProviderTest, HistoryUsesByLocationsWithTimeRange) {
  LOWCARB_REQUIRE_SHARED_DATA();
  http_.push_body(
      "http://sdk.example:8080/emissions/bylocations", 200,
      recorded("emissions-bylocation.documented-example.gsf-quickstart.json"));
  auto provider = make();

  auto series = provider.history("westus", at("2022-08-23T14:00:00Z"),
                                 at("2022-08-23T14:20:00Z"));

  ASSERT_OK(series);
  EXPECT_EQ(
      "http://sdk.example:8080/emissions/bylocations?location=westus"
      "&time=2022-08-23T14%3A00%3A00Z&toTime=2022-08-23T14%3A20%3A00Z",
      http_.requests()[0].url);
  EXPECT_EQ("westus", series->zone);
  ASSERT_EQ(4u, series->points.size());  // 14:00, 14:05, 14:10, 14:15.
  EXPECT_EQ(at("2022-08-23T14:00:00Z"), series->begin_time());
}

TEST_F(CarbonAwareSdkProviderTest, ProblemDetailsBecomeAClearError) {
  HttpResponse response;
  response.status = 400;
  response.headers["content-type"] = "application/problem+json";
  response.body =
      R"({"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1",
          "title":"One or more validation errors occurred.","status":400,
          "detail":"location 'atlantis' is not known"})";
  http_.push("http://sdk.example:8080/", response);
  auto provider = make();

  auto series = provider.forecast("atlantis", clock_.now(), 1h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("carbon-aware-sdk"));
  EXPECT_THAT(series.error().message, HasSubstr("HTTP 400"));
  EXPECT_THAT(series.error().message,
              HasSubstr("One or more validation errors occurred.: location "
                        "'atlantis' is not known"));
}

TEST_F(CarbonAwareSdkProviderTest, NonJsonBodyQuotingTheTokenIsRedacted) {
  // A proxy's HTML page that echoes the request, token included.
  const std::string token = "sdk-token-0123456789abcdef";
  http_.push_body("http://sdk.example:8080/emissions/forecasts/current", 200,
                  "<html>bad gateway for " + token + " at upstream</html>");
  http_.push_body("http://sdk.example:8080/emissions/bylocations", 200,
                  "oops " + token);
  CarbonAwareSdkOptions options;
  options.base_url = "http://sdk.example:8080";
  options.token = token;
  CarbonAwareSdkProvider provider(options, http_, clock_);

  auto forecast = provider.forecast("eastus", clock_.now(), 1h);
  auto history = provider.history("eastus", at("2022-06-01T10:00:00Z"),
                                  at("2022-06-01T11:00:00Z"));

  ASSERT_FALSE(forecast);
  EXPECT_THAT(forecast.error().message, HasSubstr("not valid JSON"));
  EXPECT_THAT(forecast.error().message, HasSubstr("bad gateway for ***"));
  EXPECT_THAT(forecast.error().message, Not(HasSubstr(token)));
  ASSERT_FALSE(history);
  EXPECT_THAT(history.error().message, Not(HasSubstr(token)));
  EXPECT_THAT(history.error().message, HasSubstr("oops ***"));
}

}  // namespace
}  // namespace lowcarb::forecast
