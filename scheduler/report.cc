// SPDX-License-Identifier: Apache-2.0
#include "scheduler/report.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"
#include "data/catalogue.h"

namespace lowcarb::scheduler {
namespace {

constexpr double kJoulesPerKwh = 3.6e6;

// Adds `value` to a '+'-joined list of distinct values, keeping first-seen
// order, so a job that ran in one zone reads "DE" and a moved one "DE+FR".
void add_distinct(std::string& joined, const std::string& value,
                  std::string_view separator = "+") {
  if (value.empty()) {
    return;
  }
  std::string_view rest = joined;
  while (!rest.empty()) {
    auto at = rest.find(separator);
    if (rest.substr(0, at) == value) {
      return;
    }
    if (at == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(at + separator.size());
  }
  if (!joined.empty()) {
    joined += separator;
  }
  joined += value;
}

void add_sums(EmissionSums& into, const EmissionSums& from) {
  into.cpu_kwh += from.cpu_kwh;
  into.gpu_kwh += from.gpu_kwh;
  into.ram_kwh += from.ram_kwh;
  into.other_kwh += from.other_kwh;
  into.energy_kwh += from.energy_kwh;
  into.duration_s += from.duration_s;
  into.emissions_kg += from.emissions_kg;
  into.counterfactual_kg += from.counterfactual_kg;
  into.intervals += from.intervals;
}

// Job ids are decimal integers in the SQLite store; order them numerically
// so job 10 follows job 9, and fall back to text for anything else.
bool id_less(const std::string& a, const std::string& b) {
  auto na = parse_integer(a);
  auto nb = parse_integer(b);
  if (na && nb) {
    return *na < *nb;
  }
  return a < b;
}

// ISO 3166-1 alpha-2 (the prefix of an Electricity Maps zone id) to the
// alpha-3 code and English name CodeCarbon writes in emissions.csv, for the
// countries of the zones in data/zones.csv.
struct Country {
  const char* alpha2;
  const char* alpha3;
  const char* name;
};

constexpr Country kCountries[] = {
    {"AE", "ARE", "United Arab Emirates"},
    {"AR", "ARG", "Argentina"},
    {"AT", "AUT", "Austria"},
    {"AU", "AUS", "Australia"},
    {"BE", "BEL", "Belgium"},
    {"BG", "BGR", "Bulgaria"},
    {"BH", "BHR", "Bahrain"},
    {"BR", "BRA", "Brazil"},
    {"CA", "CAN", "Canada"},
    {"CH", "CHE", "Switzerland"},
    {"CL", "CHL", "Chile"},
    {"CO", "COL", "Colombia"},
    {"CZ", "CZE", "Czechia"},
    {"DE", "DEU", "Germany"},
    {"DK", "DNK", "Denmark"},
    {"EE", "EST", "Estonia"},
    {"EG", "EGY", "Egypt"},
    {"ES", "ESP", "Spain"},
    {"FI", "FIN", "Finland"},
    {"FR", "FRA", "France"},
    {"GB", "GBR", "United Kingdom"},
    {"GR", "GRC", "Greece"},
    {"HK", "HKG", "Hong Kong"},
    {"HR", "HRV", "Croatia"},
    {"HU", "HUN", "Hungary"},
    {"ID", "IDN", "Indonesia"},
    {"IE", "IRL", "Ireland"},
    {"IL", "ISR", "Israel"},
    {"IN", "IND", "India"},
    {"IS", "ISL", "Iceland"},
    {"IT", "ITA", "Italy"},
    {"JP", "JPN", "Japan"},
    {"KE", "KEN", "Kenya"},
    {"KR", "KOR", "South Korea"},
    {"LT", "LTU", "Lithuania"},
    {"LU", "LUX", "Luxembourg"},
    {"LV", "LVA", "Latvia"},
    {"MX", "MEX", "Mexico"},
    {"MY", "MYS", "Malaysia"},
    {"NL", "NLD", "Netherlands"},
    {"NO", "NOR", "Norway"},
    {"NZ", "NZL", "New Zealand"},
    {"PH", "PHL", "Philippines"},
    {"PL", "POL", "Poland"},
    {"PT", "PRT", "Portugal"},
    {"QA", "QAT", "Qatar"},
    {"RO", "ROU", "Romania"},
    {"SA", "SAU", "Saudi Arabia"},
    {"SE", "SWE", "Sweden"},
    {"SG", "SGP", "Singapore"},
    {"SI", "SVN", "Slovenia"},
    {"SK", "SVK", "Slovakia"},
    {"TH", "THA", "Thailand"},
    {"TW", "TWN", "Taiwan"},
    {"US", "USA", "United States"},
    {"VN", "VNM", "Vietnam"},
    {"ZA", "ZAF", "South Africa"},
};

// The country of a catalogued zone; nullptr for zones the catalogue does
// not know (a user-defined zone id says nothing reliable about a country).
const Country* country_of_zone(std::string_view zone) {
  const data::ZoneInfo* info = data::find_zone(zone);
  if (info == nullptr) {
    return nullptr;
  }
  std::string_view prefix = info->id;
  prefix = prefix.substr(0, prefix.find('-'));
  for (const auto& country : kCountries) {
    if (prefix == country.alpha2) {
      return &country;
    }
  }
  return nullptr;
}

// The one country all of a job's zones ("DE" or "DE+FR") are in, if any.
const Country* country_of_zones(const std::string& zones) {
  const Country* found = nullptr;
  for (const auto& zone : split(zones, '+')) {
    const Country* country = country_of_zone(zone);
    if (country == nullptr || (found != nullptr && found != country)) {
      return nullptr;
    }
    found = country;
  }
  return found;
}

std::string optional_time_text(const std::optional<TimePoint>& t) {
  return t ? format_utc(*t) : std::string("-");
}

// "12.5 h", "3.2 min", "45 s": durations a person reads at a glance.
std::string human_duration(double seconds) {
  if (seconds >= 3600) {
    return format_significant(seconds / 3600, 3) + " h";
  }
  if (seconds >= 60) {
    return format_significant(seconds / 60, 3) + " min";
  }
  return fmt::format("{:.0f} s", seconds);
}

// Like human_duration, in words for a sentence.
std::string duration_words(double seconds) {
  auto plural = [](const std::string& number, const char* unit) {
    return number + " " + unit + (number == "1" ? "" : "s");
  };
  if (seconds >= 3600) {
    return plural(format_significant(seconds / 3600, 3), "hour");
  }
  if (seconds >= 60) {
    return plural(format_significant(seconds / 60, 3), "minute");
  }
  return plural(fmt::format("{:.0f}", seconds), "second");
}

// "DE", "DE and FR", "DE, FR and NL" from "DE+FR+NL".
std::string zone_words(const std::string& zones) {
  auto list = split(zones, '+');
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) {
      out += i + 1 == list.size() ? " and " : ", ";
    }
    out += latex_escape(list[i]);
  }
  return out;
}

nlohmann::json sums_json(const EmissionSums& s) {
  return {{"duration_s", s.duration_s},
          {"cpu_kwh", s.cpu_kwh},
          {"gpu_kwh", s.gpu_kwh},
          {"ram_kwh", s.ram_kwh},
          {"other_kwh", s.other_kwh},
          {"it_kwh", s.it_kwh()},
          {"pue", s.pue()},
          {"energy_kwh", s.energy_kwh},
          {"emissions_kg", s.emissions_kg},
          {"emissions_rate_kg_per_s", s.emissions_rate_kg_per_s()},
          {"mean_gco2_per_kwh", s.mean_gco2_per_kwh()},
          {"counterfactual_kg", s.counterfactual_kg},
          {"saved_kg", s.saved_kg()},
          {"saved_percent", s.saved_percent()},
          {"intervals", s.intervals}};
}

nlohmann::json sci_json(const Sci& sci, const SciOptions& options) {
  return {{"g_per_unit", sci.g_per_unit},
          {"unit", options.unit_name},
          {"units", sci.units},
          {"operational_kg", sci.operational_kg},
          {"embodied_kg", sci.embodied_kg},
          {"includes_embodied", sci.includes_embodied}};
}

// A CSV number: shortest round-trip form, so a reader gets back the value.
// Twelve significant digits: exact for every figure we meter, and free of
// binary noise such as 150.00000000000006.
std::string csv_number(double value) { return fmt::format("{:.12g}", value); }

std::string sci_scope(const Sci& sci) {
  return sci.includes_embodied
             ? "operational and embodied emissions"
             : "operational emissions only; embodied emissions not included";
}

}  // namespace

