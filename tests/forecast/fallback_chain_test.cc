// SPDX-License-Identifier: Apache-2.0
#include "forecast/fallback_chain.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "common/logging.h"
#include "common/time_format.h"
#include "tests/fakes/log_capture.h"
#include "tests/fakes/test_support.h"
#include "tests/forecast/scripted_provider.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScriptedProvider;

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");
const SignalKind kAverageDirect{Basis::kAverage, Scope::kDirect,
                                Horizon::kForecast};

using lowcarb::testing::LogCapture;

class FallbackChainTest : public ::testing::Test {
 protected:
  ScriptedProvider api_{"electricitymaps", 300};
  ScriptedProvider history_{"history", 200};
  ScriptedProvider fixed_{"static", 381};

  FallbackChain make_chain() {
    return FallbackChain({{"GB",
                           {{"em", &api_, "GB-region-13"},
                            {"history", &history_, ""},
                            {"static", &fixed_, ""}}}},
                         {{"history", &history_, ""}, {"static", &fixed_, ""}},
                         kAverageDirect);
  }
};

TEST_F(FallbackChainTest, FirstSuccessServesAndIsNamedByItsConfiguredName) {
  auto chain = make_chain();

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("em", series->provider);
  EXPECT_EQ(300, series->points[0].gco2_per_kwh);
  EXPECT_EQ(0, history_.calls());
}

TEST_F(FallbackChainTest, MapsTheZoneToTheProviderLocationAndBack) {
  auto chain = make_chain();

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_THAT(api_.zones_asked(), ElementsAre("GB-region-13"));
  EXPECT_EQ("GB", series->zone);
}

TEST_F(FallbackChainTest, FallsBackInOrderAndAttributesTheServer) {
  api_.fail_with(ErrorCode::kUnavailable, "HTTP 503");
  auto chain = make_chain();

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("history", series->provider);
  EXPECT_EQ(200, series->points[0].gco2_per_kwh);
  EXPECT_EQ(1, api_.calls());
  EXPECT_EQ(1, history_.calls());
  EXPECT_EQ(0, fixed_.calls());
  EXPECT_THAT(history_.zones_asked(), ElementsAre("GB"));
}

TEST_F(FallbackChainTest, KeepsTheStaleFlagOfACachedSeries) {
  api_.set_stale(true);
  auto chain = make_chain();

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_TRUE(series->stale);
}

TEST_F(FallbackChainTest, UnconfiguredZoneUsesTheDefaultRoute) {
  auto chain = make_chain();

  auto series = chain.forecast("FR", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("history", series->provider);
  EXPECT_EQ(0, api_.calls());
}

TEST_F(FallbackChainTest, AllFailingListsEveryFailure) {
  api_.fail_with(ErrorCode::kUnavailable, "HTTP 503");
  history_.fail_with(ErrorCode::kNotFound, "no observations");
  fixed_.fail_with(ErrorCode::kNotFound, "not in catalogue");
  auto chain = make_chain();

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
  EXPECT_EQ(
      "forecast for GB: every provider failed: em (unavailable): HTTP 503; "
      "history (not_found): no observations; static (not_found): not in "
      "catalogue",
      series.error().message);
}

TEST_F(FallbackChainTest, AllNotFoundIsNotFound) {
  history_.fail_with(ErrorCode::kNotFound, "no observations");
  fixed_.fail_with(ErrorCode::kNotFound, "not in catalogue");
  auto chain = make_chain();

  auto series = chain.forecast("FR", kNow, hours(24));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kNotFound, series.error().code);
}

TEST_F(FallbackChainTest, LogsAFailureOnceRedactedUntilTheProviderRecovers) {
  LogCapture log("forecast");
  api_.fail_with(ErrorCode::kUnavailable,
                 "GET https://api.example/v3?token=s3cr3tvalue: HTTP 503");
  auto chain = make_chain();

  ASSERT_OK(chain.forecast("GB", kNow, hours(24)));
  ASSERT_OK(chain.forecast("GB", kNow + hours(1), hours(24)));
  api_.succeed();
  ASSERT_OK(chain.forecast("GB", kNow + hours(2), hours(24)));

  EXPECT_EQ(1u, log.count("provider em failed"));
  EXPECT_THAT(log.text(),
              HasSubstr("warning forecast for GB: provider em failed"));
  EXPECT_THAT(log.text(), Not(HasSubstr("s3cr3tvalue")));
  EXPECT_THAT(log.text(), HasSubstr("provider em recovered"));
}

