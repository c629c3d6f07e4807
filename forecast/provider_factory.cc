// SPDX-License-Identifier: Apache-2.0
#include "forecast/provider_factory.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/logging.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "forecast/ensemble_forecaster.h"
#include "forecast/forecast_cache.h"
#include "forecast/intensity_file.h"
#include "forecast/profile_provider.h"
#include "forecast/series_validation.h"
#include "forecast/static_provider.h"

namespace lowcarb::forecast {

namespace {

const std::vector<std::string> kLocalTypes = {"static", "profile", "history",
                                              "file"};
const std::vector<std::string> kAllTypes = {
    "electricitymaps",  "watttime", "ukcarbonintensity",
    "carbon-aware-sdk", "file",     "static",
    "profile",          "history"};

bool is_local_type(const std::string& type) {
  return std::find(kLocalTypes.begin(), kLocalTypes.end(), type) !=
         kLocalTypes.end();
}

// A provider over a file loaded once: the forecast is the file's values
// from `now` for `horizon`. A single-zone file answers for any zone.
class FileProvider final : public ForecastProvider {
 public:
  FileProvider(std::string path, std::vector<IntensitySeries> series)
      : path_(std::move(path)), series_(std::move(series)) {}

  std::string name() const override { return "file"; }

  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override {
    return slice(zone, now, now + horizon);
  }

  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override {
    return slice(zone, from, to);
  }

 private:
  Result<IntensitySeries> slice(const std::string& zone, TimePoint from,
                                TimePoint to) const {
    const IntensitySeries* found = nullptr;
    for (const auto& series : series_) {
      if (iequals(series.zone, zone)) {
        found = &series;
      }
    }
    if (found == nullptr && series_.size() == 1) {
      found = &series_.front();
    }
    if (found == nullptr) {
      return make_error(
          ErrorCode::kNotFound,
          fmt::format("intensity file {}: no values for zone {}", path_, zone));
    }
    IntensitySeries out = *found;
    out.zone = zone;
    out.points.clear();
    for (const auto& point : found->points) {
      if (point.end > from && point.start < to) {
        out.points.push_back(point);
      }
    }
    if (out.empty()) {
      return make_error(
          ErrorCode::kNotFound,
          fmt::format("intensity file {}: no values for {} in [{}, {})", path_,
                      zone, format_utc(from), format_utc(to)));
    }
    return out;
  }

  std::string path_;
  std::vector<IntensitySeries> series_;
};

// Stands in for a provider that could not be built because a credential is
// missing: every call fails with the reason, so the fallback chain moves on
// to the zone's next provider and the other zones are not affected.
class DisabledProvider final : public ForecastProvider {
 public:
  DisabledProvider(std::string name, Error why)
      : name_(std::move(name)), why_(std::move(why)) {}

  std::string name() const override { return name_; }
  Result<IntensitySeries> forecast(const std::string&, TimePoint,
                                   Duration) override {
    return make_error(why_);
  }
  Result<IntensitySeries> history(const std::string&, TimePoint,
                                  TimePoint) override {
    return make_error(why_);
  }

 private:
  std::string name_;
  Error why_;
};

Scope scope_of(const std::string& text) {
  return iequals(text, "lifecycle") || iequals(text, "lca") ? Scope::kLifecycle
                                                            : Scope::kDirect;
}

std::string where(const config::Config& config, int line,
                  const std::string& key) {
  if (line > 0) {
    return fmt::format("{}:{}: {}", config.source, line, key);
  }
  return fmt::format("{}: {}", config.source, key);
}

}  // namespace

SignalKind comparison_kind(const config::SignalKindConfig& config) {
  return {
      iequals(config.basis, "marginal") ? Basis::kMarginal : Basis::kAverage,
      scope_of(config.scope), Horizon::kForecast};
}

Result<IntensitySeries> ForecastService::forecast_from(
    const std::string& provider_name, const std::string& zone, TimePoint now,
    Duration horizon) {
  auto it = providers_.find(provider_name);
  if (it == providers_.end()) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("forecast for {}: no provider named '{}'{}", zone,
                    provider_name,
                    did_you_mean(provider_name, provider_names())));
  }
  std::string location = zone;
  if (auto route = routes_.find(zone); route != routes_.end()) {
    for (const auto& link : route->second) {
      if (link.provider_name == provider_name && !link.location.empty()) {
        location = link.location;
      }
    }
  }
  auto result = it->second->forecast(location, now, horizon);
  if (!result) {
    return result;
  }
  result->zone = zone;
  result->provider = provider_name;
  auto checked = check_series(std::move(*result));
  if (!checked) {
    return make_error(checked.error());
  }
  for (const auto& warning : checked->warnings) {
    get_logger("forecast")->warn("{}", warning);
  }
  return std::move(checked->series);
}

std::vector<std::string> ForecastService::provider_names() const {
  std::vector<std::string> names;
  for (const auto& [name, provider] : providers_) {
    names.push_back(name);
  }
  return names;
}