Report build_report(const std::vector<LedgerRecord>& records,
                    const std::map<std::string, Job>& jobs) {
  std::map<std::string, JobReport> by_id;
  for (const auto& r : records) {
    auto [it, inserted] = by_id.try_emplace(r.job_id);
    JobReport& job = it->second;
    if (inserted) {
      job.job_id = r.job_id;
      job.first_start = r.start;
      job.last_end = r.end;
    }
    job.first_start = std::min(job.first_start, r.start);
    job.last_end = std::max(job.last_end, r.end);
    EmissionSums& s = job.sums;
    s.cpu_kwh += r.cpu_joules / kJoulesPerKwh;
    s.gpu_kwh += r.gpu_joules / kJoulesPerKwh;
    s.ram_kwh += r.ram_joules / kJoulesPerKwh;
    s.other_kwh += r.other_joules / kJoulesPerKwh;
    s.energy_kwh += r.joules() * r.pue / kJoulesPerKwh;
    s.duration_s += static_cast<double>((r.end - r.start).count());
    s.emissions_kg += r.grams / 1000;
    s.counterfactual_kg += r.counterfactual_grams / 1000;
    s.intervals += 1;
    add_distinct(job.zone, r.zone);
    add_distinct(job.meter_source, r.meter_source);
    add_distinct(job.intensity_source, r.intensity_source);
  }

  Report report;
  for (auto& [id, job] : by_id) {
    job.end = job.last_end;
    if (auto it = jobs.find(id); it != jobs.end()) {
      const Job& known = it->second;
      job.name = known.spec.name;
      job.user = known.spec.user;
      job.hardware = known.spec.hardware;
      job.state = to_string(known.state);
      if (known.plan && !known.plan->segments.empty()) {
        job.scheduled_start = known.plan->start();
      } else {
        job.scheduled_start = known.started_at;
      }
      if (known.ended_at) {
        job.end = *known.ended_at;
      }
    }
    report.jobs.push_back(std::move(job));
  }
  std::sort(report.jobs.begin(), report.jobs.end(),
            [](const JobReport& a, const JobReport& b) {
              return id_less(a.job_id, b.job_id);
            });

  ReportTotals& totals = report.totals;
  totals.job_count = static_cast<int>(report.jobs.size());
  for (const auto& job : report.jobs) {
    add_sums(totals.sums, job.sums);
    for (const auto& zone : split(job.zone, '+')) {
      add_distinct(totals.zone, zone);
    }
    for (const auto& source : split(job.meter_source, '+')) {
      add_distinct(totals.meter_source, source);
    }
    for (const auto& source : split(job.intensity_source, '+')) {
      add_distinct(totals.intensity_source, source);
    }
    add_distinct(totals.hardware, job.hardware, ", ");
  }
  return report;
}

