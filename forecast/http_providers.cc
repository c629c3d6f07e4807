// SPDX-License-Identifier: Apache-2.0
#include "forecast/http_providers.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "common/strings.h"
#include "forecast/carbon_aware_sdk_provider.h"
#include "forecast/electricitymaps_provider.h"
#include "forecast/retrying_provider.h"
#include "forecast/uk_carbon_intensity_provider.h"
#include "forecast/watttime_provider.h"

namespace lowcarb::forecast {
namespace {

const std::vector<std::string> kHttpTypes = {
    "electricitymaps", "watttime", "ukcarbonintensity", "carbon-aware-sdk"};

// "provider 'em' (electricitymaps, line 12)" for messages.
std::string describe(const config::ProviderConfig& config) {
  std::string name = config.name.empty() ? config.type : config.name;
  if (config.line > 0) {
    return fmt::format("provider '{}' ({}, line {})", name, config.type,
                       config.line);
  }
  return fmt::format("provider '{}' ({})", name, config.type);
}

// The value of the credential: the literal from the config, else the
// environment variable `env_name` (`default_env` when unset).
Result<std::string> credential(const config::ProviderConfig& config,
                               const std::string& literal,
                               const std::string& env_name,
                               const std::string& default_env,
                               const std::string& what, const EnvLookup& env) {
  if (!literal.empty()) {
    return literal;
  }
  std::string variable = env_name.empty() ? default_env : env_name;
  auto value = env(variable);
  if (!value || value->empty()) {
    return make_error(
        ErrorCode::kPermissionDenied,
        fmt::format("{}: no {}: the environment variable {} is {}",
                    describe(config), what, variable,
                    value ? "empty" : "not set"));
  }
  return *value;
}

std::string name_or_type(const config::ProviderConfig& config) {
  return config.name.empty() ? config.type : config.name;
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(value);
}

Result<std::unique_ptr<ForecastProvider>> make_http_provider(
    const config::ProviderConfig& config, HttpClient& http, const Clock& clock,
    const EnvLookup& env) {
  std::unique_ptr<ForecastProvider> provider;
  if (config.type == "electricitymaps") {
    ElectricityMapsOptions options;
    options.name = name_or_type(config);
    if (!config.base_url.empty()) {
      options.base_url = config.base_url;
    }
    if (config.scope == "lifecycle") {
      options.scope = Scope::kLifecycle;
    } else if (config.scope == "direct" || config.scope.empty()) {
      options.scope = Scope::kDirect;
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{}: scope '{}' is not direct or lifecycle",
                                    describe(config), config.scope));
    }
    auto token = credential(config, config.token, config.token_env,
                            "ELECTRICITYMAPS_TOKEN", "API token", env);
    if (!token) {
      return make_error(token.error());
    }
    options.token = *token;
    options.timeout = config.timeout;
    provider = std::make_unique<ElectricityMapsProvider>(std::move(options),
                                                         http, clock);
  } else if (config.type == "watttime") {
    WattTimeOptions options;
    options.name = name_or_type(config);
    if (!config.base_url.empty()) {
      options.base_url = config.base_url;
    }
    auto username = credential(config, "", config.username_env,
                               "WATTTIME_USERNAME", "user name", env);
    if (!username) {
      return make_error(username.error());
    }
    auto password = credential(config, "", config.password_env,
                               "WATTTIME_PASSWORD", "password", env);
    if (!password) {
      return make_error(password.error());
    }
    options.username = *username;
    options.password = *password;
    options.timeout = config.timeout;
    provider =
        std::make_unique<WattTimeProvider>(std::move(options), http, clock);
  } else if (config.type == "ukcarbonintensity") {
    UkCarbonIntensityOptions options;
    options.name = name_or_type(config);
    if (!config.base_url.empty()) {
      options.base_url = config.base_url;
    }
    options.timeout = config.timeout;
    provider = std::make_unique<UkCarbonIntensityProvider>(std::move(options),
                                                           http, clock);
  } else if (config.type == "carbon-aware-sdk") {
    CarbonAwareSdkOptions options;
    options.name = name_or_type(config);
    if (!config.base_url.empty()) {
      options.base_url = config.base_url;
    }
    // The WebAPI has no authentication of its own; a token is optional (for
    // a gateway in front of it).
    if (!config.token.empty() || !config.token_env.empty()) {
      auto token = credential(config, config.token, config.token_env, "",
                              "API token", env);
      if (!token) {
        return make_error(token.error());
      }
      options.token = *token;
    }
    options.timeout = config.timeout;
    provider = std::make_unique<CarbonAwareSdkProvider>(std::move(options),
                                                        http, clock);
  } else {
    std::string known;
    for (const auto& type : kHttpTypes) {
      known += known.empty() ? type : ", " + type;
    }
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("{}: '{}' is not an HTTP provider type "
                                  "(known: {}){}",
                                  describe(config), config.type, known,
                                  did_you_mean(config.type, kHttpTypes)));
  }
  RetryPolicy policy;
  policy.retries = config.retries;
  // One call (all attempts) may take two request timeouts, and at least 5 s
  // for the waits between them.
  policy.deadline = std::max<std::chrono::milliseconds>(
      std::chrono::seconds(5),
      2 * std::chrono::duration_cast<std::chrono::milliseconds>(
              config.timeout));
  return std::unique_ptr<ForecastProvider>(std::make_unique<RetryingProvider>(
      std::move(provider), policy, real_sleeper(), random_jitter()));
}

}  // namespace lowcarb::forecast
