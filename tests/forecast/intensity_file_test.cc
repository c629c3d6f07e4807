// SPDX-License-Identifier: Apache-2.0
#include "forecast/intensity_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "forecast/resample.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using lowcarb::testing::shared_data;
using std::chrono::hours;
using std::chrono::minutes;
using ::testing::HasSubstr;

TimePoint at(const char* text) {
  return *parse_time(text, MissingOffset::kAssumeUtc);
}

std::string error_of(std::string_view text, const std::string& source,
                     const FileLoadOptions& options = {}) {
  auto result = parse_intensity_text(text, source, options);
  EXPECT_FALSE(result.has_value()) << "expected an error from " << source;
  return result ? std::string() : result.error().message;
}

// Sorted, positive-length, non-overlapping: the IntensitySeries invariant.
void expect_normalised(const IntensitySeries& series) {
  for (size_t i = 0; i < series.points.size(); ++i) {
    ASSERT_LT(series.points[i].start, series.points[i].end) << i;
    if (i > 0) {
      ASSERT_LE(series.points[i - 1].end, series.points[i].start) << i;
    }
  }
}

TEST(IntensityFileTest, ReadsCanonicalCsvWithSeveralZonesSortedByZone) {
  const char* text =
      "timestamp,zone,gco2_per_kwh\n"
      "2026-01-01T00:00:00Z,FR,50\n"
      "2026-01-01T00:00:00Z,DE,300\n"
      "2026-01-01T00:30:00Z,DE,\n"
      "2026-01-01T01:00:00Z,DE,null\n"
      "2026-01-01T02:30:00+01:00,DE,280.5\n"
      "2026-01-01T01:00:00Z,FR,55\n"
      "2026-01-01T01:00:00+01:00,DE,310\n";

  auto result = parse_intensity_text(text, "mixed.csv");

  ASSERT_OK(result);
  ASSERT_EQ(2u, result->size());
  const auto& de = (*result)[0];
  EXPECT_EQ("DE", de.zone);
  EXPECT_EQ("file", de.provider);
  EXPECT_EQ((SignalKind{Basis::kAverage, Scope::kDirect, Horizon::kObserved}),
            de.kind);
  // 02:30+01:00 is 01:30Z; the last row repeats 00:00Z and wins.
  ASSERT_EQ(4u, de.points.size());
  EXPECT_EQ(at("2026-01-01 00:00:00"), de.points[0].start);
  EXPECT_EQ(at("2026-01-01 00:30:00"), de.points[0].end);
  EXPECT_EQ(310, de.points[0].gco2_per_kwh);
  EXPECT_EQ(std::nullopt, de.points[1].gco2_per_kwh);
  EXPECT_EQ(std::nullopt, de.points[2].gco2_per_kwh);
  EXPECT_EQ(at("2026-01-01 01:30:00"), de.points[3].start);
  EXPECT_EQ(280.5, de.points[3].gco2_per_kwh);
  const auto& fr = (*result)[1];
  EXPECT_EQ("FR", fr.zone);
  ASSERT_EQ(2u, fr.points.size());
  EXPECT_EQ(hours(1), fr.points[0].end - fr.points[0].start);
}

TEST(IntensityFileTest, CanonicalCsvRejectsTimestampWithoutOffset) {
  auto message = error_of(
      "timestamp,zone,gco2_per_kwh\n2026-01-01 00:00,DE,100\n", "x.csv");

  EXPECT_EQ(
      "x.csv:2: timestamp: expected an ISO 8601 date-time with Z or an "
      "offset, found \"2026-01-01 00:00\"",
      message);
}

TEST(IntensityFileTest, BadValueNamesFileLineAndField) {
  auto message = error_of(
      "timestamp,zone,gco2_per_kwh\n"
      "2026-01-01T00:00:00Z,DE,100\n"
      "\n"
      "2026-01-01T01:00:00Z,DE,abc\n",
      "bad.csv");

  EXPECT_EQ(
      "bad.csv:4: gco2_per_kwh: expected a number of gCO2eq/kWh or an empty "
      "value, found \"abc\"",
      message);
}