Sci job_sci(const JobReport& job, const ReportTotals& totals,
            const SciOptions& options) {
  Sci sci;
  sci.operational_kg = job.sums.emissions_kg;
  sci.units = options.functional_units;
  if (options.embodied_kg) {
    sci.includes_embodied = true;
    // The SCI's time share: M x (this job's time / all reported time).
    double share = totals.sums.duration_s > 0
                       ? job.sums.duration_s / totals.sums.duration_s
                       : (totals.job_count > 0 ? 1.0 / totals.job_count : 0);
    sci.embodied_kg = *options.embodied_kg * share;
  }
  sci.g_per_unit =
      sci.units > 0 ? (sci.operational_kg + sci.embodied_kg) * 1000 / sci.units
                    : 0;
  return sci;
}

Sci total_sci(const ReportTotals& totals, const SciOptions& options) {
  Sci sci;
  sci.operational_kg = totals.sums.emissions_kg;
  sci.units = options.functional_units * std::max(totals.job_count, 1);
  if (options.embodied_kg) {
    sci.includes_embodied = true;
    sci.embodied_kg = *options.embodied_kg;
  }
  sci.g_per_unit =
      sci.units > 0 ? (sci.operational_kg + sci.embodied_kg) * 1000 / sci.units
                    : 0;
  return sci;
}

