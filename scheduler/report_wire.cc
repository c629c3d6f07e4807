// SPDX-License-Identifier: Apache-2.0
#include "scheduler/report_wire.h"

#include <fmt/format.h>

namespace lowcarb::scheduler {
namespace {

using nlohmann::json;

long long seconds(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint at(long long s) { return TimePoint{Duration{s}}; }

}  // namespace

json ledger_to_wire(const std::vector<LedgerRecord>& records,
                    const std::map<std::string, Job>& jobs) {
  json rows = json::array();
  for (const auto& r : records) {
    rows.push_back(
        {{"job_id", r.job_id},
         {"zone", r.zone},
         {"start", seconds(r.start)},
         {"end", seconds(r.end)},
         {"cpu_joules", r.cpu_joules},
         {"gpu_joules", r.gpu_joules},
         {"ram_joules", r.ram_joules},
         {"other_joules", r.other_joules},
         {"pue", r.pue},
         {"gco2_per_kwh", r.gco2_per_kwh},
         {"intensity_source", r.intensity_source},
         {"grams", r.grams},
         {"counterfactual_gco2_per_kwh", r.counterfactual_gco2_per_kwh},
         {"counterfactual_grams", r.counterfactual_grams},
         {"meter_source", r.meter_source}});
  }
  json facts = json::object();
  for (const auto& [id, job] : jobs) {
    json fact{{"name", job.spec.name},
              {"user", job.spec.user},
              {"uid", job.spec.uid},
              {"hardware", job.spec.hardware},
              {"state", to_string(job.state)}};
    std::optional<TimePoint> scheduled = job.started_at;
    if (job.plan && !job.plan->segments.empty()) {
      scheduled = job.plan->start();
    }
    if (scheduled) {
      fact["scheduled_start"] = seconds(*scheduled);
    }
    if (job.ended_at) {
      fact["ended_at"] = seconds(*job.ended_at);
    }
    facts[id] = fact;
  }
  return json{{"records", rows}, {"job_facts", facts}};
}

Result<LedgerWire> ledger_from_wire(const json& wire) {
  LedgerWire out;
  try {
    for (const auto& row : wire.at("records")) {
      LedgerRecord r;
      r.job_id = row.at("job_id").get<std::string>();
      r.zone = row.at("zone").get<std::string>();
      r.start = at(row.at("start").get<long long>());
      r.end = at(row.at("end").get<long long>());
      r.cpu_joules = row.at("cpu_joules").get<double>();
      r.gpu_joules = row.at("gpu_joules").get<double>();
      r.ram_joules = row.at("ram_joules").get<double>();
      r.other_joules = row.at("other_joules").get<double>();
      r.pue = row.at("pue").get<double>();
      r.gco2_per_kwh = row.at("gco2_per_kwh").get<double>();
      r.intensity_source = row.at("intensity_source").get<std::string>();
      r.grams = row.at("grams").get<double>();
      r.counterfactual_gco2_per_kwh =
          row.at("counterfactual_gco2_per_kwh").get<double>();
      r.counterfactual_grams = row.at("counterfactual_grams").get<double>();
      r.meter_source = row.at("meter_source").get<std::string>();
      out.records.push_back(std::move(r));
    }
    for (const auto& [id, fact] : wire.at("job_facts").items()) {
      Job job;
      job.id = id;
      job.spec.name = fact.at("name").get<std::string>();
      job.spec.user = fact.at("user").get<std::string>();
      job.spec.uid = fact.at("uid").get<unsigned>();
      job.spec.hardware = fact.at("hardware").get<std::string>();
      auto state = job_state_from_string(fact.at("state").get<std::string>());
      if (!state) {
        return tl::unexpected(state.error().with_context("report answer"));
      }
      job.state = *state;
      // build_report takes the scheduled start from the plan, else from
      // started_at; no plan travels, so it comes as started_at.
      if (fact.contains("scheduled_start")) {
        job.started_at = at(fact.at("scheduled_start").get<long long>());
      }
      if (fact.contains("ended_at")) {
        job.ended_at = at(fact.at("ended_at").get<long long>());
      }
      out.jobs[id] = std::move(job);
    }
  } catch (const json::exception& e) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("the daemon's report answer is malformed: {}", e.what()));
  }
  return out;
}

}  // namespace lowcarb::scheduler
