// SPDX-License-Identifier: Apache-2.0
// The last-resort provider: the zone's annual average intensity from the
// embedded zone catalogue (data/zones.csv), as a flat series marked
// Horizon::kAnnualAverage so the planner knows shifting in time gains
// nothing from it. Needs no network and no state. Thread-safe.
#pragma once

#include <string>

#include "forecast/forecast_provider.h"

namespace lowcarb::forecast {

class StaticProvider final : public ForecastProvider {
 public:
  std::string name() const override { return "static"; }

  // Hourly points from the hour containing `now` to at least now + horizon,
  // all at the catalogue's annual figure; the scope is the figure's
  // (direct or lifecycle). kNotFound for a zone not in the catalogue.
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;

  // kNotFound: an annual average is not an observation.
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;
};

}  // namespace lowcarb::forecast