const std::vector<std::string>& codecarbon_columns() {
  static const std::vector<std::string> kColumns = {
      "timestamp",
      "project_name",
      "run_id",
      "experiment_id",
      "duration",
      "emissions",
      "emissions_rate",
      "cpu_power",
      "gpu_power",
      "ram_power",
      "cpu_energy",
      "gpu_energy",
      "ram_energy",
      "energy_consumed",
      "water_consumed",
      "country_name",
      "country_iso_code",
      "region",
      "cloud_provider",
      "cloud_region",
      "os",
      "python_version",
      "codecarbon_version",
      "cpu_count",
      "cpu_model",
      "gpu_count",
      "gpu_model",
      "longitude",
      "latitude",
      "ram_total_size",
      "tracking_mode",
      "cpu_utilization_percent",
      "gpu_utilization_percent",
      "ram_utilization_percent",
      "ram_used_gb",
      "on_cloud",
      "pue",
      "wue",
  };
  return kColumns;
}

const std::vector<std::string>& lowcarb_csv_columns() {
  static const std::vector<std::string> kColumns = {
      "zone",     "scheduled_start", "counterfactual_kg",
      "saved_kg", "meter_source",    "intensity_source",
  };
  return kColumns;
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string latex_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '{':
      case '}':
      case '$':
      case '&':
      case '#':
      case '_':
      case '%':
        out += '\\';
        out += c;
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_significant(double value, int digits) {
  if (value == 0 || !std::isfinite(value)) {
    return "0";
  }
  int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  int decimals = std::clamp(digits - 1 - magnitude, 0, 12);
  std::string text = fmt::format("{:.{}f}", value, decimals);
  // Rounding can carry into a new digit (9.96 -> "10.0"); trim the zeros a
  // fixed decimal count leaves so "10.0" reads "10".
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') {
      text.pop_back();
    }
    if (text.back() == '.') {
      text.pop_back();
    }
  }
  return text;
}

namespace {

// Savings below a thousandth of the baseline are rounding noise of the
// meters and clocks, not a result: shown as 0, never as "-0.00000226".
std::string saved_text(double saved_kg, double baseline_kg) {
  if (std::fabs(saved_kg) < std::fabs(baseline_kg) * 1e-3) {
    return "0";
  }
  return format_significant(saved_kg, 3);
}

std::string percent_text(double percent) {
  std::string text = fmt::format("{:.1f}%", percent);
  return text == "-0.0%" ? "0.0%" : text;
}

}  // namespace

