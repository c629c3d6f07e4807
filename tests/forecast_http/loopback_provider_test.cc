// SPDX-License-Identifier: Apache-2.0
// The providers end to end: real CurlHttpClient, the loopback provider server
// serving the recorded responses, and injected faults.
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/curl_http_client.h"
#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "forecast/carbon_aware_sdk_provider.h"
#include "forecast/electricitymaps_provider.h"
#include "forecast/history_store.h"
#include "forecast/http_providers.h"
#include "forecast/observation_recorder.h"
#include "forecast/retrying_provider.h"
#include "forecast/uk_carbon_intensity_provider.h"
#include "forecast/watttime_provider.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/test_support.h"
#include "tests/forecast_http/provider_server.h"

namespace lowcarb::forecast {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *parse_time(text); }

EnvLookup env_from(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

class LoopbackProviderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = testing::ProviderServer::start();
    if (started) {
      server_ = started->release();
    } else {
      start_error_ = new Error(started.error());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }
  void SetUp() override {
    if (!server_) {
      if (start_error_->code == ErrorCode::kNotFound) {
        GTEST_SKIP() << start_error_->message;
      }
      FAIL() << start_error_->message;
    }
    ASSERT_OK(server_->reset());
  }

  testing::ProviderServer& server() { return *server_; }
  int count(const std::string& path) {
    return server_->count(path).value_or(-1);
  }

  std::unique_ptr<ForecastProvider> electricitymaps(
      const std::string& token = testing::kServerEmToken,
      std::chrono::milliseconds timeout = 5000ms) {
    ElectricityMapsOptions options;
    options.base_url = server_->url("/v3");
    options.token = token;
    options.timeout = timeout;
    return std::make_unique<ElectricityMapsProvider>(options, http_, clock_);
  }

  std::unique_ptr<WattTimeProvider> watttime() {
    WattTimeOptions options;
    options.base_url = server_->url();
    options.username = testing::kServerWattTimeUser;
    options.password = testing::kServerWattTimePassword;
    return std::make_unique<WattTimeProvider>(options, http_, clock_);
  }

  std::unique_ptr<ForecastProvider> uk() {
    UkCarbonIntensityOptions options;
    options.base_url = server_->url();
    return std::make_unique<UkCarbonIntensityProvider>(options, http_, clock_);
  }

  // Retries with a recording sleeper: no real waiting.
  RetryingProvider retrying(std::unique_ptr<ForecastProvider> inner,
                            int retries = 3) {
    RetryPolicy policy;
    policy.retries = retries;
    policy.base_delay = 1000ms;
    return RetryingProvider(
        std::move(inner), policy,
        [this](std::chrono::milliseconds d) { sleeps_.push_back(d); },
        [] { return 0.0; });
  }

  static testing::ProviderServer* server_;
  static Error* start_error_;
  CurlHttpClient http_;
  fakes::FakeClock clock_{at("2023-05-02T20:00:00Z")};
  std::vector<std::chrono::milliseconds> sleeps_;
};

testing::ProviderServer* LoopbackProviderTest::server_ = nullptr;
Error* LoopbackProviderTest::start_error_ = nullptr;

TEST_F(LoopbackProviderTest, ElectricityMapsForecastEndToEnd) {
  auto provider = electricitymaps();

  auto series = provider->forecast("DE", clock_.now(), 48h);

  ASSERT_OK(series);
  EXPECT_EQ(48u, series->points.size());
  EXPECT_EQ(at("2023-05-02T20:00:00Z"), series->begin_time());
  EXPECT_EQ(1, count("/v3/carbon-intensity/forecast"));
  auto headers = server().last_headers("/v3/carbon-intensity/forecast");
  ASSERT_OK(headers);
  EXPECT_EQ(testing::kServerEmToken, (*headers)["auth-token"]);
}

TEST_F(LoopbackProviderTest, ElectricityMapsHistoryEndToEnd) {
  auto provider = electricitymaps();

  auto series = provider->history("DK-DK2", at("2024-03-18T00:00:00Z"),
                                  at("2024-03-19T00:00:00Z"));

  ASSERT_OK(series);
  EXPECT_EQ(2u, series->points.size());
  EXPECT_EQ(Horizon::kObserved, series->kind.horizon);
}

