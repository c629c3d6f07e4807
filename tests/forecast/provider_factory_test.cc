// SPDX-License-Identifier: Apache-2.0
#include "forecast/provider_factory.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "config/load_config.h"
#include "forecast/history_store.h"
#include "tests/fakes/fake_http_client.h"
#include "tests/fakes/log_capture.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");

std::optional<std::string> no_env(const std::string&) { return std::nullopt; }

class ProviderFactoryTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<ForecastService>> build(const config::Config& config,
                                                 Database* db = nullptr) {
    return make_forecast_service(config, http_, clock_, db, no_env);
  }

  fakes::FakeHttpClient http_;
  ManualClock clock_{kNow};
};

TEST_F(ProviderFactoryTest, EmbeddedDefaultsServeTheTypicalDayOffline) {
  auto service = build(config::default_config());
  ASSERT_OK(service);

  auto series = (*service)->chain().forecast("DE", kNow, hours(48));

  ASSERT_OK(series);
  EXPECT_EQ("profile", series->provider);
  EXPECT_EQ(Horizon::kForecast, series->kind.horizon);
  EXPECT_EQ(0u, http_.request_count());
}

TEST_F(ProviderFactoryTest, ZoneWithoutProfileFallsBackToTheAnnualAverage) {
  auto service = build(config::default_config());
  ASSERT_OK(service);

  auto series = (*service)->chain().forecast("FR", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("static", series->provider);
  EXPECT_EQ(Horizon::kAnnualAverage, series->kind.horizon);
}

TEST_F(ProviderFactoryTest, ImportedHistoryTakesPrecedence) {
  auto db = *Database::open(":memory:");
  auto service = build(config::default_config(), db.get());
  ASSERT_OK(service);
  IntensitySeries observed;
  observed.zone = "DE";
  observed.kind.horizon = Horizon::kObserved;
  for (int h = -72; h < 0; ++h) {
    observed.points.push_back({kNow + hours(h), kNow + hours(h + 1), 123.0});
  }
  ASSERT_OK((*service)->history_store()->append(observed));

  auto series = (*service)->chain().forecast("DE", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("history", series->provider);
  EXPECT_NEAR(123.0, *series->points[5].gco2_per_kwh, 1e-9);
}

TEST_F(ProviderFactoryTest, FileProviderServesTheFileFromNow) {
  LOWCARB_REQUIRE_SHARED_DATA();
  config::Config config = config::default_config();
  config::ProviderConfig trace;
  trace.name = "trace";
  trace.type = "file";
  trace.path = lowcarb::testing::shared_data(
      "intensity/electricitymaps/US-CAL-CISO_2022_hourly.csv");
  config.providers["trace"] = trace;
  config::ZoneConfig zone;
  zone.id = "US-CAL-CISO";
  zone.providers = {"trace", "static"};
  config.zones = {zone};
  auto service = build(config);
  ASSERT_OK(service);
  const TimePoint june = *parse_time("2022-06-01T00:30:00Z");

  auto series = (*service)->chain().forecast("US-CAL-CISO", june, hours(24));
  auto after_the_file = (*service)->chain().forecast(
      "US-CAL-CISO", *parse_time("2024-01-01T00:00:00Z"), hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("trace", series->provider);
  EXPECT_EQ(25u, series->points.size());
  EXPECT_EQ(*parse_time("2022-06-01T00:00:00Z"), series->begin_time());
  ASSERT_OK(after_the_file);
  EXPECT_EQ("static", after_the_file->provider);
}

TEST_F(ProviderFactoryTest, ForecastFromAsksOnlyTheNamedProvider) {
  auto service = build(config::default_config());
  ASSERT_OK(service);

  auto fixed = (*service)->forecast_from("static", "DE", kNow, hours(24));
  auto unknown = (*service)->forecast_from("statik", "DE", kNow, hours(24));

  ASSERT_OK(fixed);
  EXPECT_EQ("static", fixed->provider);
  EXPECT_EQ(Horizon::kAnnualAverage, fixed->kind.horizon);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(ErrorCode::kNotFound, unknown.error().code);
  EXPECT_THAT(unknown.error().message, HasSubstr("did you mean 'static'"));
}

TEST_F(ProviderFactoryTest, UnknownProviderInAZoneIsAConfigError) {
  config::Config config = config::default_config();
  config::ZoneConfig zone;
  zone.id = "DE";
  zone.providers = {"profil"};
  zone.line = 7;
  config.zones = {zone};

  auto service = build(config);

  ASSERT_FALSE(service);
  EXPECT_EQ(ErrorCode::kInvalidArgument, service.error().code);
  EXPECT_THAT(service.error().message,
              HasSubstr(":7: zones[0] (DE): providers: unknown provider "
                        "\"profil\""));
  EXPECT_THAT(service.error().message, HasSubstr("did you mean 'profile'"));
}

TEST_F(ProviderFactoryTest, AMissingCredentialDisablesOnlyThatProvider) {
  config::Config config = config::default_config();
  config::ProviderConfig wt;
  wt.name = "wt";
  wt.type = "watttime";
  wt.password_env = "LOWCARB_TEST_UNSET_PASSWORD";
  config.providers["wt"] = wt;
  config::ZoneConfig de;
  de.id = "DE";
  de.providers = {"wt", "static"};
  config::ZoneConfig fr;
  fr.id = "FR";
  config.zones = {de, fr};
  lowcarb::testing::LogCapture log("forecast");

  auto service = build(config);

  ASSERT_OK(service);
  EXPECT_THAT(log.text(), HasSubstr("the provider is disabled"));
  auto de_series = (*service)->chain().forecast("DE", kNow, hours(24));
  auto fr_series = (*service)->chain().forecast("FR", kNow, hours(24));
  auto direct = (*service)->forecast_from("wt", "DE", kNow, hours(24));
  ASSERT_OK(de_series);
  EXPECT_EQ("static", de_series->provider);  // DE fell back.
  ASSERT_OK(fr_series);                      // FR never needed it.
  EXPECT_TRUE(http_.requests().empty());
  ASSERT_FALSE(direct);
  EXPECT_EQ(ErrorCode::kPermissionDenied, direct.error().code);
  EXPECT_THAT(direct.error().message, HasSubstr("WATTTIME_USERNAME"));
}

TEST_F(ProviderFactoryTest, AnAllNullSeriesFallsBackToTheNextProvider) {
  const std::string path = ::testing::TempDir() + "/lowcarb-all-null-" +
                           std::to_string(::getpid()) + ".csv";
  {
    std::ofstream out(path);
    out << "timestamp,zone,gco2_per_kwh\n";
    for (int h = 0; h < 24; ++h) {
      out << format_utc(kNow + hours(h)) << ",DE,\n";
    }
  }
  config::Config config = config::default_config();
  config::ProviderConfig file;
  file.name = "nulls";
  file.type = "file";
  file.path = path;
  config.providers["nulls"] = file;
  config::ZoneConfig de;
  de.id = "DE";
  de.providers = {"nulls", "static"};
  config.zones = {de};
  lowcarb::testing::LogCapture log("forecast");

  auto service = build(config);
  ASSERT_OK(service);
  auto series = (*service)->chain().forecast("DE", kNow, hours(12));

  ASSERT_OK(series);
  EXPECT_EQ("static", series->provider);
  EXPECT_THAT(log.text(), HasSubstr("provider nulls failed"));
  EXPECT_THAT(log.text(), HasSubstr("no usable value"));
  std::remove(path.c_str());
}

TEST_F(ProviderFactoryTest, UnknownTypeIsAConfigError) {
  config::Config config = config::default_config();
  config::ProviderConfig odd;
  odd.name = "odd";
  odd.type = "electricitymap";
  odd.line = 12;
  config.providers["odd"] = odd;

  auto service = build(config);

  ASSERT_FALSE(service);
  EXPECT_THAT(service.error().message,
              HasSubstr(":12: providers.odd: type: expected one of"));
  EXPECT_THAT(service.error().message,
              HasSubstr("did you mean 'electricitymaps'"));
}

TEST_F(ProviderFactoryTest, UnreadableFileProviderIsAConfigError) {
  config::Config config = config::default_config();
  config::ProviderConfig file;
  file.name = "trace";
  file.type = "file";
  file.path = "/nonexistent/trace.csv";
  config.providers["trace"] = file;

  auto service = build(config);

  ASSERT_FALSE(service);
  EXPECT_EQ(ErrorCode::kInvalidArgument, service.error().code);
  EXPECT_THAT(service.error().message, HasSubstr("providers.trace"));
  EXPECT_THAT(service.error().message, HasSubstr("/nonexistent/trace.csv"));
}

TEST(ComparisonKindTest, ReadsBasisAndScope) {
  EXPECT_EQ(
      (SignalKind{Basis::kMarginal, Scope::kLifecycle, Horizon::kForecast}),
      comparison_kind({"marginal", "lifecycle"}));
  EXPECT_EQ(SignalKind{}, comparison_kind({}));
}

}  // namespace
}  // namespace lowcarb::forecast