Result<std::unique_ptr<ForecastService>> make_forecast_service(
    const config::Config& config, HttpClient& http, const Clock& clock,
    Database* state_db, const EnvLookup& env) {
  std::unique_ptr<ForecastService> service(new ForecastService());
  const SignalKind comparison = comparison_kind(config.planner.comparison);

  // Every provider a chain may use: the configured ones and the built-in
  // local ones (a built-in name not configured means type = name).
  std::map<std::string, config::ProviderConfig> wanted = config.providers;
  for (const auto& builtin : {"static", "profile", "history"}) {
    if (!wanted.count(builtin)) {
      config::ProviderConfig implicit;
      implicit.name = builtin;
      implicit.type = builtin;
      implicit.scope = config.planner.comparison.scope;
      wanted.emplace(builtin, implicit);
    }
  }
  std::vector<std::string> known_names;
  for (const auto& [name, provider] : wanted) {
    known_names.push_back(name);
  }

  if (state_db != nullptr) {
    auto store = HistoryStore::open(*state_db);
    if (!store) {
      return make_error(store.error());
    }
    service->history_store_ = std::move(*store);
  }

  for (const auto& [name, pc] : wanted) {
    const std::string key = where(config, pc.line, "providers." + name);
    std::unique_ptr<ForecastProvider> provider;
    if (pc.type == "static") {
      provider = std::make_unique<StaticProvider>();
    } else if (pc.type == "profile") {
      provider = std::make_unique<ProfileProvider>(scope_of(pc.scope));
    } else if (pc.type == "history") {
      SignalKind preferred = comparison;
      preferred.horizon = Horizon::kObserved;
      if (service->history_store_) {
        provider = std::make_unique<EnsembleForecaster>(
            *service->history_store_, preferred);
      } else {
        provider = EnsembleForecaster::from_series({});
      }
    } else if (pc.type == "file") {
      if (pc.path.empty()) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: path: expected the path of an "
                                      "intensity file, found nothing",
                                      key));
      }
      FileLoadOptions options;
      options.scope = scope_of(pc.scope);
      auto loaded = load_intensity_file(pc.path, options);
      if (!loaded) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: {}", key, loaded.error().message));
      }
      provider = std::make_unique<FileProvider>(pc.path, std::move(*loaded));
    } else if (std::find(kAllTypes.begin(), kAllTypes.end(), pc.type) !=
               kAllTypes.end()) {
      service->remote_names_.insert(name);
      auto made = make_http_provider(pc, http, clock, env);
      if (!made && made.error().code == ErrorCode::kPermissionDenied) {
        // A missing credential disables this provider only (config/README.md:
        // reported on use; the zone falls back).
        Error why = made.error().with_context(key);
        why.message = redact(why.message) + "; the provider is disabled";
        get_logger("forecast")->warn("{}", why.message);
        service->providers_.emplace(
            name, std::make_unique<DisabledProvider>(name, std::move(why)));
        continue;
      }
      if (!made) {
        return make_error(made.error().with_context(key));
      }
      provider = std::move(*made);
      if (state_db != nullptr) {
        CacheOptions options;
        options.ttl = pc.ttl;
        options.max_stale_age = config.planner.max_forecast_age;
        // What the entry holds depends on the type and scope too.
        options.key = fmt::format(
            "{}|{}|{}", name, pc.type,
            scope_of(pc.scope) == Scope::kLifecycle ? "lifecycle" : "direct");
        options.min_horizon = pc.horizon;
        auto cached =
            CachingProvider::create(std::move(provider), *state_db, options);
        if (!cached) {
          return make_error(cached.error());
        }
        provider = std::move(*cached);
      }
    } else {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}: type: expected one of {}, found \"{}\"{}", key,
                      join(kAllTypes, ", "), pc.type,
                      did_you_mean(pc.type, kAllTypes)));
    }
    service->providers_.emplace(name, std::move(provider));
  }

  auto links_for = [&](const std::vector<std::string>& names,
                       const config::ZoneConfig* zone,
                       size_t index) -> Result<std::vector<ChainLink>> {
    std::vector<ChainLink> links;
    for (const auto& name : names) {
      auto it = service->providers_.find(name);
      if (it == service->providers_.end()) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("{}: providers: unknown provider \"{}\" (known: "
                        "{}){}",
                        where(config, zone->line,
                              fmt::format("zones[{}] ({})", index, zone->id)),
                        name, join(known_names, ", "),
                        did_you_mean(name, known_names)));
      }
      ChainLink link{name, it->second.get(), ""};
      const auto& type = wanted.at(name).type;
      if (zone != nullptr && !is_local_type(type)) {
        link.location = zone->provider_location;
      }
      links.push_back(std::move(link));
    }
    return links;
  };

  std::vector<ChainLink> default_route;
  for (const auto& name : kDefaultZoneProviders) {
    default_route.push_back({name, service->providers_.at(name).get(), ""});
  }
  for (size_t i = 0; i < config.zones.size(); ++i) {
    const auto& zone = config.zones[i];
    auto links = links_for(
        zone.providers.empty() ? kDefaultZoneProviders : zone.providers, &zone,
        i);
    if (!links) {
      return make_error(links.error());
    }
    service->routes_[zone.id] = std::move(*links);
  }
  service->chain_ = std::make_unique<FallbackChain>(
      service->routes_, std::move(default_route), comparison);
  service->chain_->set_max_age(config.planner.max_forecast_age);

  std::map<std::string, std::vector<ChainLink>> local_routes;
  for (const auto& [zone, links] : service->routes_) {
    auto& local = local_routes[zone];
    for (const auto& link : links) {
      if (is_local_type(wanted.at(link.provider_name).type)) {
        local.push_back(link);
      }
    }
    if (local.empty()) {
      local.push_back({"static", service->providers_.at("static").get(), ""});
    }
  }
  service->local_chain_ = std::make_unique<FallbackChain>(
      std::move(local_routes), service->chain_->route(""), comparison);
  return service;
}

}  // namespace lowcarb::forecast
