// SPDX-License-Identifier: Apache-2.0
#include "forecast/forecast_cache.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/time_format.h"

namespace lowcarb::forecast {

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS forecast_cache_v2 (
  provider TEXT NOT NULL,
  zone TEXT NOT NULL,
  horizon_s INTEGER NOT NULL,
  fetched_at_s INTEGER NOT NULL,
  series_json TEXT NOT NULL,
  PRIMARY KEY (provider, zone)
);
)sql";

int64_t seconds(TimePoint time) { return time.time_since_epoch().count(); }
TimePoint from_seconds(int64_t value) { return TimePoint{Duration{value}}; }

// The points of [now, now + horizon).
IntensitySeries window(IntensitySeries series, TimePoint now,
                       Duration horizon) {
  const TimePoint until = now + horizon;
  std::erase_if(series.points, [now, until](const IntensityPoint& p) {
    return p.end <= now || p.start >= until;
  });
  return series;
}

}  // namespace

std::string series_to_json(const IntensitySeries& series) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& point : series.points) {
    nlohmann::json value = nullptr;
    if (point.gco2_per_kwh) {
      value = *point.gco2_per_kwh;
    }
    points.push_back({seconds(point.start), seconds(point.end), value});
  }
  nlohmann::json doc = {
      {"zone", series.zone},
      {"basis", static_cast<int>(series.kind.basis)},
      {"scope", static_cast<int>(series.kind.scope)},
      {"horizon", static_cast<int>(series.kind.horizon)},
      {"provider", series.provider},
      {"generated_at", seconds(series.generated_at)},
      {"points", points},
  };
  return doc.dump();
}

Result<IntensitySeries> series_from_json(const std::string& text) {
  try {
    const auto doc = nlohmann::json::parse(text);
    IntensitySeries series;
    series.zone = doc.at("zone").get<std::string>();
    series.kind.basis = static_cast<Basis>(doc.at("basis").get<int>());
    series.kind.scope = static_cast<Scope>(doc.at("scope").get<int>());
    series.kind.horizon = static_cast<Horizon>(doc.at("horizon").get<int>());
    series.provider = doc.at("provider").get<std::string>();
    series.generated_at = from_seconds(doc.at("generated_at").get<int64_t>());
    for (const auto& item : doc.at("points")) {
      std::optional<double> value;
      if (!item.at(2).is_null()) {
        value = item.at(2).get<double>();
      }
      series.points.push_back({from_seconds(item.at(0).get<int64_t>()),
                               from_seconds(item.at(1).get<int64_t>()), value});
    }
    return series;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("reading a cached forecast: {}", e.what()));
  }
}

Result<std::unique_ptr<CachingProvider>> CachingProvider::create(
    std::unique_ptr<ForecastProvider> inner, Database& db,
    CacheOptions options) {
  if (auto status = db.exec(kSchema); !status) {
    return make_error(status.error().with_context(
        fmt::format("creating the forecast cache in {}", db.path())));
  }
  if (options.key.empty()) {
    options.key = inner->name();
  }
  return std::unique_ptr<CachingProvider>(
      new CachingProvider(std::move(inner), db, options));
}

bool CachingProvider::load(const std::string& zone, Entry& entry) {
  auto rows = db_.query(
      "SELECT fetched_at_s, series_json, horizon_s FROM forecast_cache_v2 "
      "WHERE provider = ?1 AND zone = ?2",
      {options_.key, zone});
  if (!rows) {
    get_logger("forecast")
        ->warn("forecast cache {}/{}: {}", options_.key, zone,
               rows.error().message);
    return false;
  }
  if (rows->empty()) {
    return false;
  }
  auto series = series_from_json((*rows)[0].text(1));
  if (!series) {
    get_logger("forecast")
        ->warn("forecast cache {}/{}: {}", options_.key, zone,
               series.error().message);
    return false;
  }
  entry.fetched_at = from_seconds((*rows)[0].integer(0));
  entry.horizon = Duration{(*rows)[0].integer(2)};
  entry.series = std::move(*series);
  return true;
}

void CachingProvider::store(const std::string& zone, TimePoint fetched_at,
                            Duration horizon, const IntensitySeries& series) {
  auto written = db_.execute(
      "INSERT INTO forecast_cache_v2 (provider, zone, horizon_s, "
      "fetched_at_s, series_json) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (provider, zone) DO UPDATE SET "
      "horizon_s = excluded.horizon_s, "
      "fetched_at_s = excluded.fetched_at_s, "
      "series_json = excluded.series_json",
      {options_.key, zone, static_cast<int64_t>(horizon.count()),
       seconds(fetched_at), series_to_json(series)});
  if (!written) {
    get_logger("forecast")
        ->warn("forecast cache {}/{}: {}", options_.key, zone,
               written.error().message);
  }
}

Result<IntensitySeries> CachingProvider::forecast(const std::string& zone,
                                                  TimePoint now,
                                                  Duration horizon) {
  Entry cached;
  // An entry from a later `now` (a replay) is not usable.
  const bool have = load(zone, cached) && cached.fetched_at <= now;
  // It answers only what it was asked for: a longer horizon is a miss.
  const bool covers = have && cached.horizon >= horizon;
  if (covers && now - cached.fetched_at < options_.ttl) {
    return window(std::move(cached.series), now, horizon);
  }
  const Duration asked = std::max(horizon, options_.min_horizon);
  auto fresh = inner_->forecast(zone, now, asked);
  if (fresh) {
    store(zone, now, asked, *fresh);
    return window(std::move(*fresh), now, horizon);
  }
  if (have && now - cached.fetched_at <= options_.max_stale_age) {
    auto stale = window(std::move(cached.series), now, horizon);
    stale.stale = true;
    return stale;
  }
  if (have) {
    return make_error(
        fresh.error().code,
        fmt::format("{} (the cached forecast from {} is older "
                    "than the {} allowed)",
                    fresh.error().message, format_utc(cached.fetched_at),
                    format_duration(options_.max_stale_age)));
  }
  return fresh;
}

Result<IntensitySeries> CachingProvider::history(const std::string& zone,
                                                 TimePoint from, TimePoint to) {
  return inner_->history(zone, from, to);
}

}  // namespace lowcarb::forecast
