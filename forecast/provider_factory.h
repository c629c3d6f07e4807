// SPDX-License-Identifier: Apache-2.0
// Builds every configured forecast provider and each zone's fallback chain
// from the configuration: types static, profile, history and file here,
// the HTTP types through make_http_provider() (each wrapped in the SQLite
// forecast cache when a state database is given). Zones without a
// `providers:` list, and zones not in the configuration, use
// kDefaultZoneProviders, which need no network and no key.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/sqlite_database.h"
#include "config/config.h"
#include "forecast/fallback_chain.h"
#include "forecast/history_store.h"
#include "forecast/http_providers.h"

namespace lowcarb::forecast {

// The chain of a zone that names no providers: observed history when some
// was imported, else the embedded typical day, else the annual average.
inline const std::vector<std::string> kDefaultZoneProviders = {
    "history", "profile", "static"};

// The providers of one configuration and the zones' chains over them. Owns
// the providers; not thread-safe (the chain and cache are not).
class ForecastService {
 public:
  // The fallback chain over every zone: what the planner asks.
  ForecastProvider& chain() { return *chain_; }

  // The same chains without the HTTP providers (never "static"-less: a zone
  // whose chain has no local provider gets "static"). It answers at once
  // from local data, so an event loop may call it while the full chain is
  // fetched elsewhere.
  ForecastProvider& local_chain() { return *local_chain_; }

  // Asks only the provider configured (or built in) as `provider_name`,
  // with the zone's location for it; the series reports `provider_name`.
  // kNotFound for an unknown provider name.
  Result<IntensitySeries> forecast_from(const std::string& provider_name,
                                        const std::string& zone, TimePoint now,
                                        Duration horizon);

  // Names of the providers built, sorted.
  std::vector<std::string> provider_names() const;

  // True when `provider_name` is a configured HTTP provider (its answers
  // are news: ObservationRecorder stores them), false for the local ones.
  bool is_remote(const std::string& provider_name) const {
    return remote_names_.count(provider_name) > 0;
  }

  // The history store, or nullptr when built without a state database.
  HistoryStore* history_store() { return history_store_.get(); }

 private:
  friend Result<std::unique_ptr<ForecastService>> make_forecast_service(
      const config::Config&, HttpClient&, const Clock&, Database*,
      const EnvLookup&);
  ForecastService() = default;

  std::unique_ptr<HistoryStore> history_store_;
  std::map<std::string, std::unique_ptr<ForecastProvider>> providers_;
  std::set<std::string> remote_names_;
  std::map<std::string, std::vector<ChainLink>> routes_;
  std::unique_ptr<FallbackChain> chain_;
  std::unique_ptr<FallbackChain> local_chain_;
};

// Builds the service. `state_db` (may be null) holds the forecast cache and
// the history store; without it HTTP providers are not cached and the
// history provider has no observations. kInvalidArgument for an unknown
// provider type or name (with a "did you mean"), an unreadable `file:`
// provider, or a provider the HTTP factory rejects. A provider whose
// credential is missing is built disabled (logged at warn; every call fails
// with kPermissionDenied naming the variable) so its zones fall back. Messages
// name the config file, line and key. `http`, `clock` and `state_db` must
// outlive the service.
Result<std::unique_ptr<ForecastService>> make_forecast_service(
    const config::Config& config, HttpClient& http, const Clock& clock,
    Database* state_db, const EnvLookup& env = process_env);

// config::SignalKindConfig as a SignalKind (horizon kForecast); unknown
// words fall back to average/direct.
SignalKind comparison_kind(const config::SignalKindConfig& config);

}  // namespace lowcarb::forecast
