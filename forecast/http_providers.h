// SPDX-License-Identifier: Apache-2.0
// The HTTP forecast providers: Electricity Maps v3, WattTime v3, the UK
// Carbon Intensity API and a Carbon Aware SDK WebAPI server. The `zone`
// argument they receive is the provider's own location name
// (ZoneConfig::provider_location, default the zone id); the fallback chain
// maps it back to the zone id.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "config/config.h"
#include "forecast/forecast_provider.h"

namespace lowcarb::forecast {

// Looks up an environment variable; the seam for secrets in tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// Builds the provider for `config.type` (electricitymaps, watttime,
// ukcarbonintensity, carbon-aware-sdk), wrapped in retries with backoff.
// kInvalidArgument for another type; kPermissionDenied when a required
// credential is missing (the message names the environment variable, never
// its value). `http` and `clock` must outlive the provider. When
// token_env/username_env/password_env are empty the variables
// ELECTRICITYMAPS_TOKEN, WATTTIME_USERNAME and WATTTIME_PASSWORD are read.
Result<std::unique_ptr<ForecastProvider>> make_http_provider(
    const config::ProviderConfig& config, HttpClient& http, const Clock& clock,
    const EnvLookup& env = process_env);

}  // namespace lowcarb::forecast
