// SPDX-License-Identifier: Apache-2.0
#include "forecast/uk_carbon_intensity_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_client.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *parse_time(text); }

std::string recorded(const std::string& name) {
  return testing::read_file(
      testing::shared_data("api-responses/uk-carbonintensity/" + name));
}

TEST(UkParseTest, Fw24hHas49HalfHoursStartingBeforeFrom) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto series = parse_uk_body(
      recorded("intensity-2020-05-21T2100Z-fw24h.emoncms-demandshaper.json"),
      "GB", Horizon::kForecast, UkValue::kForecast, at("2020-05-21T21:00:00Z"));

  ASSERT_OK(series);
  ASSERT_EQ(49u, series->points.size());
  EXPECT_EQ(at("2020-05-21T20:30:00Z"), series->begin_time());
  EXPECT_EQ(at("2020-05-22T21:00:00Z"), series->end_time());
  EXPECT_EQ(30min, series->points[0].end - series->points[0].start);
  EXPECT_EQ(190.0, series->points[0].gco2_per_kwh);
  EXPECT_EQ(at("2020-05-21T21:00:00Z"), series->generated_at);
  EXPECT_EQ((SignalKind{Basis::kAverage, Scope::kDirect, Horizon::kForecast}),
            series->kind);
}

TEST(UkParseTest, Fw48hPrefersForecastOverActualForForecasts) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto body = recorded("intensity-from-fw48h.bluehands.json");

  auto forecast = parse_uk_body(body, "GB", Horizon::kForecast,
                                UkValue::kForecast, at("2023-12-03T11:00:00Z"));
  auto observed =
      parse_uk_body(body, "GB", Horizon::kObserved, UkValue::kActualFirst,
                    at("2023-12-03T11:00:00Z"));

  ASSERT_OK(forecast);
  ASSERT_EQ(96u, forecast->points.size());
  EXPECT_EQ(at("2023-12-03T10:30:00Z"), forecast->begin_time());
  EXPECT_EQ(at("2023-12-05T10:30:00Z"), forecast->end_time());
  EXPECT_EQ(211.0, forecast->points[0].gco2_per_kwh);
  ASSERT_OK(observed);
  EXPECT_EQ(206.0, observed->points[0].gco2_per_kwh);  // The actual.
  EXPECT_EQ(216.0, observed->points[1].gco2_per_kwh);  // No actual yet.
}

TEST(UkParseTest, TruncatedNationalBodiesParse) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto fw48 = parse_uk_body(
      recorded("intensity-from-fw48h-truncated-8.nmpowell.json"), "GB",
      Horizon::kForecast, UkValue::kForecast, at("2024-01-12T06:01:00Z"));
  auto pt24 = parse_uk_body(
      recorded("intensity-from-pt24h-truncated-8.nmpowell.json"), "GB",
      Horizon::kObserved, UkValue::kActualFirst, at("2024-01-12T06:01:00Z"));

  ASSERT_OK(fw48);
  ASSERT_EQ(8u, fw48->points.size());
  EXPECT_EQ(at("2024-01-12T06:00:00Z"), fw48->begin_time());
  EXPECT_EQ(at("2024-01-12T10:00:00Z"), fw48->end_time());
  EXPECT_EQ(293.0, fw48->points[0].gco2_per_kwh);
  ASSERT_OK(pt24);
  ASSERT_EQ(8u, pt24->points.size());
  EXPECT_EQ(at("2024-01-11T06:00:00Z"), pt24->begin_time());
  EXPECT_EQ(271.0, pt24->points[0].gco2_per_kwh);
  EXPECT_EQ(275.0, pt24->points.back().gco2_per_kwh);
}

