// SPDX-License-Identifier: Apache-2.0
// The offline providers: static annual average and embedded typical days.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "data/catalogue.h"
#include "data/profiles.h"
#include "forecast/profile_provider.h"
#include "forecast/static_provider.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;

const TimePoint kNow = *parse_time("2026-11-23T18:30:00Z");

TEST(StaticProviderTest, ServesTheCatalogueAnnualAverageAsAFlatSeries) {
  StaticProvider provider;

  auto series = provider.forecast("DE", kNow, hours(24));

  ASSERT_OK(series);
  EXPECT_EQ("static", series->provider);
  EXPECT_EQ(Horizon::kAnnualAverage, series->kind.horizon);
  ASSERT_EQ(25u, series->points.size());
  EXPECT_EQ(*parse_time("2026-11-23T18:00:00Z"), series->begin_time());
  EXPECT_GE(series->end_time(), kNow + hours(24));
  for (const auto& point : series->points) {
    EXPECT_EQ(data::find_zone("DE")->annual_gco2_per_kwh, point.gco2_per_kwh);
  }
}

TEST(StaticProviderTest, UnknownZoneIsNotFound) {
  StaticProvider provider;

  auto series = provider.forecast("XX-NOWHERE", kNow, hours(24));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kNotFound, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("XX-NOWHERE"));
}

TEST(ProfileDataTest, EveryDatasetZoneHasFullProfilesInBothScopes) {
  const std::vector<std::string> expected = {
      "AU-NSW", "CA-ON", "DE", "GB", "IN-WE", "JP-TK", "SG", "US-CAL-CISO"};

  EXPECT_EQ(expected, data::diurnal_profile_zones());
  for (const auto& zone : expected) {
    for (const char* scope : {"direct", "lifecycle"}) {
      const auto* profile = data::find_diurnal_profile(zone, scope);
      ASSERT_NE(nullptr, profile) << zone << " " << scope;
      EXPECT_THAT(profile->source, HasSubstr("Electricity Maps 2022 hourly"));
      for (unsigned month = 0; month <= 12; ++month) {
        for (unsigned hour = 0; hour < 24; ++hour) {
          EXPECT_GT(profile->at(month, hour), 0) << zone << " " << month;
        }
      }
    }
  }
}

TEST(ProfileDataTest, LifecycleExceedsDirectAndSolarNoonIsCleanerInGermany) {
  const auto* direct = data::find_diurnal_profile("DE", "direct");
  const auto* lifecycle = data::find_diurnal_profile("de", "lifecycle");
  ASSERT_NE(nullptr, direct);
  ASSERT_NE(nullptr, lifecycle);

  for (unsigned hour = 0; hour < 24; ++hour) {
    EXPECT_GT(lifecycle->at(0, hour), direct->at(0, hour));
  }
  // 11:00 UTC (noon local, solar peak) against 18:00 UTC (evening peak).
  EXPECT_LT(direct->at(6, 11), direct->at(6, 18));
}

TEST(ProfileProviderTest, ForecastFollowsTheMonthlyHourOfDayMeans) {
  ProfileProvider provider;
  const auto* profile = data::find_diurnal_profile("DE", "direct");
  ASSERT_NE(nullptr, profile);

  auto series = provider.forecast("DE", kNow, hours(48));

  ASSERT_OK(series);
  EXPECT_EQ("profile", series->provider);
  EXPECT_EQ((SignalKind{Basis::kAverage, Scope::kDirect, Horizon::kForecast}),
            series->kind);
  ASSERT_EQ(49u, series->points.size());
  EXPECT_EQ(*parse_time("2026-11-23T18:00:00Z"), series->begin_time());
  EXPECT_EQ(profile->at(11, 18), series->points[0].gco2_per_kwh);
  EXPECT_EQ(profile->at(11, 0), series->points[6].gco2_per_kwh);
  EXPECT_EQ(profile->at(11, 12), series->points[18].gco2_per_kwh);
}

TEST(ProfileProviderTest, ForecastCrossesIntoTheNextMonth) {
  ProfileProvider provider(Scope::kLifecycle);
  const auto* profile = data::find_diurnal_profile("GB", "lifecycle");
  ASSERT_NE(nullptr, profile);

  auto series =
      provider.forecast("GB", *parse_time("2026-11-30T23:00:00Z"), hours(2));

  ASSERT_OK(series);
  EXPECT_EQ(Scope::kLifecycle, series->kind.scope);
  EXPECT_EQ(profile->at(11, 23), series->points[0].gco2_per_kwh);
  EXPECT_EQ(profile->at(12, 0), series->points[1].gco2_per_kwh);
}

TEST(ProfileProviderTest, AcceptsACloudRegionForTheZone) {
  ProfileProvider provider;

  auto series = provider.forecast("eu-central-1", kNow, hours(3));

  ASSERT_OK(series);
  EXPECT_EQ(data::find_diurnal_profile("DE")->at(11, 18),
            series->points[0].gco2_per_kwh);
}

TEST(ProfileProviderTest, ZoneWithoutProfileIsNotFound) {
  ProfileProvider provider;

  auto series = provider.forecast("FR", kNow, hours(24));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kNotFound, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("profiles exist for AU-NSW"));
}

}  // namespace
}  // namespace lowcarb::forecast