TEST(IntensityFileTest, NegativeValueIsAnError) {
  auto message =
      error_of("Time,Carbon Intensity\n2020-01-01 00:00:00,-5\n", "neg.csv");

  EXPECT_THAT(message, HasSubstr("neg.csv:2: Carbon Intensity: expected a "
                                 "non-negative number, found \"-5\""));
}

TEST(IntensityFileTest, WrongFieldCountIsAnError) {
  auto message = error_of(
      "timestamp,zone,gco2_per_kwh\n2026-01-01T00:00:00Z,DE\n", "short.csv");

  EXPECT_EQ("short.csv:2: expected 3 fields like the header, found 2", message);
}

TEST(IntensityFileTest, UnknownHeaderIsAnError) {
  auto message = error_of("a,b,c\n1,2,3\n", "what.csv");

  EXPECT_THAT(message, HasSubstr("what.csv:1: header: expected "));
  EXPECT_THAT(message, HasSubstr("found \"a,b,c\""));
}

TEST(IntensityFileTest, EmptyFileIsAnError) {
  EXPECT_THAT(error_of("  \n\n", "empty.csv"),
              HasSubstr("empty.csv: empty file"));
}

TEST(IntensityFileTest, MissingFileIsNotFound) {
  auto result = load_intensity_file("/nonexistent/lowcarb/file.csv");

  ASSERT_FALSE(result);
  EXPECT_EQ(ErrorCode::kNotFound, result.error().code);
  EXPECT_THAT(result.error().message,
              HasSubstr("/nonexistent/lowcarb/file.csv"));
}

TEST(IntensityFileTest, ElectricityMapsExportReadsTheChosenScopeAndZoneId) {
  const char* text =
      "\xEF\xBB\xBF"
      "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO₂eq/kWh "
      "(direct),Carbon Intensity gCO₂eq/kWh (LCA),Low Carbon Percentage\r\n"
      "2022-01-01 00:00:00,Germany,Germany,DE,163.46,213.79,81.25\r\n"
      "2022-01-01 01:00:00,Germany,Germany,DE,,218.0,80.81\r\n";

  auto direct = parse_intensity_text(text, "DE-LU_2022_hourly.csv");
  FileLoadOptions lifecycle_options;
  lifecycle_options.scope = Scope::kLifecycle;
  auto lifecycle =
      parse_intensity_text(text, "DE-LU_2022_hourly.csv", lifecycle_options);

  ASSERT_OK(direct);
  ASSERT_EQ(1u, direct->size());
  EXPECT_EQ("DE", (*direct)[0].zone);
  EXPECT_EQ(Scope::kDirect, (*direct)[0].kind.scope);
  EXPECT_EQ(163.46, (*direct)[0].points[0].gco2_per_kwh);
  EXPECT_EQ(std::nullopt, (*direct)[0].points[1].gco2_per_kwh);
  ASSERT_OK(lifecycle);
  EXPECT_EQ(Scope::kLifecycle, (*lifecycle)[0].kind.scope);
  EXPECT_EQ(218.0, (*lifecycle)[0].points[1].gco2_per_kwh);
}

TEST(IntensityFileTest, LetsWaitAwhileIsUtcAndNamedAfterTheFile) {
  const char* text =
      "Time,Carbon Intensity\n"
      "2020-01-01 00:00:00,218.5\n"
      "2020-01-01 00:15:00,217.0\n";

  auto by_name = parse_intensity_text(text, "/data/ger_ci.csv");
  FileLoadOptions options;
  options.zone = "DE";
  auto by_option = parse_intensity_text(text, "/data/ger_ci.csv", options);

  ASSERT_OK(by_name);
  EXPECT_EQ("ger_ci", (*by_name)[0].zone);
  EXPECT_EQ(at("2020-01-01 00:00:00"), (*by_name)[0].points[0].start);
  EXPECT_EQ(minutes(15),
            (*by_name)[0].points[1].end - (*by_name)[0].points[1].start);
  ASSERT_OK(by_option);
  EXPECT_EQ("DE", (*by_option)[0].zone);
}

