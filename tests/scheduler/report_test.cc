// SPDX-License-Identifier: Apache-2.0
// scheduler/report: aggregation of ledger intervals (hand-computed), the
// CodeCarbon CSV (header, quoting, values), the JSON shape, the LaTeX
// sentence and the SCI.
#include "scheduler/report.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "common/time_format.h"

namespace lowcarb::scheduler {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'800'000'000));

LedgerRecord record(const std::string& job_id, const std::string& zone,
                    TimePoint start, TimePoint end) {
  LedgerRecord r;
  r.job_id = job_id;
  r.zone = zone;
  r.start = start;
  r.end = end;
  return r;
}

// Job 9: two intervals in DE with different components, PUEs, intensities
// and meters. Job 10: one hour in FR on declared power. Every figure below
// is worked out by hand in the comments.
std::vector<LedgerRecord> two_jobs() {
  // 0.1 kWh CPU + 0.2 kWh GPU + 0.01 kWh RAM = 0.31 kWh IT; x1.5 = 0.465
  // kWh; x300 g/kWh = 139.5 g; run-now at 400 g/kWh = 186 g.
  LedgerRecord a = record("9", "DE", kT0, kT0 + std::chrono::seconds(600));
  a.cpu_joules = 360'000;
  a.gpu_joules = 720'000;
  a.ram_joules = 36'000;
  a.pue = 1.5;
  a.gco2_per_kwh = 300;
  a.grams = 139.5;
  a.counterfactual_gco2_per_kwh = 400;
  a.counterfactual_grams = 186;
  a.meter_source = "rapl";
  a.intensity_source = "electricitymaps/observed";
  // 0.2 CPU + 0.02 RAM + 0.05 other = 0.27 kWh at PUE 1; x200 = 54 g;
  // run-now at 500 = 135 g.
  LedgerRecord b = record("9", "DE", kT0 + std::chrono::seconds(600),
                          kT0 + std::chrono::seconds(1800));
  b.cpu_joules = 720'000;
  b.ram_joules = 72'000;
  b.other_joules = 180'000;
  b.pue = 1.0;
  b.gco2_per_kwh = 200;
  b.grams = 54;
  b.counterfactual_gco2_per_kwh = 500;
  b.counterfactual_grams = 135;
  b.meter_source = "declared";
  b.intensity_source = "electricitymaps/observed";
  // 1 kWh other x1.2 = 1.2 kWh; x50 = 60 g; run-now at 100 = 120 g.
  LedgerRecord c = record("10", "FR", kT0, kT0 + std::chrono::seconds(3600));
  c.other_joules = 3.6e6;
  c.pue = 1.2;
  c.gco2_per_kwh = 50;
  c.grams = 60;
  c.counterfactual_gco2_per_kwh = 100;
  c.counterfactual_grams = 120;
  c.meter_source = "declared";
  c.intensity_source = "profile/forecast";
  // Job 10 first, to check the report orders ids numerically.
  return {c, a, b};
}

std::map<std::string, Job> known_jobs() {
  Job job;
  job.id = "9";
  job.spec.name = "train, \"big\"";
  job.spec.user = "alice";
  job.spec.hardware = "gpu: A100 x 4";
  job.state = JobState::kSucceeded;
  Plan plan;
  plan.zone = "DE";
  plan.segments.push_back(
      {kT0 - std::chrono::seconds(60), kT0 + std::chrono::seconds(1740)});
  job.plan = plan;
  job.ended_at = kT0 + std::chrono::seconds(1900);
  return {{"9", job}};
}

Report sample_report() { return build_report(two_jobs(), known_jobs()); }

// Splits CSV text per RFC 4180 (quoted fields may hold commas, quotes as
// "" and line breaks) into rows of fields.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      row.push_back(field);
      field.clear();
    } else if (ch == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else {
      field += ch;
    }
  }
  EXPECT_TRUE(field.empty() && row.empty()) << "CSV must end with a newline";
  return rows;
}