std::string render_text(const Report& report, const SciOptions* sci) {
  std::string out;
  if (report.jobs.empty()) {
    return "no emissions recorded\n";
  }
  constexpr const char* kRow =
      "{:<6} {:<16} {:<8} {:<20} {:>9} {:>10} {:>11} {:>8} {:>11} {:>11} "
      "{:>7}  {}\n";
  out += fmt::format(kRow, "ID", "NAME", "ZONE", "SCHEDULED START", "DURATION",
                     "ENERGY kWh", "CO2e kg", "g/kWh", "RUN-NOW kg", "SAVED kg",
                     "SAVED", "METER");
  auto row = [&](const std::string& id, const std::string& name,
                 const std::string& zone, const std::string& start,
                 const EmissionSums& s, const std::string& meter) {
    out += fmt::format(kRow, id, name.substr(0, 16), zone, start,
                       human_duration(s.duration_s),
                       format_significant(s.energy_kwh, 3),
                       format_significant(s.emissions_kg, 3),
                       fmt::format("{:.0f}", s.mean_gco2_per_kwh()),
                       format_significant(s.counterfactual_kg, 3),
                       saved_text(s.saved_kg(), s.counterfactual_kg),
                       percent_text(s.saved_percent()), meter);
  };
  for (const auto& job : report.jobs) {
    row(job.job_id, job.name.empty() ? "-" : job.name, job.zone,
        optional_time_text(job.scheduled_start), job.sums, job.meter_source);
  }
  const ReportTotals& t = report.totals;
  row("TOTAL",
      fmt::format("{} job{}", t.job_count, t.job_count == 1 ? "" : "s"),
      t.zone.find('+') == std::string::npos ? t.zone : "mixed", "", t.sums,
      t.meter_source.find('+') == std::string::npos ? t.meter_source : "mixed");
  if (sci != nullptr) {
    out += fmt::format("\nSCI (gCO2eq per {}; {}):\n", sci->unit_name,
                       sci_scope(total_sci(t, *sci)));
    for (const auto& job : report.jobs) {
      Sci s = job_sci(job, t, *sci);
      out +=
          fmt::format("  job {:<6} {} g per {} ({} unit{})\n", job.job_id,
                      format_significant(s.g_per_unit, 3), sci->unit_name,
                      format_significant(s.units, 6), s.units == 1 ? "" : "s");
    }
    Sci s = total_sci(t, *sci);
    out += fmt::format("  total      {} g per {} ({} unit{})\n",
                       format_significant(s.g_per_unit, 3), sci->unit_name,
                       format_significant(s.units, 6), s.units == 1 ? "" : "s");
  }
  return out;
}

std::string render_json(const Report& report, const SciOptions* sci) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& job : report.jobs) {
    nlohmann::json j = sums_json(job.sums);
    j["id"] = job.job_id;
    j["name"] = job.name;
    j["user"] = job.user;
    j["state"] = job.state;
    j["hardware"] = job.hardware;
    j["zone"] = job.zone;
    j["meter_source"] = job.meter_source;
    j["intensity_source"] = job.intensity_source;
    j["scheduled_start"] =
        job.scheduled_start ? nlohmann::json(format_utc(*job.scheduled_start))
                            : nlohmann::json(nullptr);
    j["metered_from"] = format_utc(job.first_start);
    j["metered_to"] = format_utc(job.last_end);
    j["ended_at"] = format_utc(job.end);
    if (sci != nullptr) {
      j["sci"] = sci_json(job_sci(job, report.totals, *sci), *sci);
    }
    jobs.push_back(std::move(j));
  }
  const ReportTotals& t = report.totals;
  nlohmann::json totals = sums_json(t.sums);
  totals["job_count"] = t.job_count;
  totals["zone"] = t.zone;
  totals["meter_source"] = t.meter_source;
  totals["intensity_source"] = t.intensity_source;
  if (sci != nullptr) {
    totals["sci"] = sci_json(total_sci(t, *sci), *sci);
  }
  nlohmann::json doc{{"jobs", std::move(jobs)}, {"totals", std::move(totals)}};
  return doc.dump(2) + "\n";
}

