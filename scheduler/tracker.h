// SPDX-License-Identifier: Apache-2.0
// The tracker turns metered energy into emissions: for every interval a job
// runs, energy x PUE x the zone's realized intensity, next to the
// counterfactual (the same energy profile had the job started at submission
// in its first-listed zone), and appends both to the ledger. Driven by the
// scheduler (the daemon's loop or the simulator's virtual clock); not
// thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "scheduler/job.h"
#include "scheduler/job_store.h"

namespace lowcarb::scheduler {

// The intensity a zone actually had (observed values when a provider has
// them, otherwise the forecast that was in force, said so in `source`).
struct RealizedIntensity {
  double gco2_per_kwh = 0;
  std::string source;  // e.g. "electricitymaps/observed", "profile/forecast".
};

class IntensityHistory {
 public:
  virtual ~IntensityHistory() = default;
  // Time-weighted mean over [from, to); nullopt when nothing is known.
  virtual std::optional<RealizedIntensity> realized(const std::string& zone,
                                                    TimePoint from,
                                                    TimePoint to) = 0;
};

// Energy a job used over an interval, by component, and where the figure
// came from.
struct EnergyReading {
  double cpu_joules = 0;
  double gpu_joules = 0;
  double ram_joules = 0;
  double other_joules = 0;
  std::string source;  // "rapl", "cpu-time-model", "declared", "slurm", ...
  // The meter's cumulative counter at `to`, stored in the ledger row (see
  // LedgerRecord::meter_counter); nullopt when it keeps none.
  std::optional<double> counter;
};

class JobMeter {
 public:
  virtual ~JobMeter() = default;
  // Energy `job` used in [from, to) while running. Called with consecutive,
  // non-overlapping intervals per job.
  virtual Result<EnergyReading> energy(const Job& job, TimePoint from,
                                       TimePoint to) = 0;
  // Called before the first energy() of a job in this process when the
  // ledger already holds an interval of the job's current run segment (the
  // daemon restarted while it ran): the next interval starts at `last.end`
  // and the meter continues from `last`'s counters, not from the process's
  // start. The default keeps no counters and does nothing.
  virtual void resume(const Job& job, const LedgerRecord& last) {
    (void)job;
    (void)last;
  }
};

// Declared power (spec.power_watts, else a default) x wall time: the
// simulator's meter and the fallback when nothing is measurable.
class DeclaredPowerMeter final : public JobMeter {
 public:
  explicit DeclaredPowerMeter(double default_watts)
      : default_watts_(default_watts) {}
  Result<EnergyReading> energy(const Job& job, TimePoint from,
                               TimePoint to) override;

 private:
  double default_watts_;
};

// Per-job sums of the ledger.
struct JobEmissions {
  double joules = 0;
  double grams = 0;
  double counterfactual_grams = 0;
  Duration metered{0};
  double saved_grams() const { return counterfactual_grams - grams; }
  double mean_gco2_per_kwh() const {
    return joules > 0 ? grams / (joules / 3.6e6) : 0;
  }
};

class Tracker {
 public:
  Tracker(JobStore& store, IntensityHistory& history, JobMeter& meter,
          double pue, std::string home_zone)
      : store_(store),
        history_(history),
        meter_(meter),
        pue_(pue),
        home_zone_(std::move(home_zone)) {}

  // Records the interval from the job's last record (or the start of its
  // current run segment) to `now`. The first call for a job in this process
  // continues from the job's newest ledger row of the current segment, if
  // there is one (a restarted daemon never re-meters a run from its start).
  // `job.run_time` must be the running time accumulated before the current
  // segment and `job.running_since` its start. Errors are logged and returned;
  // the scheduler carries on.
  Status sample(const Job& job, TimePoint now);

  // Forgets the per-job sampling position (the job paused or ended).
  void stop(const std::string& job_id);

  // Sums for a job recorded through this tracker since it was created.
  JobEmissions totals(const std::string& job_id) const;
  const std::map<std::string, JobEmissions>& all_totals() const {
    return totals_;
  }

 private:
  JobStore& store_;
  IntensityHistory& history_;
  JobMeter& meter_;
  double pue_;
  std::string home_zone_;
  // The end of the newest ledger row of the job's current segment.
  std::optional<TimePoint> resume_point(const Job& job);

  std::map<std::string, TimePoint> last_sample_;
  std::map<std::string, JobEmissions> totals_;
};

}  // namespace lowcarb::scheduler