TEST_F(LoopbackProviderTest, RejectedTokenNeverAppearsEvenWhenEchoed) {
  auto config = config::ProviderConfig{};
  config.name = "em";
  config.type = "electricitymaps";
  config.base_url = server().url("/v3");
  config.token_env = "EM_TOKEN";
  auto provider = make_http_provider(
      config, http_, clock_, env_from({{"EM_TOKEN", "wrong-token-SECRET-99"}}));
  ASSERT_OK(provider);

  auto series = (*provider)->forecast("DE", clock_.now(), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kPermissionDenied, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("em: forecast for DE"));
  EXPECT_THAT(series.error().message, HasSubstr("HTTP 401"));
  EXPECT_THAT(series.error().message, HasSubstr("Invalid auth-token"));
  EXPECT_THAT(series.error().message, Not(HasSubstr("wrong-token-SECRET-99")));
  EXPECT_EQ(1, count("/v3/carbon-intensity/forecast"));  // Not retried.
}

TEST_F(LoopbackProviderTest, WattTimeLogsInOnceAndConvertsUnits) {
  auto config = config::ProviderConfig{};
  config.name = "wt";
  config.type = "watttime";
  config.base_url = server().url();
  auto provider = make_http_provider(
      config, http_, clock_,
      env_from({{"WATTTIME_USERNAME", testing::kServerWattTimeUser},
                {"WATTTIME_PASSWORD", testing::kServerWattTimePassword}}));
  ASSERT_OK(provider);

  auto first =
      (*provider)->forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 24h);
  auto second =
      (*provider)->forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 24h);

  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(288u, first->points.size());
  EXPECT_DOUBLE_EQ(870 * 0.45359237, *first->points[0].gco2_per_kwh);
  EXPECT_EQ(Basis::kMarginal, first->kind.basis);
  EXPECT_EQ(1, count("/login"));
  EXPECT_EQ(2, count("/v3/forecast"));
}

TEST_F(LoopbackProviderTest, WattTimeRelogsInOnceAfterA401) {
  auto provider = watttime();
  ASSERT_OK(server().fault("/v3/forecast", "401", 1));

  auto series =
      provider->forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 24h);

  ASSERT_OK(series);
  EXPECT_EQ(2, count("/login"));
  EXPECT_EQ(2, count("/v3/forecast"));
}

TEST_F(LoopbackProviderTest, WattTimeGivesUpOnPersistent401WithoutLeaks) {
  auto provider = retrying(watttime());
  ASSERT_OK(server().fault("/v3/forecast", "401", 100));

  auto series =
      provider.forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kPermissionDenied, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("watttime"));
  EXPECT_EQ(2, count("/v3/forecast"));  // One re-login, no loop.
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_THAT(series.error().message,
              Not(HasSubstr(testing::kServerWattTimeToken)));
  EXPECT_THAT(series.error().message,
              Not(HasSubstr(testing::kServerWattTimePassword)));
}

TEST_F(LoopbackProviderTest, WattTimeHistoryAndRegionEndToEnd) {
  auto provider = watttime();
  ASSERT_OK(server().fault("/v3/historical", "401", 1));

  auto history = provider->history("CAISO_NORTH", at("2022-07-15T00:00:00Z"),
                                   at("2022-07-15T01:00:00Z"));
  auto region = provider->region_from_location(42.372, -72.519);

  ASSERT_OK(history);
  EXPECT_EQ(2u, history->points.size());
  ASSERT_OK(region);
  EXPECT_EQ("ISONE_WCMA", region->region);
  EXPECT_EQ(2, count("/login"));  // Once more after the 401.
}

TEST_F(LoopbackProviderTest, WattTimeBadPasswordIsPermissionDenied) {
  WattTimeOptions options;
  options.base_url = server().url();
  options.username = testing::kServerWattTimeUser;
  options.password = "not-the-password-77";
  WattTimeProvider provider(options, http_, clock_);

  auto series =
      provider.forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kPermissionDenied, series.error().code);
  EXPECT_THAT(series.error().message, Not(HasSubstr("not-the-password-77")));
  EXPECT_EQ(0, count("/v3/forecast"));
}

