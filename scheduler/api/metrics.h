// SPDX-License-Identifier: Apache-2.0
// The daemon's metrics in the Prometheus text exposition format (version
// 0.0.4), served by `GET /metrics` and the socket's `metrics` request. Pure:
// the caller gathers a MetricsSnapshot and this file only formats it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/clock.h"
#include "scheduler/scheduler.h"

namespace lowcarb::scheduler::api {

struct MetricsSnapshot {
  TimePoint now;
  SchedulerStats stats;
  double realized_grams = 0;        // Sum of the ledger's grams.
  double counterfactual_grams = 0;  // Sum of its run-now counterfactuals.
  double metered_joules = 0;
  std::map<std::string, int64_t> requests_by_op;  // Served API requests.
  int64_t request_errors = 0;
  TimePoint started_at;  // When the daemon started.
};

// Every metric has # HELP and # TYPE lines; label values are escaped.
// Forecast age is seconds since the zone's last fetch attempt.
std::string format_prometheus(const MetricsSnapshot& snapshot);

// Escapes `\`, `"` and newlines for a label value.
std::string escape_label_value(const std::string& value);

}  // namespace lowcarb::scheduler::api
