// SPDX-License-Identifier: Apache-2.0
// A decorator that protects provider quotas and rides out outages: the last
// forecast per (provider key, zone) is kept in the SQLite state database with
// the horizon it was asked for. Within `ttl` of fetching, the cached series
// answers a request for the same or a shorter horizon without asking the
// inner provider (a longer horizon is a miss); otherwise the inner provider
// is asked for max(horizon, min_horizon) and, when it fails, the cached
// series is served marked `stale` until it is older than `max_stale_age`,
// after which the failure is returned. Served series are cut to the horizon
// asked for. Used from one thread at a time (the Database's rule).
#pragma once

#include <memory>
#include <string>

#include "common/sqlite_database.h"
#include "forecast/forecast_provider.h"

namespace lowcarb::forecast {

struct CacheOptions {
  Duration ttl{30 * 60};             // Default: 30 min.
  Duration max_stale_age{6 * 3600};  // Default: 6 h.
  // Names the provider in the cache table: what it serves must be the same
  // for the same key, so include the type and scope with the configured name.
  std::string key;  // Default: the inner provider's name().
  // The shortest horizon asked of the inner provider (ProviderConfig's
  // `horizon`), so later requests for up to that much hit the cache.
  Duration min_horizon{0};
};

class CachingProvider final : public ForecastProvider {
 public:
  // Creates the cache table in `db` if needed. `inner` is owned; `db` must
  // outlive the provider. Ages are measured with the `now` passed to
  // forecast(); a cache entry fetched after `now` counts as a miss.
  static Result<std::unique_ptr<CachingProvider>> create(
      std::unique_ptr<ForecastProvider> inner, Database& db,
      CacheOptions options = {});

  // The inner provider's name: the cache is transparent in logs.
  std::string name() const override { return inner_->name(); }

  // As described above; served series keep only points that end after
  // `now`. A cache that cannot be read or written is logged at warn and
  // bypassed, never an error of its own.
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;

  // Passed through uncached.
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;

 private:
  CachingProvider(std::unique_ptr<ForecastProvider> inner, Database& db,
                  CacheOptions options)
      : inner_(std::move(inner)), db_(db), options_(options) {}

  struct Entry {
    TimePoint fetched_at{};
    Duration horizon{0};  // What was asked when it was fetched.
    IntensitySeries series;
  };
  // False when there is no usable entry.
  bool load(const std::string& zone, Entry& entry);
  void store(const std::string& zone, TimePoint fetched_at, Duration horizon,
             const IntensitySeries& series);

  std::unique_ptr<ForecastProvider> inner_;
  Database& db_;
  CacheOptions options_;
};

// The series as JSON text and back, as the cache stores it (also used by
// tests). Times are Unix seconds.
std::string series_to_json(const IntensitySeries& series);
Result<IntensitySeries> series_from_json(const std::string& text);

}  // namespace lowcarb::forecast
