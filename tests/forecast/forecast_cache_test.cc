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

TEST_F(CachingProviderTest, ALongerHorizonIsAMissAndAShorterOneAHit) {
  auto six = cache_->forecast("DE", kNow, hours(6));
  auto seventy_two = cache_->forecast("DE", kNow, hours(72));
  auto twelve = cache_->forecast("DE", kNow, hours(12));

  ASSERT_OK(six);
  ASSERT_OK(seventy_two);
  ASSERT_OK(twelve);
  EXPECT_EQ(6u, six->points.size());
  // 72 h after 6 h is fetched again, not served the 6 cached points.
  EXPECT_EQ(72u, seventy_two->points.size());
  // 12 h after 72 h is served from the cache, cut to what was asked.
  EXPECT_EQ(2, inner_->calls());
  EXPECT_EQ(12u, twelve->points.size());
}

TEST(CachingProviderMinHorizonTest, AsksForAtLeastTheProviderHorizon) {
  auto db = *Database::open(":memory:");
  auto inner = std::make_unique<ScriptedProvider>("em", 200);
  auto* scripted = inner.get();
  CacheOptions options;
  options.min_horizon = hours(48);
  auto cache = CachingProvider::create(std::move(inner), *db, options);
  ASSERT_OK(cache);

  auto six = (*cache)->forecast("DE", kNow, hours(6));
  auto forty = (*cache)->forecast("DE", kNow, hours(40));

  ASSERT_OK(six);
  ASSERT_OK(forty);
  EXPECT_EQ(6u, six->points.size());
  EXPECT_EQ(40u, forty->points.size());
  EXPECT_EQ(1, scripted->calls());  // 48 h were asked the first time.
}

TEST(CachingProviderKeyTest, DifferentKeysDoNotShareEntries) {
  auto db = *Database::open(":memory:");
  auto make = [&](const std::string& key, double value,
                  ScriptedProvider*& raw) {
    auto inner = std::make_unique<ScriptedProvider>("em", value);
    raw = inner.get();
    CacheOptions options;
    options.key = key;
    return std::move(*CachingProvider::create(std::move(inner), *db, options));
  };
  ScriptedProvider* direct_raw = nullptr;
  ScriptedProvider* lifecycle_raw = nullptr;
  auto direct = make("em|electricitymaps|direct", 100, direct_raw);
  auto lifecycle = make("em|electricitymaps|lifecycle", 300, lifecycle_raw);

  auto a = direct->forecast("DE", kNow, hours(6));
  auto b = lifecycle->forecast("DE", kNow, hours(6));

  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(100, a->points[0].gco2_per_kwh);
  EXPECT_EQ(300, b->points[0].gco2_per_kwh);
  EXPECT_EQ(1, lifecycle_raw->calls());
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