TEST(IntensityFileTest, TwoColumnCsvTakesTheZoneFromTheValueHeader) {
  const char* text =
      "oootime,Caiso_North\n"
      "2023-06-08 00:00:00,425.0\n"
      "2023-06-08 00:05:00,432.5\n";
  FileLoadOptions marginal;
  marginal.kind = {Basis::kMarginal, Scope::kDirect, Horizon::kObserved};

  auto result = parse_intensity_text(text, "caiso.csv", marginal);

  ASSERT_OK(result);
  EXPECT_EQ("Caiso_North", (*result)[0].zone);
  EXPECT_EQ(Basis::kMarginal, (*result)[0].kind.basis);
  EXPECT_EQ(minutes(5),
            (*result)[0].points[0].end - (*result)[0].points[0].start);
}

TEST(IntensityFileTest, JsonAcceptsIsoAndSecondDurationsAndNulls) {
  const char* text = R"([
    {"timestamp": "2026-01-01T00:00:00Z", "duration": "PT30M", "value": 100},
    {"timestamp": "2026-01-01T00:30:00Z", "duration": 1800, "value": null},
    {"timestamp": "2026-01-01T01:00:00+00:00", "value": 120.5}
  ])";
  FileLoadOptions options;
  options.zone = "GB";

  auto result = parse_intensity_text(text, "gb.json", options);

  ASSERT_OK(result);
  const auto& gb = (*result)[0];
  EXPECT_EQ("GB", gb.zone);
  ASSERT_EQ(3u, gb.points.size());
  EXPECT_EQ(minutes(30), gb.points[0].end - gb.points[0].start);
  EXPECT_EQ(std::nullopt, gb.points[1].gco2_per_kwh);
  // No duration: the spacing of the series (30 min).
  EXPECT_EQ(minutes(30), gb.points[2].end - gb.points[2].start);
  EXPECT_EQ(120.5, gb.points[2].gco2_per_kwh);
}

TEST(IntensityFileTest, JsonErrorsNameTheElementAndField) {
  auto message = error_of(
      R"([{"timestamp": "2026-01-01T00:00:00Z", "value": 1},
          {"timestamp": "yesterday", "value": 2}])",
      "f.json");

  EXPECT_EQ(
      "f.json: [1].timestamp: expected an ISO 8601 date-time with Z or an "
      "offset, found \"yesterday\"",
      message);
  EXPECT_THAT(error_of(R"([{"timestamp": "2026-01-01T00:00:00Z",
                           "duration": "soon", "value": 1}])",
                       "d.json"),
              HasSubstr("d.json: [0].duration: expected a positive ISO 8601 "
                        "duration"));
  EXPECT_THAT(error_of("[\n{\"timestamp\": \n", "broken.json"),
              HasSubstr("broken.json:3: invalid JSON"));
}

// The reference data: every file of every format loads as one normalised
// series with the expected zone, step and first value.
struct ReferenceFile {
  const char* path;
  const char* zone;
  Duration step;
  const char* first_start;
  double first_value;
  size_t min_points;
};

class ReferenceFileTest : public ::testing::TestWithParam<ReferenceFile> {};

TEST_P(ReferenceFileTest, LoadsAsOneNormalisedSeries) {
  LOWCARB_REQUIRE_SHARED_DATA();
  const auto& file = GetParam();

  auto result = load_intensity_file(shared_data(file.path));

  ASSERT_OK(result);
  ASSERT_EQ(1u, result->size());
  const auto& series = (*result)[0];
  EXPECT_EQ(file.zone, series.zone);
  ASSERT_GE(series.points.size(), file.min_points);
  expect_normalised(series);
  EXPECT_EQ(at(file.first_start), series.points[0].start);
  EXPECT_EQ(file.step, series.points[0].end - series.points[0].start);
  EXPECT_DOUBLE_EQ(file.first_value, *series.points[0].gco2_per_kwh);
}

