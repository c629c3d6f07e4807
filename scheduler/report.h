// SPDX-License-Identifier: Apache-2.0
// The emissions ledger as a report: per-job sums of the ledger's intervals
// (energy by component, emissions, the run-now counterfactual and what
// scheduling saved) and their totals, rendered as a text table, JSON, a
// CodeCarbon-compatible emissions.csv, or a LaTeX sentence for a paper's
// carbon statement. Optionally the Green Software Foundation's Software
// Carbon Intensity, SCI = (E x I + M) / R.
//
// Pure: callers pass the ledger records, the jobs and the host facts in; no
// I/O, no clock. Thread-safe (no shared state).
//
// Units: energy in kWh, emissions in kg CO2eq, durations in seconds, power in
// W, intensity in gCO2eq/kWh. Component energies (cpu/gpu/ram/other) are what
// the meter saw at the machine (IT energy); `energy_kwh` is that energy times
// the PUE (facility energy), the figure emissions are computed from, so
// emissions_kg = energy_kwh x mean_gco2_per_kwh / 1000.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "scheduler/job.h"
#include "scheduler/job_store.h"

namespace lowcarb::scheduler {

// Sums of ledger intervals; shared by one job's line and the totals.
struct EmissionSums {
  double cpu_kwh = 0;  // IT energy by component.
  double gpu_kwh = 0;
  double ram_kwh = 0;
  double other_kwh = 0;   // Declared power or energy no meter attributed.
  double energy_kwh = 0;  // (cpu + gpu + ram + other) x PUE.
  double duration_s = 0;  // Metered running time.
  double emissions_kg = 0;
  double counterfactual_kg = 0;  // Had it started at submission.
  int intervals = 0;

  double it_kwh() const { return cpu_kwh + gpu_kwh + ram_kwh + other_kwh; }
  // Energy-weighted PUE; 1 when nothing was metered.
  double pue() const { return it_kwh() > 0 ? energy_kwh / it_kwh() : 1.0; }
  double emissions_rate_kg_per_s() const {
    return duration_s > 0 ? emissions_kg / duration_s : 0;
  }
  // Energy-weighted realized intensity.
  double mean_gco2_per_kwh() const {
    return energy_kwh > 0 ? emissions_kg * 1000 / energy_kwh : 0;
  }
  double saved_kg() const { return counterfactual_kg - emissions_kg; }
  // Share of the counterfactual saved; 0 when the counterfactual is 0.
  double saved_percent() const {
    return counterfactual_kg > 0 ? 100 * saved_kg() / counterfactual_kg : 0;
  }
};

struct JobReport {
  std::string job_id;
  std::string name;
  std::string user;
  std::string hardware;  // The spec's hardware, "" when not declared.
  std::string state;     // "" when the job is unknown to the store.
  EmissionSums sums;
  // Distinct values in order of first appearance joined with '+'
  // ("DE+FR", "rapl+declared").
  std::string zone;
  std::string meter_source;
  std::string intensity_source;
  std::optional<TimePoint> scheduled_start;  // The plan's start, else started.
  TimePoint first_start;                     // First metered instant.
  TimePoint last_end;                        // Last metered instant.
  TimePoint end;                             // The job's end, else last_end.
};

struct ReportTotals {
  int job_count = 0;
  EmissionSums sums;
  std::string zone;  // Distinct job zones joined with '+'.
  std::string meter_source;
  std::string intensity_source;
  std::string hardware;  // Distinct declared hardware joined with ", ".
};

struct Report {
  std::vector<JobReport> jobs;  // In job id order (numeric when ids are).
  ReportTotals totals;
};

// Groups `records` by job and sums them. `jobs` supplies names, plans and
// end times; a record whose job is missing from it is still reported under
// its id.
Report build_report(const std::vector<LedgerRecord>& records,
                    const std::map<std::string, Job>& jobs);

// Software Carbon Intensity options (`--functional-unit N`).
struct SciOptions {
  double functional_units = 1;        // R: units each job delivered (> 0).
  std::string unit_name = "unit";     // "request", "training run", ...
  std::optional<double> embodied_kg;  // M for all reported work; none = 0.
};

struct Sci {
  double operational_kg = 0;  // E x I.
  double embodied_kg = 0;     // M (this job's share).
  double units = 0;           // R.
  double g_per_unit = 0;      // (E x I + M) / R in gCO2eq per unit.
  bool includes_embodied = false;
};

// One job's SCI: its operational emissions plus the share of the embodied
// emissions given by its share of the metered time, over R units.
Sci job_sci(const JobReport& job, const ReportTotals& totals,
            const SciOptions& options);
// All reported work: each job delivered R units, so R_total = R x jobs.
Sci total_sci(const ReportTotals& totals, const SciOptions& options);

// Facts about the reporting machine for the CodeCarbon columns, gathered by
// the caller (os from uname, cpu from /proc/cpuinfo, RAM from /proc/meminfo).
struct HostFacts {
  std::string os;           // "Linux-6.1.0-18-amd64-x86_64".
  int cpu_count = 0;        // 0 = unknown (left empty).
  std::string cpu_model;    // "" = unknown.
  double ram_total_gb = 0;  // 0 = unknown (left empty).
};

// CodeCarbon's emissions.csv columns, in its order, then lowcarb's.
const std::vector<std::string>& codecarbon_columns();
const std::vector<std::string>& lowcarb_csv_columns();

// One CSV field, quoted per RFC 4180 when it holds a comma, quote, CR or LF.
std::string csv_field(std::string_view text);

// The LaTeX text of `text` with \ { } $ & # ^ _ % ~ escaped.
std::string latex_escape(std::string_view text);

// `value` in fixed notation with `digits` significant digits ("0.00123",
// "310", "12.5"); never an exponent.
std::string format_significant(double value, int digits);

// One line per job and a totals line, aligned; SCI lines when `sci` is set.
std::string render_text(const Report& report, const SciOptions* sci);

// {"jobs": [...], "totals": {...}} with numbers as JSON numbers; each job and
// the totals get an "sci" object when `sci` is set. Indented by 2.
std::string render_json(const Report& report, const SciOptions* sci);

// A CodeCarbon-compatible emissions.csv: the header and one row per job,
// CRLF-free ("\n" line ends, as CodeCarbon's pandas writer).
std::string render_csv(const Report& report, const HostFacts& host);

// A paragraph for a paper's carbon statement (ML CO2 Impact style), plus an
// SCI sentence when `sci` is set.
std::string render_latex(const Report& report, const SciOptions* sci);

}  // namespace lowcarb::scheduler