TEST(UkParseTest, SingleRegionDataIsAnObject) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto london = parse_uk_body(
      recorded("regional-intensity-from-fw48h-regionid-13.bluehands.json"),
      "region:13", Horizon::kForecast, UkValue::kForecast,
      at("2023-12-03T11:00:00Z"));
  auto bristol =
      parse_uk_body(recorded("regional-intensity-fw24h-postcode-BS7-truncated."
                             "jnioche-carbonintensity-api.json"),
                    "postcode:BS7", Horizon::kForecast, UkValue::kForecast,
                    at("2023-01-01T00:00:00Z"));

  ASSERT_OK(london);
  ASSERT_EQ(96u, london->points.size());
  EXPECT_EQ(at("2023-12-03T10:30:00Z"), london->begin_time());
  EXPECT_EQ(at("2023-12-05T10:30:00Z"), london->end_time());
  EXPECT_EQ(134.0, london->points[0].gco2_per_kwh);
  EXPECT_EQ(182.0, london->points.back().gco2_per_kwh);
  ASSERT_OK(bristol);
  ASSERT_EQ(5u, bristol->points.size());
  EXPECT_EQ(at("2022-12-31T23:30:00Z"), bristol->begin_time());
  EXPECT_EQ(at("2023-01-01T02:00:00Z"), bristol->end_time());
  EXPECT_EQ(152.0, bristol->points[0].gco2_per_kwh);
}

TEST(UkParseTest, AllRegionsBodyNeedsARegionId) {
  LOWCARB_REQUIRE_SHARED_DATA();
  auto body = recorded(
      "regional-intensity-from-fw48h-all-regions-truncated-1.nmpowell.json");

  auto london =
      parse_uk_body(body, "region:13", Horizon::kForecast, UkValue::kForecast,
                    at("2024-01-12T06:00:00Z"), 13);
  auto none = parse_uk_body(body, "GB", Horizon::kForecast, UkValue::kForecast,
                            at("2024-01-12T06:00:00Z"));
  auto missing =
      parse_uk_body(body, "region:42", Horizon::kForecast, UkValue::kForecast,
                    at("2024-01-12T06:00:00Z"), 42);

  ASSERT_OK(london);
  ASSERT_EQ(1u, london->points.size());
  EXPECT_EQ(at("2024-01-12T06:00:00Z"), london->begin_time());
  EXPECT_EQ(266.0, london->points[0].gco2_per_kwh);
  ASSERT_FALSE(none);
  EXPECT_EQ(ErrorCode::kInvalidArgument, none.error().code);
  ASSERT_FALSE(missing);
  EXPECT_EQ(ErrorCode::kNotFound, missing.error().code);
}