TEST_F(LoopbackProviderTest, UkNationalRegionalAndPostcodeForecasts) {
  auto provider = uk();

  auto national = provider->forecast("GB", at("2020-05-21T21:00:00Z"), 24h);
  auto london =
      provider->forecast("region:13", at("2023-12-03T11:00:00Z"), 48h);
  auto bristol =
      provider->forecast("postcode:BS7", at("2023-01-01T00:00:00Z"), 24h);

  ASSERT_OK(national);
  EXPECT_EQ(48u, national->points.size());
  EXPECT_EQ(1, count("/intensity/2020-05-21T21:00Z/fw24h"));
  ASSERT_OK(london);
  EXPECT_EQ(95u, london->points.size());  // 10:30-11:00 has ended.
  EXPECT_EQ(1,
            count("/regional/intensity/2023-12-03T11:00Z/fw48h/regionid/13"));
  ASSERT_OK(bristol);
  EXPECT_EQ(4u, bristol->points.size());
  EXPECT_EQ(1,
            count("/regional/intensity/2023-01-01T00:00Z/fw24h/postcode/BS7"));
}

// The daemon's own observations (forecast/observation_recorder.h) from the
// UK API's "actual" values over HTTP, each with its half-hour interval, in
// a real SQLite history store; a second fetch within the hour asks nothing
// and stores the served forecast's current value instead.
TEST_F(LoopbackProviderTest, RecorderStoresUkActualsWithTheirInterval) {
  lowcarb::testing::ScopedTempDir dir;
  auto db = *Database::open(dir.file("state.db"));
  auto store = *HistoryStore::open(*db);
  auto provider = uk();
  ObservationRecorder recorder(*store, *provider, [](const std::string& name) {
    return name == "ukcarbonintensity";
  });
  const TimePoint now = at("2024-01-11T10:00:00Z");
  IntensitySeries served;  // What the chain served (only its provider,
  served.zone = "GB";      // issue time and current value matter here).
  served.provider = "ukcarbonintensity";
  served.kind = {Basis::kAverage, Scope::kDirect, Horizon::kForecast};
  served.generated_at = now + 10min;
  served.points.push_back({now, now + 30min, 250.0});

  auto first = recorder.record("GB", now, served);
  auto second = recorder.record("GB", now + 10min, served);

  ASSERT_OK(first);
  EXPECT_EQ(ObservationSource::kProviderHistory, first->source);
  EXPECT_EQ(8u, first->points);  // The recorded response's 8 half-hours.
  EXPECT_EQ(1, count("/intensity/2024-01-10T10:00Z/2024-01-11T10:00Z"));
  ASSERT_OK(second);
  EXPECT_EQ(ObservationSource::kForecastNowcast, second->source);
  EXPECT_EQ(1, count("/intensity/2024-01-10T10:00Z/2024-01-11T10:00Z"));
  auto observed =
      store->range("GB", {Basis::kAverage, Scope::kDirect, Horizon::kObserved},
                   at("2024-01-11T00:00:00Z"), at("2024-01-12T00:00:00Z"));
  ASSERT_OK(observed);
  ASSERT_EQ(9u, observed->points.size());
  EXPECT_EQ(at("2024-01-11T06:00:00Z"), observed->points[0].start);
  EXPECT_EQ(at("2024-01-11T06:30:00Z"), observed->points[0].end);
  EXPECT_EQ(271.0, *observed->points[0].gco2_per_kwh);  // "actual", not 264.
  EXPECT_EQ(250.0, *observed->points[8].gco2_per_kwh);  // The nowcast.
}

TEST_F(LoopbackProviderTest, UkErrorObjectInA200IsAnError) {
  auto provider = uk();
  ASSERT_OK(server().fault("/regional", "uk_error", 1));

  auto series =
      provider->forecast("region:99", at("2024-01-12T06:00:00Z"), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kInvalidArgument, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("valid region ID"));
}

TEST_F(LoopbackProviderTest, CarbonAwareSdkForecastHistoryAndProblem) {
  CarbonAwareSdkOptions options;
  options.base_url = server().url();
  CarbonAwareSdkProvider provider(options, http_, clock_);

  auto forecasts =
      provider.forecasts({"westus", "eastus"}, at("2022-08-23T14:00:00Z"), 1h);
  auto history = provider.history("westus", at("2022-08-23T14:00:00Z"),
                                  at("2022-08-23T15:00:00Z"));
  ASSERT_OK(server().fault("/emissions/forecasts/current", "problem", 1));
  auto problem = provider.forecast("atlantis", at("2022-08-23T14:00:00Z"), 1h);

  ASSERT_OK(forecasts);
  ASSERT_EQ(2u, forecasts->size());
  EXPECT_EQ("westus", (*forecasts)[0].zone);
  EXPECT_EQ(7u, (*forecasts)[0].points.size());  // 13:55-14:00 ended.
  ASSERT_OK(history);
  EXPECT_EQ(7u, history->points.size());
  ASSERT_FALSE(problem);
  EXPECT_EQ(ErrorCode::kInvalidArgument, problem.error().code);
  EXPECT_THAT(problem.error().message,
              HasSubstr("location 'atlantis' is not a known location"));
}