TEST(ReportTest, SumsIntervalsAndComponentsPerJob) {
  Report report = sample_report();
  ASSERT_EQ(2u, report.jobs.size());
  const JobReport& job = report.jobs[0];
  EXPECT_EQ("9", job.job_id);
  EXPECT_EQ("train, \"big\"", job.name);
  EXPECT_EQ("alice", job.user);
  EXPECT_EQ("succeeded", job.state);
  const EmissionSums& s = job.sums;
  EXPECT_NEAR(0.3, s.cpu_kwh, 1e-12);
  EXPECT_NEAR(0.2, s.gpu_kwh, 1e-12);
  EXPECT_NEAR(0.03, s.ram_kwh, 1e-12);
  EXPECT_NEAR(0.05, s.other_kwh, 1e-12);
  EXPECT_NEAR(0.58, s.it_kwh(), 1e-12);
  EXPECT_NEAR(0.735, s.energy_kwh, 1e-12);  // 0.465 + 0.27
  EXPECT_NEAR(0.735 / 0.58, s.pue(), 1e-12);
  EXPECT_DOUBLE_EQ(1800, s.duration_s);
  EXPECT_NEAR(0.1935, s.emissions_kg, 1e-12);  // 139.5 g + 54 g
  EXPECT_NEAR(0.1935 / 1800, s.emissions_rate_kg_per_s(), 1e-15);
  EXPECT_NEAR(193.5 / 0.735, s.mean_gco2_per_kwh(), 1e-9);
  EXPECT_NEAR(0.321, s.counterfactual_kg, 1e-12);  // 186 g + 135 g
  EXPECT_NEAR(0.1275, s.saved_kg(), 1e-12);
  EXPECT_NEAR(100 * 0.1275 / 0.321, s.saved_percent(), 1e-9);
  EXPECT_EQ(2, s.intervals);
  EXPECT_EQ("DE", job.zone);
  EXPECT_EQ("rapl+declared", job.meter_source);
  EXPECT_EQ("electricitymaps/observed", job.intensity_source);
  ASSERT_TRUE(job.scheduled_start.has_value());
  EXPECT_EQ(kT0 - std::chrono::seconds(60), *job.scheduled_start);
  EXPECT_EQ(kT0 + std::chrono::seconds(1900), job.end);  // ended_at wins.

  const JobReport& other = report.jobs[1];
  EXPECT_EQ("10", other.job_id);
  EXPECT_EQ("", other.name);  // Not in the job map: reported by id.
  EXPECT_FALSE(other.scheduled_start.has_value());
  EXPECT_EQ(kT0 + std::chrono::seconds(3600), other.end);  // Last interval.
  EXPECT_NEAR(1.2, other.sums.energy_kwh, 1e-12);
  EXPECT_NEAR(1.2, other.sums.pue(), 1e-12);
  EXPECT_NEAR(0.06, other.sums.emissions_kg, 1e-12);
}

TEST(ReportTest, TotalsAddJobsAndJoinDistinctSources) {
  Report report = sample_report();
  const ReportTotals& t = report.totals;
  EXPECT_EQ(2, t.job_count);
  EXPECT_NEAR(1.935, t.sums.energy_kwh, 1e-12);
  EXPECT_NEAR(0.2535, t.sums.emissions_kg, 1e-12);
  EXPECT_NEAR(0.441, t.sums.counterfactual_kg, 1e-12);
  EXPECT_NEAR(0.1875, t.sums.saved_kg(), 1e-12);
  EXPECT_DOUBLE_EQ(5400, t.sums.duration_s);
  EXPECT_EQ(3, t.sums.intervals);
  EXPECT_EQ("DE+FR", t.zone);
  EXPECT_EQ("rapl+declared", t.meter_source);
  EXPECT_EQ("electricitymaps/observed+profile/forecast", t.intensity_source);
  EXPECT_EQ("gpu: A100 x 4", t.hardware);
}

TEST(ReportTest, JobMovedBetweenZonesListsBoth) {
  auto records = two_jobs();
  records[2].zone = "FR";  // Job 9's second interval.
  Report report = build_report(records, {});
  EXPECT_EQ("DE+FR", report.jobs[0].zone);
}

