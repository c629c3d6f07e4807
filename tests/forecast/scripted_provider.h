// SPDX-License-Identifier: Apache-2.0
// A ForecastProvider for tests: answers with a flat hourly series or with a
// scripted error, and counts and records every call.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "forecast/forecast_provider.h"

namespace lowcarb::forecast::testing {

class ScriptedProvider final : public ForecastProvider {
 public:
  explicit ScriptedProvider(std::string name, double value = 100)
      : name_(std::move(name)), value_(value) {}

  std::string name() const override { return name_; }

  // Every later call fails with `error` (until succeed() is called).
  void fail_with(ErrorCode code, std::string message) {
    error_ = Error{code, std::move(message)};
  }
  void succeed() { error_.reset(); }
  void set_value(double value) { value_ = value; }
  void set_kind(SignalKind kind) { kind_ = kind; }
  void set_stale(bool stale) { stale_ = stale; }
  // Series report this as generated_at (default: the `now` asked).
  void set_generated_at(TimePoint at) { generated_at_ = at; }
  // Every value of later series is `value` (nullopt: all null).
  void set_values(std::optional<double> value) { values_ = value; }

  int calls() const { return static_cast<int>(zones_asked_.size()); }
  const std::vector<std::string>& zones_asked() const { return zones_asked_; }

  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override {
    zones_asked_.push_back(zone);
    if (error_) {
      return make_error(*error_);
    }
    IntensitySeries series;
    series.zone = zone;
    series.kind = kind_;
    series.provider = name_;
    series.generated_at = generated_at_.value_or(now);
    series.stale = stale_;
    const TimePoint start =
        TimePoint{std::chrono::floor<std::chrono::hours>(now)};
    for (TimePoint t = start; t < now + horizon; t += std::chrono::hours(1)) {
      series.points.push_back(
          {t, t + std::chrono::hours(1), values_ ? *values_ : value_});
    }
    return series;
  }

  Result<IntensitySeries> history(const std::string& zone, TimePoint,
                                  TimePoint) override {
    zones_asked_.push_back(zone);
    return make_error(ErrorCode::kNotFound, name_ + ": no history");
  }

 private:
  std::string name_;
  double value_;
  SignalKind kind_{};
  bool stale_ = false;
  std::optional<TimePoint> generated_at_;
  std::optional<std::optional<double>> values_;
  std::optional<Error> error_;
  std::vector<std::string> zones_asked_;
};

}  // namespace lowcarb::forecast::testing