TEST_F(FallbackChainTest, WarnsOnceWhenTheServedKindIsNotComparable) {
  LogCapture log("forecast");
  api_.set_kind({Basis::kMarginal, Scope::kDirect, Horizon::kForecast});
  auto chain = make_chain();

  ASSERT_OK(chain.forecast("GB", kNow, hours(24)));
  ASSERT_OK(chain.forecast("GB", kNow + hours(1), hours(24)));

  EXPECT_EQ(1u, log.count("not comparable"));
  EXPECT_THAT(log.text(),
              HasSubstr("provider em serves marginal/direct/forecast values, "
                        "but zones are compared on average/direct"));
}

TEST_F(FallbackChainTest, DoesNotWarnForAComparableKind) {
  LogCapture log("forecast");
  fixed_.set_kind({Basis::kAverage, Scope::kDirect, Horizon::kAnnualAverage});
  history_.fail_with(ErrorCode::kNotFound, "none");
  auto chain = make_chain();

  ASSERT_OK(chain.forecast("FR", kNow, hours(24)));

  EXPECT_EQ(0u, log.count("not comparable"));
  // A provider without data for the zone is normal, not degraded.
  EXPECT_THAT(log.text(),
              HasSubstr("info forecast for FR: provider history failed"));
  EXPECT_EQ(0u, log.count("warning"));
}

TEST_F(FallbackChainTest, AStaleForecastConsultsTheRestOfTheChain) {
  auto chain = make_chain();
  chain.set_max_age(hours(6));
  api_.set_generated_at(kNow - hours(7));
  LogCapture log("forecast");

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("history", series->provider);
  EXPECT_FALSE(series->stale);
  EXPECT_THAT(log.text(), HasSubstr("em is stale"));
  EXPECT_THAT(log.text(), HasSubstr("using history instead"));
}

TEST_F(FallbackChainTest, AStaleForecastIsServedWhenNothingElseAnswers) {
  auto chain = make_chain();
  chain.set_max_age(hours(6));
  api_.set_generated_at(kNow - hours(7));
  history_.fail_with(ErrorCode::kNotFound, "no history");
  fixed_.fail_with(ErrorCode::kUnavailable, "down");
  LogCapture log("forecast");

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("em", series->provider);
  EXPECT_TRUE(series->stale);
  EXPECT_THAT(log.text(), HasSubstr("only a stale forecast is available"));
}

TEST_F(FallbackChainTest, AnAllNullForecastIsAFailureAndTheNextAnswers) {
  auto chain = make_chain();
  api_.set_values(std::nullopt);
  LogCapture log("forecast");

  auto series = chain.forecast("GB", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("history", series->provider);
  EXPECT_THAT(log.text(), HasSubstr("provider em failed"));
  EXPECT_THAT(log.text(), HasSubstr("no usable value"));
}

TEST_F(FallbackChainTest, AbsurdValuesAreRejectedAndTheChainMovesOn) {
  auto chain = make_chain();
  api_.set_values(1e300);
  history_.set_values(-3);
  LogCapture log("forecast");

  auto series = chain.forecast("GB", kNow, hours(2));

  ASSERT_OK(series);
  EXPECT_EQ("static", series->provider);
  EXPECT_EQ(381, series->points[0].gco2_per_kwh);
  EXPECT_THAT(log.text(), HasSubstr("forecast for GB from em: no usable value "
                                    "(2 points, all null or rejected)"));
  EXPECT_THAT(log.text(), HasSubstr("forecast for GB from history: no usable"));
}

}  // namespace
}  // namespace lowcarb::forecast