TEST(ReportTest, CsvHeaderIsCodeCarbonsThenLowcarbs) {
  const std::vector<std::string> codecarbon = {"timestamp",
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
                                               "wue"};
  const std::vector<std::string> ours = {
      "zone",     "scheduled_start", "counterfactual_kg",
      "saved_kg", "meter_source",    "intensity_source"};
  EXPECT_THAT(codecarbon_columns(), ElementsAreArray(codecarbon));

  std::string csv = render_csv(sample_report(), HostFacts{});
  std::string first_line = csv.substr(0, csv.find('\n'));
  std::vector<std::string> expected = codecarbon;
  expected.insert(expected.end(), ours.begin(), ours.end());
  std::string joined;
  for (const auto& column : expected) {
    joined += (joined.empty() ? "" : ",") + column;
  }
  EXPECT_EQ(joined, first_line);
}

TEST(ReportTest, CsvRowsHoldCodeCarbonUnits) {
  HostFacts host;
  host.os = "Linux-6.1.0-amd64-x86_64";
  host.cpu_count = 8;
  host.cpu_model = "AMD EPYC 7763, 64-Core";
  host.ram_total_gb = 31.25;
  auto rows = parse_csv(render_csv(sample_report(), host));
  ASSERT_EQ(3u, rows.size());
  const auto& header = rows[0];
  ASSERT_EQ(44u, header.size());
  auto cell = [&header](const std::vector<std::string>& row,
                        const std::string& column) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == column) {
        return row.at(i);
      }
    }
    ADD_FAILURE() << "no column " << column;
    return std::string();
  };
  const auto& row = rows[1];
  ASSERT_EQ(header.size(), row.size());
  EXPECT_EQ(format_utc(kT0 + std::chrono::seconds(1900)),
            cell(row, "timestamp"));
  EXPECT_EQ("lowcarb", cell(row, "project_name"));
  EXPECT_EQ("9", cell(row, "run_id"));
  EXPECT_EQ("train, \"big\"", cell(row, "experiment_id"));  // Round trip.
  EXPECT_DOUBLE_EQ(1800, std::stod(cell(row, "duration")));
  EXPECT_NEAR(0.1935, std::stod(cell(row, "emissions")), 1e-12);
  EXPECT_NEAR(0.1935 / 1800, std::stod(cell(row, "emissions_rate")), 1e-15);
  // Mean power = energy / time: 0.3 kWh = 1.08 MJ over 1800 s = 600 W.
  EXPECT_NEAR(600, std::stod(cell(row, "cpu_power")), 1e-9);
  EXPECT_NEAR(400, std::stod(cell(row, "gpu_power")), 1e-9);
  EXPECT_NEAR(60, std::stod(cell(row, "ram_power")), 1e-9);
  EXPECT_NEAR(0.3, std::stod(cell(row, "cpu_energy")), 1e-12);
  EXPECT_NEAR(0.2, std::stod(cell(row, "gpu_energy")), 1e-12);
  EXPECT_NEAR(0.03, std::stod(cell(row, "ram_energy")), 1e-12);
  EXPECT_NEAR(0.735, std::stod(cell(row, "energy_consumed")), 1e-12);
  EXPECT_EQ("0", cell(row, "water_consumed"));
  EXPECT_EQ("0", cell(row, "wue"));
  EXPECT_EQ("Germany", cell(row, "country_name"));
  EXPECT_EQ("DEU", cell(row, "country_iso_code"));
  EXPECT_EQ("DE", cell(row, "region"));
  EXPECT_EQ("Linux-6.1.0-amd64-x86_64", cell(row, "os"));
  EXPECT_EQ("", cell(row, "python_version"));
  EXPECT_EQ("", cell(row, "codecarbon_version"));
  EXPECT_EQ("8", cell(row, "cpu_count"));
  EXPECT_EQ("AMD EPYC 7763, 64-Core", cell(row, "cpu_model"));
  EXPECT_DOUBLE_EQ(31.25, std::stod(cell(row, "ram_total_size")));
  EXPECT_EQ("process", cell(row, "tracking_mode"));
  EXPECT_EQ("N", cell(row, "on_cloud"));
  EXPECT_NEAR(0.735 / 0.58, std::stod(cell(row, "pue")), 1e-12);
  EXPECT_EQ("DE", cell(row, "zone"));
  EXPECT_EQ(format_utc(kT0 - std::chrono::seconds(60)),
            cell(row, "scheduled_start"));
  EXPECT_NEAR(0.321, std::stod(cell(row, "counterfactual_kg")), 1e-12);
  EXPECT_NEAR(0.1275, std::stod(cell(row, "saved_kg")), 1e-12);
  EXPECT_EQ("rapl+declared", cell(row, "meter_source"));
  EXPECT_EQ("electricitymaps/observed", cell(row, "intensity_source"));

  const auto& fr = rows[2];
  EXPECT_EQ("10", cell(fr, "run_id"));
  EXPECT_EQ("France", cell(fr, "country_name"));
  EXPECT_EQ("FRA", cell(fr, "country_iso_code"));
  EXPECT_EQ("", cell(fr, "scheduled_start"));
}

