// SPDX-License-Identifier: Apache-2.0
// A provider over the embedded typical days (data/profiles.h): for a zone
// with a profile, the forecast is the mean intensity of the same UTC hour of
// day in the same month of the Electricity Maps 2022 dataset. Crude, but it
// carries the daily shape (solar noon, evening peak), so time-shifting works
// offline with no history. Needs no network and no state. Thread-safe.
#pragma once

#include <string>

#include "forecast/forecast_provider.h"

namespace lowcarb::forecast {

class ProfileProvider final : public ForecastProvider {
 public:
  // `scope` picks the direct or lifecycle profile. Default: direct.
  explicit ProfileProvider(Scope scope = Scope::kDirect) : scope_(scope) {}

  std::string name() const override { return "profile"; }

  // Hourly points from the hour containing `now` to at least now + horizon,
  // kind average/<scope>/forecast. kNotFound for a zone without a profile.
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override;

  // kNotFound: a profile is not an observation.
  Result<IntensitySeries> history(const std::string& zone, TimePoint from,
                                  TimePoint to) override;

 private:
  Scope scope_;
};

}  // namespace lowcarb::forecast