TEST(UkParseTest, ErrorObjectInA200IsAnError) {
  auto series = parse_uk_body(
      R"({"error":{"code":"400 Bad Request","message":"Please enter a valid region ID"}})",
      "region:99", Horizon::kForecast, UkValue::kForecast,
      at("2024-01-12T06:00:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("valid region ID"));
}

TEST(UkParseTest, EmptyDataIsNotFound) {
  auto series = parse_uk_body(R"({"data":[]})", "GB", Horizon::kForecast,
                              UkValue::kForecast, at("2024-01-12T06:00:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kNotFound, series.error().code);
}

TEST(UkLocationTest, ParsesRegionsPostcodesAndNational) {
  auto region = parse_uk_location("region:13");
  auto postcode = parse_uk_location("postcode:BS7");
  auto national = parse_uk_location("GB");

  ASSERT_OK(region);
  EXPECT_EQ(UkLocation::Type::kRegion, region->type);
  EXPECT_EQ("13", region->value);
  ASSERT_OK(postcode);
  EXPECT_EQ(UkLocation::Type::kPostcode, postcode->type);
  EXPECT_EQ("BS7", postcode->value);
  ASSERT_OK(national);
  EXPECT_EQ(UkLocation::Type::kNational, national->type);
  EXPECT_FALSE(parse_uk_location("region:london"));
  EXPECT_FALSE(parse_uk_location("postcode:BS7 8AA"));
}

TEST(UkTimeTest, FormatsMinutesWithZ) {
  EXPECT_EQ("2020-05-21T21:00Z", format_uk_time(at("2020-05-21T21:00:59Z")));
}

class UkProviderTest : public ::testing::Test {
 protected:
  UkCarbonIntensityProvider make() {
    UkCarbonIntensityOptions options;
    options.base_url = "https://uk.example";
    return UkCarbonIntensityProvider(options, http_, clock_);
  }

  fakes::FakeClock clock_{at("2020-05-21T21:00:00Z")};
  fakes::FakeHttpClient http_;
};

TEST_F(UkProviderTest, NationalForecastDropsThePeriodEndingAtFrom) {
  LOWCARB_REQUIRE_SHARED_DATA();
  http_.push_body("https://uk.example/intensity/", 200,
                  recorded("intensity-2020-05-21T2100Z-fw24h.emoncms-"
                           "demandshaper.json"));
  auto provider = make();

  auto series = provider.forecast("GB", clock_.now(), 24h);

  ASSERT_OK(series);
  EXPECT_EQ("https://uk.example/intensity/2020-05-21T21:00Z/fw24h",
            http_.requests()[0].url);
  ASSERT_EQ(48u, series->points.size());
  EXPECT_EQ(at("2020-05-21T21:00:00Z"), series->begin_time());
  EXPECT_EQ(177.0, series->points[0].gco2_per_kwh);
}

TEST_F(UkProviderTest, LongHorizonAndRegionalLocationsPickTheirPaths) {
  http_.push_body(
      "https://uk.example/", 200,
      R"({"data":[{"from":"2020-05-21T21:00Z","to":"2020-05-21T21:30Z","intensity":{"forecast":1}}]})");
  auto provider = make();

  ASSERT_OK(provider.forecast("GB", clock_.now(), 36h));
  ASSERT_OK(provider.forecast("region:13", clock_.now(), 24h));
  ASSERT_OK(provider.forecast("postcode:BS7", clock_.now(), 48h));

  auto requests = http_.requests();
  ASSERT_EQ(3u, requests.size());
  EXPECT_EQ("https://uk.example/intensity/2020-05-21T21:00Z/fw48h",
            requests[0].url);
  EXPECT_EQ(
      "https://uk.example/regional/intensity/2020-05-21T21:00Z/fw24h/"
      "regionid/13",
      requests[1].url);
  EXPECT_EQ(
      "https://uk.example/regional/intensity/2020-05-21T21:00Z/fw48h/"
      "postcode/BS7",
      requests[2].url);
}

TEST_F(UkProviderTest, HistoryIsSplitInto14DayRequests) {
  LOWCARB_REQUIRE_SHARED_DATA();
  http_.push_body("https://uk.example/intensity/", 200,
                  recorded("intensity-from-pt24h-truncated-8.nmpowell.json"));
  auto provider = make();

  auto series = provider.history("GB", at("2024-01-01T00:00:00Z"),
                                 at("2024-01-20T00:00:00Z"));

  ASSERT_OK(series);
  auto requests = http_.requests();
  ASSERT_EQ(2u, requests.size());
  EXPECT_EQ("https://uk.example/intensity/2024-01-01T00:00Z/2024-01-15T00:00Z",
            requests[0].url);
  EXPECT_EQ("https://uk.example/intensity/2024-01-15T00:00Z/2024-01-20T00:00Z",
            requests[1].url);
  EXPECT_EQ(8u, series->points.size());
  EXPECT_EQ(Horizon::kObserved, series->kind.horizon);
  EXPECT_EQ(271.0, series->points[0].gco2_per_kwh);
}

TEST_F(UkProviderTest, BadRegionIsRejectedBeforeAnyRequest) {
  auto provider = make();

  auto series = provider.forecast("region:london", clock_.now(), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code);
  EXPECT_EQ(0u, http_.request_count());
}

}  // namespace
}  // namespace lowcarb::forecast
