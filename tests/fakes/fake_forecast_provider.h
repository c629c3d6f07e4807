// SPDX-License-Identifier: Apache-2.0
// A ForecastProvider serving fixed series per zone (the part of each series
// from `now` to `now + horizon`), counting calls; can be told to fail.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "forecast/forecast_provider.h"

namespace lowcarb::fakes {

class FakeForecastProvider final : public forecast::ForecastProvider {
 public:
  std::string name() const override { return "fake"; }

  // An hourly series for `zone` starting at `start` with `values`.
  void set_hourly(const std::string& zone, TimePoint start,
                  const std::vector<double>& values);
  void set_series(forecast::IntensitySeries series);
  void fail_with(std::optional<Error> error) { error_ = std::move(error); }

  Result<forecast::IntensitySeries> forecast(const std::string& zone,
                                             TimePoint now,
                                             Duration horizon) override;
  Result<forecast::IntensitySeries> history(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override;

  int calls(const std::string& zone) const;

 private:
  std::map<std::string, forecast::IntensitySeries> series_;
  std::map<std::string, int> calls_;
  std::optional<Error> error_;
};

}  // namespace lowcarb::fakes
