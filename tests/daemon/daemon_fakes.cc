// SPDX-License-Identifier: Apache-2.0
#include "tests/daemon/daemon_fakes.h"

namespace lowcarb::testing {

Result<executors::ExecutorHandle> FakeExecutor::start(
    const executors::LaunchSpec& spec, TimePoint) {
  started.push_back(spec);
  executors::ExecutorHandle handle{
      "local", "", spec.job_id + ":" + std::to_string(spec.segment)};
  states[handle.native_id] = executors::RunState::kRunning;
  return handle;
}

Result<executors::RunStatus> FakeExecutor::poll(
    const executors::ExecutorHandle& handle) {
  executors::RunStatus status;
  auto it = states.find(handle.native_id);
  status.state = it == states.end() ? executors::RunState::kLost : it->second;
  if (status.state == executors::RunState::kSucceeded) {
    status.exit_code = 0;
  }
  return status;
}

Status FakeExecutor::pause(const executors::ExecutorHandle& handle,
                           executors::PauseMode) {
  paused.push_back(handle.native_id);
  states[handle.native_id] = executors::RunState::kPaused;
  return {};
}

Result<executors::ExecutorHandle> FakeExecutor::resume(
    const executors::ExecutorHandle& handle, const executors::LaunchSpec&,
    executors::PauseMode) {
  states[handle.native_id] = executors::RunState::kRunning;
  return handle;
}

Status FakeExecutor::cancel(const executors::ExecutorHandle& handle) {
  cancelled.push_back(handle.native_id);
  states[handle.native_id] = executors::RunState::kCancelled;
  return {};
}

Result<forecast::IntensitySeries> ProfileForecastProvider::forecast(
    const std::string& zone, TimePoint now, Duration horizon) {
  ++calls;
  forecast::IntensitySeries series;
  series.zone = zone;
  series.provider = name();
  series.generated_at = now;
  const TimePoint hour = std::chrono::floor<std::chrono::hours>(now);
  const int hours =
      static_cast<int>(
          std::chrono::duration_cast<std::chrono::hours>(horizon).count()) +
      1;
  for (int i = 0; i < hours; ++i) {
    forecast::IntensityPoint point;
    point.start = hour + std::chrono::hours(i);
    point.end = point.start + std::chrono::hours(1);
    point.gco2_per_kwh = value_(i);
    series.points.push_back(point);
  }
  return series;
}

SchedulerRig::SchedulerRig() {
  scheduler::SchedulerOptions options;
  config::ZoneConfig de;
  de.id = "DE";
  de.time_zone = "Europe/Berlin";
  config::ZoneConfig fr;
  fr.id = "FR";
  fr.time_zone = "Europe/Paris";
  options.zones = {de, fr};
  options.safety_margin = Duration(0);
  options.default_power_watts = 100;
  scheduler = std::make_unique<scheduler::Scheduler>(
      store, forecasts,
      std::map<std::string, executors::Executor*>{{"local", &executor}},
      tracker, options);
}

}  // namespace lowcarb::testing
