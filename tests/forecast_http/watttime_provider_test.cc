// SPDX-License-Identifier: Apache-2.0
#include "forecast/watttime_provider.h"

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
      testing::shared_data("api-responses/watttime/" + name));
}

constexpr double kLbs870InGrams = 870 * 0.45359237;

TEST(WattTimeParseTest, ForecastHas288FiveMinutePointsInGramsPerKwh) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto series = parse_watttime_data(
      recorded("v3-forecast.documented-example.json"), "CAISO_NORTH",
      Horizon::kForecast, at("2022-07-15T00:00:00Z"));

  ASSERT_OK(series);
  EXPECT_EQ("CAISO_NORTH", series->zone);
  ASSERT_EQ(288u, series->points.size());
  EXPECT_EQ(at("2022-07-15T00:00:00Z"), series->begin_time());
  EXPECT_EQ(at("2022-07-16T00:00:00Z"), series->end_time());
  EXPECT_EQ(5min, series->points[0].end - series->points[0].start);
  EXPECT_DOUBLE_EQ(kLbs870InGrams, *series->points[0].gco2_per_kwh);
  EXPECT_EQ(at("2022-07-15T00:00:00Z"), series->generated_at);
  EXPECT_EQ((SignalKind{Basis::kMarginal, Scope::kDirect, Horizon::kForecast}),
            series->kind);
}

TEST(WattTimeParseTest, HistoricalBodiesHaveTwoConvertedPoints) {
  LOWCARB_REQUIRE_SHARED_DATA();
  for (const char* file : {"v3-historical.documented-example.json",
                           "aiowatttime.historical_emissions_response.json"}) {
    auto series =
        parse_watttime_data(recorded(file), "CAISO_NORTH", Horizon::kObserved,
                            at("2022-07-16T00:00:00Z"));

    ASSERT_OK(series);
    ASSERT_EQ(2u, series->points.size()) << file;
    EXPECT_EQ(at("2022-07-15T00:05:00Z"), series->points[1].start) << file;
    EXPECT_EQ(at("2022-07-15T00:10:00Z"), series->end_time()) << file;
    EXPECT_DOUBLE_EQ(860 * 0.45359237, *series->points[1].gco2_per_kwh);
    EXPECT_EQ(Horizon::kObserved, series->kind.horizon);
    EXPECT_EQ(Basis::kMarginal, series->kind.basis);
  }
}

TEST(WattTimeParseTest, ForecastHistoryBodiesGiveOneSeriesPerGeneration) {
  LOWCARB_REQUIRE_SHARED_DATA();
  for (const auto& [file, points] :
       {std::pair{"v3-forecast-historical.documented-example.json", 288u},
        std::pair{"aiowatttime.forecasted_emissions_response.json", 3u}}) {
    auto all = parse_watttime_forecast_history(recorded(file), "CAISO_NORTH");

    ASSERT_OK(all);
    ASSERT_EQ(1u, all->size()) << file;
    const auto& series = all->front();
    EXPECT_EQ(at("2022-07-15T00:00:00Z"), series.generated_at) << file;
    EXPECT_EQ(points, series.points.size()) << file;
    EXPECT_DOUBLE_EQ(kLbs870InGrams, *series.points[0].gco2_per_kwh);
  }
}

TEST(WattTimeParseTest, SignalIndexPercentileIsRejectedAsNotARate) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto series = parse_watttime_data(
      recorded("aiowatttime.realtime_emissions_response.json"), "PSCO",
      Horizon::kForecast, at("2024-06-18T18:40:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("percentile"));
  EXPECT_THAT(series.error().message, HasSubstr("not an emission rate"));
}

TEST(WattTimeParseTest, UnknownUnitsAreRejectedByName) {
  std::string body = R"({"data":[{"point_time":"2026-01-01T00:00:00Z",
      "value":1}],"meta":{"units":"tons_per_furlong","region":"X"}})";

  auto series = parse_watttime_data(body, "X", Horizon::kForecast,
                                    at("2026-01-01T00:00:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("tons_per_furlong"));
}

TEST(WattTimeParseTest, NullValuesStayNull) {
  std::string body = R"({"data":[{"point_time":"2026-01-01T00:00:00Z",
      "value":null},{"point_time":"2026-01-01T00:05:00Z","value":100}],
      "meta":{"units":"lbs_co2_per_mwh","region":"X"}})";

  auto series = parse_watttime_data(body, "X", Horizon::kForecast,
                                    at("2026-01-01T00:00:00Z"));

  ASSERT_OK(series);
  ASSERT_EQ(2u, series->points.size());
  EXPECT_FALSE(series->points[0].gco2_per_kwh.has_value());
  EXPECT_DOUBLE_EQ(45.359237, *series->points[1].gco2_per_kwh);
}