std::string render_csv(const Report& report, const HostFacts& host) {
  std::string out;
  auto write_row = [&out](const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      out += csv_field(fields[i]);
    }
    out += '\n';
  };
  std::vector<std::string> header = codecarbon_columns();
  const auto& extra = lowcarb_csv_columns();
  header.insert(header.end(), extra.begin(), extra.end());
  write_row(header);

  for (const auto& job : report.jobs) {
    const EmissionSums& s = job.sums;
    const Country* country = country_of_zones(job.zone);
    // Mean power over the metered time: what CodeCarbon's *_power columns
    // hold, from IT energy (kWh -> J over seconds).
    auto watts = [&s](double kwh) {
      return s.duration_s > 0 ? kwh * kJoulesPerKwh / s.duration_s : 0.0;
    };
    std::vector<std::string> row = {
        format_utc(job.end),
        "lowcarb",
        job.job_id,
        job.name,
        csv_number(s.duration_s),
        csv_number(s.emissions_kg),
        csv_number(s.emissions_rate_kg_per_s()),
        csv_number(watts(s.cpu_kwh)),
        csv_number(watts(s.gpu_kwh)),
        csv_number(watts(s.ram_kwh)),
        csv_number(s.cpu_kwh),
        csv_number(s.gpu_kwh),
        csv_number(s.ram_kwh),
        csv_number(s.energy_kwh),
        "0",  // water_consumed: not estimated.
        country ? country->name : "",
        country ? country->alpha3 : "",
        job.zone,
        "",  // cloud_provider
        "",  // cloud_region
        host.os,
        "",  // python_version
        "",  // codecarbon_version
        host.cpu_count > 0 ? std::to_string(host.cpu_count) : "",
        host.cpu_model,
        "",  // gpu_count
        "",  // gpu_model
        "",  // longitude
        "",  // latitude
        host.ram_total_gb > 0 ? csv_number(host.ram_total_gb) : "",
        "process",
        "",  // cpu_utilization_percent
        "",  // gpu_utilization_percent
        "",  // ram_utilization_percent
        "",  // ram_used_gb
        "N",
        csv_number(s.pue()),
        "0",  // wue
        job.zone,
        job.scheduled_start ? format_utc(*job.scheduled_start) : "",
        csv_number(s.counterfactual_kg),
        csv_number(s.saved_kg()),
        job.meter_source,
        job.intensity_source,
    };
    write_row(row);
  }
  return out;
}

std::string render_latex(const Report& report, const SciOptions* sci) {
  if (report.jobs.empty()) {
    return "% lowcarb report: no emissions recorded\n";
  }
  const ReportTotals& t = report.totals;
  const EmissionSums& s = t.sums;
  std::string out = "Experiments were conducted";
  if (!t.hardware.empty()) {
    out += " using \\emph{" + latex_escape(t.hardware) + "}";
  }
  out += fmt::format(
      " in zone{} {} over {} of computation ({} kWh, PUE {}), with a carbon "
      "efficiency of {} gCO$_2$eq/kWh. ",
      t.zone.find('+') == std::string::npos ? "" : "s", zone_words(t.zone),
      duration_words(s.duration_s), format_significant(s.energy_kwh, 3),
      format_significant(s.pue(), 3),
      format_significant(s.mean_gco2_per_kwh(), 3));
  out += fmt::format("Total emissions are estimated to be {} kgCO$_2$eq",
                     format_significant(s.emissions_kg, 3));
  std::string against = fmt::format("against starting {} at submission",
                                    t.job_count == 1 ? "the job" : "each job");
  if (s.counterfactual_kg > 0 && s.saved_kg() >= 0) {
    out += fmt::format(
        "; scheduling with lowcarb saved {} kgCO$_2$eq ({}\\,\\%) {}.",
        format_significant(s.saved_kg(), 3),
        format_significant(s.saved_percent(), 3), against);
  } else if (s.counterfactual_kg > 0) {
    out += fmt::format(
        "; scheduling with lowcarb added {} kgCO$_2$eq ({}\\,\\%) {}.",
        format_significant(-s.saved_kg(), 3),
        format_significant(-s.saved_percent(), 3), against);
  } else {
    out += ".";
  }
  if (sci != nullptr) {
    Sci total = total_sci(t, *sci);
    std::string scope =
        total.includes_embodied
            ? fmt::format("operational emissions plus {} kgCO$_2$eq embodied",
                          format_significant(total.embodied_kg, 3))
            : "operational emissions only, embodied emissions not included";
    out += fmt::format(
        " The Software Carbon Intensity (SCI) is {} gCO$_2$eq per {} ({} "
        "functional unit{} in total; {}).",
        format_significant(total.g_per_unit, 3), latex_escape(sci->unit_name),
        format_significant(total.units, 6), total.units == 1 ? "" : "s", scope);
  }
  out += "\n";
  return out;
}

}  // namespace lowcarb::scheduler