TEST(ReportTest, CsvLeavesCountryEmptyForUnknownZones) {
  auto records = two_jobs();
  records[0].zone = "my-own-zone";
  auto rows = parse_csv(render_csv(build_report(records, {}), HostFacts{}));
  ASSERT_EQ(3u, rows.size());
  EXPECT_EQ("10", rows[2][2]);
  EXPECT_EQ("", rows[2][15]);  // country_name
  EXPECT_EQ("", rows[2][16]);  // country_iso_code
  EXPECT_EQ("my-own-zone", rows[2][17]);
}

TEST(ReportTest, CsvFieldQuotesPerRfc4180) {
  EXPECT_EQ("plain", csv_field("plain"));
  EXPECT_EQ("", csv_field(""));
  EXPECT_EQ("\"a,b\"", csv_field("a,b"));
  EXPECT_EQ("\"say \"\"hi\"\"\"", csv_field("say \"hi\""));
  EXPECT_EQ("\"two\nlines\"", csv_field("two\nlines"));
  EXPECT_EQ("\"cr\r\"", csv_field("cr\r"));
}

TEST(ReportTest, JsonHasJobsAndTotalsWithNumbers) {
  auto doc = nlohmann::json::parse(render_json(sample_report(), nullptr));
  ASSERT_TRUE(doc["jobs"].is_array());
  ASSERT_EQ(2u, doc["jobs"].size());
  const auto& job = doc["jobs"][0];
  EXPECT_EQ("9", job["id"]);
  EXPECT_EQ("train, \"big\"", job["name"]);
  for (const char* field : {"duration_s", "cpu_kwh", "gpu_kwh", "ram_kwh",
                            "other_kwh", "energy_kwh", "pue", "emissions_kg",
                            "emissions_rate_kg_per_s", "mean_gco2_per_kwh",
                            "counterfactual_kg", "saved_kg", "saved_percent"}) {
    EXPECT_TRUE(job[field].is_number()) << field;
    EXPECT_TRUE(doc["totals"][field].is_number()) << field;
  }
  EXPECT_NEAR(0.1935, job["emissions_kg"].get<double>(), 1e-12);
  EXPECT_EQ(format_utc(kT0 - std::chrono::seconds(60)), job["scheduled_start"]);
  EXPECT_TRUE(doc["jobs"][1]["scheduled_start"].is_null());
  EXPECT_EQ("rapl+declared", job["meter_source"]);
  EXPECT_EQ(2, doc["totals"]["job_count"].get<int>());
  EXPECT_NEAR(0.2535, doc["totals"]["emissions_kg"].get<double>(), 1e-12);
  EXPECT_EQ("DE+FR", doc["totals"]["zone"]);
  EXPECT_FALSE(job.contains("sci"));
}

// One 12.5-hour job: 2.56 kWh IT x PUE 1.25 = 3.2 kWh at 310 g/kWh =
// 0.992 kg; run-now 1.412 kg, so 0.42 kg (29.7 %) saved.
Report paper_report(const std::string& hardware) {
  LedgerRecord r = record(
      "1", "DE", kT0, kT0 + std::chrono::hours(12) + std::chrono::minutes(30));
  r.gpu_joules = 2.56 * 3.6e6;
  r.pue = 1.25;
  r.gco2_per_kwh = 310;
  r.grams = 992;
  r.counterfactual_grams = 1412;
  r.meter_source = "nvml";
  Job job;
  job.id = "1";
  job.spec.hardware = hardware;
  return build_report({r}, {{"1", job}});
}