TEST_F(LoopbackProviderTest, ServerErrorsAreRetriedWithBackoff) {
  auto provider = retrying(electricitymaps());
  ASSERT_OK(server().fault("/v3/carbon-intensity/forecast", "500", 2));

  auto series = provider.forecast("DE", clock_.now(), 24h);

  ASSERT_OK(series);
  EXPECT_EQ(3, count("/v3/carbon-intensity/forecast"));
  EXPECT_THAT(sleeps_, ElementsAre(500ms, 1000ms));  // Jitter 0.
}

TEST_F(LoopbackProviderTest, TooManyRequestsHonoursRetryAfter) {
  auto provider = retrying(electricitymaps());
  ASSERT_OK(server().fault("/v3/carbon-intensity/forecast", "429", 1,
                           "&retry_after=7"));

  auto series = provider.forecast("DE", clock_.now(), 24h);

  ASSERT_OK(series);
  EXPECT_THAT(sleeps_, ElementsAre(7000ms));
  EXPECT_EQ(2, count("/v3/carbon-intensity/forecast"));
}

TEST_F(LoopbackProviderTest, SlowServerIsTimeoutAndRetried) {
  auto provider = retrying(electricitymaps(testing::kServerEmToken, 300ms), 1);
  ASSERT_OK(server().fault("/v3/carbon-intensity/forecast", "timeout", 2,
                           "&delay=2"));

  auto series = provider.forecast("DE", clock_.now(), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kTimeout, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("gave up after 2 attempts"));
  EXPECT_EQ(1u, sleeps_.size());
}

TEST_F(LoopbackProviderTest, HtmlErrorPageIsUnavailableWithExcerpt) {
  auto provider = electricitymaps();
  ASSERT_OK(server().fault("/v3/carbon-intensity/forecast", "html", 1));

  auto series = provider->forecast("DE", clock_.now(), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("not valid JSON"));
  EXPECT_THAT(series.error().message, HasSubstr("502 Bad Gateway"));
}

TEST_F(LoopbackProviderTest, TruncatedBodyIsUnavailable) {
  auto provider = watttime();
  ASSERT_OK(server().fault("/v3/forecast", "truncated", 1));

  auto series =
      provider->forecast("CAISO_NORTH", at("2022-07-15T00:00:00Z"), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
}

TEST_F(LoopbackProviderTest, EmptyArraysAreNotFound) {
  auto em = electricitymaps();
  auto wt = watttime();
  auto uk_provider = uk();
  ASSERT_OK(server().fault("/v3/carbon-intensity/forecast", "empty", 1));
  ASSERT_OK(server().fault("/v3/forecast", "empty", 1));
  ASSERT_OK(server().fault("/intensity", "empty", 1));

  auto em_series = em->forecast("DE", clock_.now(), 24h);
  auto wt_series = wt->forecast("CAISO_NORTH", clock_.now(), 24h);
  auto uk_series = uk_provider->forecast("GB", clock_.now(), 24h);

  ASSERT_FALSE(em_series);
  EXPECT_EQ(ErrorCode::kNotFound, em_series.error().code);
  ASSERT_FALSE(wt_series);
  EXPECT_EQ(ErrorCode::kNotFound, wt_series.error().code);
  ASSERT_FALSE(uk_series);
  EXPECT_EQ(ErrorCode::kNotFound, uk_series.error().code);
}

TEST_F(LoopbackProviderTest, RefusedConnectionIsUnavailable) {
  ElectricityMapsOptions options;
  options.base_url = "http://127.0.0.1:1/v3";
  options.token = "tok-never-shown-1234";
  ElectricityMapsProvider provider(options, http_, clock_);

  auto series = provider.forecast("DE", clock_.now(), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("electricitymaps"));
  EXPECT_THAT(series.error().message, Not(HasSubstr("tok-never-shown-1234")));
}

}  // namespace
}  // namespace lowcarb::forecast
