// SPDX-License-Identifier: Apache-2.0
#include "forecast/forecast_cache.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"
#include "tests/forecast/scripted_provider.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;
using testing::ScriptedProvider;

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");

class CachingProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = *Database::open(":memory:");
    auto inner = std::make_unique<ScriptedProvider>("electricitymaps", 200);
    inner_ = inner.get();
    CacheOptions options;
    options.ttl = minutes(30);
    options.max_stale_age = hours(6);
    auto cache = CachingProvider::create(std::move(inner), *db_, options);
    ASSERT_OK(cache);
    cache_ = std::move(*cache);
  }

  std::unique_ptr<Database> db_;
  ScriptedProvider* inner_ = nullptr;
  std::unique_ptr<CachingProvider> cache_;
};

TEST_F(CachingProviderTest, ServesFromCacheWithinTtlWithoutAskingTheProvider) {
  auto first = cache_->forecast("DE", kNow, hours(24));
  inner_->set_value(999);
  auto second = cache_->forecast("DE", kNow + minutes(29), hours(24));

  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(1, inner_->calls());
  EXPECT_FALSE(second->stale);
  EXPECT_EQ(200, second->points[0].gco2_per_kwh);
  EXPECT_EQ("electricitymaps", cache_->name());
}

TEST_F(CachingProviderTest, FetchesAgainAfterTheTtl) {
  ASSERT_OK(cache_->forecast("DE", kNow, hours(24)));
  inner_->set_value(150);

  auto later = cache_->forecast("DE", kNow + minutes(30), hours(24));

  ASSERT_OK(later);
  EXPECT_EQ(2, inner_->calls());
  EXPECT_EQ(150, later->points[0].gco2_per_kwh);
}

TEST_F(CachingProviderTest, NeverFetchesAZoneMoreThanOncePerTtl) {
  // Asked every minute for a day, for two zones.
  for (int minute = 0; minute < 24 * 60; ++minute) {
    for (const char* zone : {"DE", "FR"}) {
      ASSERT_OK(cache_->forecast(zone, kNow + minutes(minute), hours(24)));
    }
  }

  EXPECT_EQ(2 * 48, inner_->calls());
  EXPECT_EQ(48, std::count(inner_->zones_asked().begin(),
                           inner_->zones_asked().end(), "DE"));
}

TEST_F(CachingProviderTest, ServesStaleWhenTheProviderFailsAfterTheTtl) {
  ASSERT_OK(cache_->forecast("DE", kNow, hours(24)));
  inner_->fail_with(ErrorCode::kUnavailable, "HTTP 503");

  auto stale = cache_->forecast("DE", kNow + hours(2) + minutes(10), hours(24));

  ASSERT_OK(stale);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(2, inner_->calls());
  // Points that ended before `now` are dropped: 14:00 is the first left.
  EXPECT_EQ(kNow + hours(2), stale->begin_time());
  EXPECT_EQ(200, stale->points[0].gco2_per_kwh);
}

TEST_F(CachingProviderTest, StaleCacheExpiresAfterTheMaximumAge) {
  ASSERT_OK(cache_->forecast("DE", kNow, hours(48)));
  inner_->fail_with(ErrorCode::kUnavailable, "HTTP 503");

  auto still = cache_->forecast("DE", kNow + hours(6), hours(24));
  auto expired = cache_->forecast(
      "DE", kNow + hours(6) + std::chrono::seconds(1), hours(24));

  ASSERT_OK(still);
  EXPECT_TRUE(still->stale);
  ASSERT_FALSE(expired);
  EXPECT_EQ(ErrorCode::kUnavailable, expired.error().code);
  EXPECT_THAT(expired.error().message, HasSubstr("HTTP 503"));
  EXPECT_THAT(expired.error().message, HasSubstr("older than the 6h allowed"));
}

TEST_F(CachingProviderTest, FailureWithoutCacheIsReturnedAsIs) {
  inner_->fail_with(ErrorCode::kPermissionDenied, "bad token");

  auto result = cache_->forecast("DE", kNow, hours(24));

  ASSERT_FALSE(result);
  EXPECT_EQ(ErrorCode::kPermissionDenied, result.error().code);
  EXPECT_EQ("bad token", result.error().message);
}

TEST_F(CachingProviderTest, RecoveredProviderReplacesTheStaleEntry) {
  ASSERT_OK(cache_->forecast("DE", kNow, hours(24)));
  inner_->fail_with(ErrorCode::kTimeout, "timed out");
  ASSERT_TRUE(cache_->forecast("DE", kNow + hours(1), hours(24))->stale);
  inner_->succeed();
  inner_->set_value(90);

  auto fresh = cache_->forecast("DE", kNow + hours(2), hours(24));

  ASSERT_OK(fresh);
  EXPECT_FALSE(fresh->stale);
  EXPECT_EQ(90, fresh->points[0].gco2_per_kwh);
}

TEST_F(CachingProviderTest, CacheOutlivesTheProcessInTheDatabase) {
  ASSERT_OK(cache_->forecast("DE", kNow, hours(24)));
  auto other_inner = std::make_unique<ScriptedProvider>("electricitymaps", 1);
  auto* other = other_inner.get();
  auto second = *CachingProvider::create(
      std::move(other_inner), *db_, CacheOptions{minutes(30), hours(6), ""});

  auto served = second->forecast("DE", kNow + minutes(5), hours(24));

  ASSERT_OK(served);
  EXPECT_EQ(0, other->calls());
  EXPECT_EQ(200, served->points[0].gco2_per_kwh);
}

TEST(SeriesJsonTest, RoundTripsEveryField) {
  IntensitySeries series;
  series.zone = "GB";
  series.kind = {Basis::kMarginal, Scope::kLifecycle, Horizon::kObserved};
  series.provider = "watttime";
  series.generated_at = kNow;
  series.points = {{kNow, kNow + minutes(30), 12.5},
                   {kNow + minutes(30), kNow + hours(1), std::nullopt}};

  auto back = series_from_json(series_to_json(series));

  ASSERT_OK(back);
  EXPECT_EQ(series.zone, back->zone);
  EXPECT_EQ(series.kind, back->kind);
  EXPECT_EQ(series.provider, back->provider);
  EXPECT_EQ(series.generated_at, back->generated_at);
  EXPECT_EQ(series.points, back->points);
  EXPECT_FALSE(series_from_json("{\"zone\": 3}"));
}

}  // namespace
}  // namespace lowcarb::forecast