TEST(ReportTest, LatexSentenceStatesTheNumbers) {
  std::string text = render_latex(paper_report("2x A100"), nullptr);
  EXPECT_EQ(
      "Experiments were conducted using \\emph{2x A100} in zone DE over 12.5 "
      "hours of computation (3.2 kWh, PUE 1.25), with a carbon efficiency of "
      "310 gCO$_2$eq/kWh. Total emissions are estimated to be 0.992 "
      "kgCO$_2$eq; scheduling with lowcarb saved 0.42 kgCO$_2$eq "
      "(29.7\\,\\%) against starting the job at submission.\n",
      text);
}

TEST(ReportTest, LatexEscapesUserStrings) {
  EXPECT_EQ("a\\_b \\& 50\\% \\#1 \\{x\\} \\$y",
            latex_escape("a_b & 50% #1 {x} $y"));
  EXPECT_EQ("\\textbackslash{}n \\textasciitilde{} \\textasciicircum{}",
            latex_escape("\\n ~ ^"));
  std::string text = render_latex(paper_report("gpu_A100 & 50%"), nullptr);
  EXPECT_THAT(text, HasSubstr("\\emph{gpu\\_A100 \\& 50\\%}"));
  EXPECT_THAT(text, Not(HasSubstr("gpu_A100")));
}

TEST(ReportTest, LatexListsSeveralZonesAndSaysWhenEmissionsGrew) {
  auto records = two_jobs();
  // Make the run-now baseline cleaner than what happened.
  for (auto& r : records) {
    r.counterfactual_grams = r.grams * 0.4;
  }
  std::string text = render_latex(build_report(records, known_jobs()), nullptr);
  EXPECT_THAT(text, HasSubstr("in zones DE and FR over 1.5 hours"));
  // 253.5 g against 101.4 g: 152.1 g (150 %) more.
  EXPECT_THAT(text, HasSubstr("lowcarb added 0.152 kgCO$_2$eq (150\\,\\%) "
                              "against starting each job at submission"));
}

TEST(ReportTest, SciDividesOperationalEmissionsByUnits) {
  Report report = sample_report();
  SciOptions options;
  options.functional_units = 8;
  options.unit_name = "request";
  Sci job = job_sci(report.jobs[0], report.totals, options);
  EXPECT_FALSE(job.includes_embodied);
  EXPECT_NEAR(0.1935, job.operational_kg, 1e-12);
  EXPECT_NEAR(193.5 / 8, job.g_per_unit, 1e-9);
  Sci total = total_sci(report.totals, options);
  EXPECT_DOUBLE_EQ(16, total.units);  // 8 per job, two jobs.
  EXPECT_NEAR(253.5 / 16, total.g_per_unit, 1e-9);

  std::string text = render_text(report, &options);
  EXPECT_THAT(text, HasSubstr("embodied emissions not included"));
  EXPECT_THAT(text, HasSubstr("24.2 g per request"));  // 24.1875 g.
  EXPECT_THAT(text, HasSubstr("15.8 g per request"));  // 15.84375 g.
  EXPECT_THAT(text, HasSubstr("(16 units)"));
  auto doc = nlohmann::json::parse(render_json(report, &options));
  EXPECT_NEAR(24.1875, doc["jobs"][0]["sci"]["g_per_unit"].get<double>(), 1e-9);
  EXPECT_EQ("request", doc["totals"]["sci"]["unit"]);
  EXPECT_FALSE(doc["totals"]["sci"]["includes_embodied"].get<bool>());
}

