// SPDX-License-Identifier: Apache-2.0
// Small fakes for the daemon's unit tests: an executor that records what it
// was asked, a forecast provider serving a fixed hourly profile, and an
// intensity history with one value.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "executors/executor.h"
#include "forecast/forecast_provider.h"
#include "scheduler/job_store.h"
#include "scheduler/memory_job_store.h"
#include "scheduler/scheduler.h"
#include "scheduler/tracker.h"

namespace lowcarb::testing {

// Starts everything at once, reports jobs running until told otherwise.
class FakeExecutor final : public executors::Executor {
 public:
  std::string name() const override { return "local"; }
  bool defers_start() const override { return false; }
  Result<executors::ExecutorHandle> start(const executors::LaunchSpec& spec,
                                          TimePoint begin) override;
  Status reschedule(const executors::ExecutorHandle&, TimePoint) override {
    return make_error(ErrorCode::kConflict, "not deferred");
  }
  Result<executors::RunStatus> poll(
      const executors::ExecutorHandle& handle) override;
  Status pause(const executors::ExecutorHandle& handle,
               executors::PauseMode mode) override;
  Result<executors::ExecutorHandle> resume(
      const executors::ExecutorHandle& handle,
      const executors::LaunchSpec& spec, executors::PauseMode mode) override;
  Status cancel(const executors::ExecutorHandle& handle) override;

  std::vector<executors::LaunchSpec> started;
  std::vector<std::string> cancelled;  // native ids
  std::vector<std::string> paused;
  std::map<std::string, executors::RunState> states;  // By native id.
};

// An hourly series from the start of the hour of `now` over the horizon;
// `value(hours from now)` gives each point.
class ProfileForecastProvider final : public forecast::ForecastProvider {
 public:
  explicit ProfileForecastProvider(std::function<double(int)> value)
      : value_(std::move(value)) {}
  std::string name() const override { return "test-profile"; }
  Result<forecast::IntensitySeries> forecast(const std::string& zone,
                                             TimePoint now,
                                             Duration horizon) override;
  Result<forecast::IntensitySeries> history(const std::string&, TimePoint,
                                            TimePoint) override {
    return make_error(ErrorCode::kNotFound, "no history");
  }
  int calls = 0;

 private:
  std::function<double(int)> value_;
};

class FixedIntensityHistory final : public scheduler::IntensityHistory {
 public:
  std::optional<scheduler::RealizedIntensity> realized(const std::string&,
                                                       TimePoint,
                                                       TimePoint) override {
    return scheduler::RealizedIntensity{300, "test/observed"};
  }
};

// A Scheduler over a MemoryJobStore and the fakes above, zones "DE" and
// "FR" (dirty now, clean from hour 3).
struct SchedulerRig {
  SchedulerRig();

  scheduler::MemoryJobStore store;
  FakeExecutor executor;
  ProfileForecastProvider forecasts{
      [](int hour) { return hour < 3 ? 400.0 : 100.0; }};
  FixedIntensityHistory history;
  scheduler::DeclaredPowerMeter meter{100};
  scheduler::Tracker tracker{store, history, meter, 1.0, "DE"};
  std::unique_ptr<scheduler::Scheduler> scheduler;
};

}  // namespace lowcarb::testing