TEST(WattTimeParseTest, EmptyDataIsNotFound) {
  auto series =
      parse_watttime_data(R"({"data":[],"meta":{"units":"lbs_co2_per_mwh"}})",
                          "X", Horizon::kForecast, at("2026-01-01T00:00:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kNotFound, series.error().code);
}

TEST(WattTimeParseTest, LoginAndRegionBodies) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto token = parse_watttime_login(recorded("login.documented-example.json"));
  auto region = parse_watttime_region(
      recorded("v3-region-from-loc.documented-example.json"));
  auto other =
      parse_watttime_region(recorded("aiowatttime.grid_region_response.json"));

  ASSERT_OK(token);
  EXPECT_EQ("abcdef0123456789fedcabc", *token);
  ASSERT_OK(region);
  EXPECT_EQ("ISONE_WCMA", region->region);
  EXPECT_EQ("ISONE Western/Central Massachusetts", region->full_name);
  ASSERT_OK(other);
  EXPECT_EQ("PSCO", other->region);
}

TEST(WattTimeParseTest, ErrorBodiesAreNotData) {
  LOWCARB_REQUIRE_SHARED_DATA();
  for (const char* file : {"error.documented-example.json",
                           "aiowatttime.invalid_scope_response.json",
                           "aiowatttime.coordinates_not_found_response.json"}) {
    auto series = parse_watttime_data(recorded(file), "X", Horizon::kForecast,
                                      at("2026-01-01T00:00:00Z"));
    auto region = parse_watttime_region(recorded(file));

    ASSERT_FALSE(series) << file;
    EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code) << file;
    EXPECT_FALSE(region) << file;
  }
}

class WattTimeProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::shared_data_available()) {
      GTEST_SKIP() << "reference data not found";
    }
    login_body_ = recorded("login.documented-example.json");
    forecast_body_ = recorded("v3-forecast.documented-example.json");
  }

  WattTimeProvider make() {
    WattTimeOptions options;
    options.base_url = "https://wt.example";
    options.username = "freddo";
    options.password = "the-frog-password";
    return WattTimeProvider(options, http_, clock_);
  }

  size_t count(const std::string& prefix) {
    size_t n = 0;
    for (const auto& request : http_.requests()) {
      n += request.url.rfind(prefix, 0) == 0 ? 1 : 0;
    }
    return n;
  }

  fakes::FakeClock clock_{at("2022-07-15T00:00:00Z")};
  fakes::FakeHttpClient http_;
  std::string login_body_;
  std::string forecast_body_;
};

TEST_F(WattTimeProviderTest, LogsInWithBasicAuthThenSendsBearerToken) {
  http_.push_body("https://wt.example/login", 200, login_body_);
  http_.push_body("https://wt.example/v3/forecast", 200, forecast_body_);
  auto provider = make();

  auto series = provider.forecast("CAISO_NORTH", clock_.now(), 100h);

  ASSERT_OK(series);
  auto requests = http_.requests();
  ASSERT_EQ(2u, requests.size());
  EXPECT_EQ("https://wt.example/login", requests[0].url);
  EXPECT_EQ("freddo", requests[0].basic_user);
  EXPECT_EQ("the-frog-password", requests[0].basic_password);
  EXPECT_EQ(
      "https://wt.example/v3/forecast?region=CAISO_NORTH"
      "&signal_type=co2_moer&horizon_hours=72",
      requests[1].url);
  EXPECT_THAT(requests[1].headers,
              ::testing::Contains(std::pair<std::string, std::string>(
                  "Authorization", "Bearer abcdef0123456789fedcabc")));
  EXPECT_TRUE(requests[1].basic_user.empty());
}

