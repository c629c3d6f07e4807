// SPDX-License-Identifier: Apache-2.0
#include "scheduler/tracker.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/logging.h"

namespace lowcarb::scheduler {
namespace {

constexpr double kJoulesPerKwh = 3.6e6;

}  // namespace

Result<EnergyReading> DeclaredPowerMeter::energy(const Job& job, TimePoint from,
                                                 TimePoint to) {
  double watts =
      job.spec.power_watts > 0 ? job.spec.power_watts : default_watts_;
  EnergyReading reading;
  reading.other_joules = watts * static_cast<double>((to - from).count());
  reading.source = job.spec.power_watts > 0 ? "declared" : "default-power";
  return reading;
}

Status Tracker::sample(const Job& job, TimePoint now) {
  if (!job.running_since) {
    return {};
  }
  TimePoint from = *job.running_since;
  if (auto it = last_sample_.find(job.id); it != last_sample_.end()) {
    from = std::max(from, it->second);
  } else if (auto resumed = resume_point(job)) {
    from = std::max(from, *resumed);
    last_sample_[job.id] = from;
  }
  if (now <= from) {
    return {};
  }
  auto reading = meter_.energy(job, from, now);
  if (!reading) {
    get_logger("tracker")->warn("job {}: no energy reading for {}s: {}", job.id,
                                (now - from).count(), reading.error().message);
    return make_error(reading.error());
  }
  last_sample_[job.id] = now;

  LedgerRecord record;
  record.job_id = job.id;
  record.zone = job.zone;
  record.start = from;
  record.end = now;
  record.cpu_joules = reading->cpu_joules;
  record.gpu_joules = reading->gpu_joules;
  record.ram_joules = reading->ram_joules;
  record.other_joules = reading->other_joules;
  record.pue = pue_;
  record.meter_source = reading->source;
  record.meter_counter = reading->counter;
  double kwh = record.joules() * pue_ / kJoulesPerKwh;

  auto realized = history_.realized(job.zone, from, now);
  if (realized) {
    record.gco2_per_kwh = realized->gco2_per_kwh;
    record.intensity_source = realized->source;
  } else {
    record.intensity_source = "unknown";
  }
  record.grams = kwh * record.gco2_per_kwh;

  // The counterfactual runs the same energy profile from submission in the
  // job's first-listed zone: this interval's offset into the job's running
  // time, shifted to start at the submission time.
  const std::string& home =
      job.spec.zones.empty() ? home_zone_ : job.spec.zones.front();
  Duration offset = job.run_time + (from - *job.running_since);
  TimePoint cf_from = job.spec.submitted_at + offset;
  TimePoint cf_to = cf_from + (now - from);
  auto counterfactual = history_.realized(home, cf_from, cf_to);
  record.counterfactual_gco2_per_kwh =
      counterfactual ? counterfactual->gco2_per_kwh : record.gco2_per_kwh;
  record.counterfactual_grams = kwh * record.counterfactual_gco2_per_kwh;

  auto& totals = totals_[job.id];
  totals.joules += record.joules();
  totals.grams += record.grams;
  totals.counterfactual_grams += record.counterfactual_grams;
  totals.metered += now - from;
  return store_.append_ledger(record);
}

std::optional<TimePoint> Tracker::resume_point(const Job& job) {
  LedgerFilter filter;
  filter.job_id = job.id;
  filter.since = *job.running_since;  // Rows ending after the segment began.
  auto rows = store_.ledger(filter);
  if (!rows) {
    get_logger("tracker")->warn(
        "job {}: cannot read its ledger to resume metering: {}", job.id,
        rows.error().message);
    return std::nullopt;
  }
  const LedgerRecord* last = nullptr;
  for (const auto& row : *rows) {
    if (row.start >= *job.running_since && (!last || row.end > last->end)) {
      last = &row;
    }
  }
  if (!last) {
    return std::nullopt;
  }
  get_logger("tracker")->debug("job {}: metering resumes at {}s", job.id,
                               last->end.time_since_epoch().count());
  meter_.resume(job, *last);
  return last->end;
}

void Tracker::stop(const std::string& job_id) { last_sample_.erase(job_id); }

JobEmissions Tracker::totals(const std::string& job_id) const {
  auto it = totals_.find(job_id);
  return it == totals_.end() ? JobEmissions{} : it->second;
}

}  // namespace lowcarb::scheduler