INSTANTIATE_TEST_SUITE_P(
    SharedData, ReferenceFileTest,
    ::testing::Values(
        ReferenceFile{"intensity/electricitymaps/DE-LU_2022_hourly.csv", "DE",
                      hours(1), "2022-01-01 00:00:00", 163.46, 8760},
        ReferenceFile{"intensity/electricitymaps/GB_2022_hourly.csv", "GB",
                      hours(1), "2022-01-01 00:00:00", 52.2, 8760},
        ReferenceFile{"intensity/electricitymaps/US-CAL-CISO_2022_hourly.csv",
                      "US-CAL-CISO", hours(1), "2022-01-01 00:00:00", 209.52,
                      8760},
        ReferenceFile{"intensity/electricitymaps/SG_2022_hourly.csv", "SG",
                      hours(1), "2022-01-01 00:00:00", 374.49, 8760},
        ReferenceFile{"intensity/electricitymaps/AU-NSW_2022_hourly.csv",
                      "AU-NSW", hours(1), "2022-01-01 00:00:00", 324.42, 8760},
        ReferenceFile{"intensity/electricitymaps/CA-ON_2022_hourly.csv",
                      "CA-ON", hours(1), "2022-01-01 00:00:00", 37.3, 8760},
        ReferenceFile{"intensity/electricitymaps/JP-TK_2022_hourly.csv",
                      "JP-TK", hours(1), "2022-01-01 00:00:00", 401.3, 8760},
        ReferenceFile{"intensity/electricitymaps/IN-WE_2022_hourly.csv",
                      "IN-WE", hours(1), "2022-01-01 00:00:00", 704.73, 8760},
        ReferenceFile{"intensity/lets-wait-awhile/ger_ci.csv", "ger_ci",
                      minutes(15), "2019-12-20 00:00:00", 218.29003068829462,
                      37000},
        ReferenceFile{"intensity/lets-wait-awhile/gb_ci.csv", "gb_ci",
                      minutes(30), "2019-12-20 00:00:00", 120.99546661944396,
                      21000},
        ReferenceFile{"intensity/lets-wait-awhile/fr_ci.csv", "fr_ci",
                      minutes(30), "2019-12-20 00:00:00", 42.34123797146737,
                      18500},
        ReferenceFile{"intensity/watttime/caiso-north-2023-06.csv",
                      "Caiso_North", minutes(5), "2023-06-08 00:00:00",
                      425.01605069, 8928}));

TEST(IntensityFileTest, ElectricityMapsFileCoversTheYearHourByHour) {
  LOWCARB_REQUIRE_SHARED_DATA();

  auto result = load_intensity_file(
      shared_data("intensity/electricitymaps/DE-LU_2022_hourly.csv"));

  ASSERT_OK(result);
  const auto& de = (*result)[0];
  EXPECT_EQ(8760u, de.points.size());
  EXPECT_EQ(at("2023-01-01 00:00:00"), de.end_time());
  EXPECT_TRUE(find_gaps(de).empty());
}

TEST(IntensityFileTest, MixedStepFileKeepsItsFifteenMinuteStretches) {
  LOWCARB_REQUIRE_SHARED_DATA();

  // gb_ci.csv is mostly half-hourly with stretches of quarter hours.
  auto result =
      load_intensity_file(shared_data("intensity/lets-wait-awhile/gb_ci.csv"));

  ASSERT_OK(result);
  const auto& gb = (*result)[0];
  size_t quarter_hours = 0;
  for (const auto& point : gb.points) {
    quarter_hours += (point.end - point.start == minutes(15)) ? 1 : 0;
  }
  EXPECT_GT(quarter_hours, 3000u);
  EXPECT_EQ(21980u, gb.points.size());
}

}  // namespace
}  // namespace lowcarb::forecast