TEST(ReportTest, SciSharesEmbodiedEmissionsByRunTime) {
  Report report = sample_report();
  SciOptions options;
  options.functional_units = 1;
  options.embodied_kg = 5.4;
  // Job 9 ran 1800 of the 5400 metered seconds: a third of M.
  Sci job = job_sci(report.jobs[0], report.totals, options);
  EXPECT_TRUE(job.includes_embodied);
  EXPECT_NEAR(1.8, job.embodied_kg, 1e-12);
  EXPECT_NEAR((0.1935 + 1.8) * 1000, job.g_per_unit, 1e-9);
  Sci total = total_sci(report.totals, options);
  EXPECT_NEAR((0.2535 + 5.4) * 1000 / 2, total.g_per_unit, 1e-9);
  std::string latex = render_latex(report, &options);
  EXPECT_THAT(latex,
              HasSubstr("Software Carbon Intensity (SCI) is 2827 gCO$_2$eq "
                        "per unit"));
  EXPECT_THAT(latex, HasSubstr("(2 functional units in total; operational "
                               "emissions plus 5.4 kgCO$_2$eq embodied)"));
}

TEST(ReportTest, FormatsSignificantDigitsWithoutExponent) {
  EXPECT_EQ("0.00123", format_significant(0.00123456, 3));
  EXPECT_EQ("310", format_significant(310.2, 3));
  EXPECT_EQ("12.5", format_significant(12.49, 3));
  EXPECT_EQ("10", format_significant(9.996, 3));
  EXPECT_EQ("-0.42", format_significant(-0.42, 3));
  EXPECT_EQ("0", format_significant(0, 3));
  EXPECT_EQ("123457", format_significant(123456.7, 3));
}

TEST(ReportTest, TextTableHasOneLinePerJobAndTotals) {
  std::string text = render_text(sample_report(), nullptr);
  auto lines = split(text, '\n');
  ASSERT_GE(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr("ENERGY kWh"));
  EXPECT_EQ(0u, lines[1].find("9 "));
  EXPECT_THAT(lines[1], HasSubstr("0.735"));
  EXPECT_THAT(lines[1], HasSubstr("30 min"));
  EXPECT_EQ(0u, lines[2].find("10 "));
  EXPECT_EQ(0u, lines[3].find("TOTAL"));
  EXPECT_THAT(lines[3], HasSubstr("mixed"));
  EXPECT_THAT(lines[3], HasSubstr("2 jobs"));
  EXPECT_THAT(lines[3], HasSubstr("1.5 h"));  // 5400 s
  // Aligned: the energy column ends at the same offset on every line.
  auto end_of = [](const std::string& line, const std::string& value) {
    return line.find(value) + value.size();
  };
  EXPECT_EQ(end_of(lines[0], "ENERGY kWh"), end_of(lines[1], "0.735"));
  EXPECT_EQ(end_of(lines[0], "ENERGY kWh"), end_of(lines[2], "1.2 ") - 1);
}

TEST(ReportTest, SavingsOfRoundingNoiseReadZeroNotATinyNegative) {
  // 1 kWh at 400 g/kWh against a baseline of 400.0009 g/kWh: 0.9 mg saved.
  LedgerRecord r = record("4", "DE", kT0, kT0 + std::chrono::hours(1));
  r.cpu_joules = 3.6e6;
  r.gco2_per_kwh = 400;
  r.grams = 400;
  r.counterfactual_gco2_per_kwh = 400.0009;
  r.counterfactual_grams = 400.0009;
  LedgerRecord worse = r;
  worse.job_id = "5";
  worse.counterfactual_grams = 399.9991;

  auto lines = split(render_text(build_report({r, worse}, {}), nullptr), '\n');

  ASSERT_GE(lines.size(), 3u);
  EXPECT_THAT(lines[1], HasSubstr(" 0    0.0%"));
  EXPECT_THAT(lines[2], HasSubstr(" 0    0.0%"));
  EXPECT_THAT(lines[2], ::testing::Not(HasSubstr("-0")));
}

TEST(ReportTest, EmptyLedgerGivesHeaderOnlyAndAMessage) {
  Report report = build_report({}, {});
  EXPECT_EQ(0, report.totals.job_count);
  EXPECT_EQ("no emissions recorded\n", render_text(report, nullptr));
  auto rows = parse_csv(render_csv(report, HostFacts{}));
  EXPECT_EQ(1u, rows.size());
  auto doc = nlohmann::json::parse(render_json(report, nullptr));
  EXPECT_TRUE(doc["jobs"].empty());
  EXPECT_EQ(0, doc["totals"]["job_count"].get<int>());
}

}  // namespace
}  // namespace lowcarb::scheduler
