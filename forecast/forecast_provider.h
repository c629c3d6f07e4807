// SPDX-License-Identifier: Apache-2.0
// The interface every source of carbon intensity implements: HTTP providers,
// files, the static annual average, the history-based forecaster, and the
// decorators (cache, fallback chain, retry) that wrap them.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

class ForecastProvider {
 public:
  virtual ~ForecastProvider() = default;

  // For logs and for IntensitySeries::provider.
  virtual std::string name() const = 0;

  // The forecast for `zone` from `now` for at least `horizon` when the
  // provider can (it may return less; it never pads). Points that ended
  // before `now` are dropped. kUnavailable/kTimeout when the provider failed
  // (callers may fall back), kPermissionDenied for bad credentials,
  // kNotFound for an unknown zone, kInvalidArgument for a response that
  // cannot be parsed.
  virtual Result<IntensitySeries> forecast(const std::string& zone,
                                           TimePoint now, Duration horizon) = 0;

  // Observed values for `zone` in [from, to). Providers without history
  // return kNotFound.
  virtual Result<IntensitySeries> history(const std::string& zone,
                                          TimePoint from, TimePoint to) = 0;
};

}  // namespace lowcarb::forecast
