// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/simulation_report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace lowcarb::scheduler::simulation {
namespace {

std::string peaks_text(const std::map<std::string, int>& peaks) {
  std::string text;
  for (const auto& [zone, count] : peaks) {
    text += fmt::format("{}{}={}", text.empty() ? "" : " ", zone, count);
  }
  return text;
}

std::string optional_time(const std::optional<TimePoint>& time) {
  return time ? format_utc(*time) : "";
}

}  // namespace

std::string report_table(const std::vector<SimulationResult>& results,
                         const ReportContext& context) {
  std::string out;
  out += fmt::format("workload {}: {} jobs simulated", context.workload,
                     results.empty() ? 0 : results.front().jobs);
  if (context.dropped > 0) {
    out += fmt::format(", {} dropped (window outside the intensity data)",
                       context.dropped);
  }
  if (context.skipped > 0) {
    out += fmt::format(", {} skipped (no run time)", context.skipped);
  }
  out += "\nzones: ";
  for (size_t i = 0; i < context.zones.size(); ++i) {
    out += (i ? ", " : "") + context.zones[i] + (i == 0 ? " (home)" : "");
  }
  out += "\n\n";
  out += fmt::format("{:<15} {:<12} {:>7} {:>14} {:>14} {:>8} {:>7} {:>9} {}\n",
                     "policy", "forecast", "jobs", "kg CO2eq", "run-now kg",
                     "saved %", "missed", "delay h", "peak running");
  for (const auto& r : results) {
    out += fmt::format(
        "{:<15} {:<12} {:>7} {:>14.3f} {:>14.3f} {:>8.2f} {:>7} {:>9.2f} {}\n",
        r.policy, r.forecast, r.jobs, r.kg, r.baseline_kg, r.savings_percent(),
        r.missed_deadlines, r.mean_delay_hours, peaks_text(r.peak_running));
    if (r.rejected > 0) {
      out += fmt::format("  {} jobs rejected by the scheduler; first: {}\n",
                         r.rejected, r.errors.empty() ? "" : r.errors.front());
    }
  }
  return out;
}

std::string report_json(const std::vector<SimulationResult>& results,
                        const ReportContext& context) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json one;
    one["policy"] = r.policy;
    one["forecast"] = r.forecast;
    one["workload"] = context.workload;
    one["zones"] = context.zones;
    one["jobs"] = r.jobs;
    one["rejected"] = r.rejected;
    one["dropped"] = context.dropped;
    one["baseline_kg"] = r.baseline_kg;
    one["kg"] = r.kg;
    one["savings_percent"] = r.savings_percent();
    one["missed_deadlines"] = r.missed_deadlines;
    one["mean_delay_hours"] = r.mean_delay_hours;
    one["events"] = r.events;
    one["peak_running"] = r.peak_running;
    one["errors"] = r.errors;
    list.push_back(std::move(one));
  }
  if (list.size() == 1) {
    return list[0].dump(2) + "\n";
  }
  return list.dump(2) + "\n";
}

std::string per_job_csv(const std::vector<SimulationResult>& results) {
  std::string out =
      "policy,id,zone,submit,deadline,start,end,state,pauses,kg,baseline_kg\n";
  for (const auto& r : results) {
    for (const auto& job : r.per_job) {
      out += fmt::format("{},{},{},{},{},{},{},{},{},{:.6f},{:.6f}\n", r.policy,
                         job.id, job.zone, format_utc(job.submit),
                         format_utc(job.deadline), optional_time(job.start),
                         optional_time(job.end), job.state, job.pauses, job.kg,
                         job.baseline_kg);
    }
  }
  return out;
}

}  // namespace lowcarb::scheduler::simulation