TEST_F(WattTimeProviderTest, CachesTheTokenAndRenewsItBeforeExpiry) {
  http_.push_body("https://wt.example/login", 200, login_body_);
  http_.push_body("https://wt.example/v3/forecast", 200, forecast_body_);
  auto provider = make();

  ASSERT_OK(provider.forecast("CAISO_NORTH", clock_.now(), 1h));
  clock_.advance(20min);
  ASSERT_OK(provider.forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 1h));
  EXPECT_EQ(1u, count("https://wt.example/login"));
  clock_.advance(6min);  // 26 min after login: renew before the 30 expire.
  ASSERT_OK(provider.forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 1h));

  EXPECT_EQ(2u, count("https://wt.example/login"));
  EXPECT_EQ(3u, count("https://wt.example/v3/forecast"));
}

TEST_F(WattTimeProviderTest, LogsInAgainOnceAfterA401) {
  http_.push_body("https://wt.example/login", 200, login_body_);
  http_.push_body("https://wt.example/v3/forecast", 401,
                  R"({"error":"INVALID_TOKEN"})");
  http_.push_body("https://wt.example/v3/forecast", 200, forecast_body_);
  auto provider = make();

  auto series = provider.forecast("CAISO_NORTH", clock_.now(), 1h);

  ASSERT_OK(series);
  EXPECT_EQ(2u, count("https://wt.example/login"));
  EXPECT_EQ(2u, count("https://wt.example/v3/forecast"));
}

TEST_F(WattTimeProviderTest, PersistentRejectionIsPermissionDeniedNoLoop) {
  http_.push_body("https://wt.example/login", 200, login_body_);
  http_.push_body("https://wt.example/v3/forecast", 403,
                  recorded("aiowatttime.invalid_scope_response.json"));
  auto provider = make();

  auto series = provider.forecast("CAISO_NORTH", clock_.now(), 1h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kPermissionDenied, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("watttime"));
  EXPECT_THAT(series.error().message, HasSubstr("Invalid scope"));
  EXPECT_EQ(2u, count("https://wt.example/v3/forecast"));
  EXPECT_EQ(2u, count("https://wt.example/login"));
}

TEST_F(WattTimeProviderTest, BadLoginIsPermissionDeniedWithoutThePassword) {
  http_.push_body("https://wt.example/login", 401,
                  R"({"error":"bad login for the-frog-password"})");
  auto provider = make();

  auto series = provider.forecast("CAISO_NORTH", clock_.now(), 1h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kPermissionDenied, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("login"));
  EXPECT_THAT(series.error().message, Not(HasSubstr("the-frog-password")));
  EXPECT_EQ(0u, count("https://wt.example/v3/forecast"));
}

TEST_F(WattTimeProviderTest, HistoryIsSplitIntoRangesOf32Days) {
  http_.push_body("https://wt.example/login", 200, login_body_);
  http_.push_body("https://wt.example/v3/historical", 200,
                  recorded("v3-historical.documented-example.json"));
  auto provider = make();

  auto series = provider.history("CAISO_NORTH", at("2022-06-01T00:00:00Z"),
                                 at("2022-08-01T00:00:00Z"));

  ASSERT_OK(series);
  std::vector<std::string> urls;
  for (const auto& request : http_.requests()) {
    if (request.url.find("/v3/historical") != std::string::npos) {
      urls.push_back(request.url);
    }
  }
  ASSERT_EQ(2u, urls.size());
  EXPECT_THAT(urls[0], HasSubstr("region=CAISO_NORTH&signal_type=co2_moer"
                                 "&start=2022-06-01T00%3A00%3A00Z"
                                 "&end=2022-07-03T00%3A00%3A00Z"));
  EXPECT_THAT(urls[1], HasSubstr("&start=2022-07-03T00%3A00%3A00Z"
                                 "&end=2022-08-01T00%3A00%3A00Z"));
  EXPECT_EQ(2u, series->points.size());
}

TEST_F(WattTimeProviderTest, RegionFromLocationSendsTheCoordinates) {
  http_.push_body("https://wt.example/login", 200, login_body_);
  http_.push_body("https://wt.example/v3/region-from-loc", 200,
                  recorded("v3-region-from-loc.documented-example.json"));
  auto provider = make();

  auto region = provider.region_from_location(42.372, -72.519);

  ASSERT_OK(region);
  EXPECT_EQ("ISONE_WCMA", region->region);
  EXPECT_EQ(
      "https://wt.example/v3/region-from-loc?latitude=42.372"
      "&longitude=-72.519&signal_type=co2_moer",
      http_.requests().back().url);
}

}  // namespace
}  // namespace lowcarb::forecast
