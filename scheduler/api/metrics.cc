// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/metrics.h"

#include <set>

#include <fmt/format.h>

namespace lowcarb::scheduler::api {
namespace {

// Prometheus floats: plain decimal, enough digits to round-trip grams.
std::string number(double value) { return fmt::format("{}", value); }

void header(std::string& out, const char* name, const char* type,
            const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string escape_label_value(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string format_prometheus(const MetricsSnapshot& snapshot) {
  const SchedulerStats& stats = snapshot.stats;
  std::string out;

  header(out, "lowcarb_jobs", "gauge", "Active (not finished) jobs by state.");
  // Always list the active states so dashboards see zeros, not gaps.
  static const std::set<std::string> kActiveStates = {
      "queued", "starting", "running", "pausing", "paused", "resuming"};
  for (const char* state :
       {"queued", "starting", "running", "pausing", "paused", "resuming"}) {
    auto it = stats.jobs_by_state.find(state);
    out += fmt::format("lowcarb_jobs{{state=\"{}\"}} {}\n", state,
                       it == stats.jobs_by_state.end() ? 0 : it->second);
  }
  for (const auto& [state, count] : stats.jobs_by_state) {
    if (kActiveStates.count(state) == 0) {
      out += fmt::format("lowcarb_jobs{{state=\"{}\"}} {}\n",
                         escape_label_value(state), count);
    }
  }

  header(out, "lowcarb_planned_emissions_kg", "gauge",
         "Expected emissions of the active jobs' plans, in kg CO2e.");
  out += "lowcarb_planned_emissions_kg " + number(stats.planned_grams / 1000) +
         "\n";
  header(out, "lowcarb_run_now_emissions_kg", "gauge",
         "Expected emissions of the active jobs had they started at "
         "submission, in kg CO2e.");
  out += "lowcarb_run_now_emissions_kg " + number(stats.run_now_grams / 1000) +
         "\n";

  header(out, "lowcarb_realized_emissions_kg_total", "counter",
         "Emissions of metered job intervals (the ledger), in kg CO2e.");
  out += "lowcarb_realized_emissions_kg_total " +
         number(snapshot.realized_grams / 1000) + "\n";
  header(out, "lowcarb_counterfactual_emissions_kg_total", "counter",
         "Run-now counterfactual of the same intervals, in kg CO2e.");
  out += "lowcarb_counterfactual_emissions_kg_total " +
         number(snapshot.counterfactual_grams / 1000) + "\n";
  header(out, "lowcarb_saved_emissions_kg_total", "counter",
         "Counterfactual minus realized emissions, in kg CO2e.");
  out +=
      "lowcarb_saved_emissions_kg_total " +
      number((snapshot.counterfactual_grams - snapshot.realized_grams) / 1000) +
      "\n";
  header(out, "lowcarb_metered_energy_joules_total", "counter",
         "Energy of metered job intervals, in joules.");
  out += "lowcarb_metered_energy_joules_total " +
         number(snapshot.metered_joules) + "\n";

  header(out, "lowcarb_forecast_age_seconds", "gauge",
         "Seconds since the zone's forecast was last fetched.");
  for (const auto& [zone, fetched] : stats.forecast_fetched_at) {
    out +=
        fmt::format("lowcarb_forecast_age_seconds{{zone=\"{}\"}} {}\n",
                    escape_label_value(zone), (snapshot.now - fetched).count());
  }
  header(out, "lowcarb_forecast_errors_total", "counter",
         "Failed forecast fetches by zone.");
  for (const auto& [zone, count] : stats.forecast_errors) {
    out += fmt::format("lowcarb_forecast_errors_total{{zone=\"{}\"}} {}\n",
                       escape_label_value(zone), count);
  }

  header(out, "lowcarb_api_requests_total", "counter",
         "API requests served, by op.");
  for (const auto& [op, count] : snapshot.requests_by_op) {
    out += fmt::format("lowcarb_api_requests_total{{op=\"{}\"}} {}\n",
                       escape_label_value(op), count);
  }
  header(out, "lowcarb_api_request_errors_total", "counter",
         "API requests answered with an error.");
  out += fmt::format("lowcarb_api_request_errors_total {}\n",
                     snapshot.request_errors);
  header(out, "lowcarb_uptime_seconds", "gauge",
         "Seconds since the daemon started.");
  out += fmt::format("lowcarb_uptime_seconds {}\n",
                     (snapshot.now - snapshot.started_at).count());
  return out;
}

}  // namespace lowcarb::scheduler::api
