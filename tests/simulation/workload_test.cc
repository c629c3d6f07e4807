// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/workload.h"

#include <zlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::simulation {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TimePoint at(const char* text) {
  return *parse_time(text, MissingOffset::kAssumeUtc);
}

TEST(WorkloadTest, ParsesCanonicalCsvWithOptionalFields) {
  const char* text =
      "id,submit,duration,deadline,power_w,interruptible,zones\n"
      "a,2022-01-01T00:00:00Z,2h,2022-01-02T00:00:00Z,150,true,DE;FR\n"
      "b,2022-01-01 01:00:00,5400,,,0\n";

  auto workload = parse_workload_text(text, "jobs.csv", {});

  ASSERT_OK(workload);
  ASSERT_EQ(2u, workload->jobs.size());
  const auto& a = workload->jobs[0];
  EXPECT_EQ("a", a.id);
  EXPECT_EQ(at("2022-01-01T00:00:00Z"), a.submit);
  EXPECT_EQ(Duration(2h), a.duration);
  EXPECT_EQ(at("2022-01-02T00:00:00Z"), a.deadline);
  EXPECT_EQ(150.0, a.power_watts);
  EXPECT_TRUE(a.interruptible);
  EXPECT_THAT(a.zones, ::testing::ElementsAre("DE", "FR"));
  const auto& b = workload->jobs[1];
  EXPECT_EQ(Duration(5400), b.duration);
  EXPECT_FALSE(b.deadline.has_value());
  EXPECT_FALSE(b.power_watts.has_value());
  EXPECT_FALSE(b.interruptible);
  EXPECT_TRUE(b.zones.empty());
}

TEST(WorkloadTest, CanonicalErrorsNameFileLineAndField) {
  const char* text =
      "id,submit,duration,deadline,power_w,interruptible\n"
      "a,2022-01-01T00:00:00Z,2h,,,no\n"
      "b,2022-01-01T00:00:00Z,soon,,,no\n";

  auto workload = parse_workload_text(text, "jobs.csv", {});

  ASSERT_FALSE(workload);
  EXPECT_EQ(ErrorCode::kInvalidArgument, workload.error().code);
  EXPECT_THAT(workload.error().message, HasSubstr("jobs.csv:3: duration"));
}

TEST(WorkloadTest, RejectsDeadlineBeforeSubmitPlusDuration) {
  const char* text =
      "id,submit,duration,deadline,power_w,interruptible\n"
      "a,2022-01-01T00:00:00Z,2h,2022-01-01T01:00:00Z,,no\n";

  auto workload = parse_workload_text(text, "jobs.csv", {});

  ASSERT_FALSE(workload);
  EXPECT_THAT(workload.error().message, HasSubstr("jobs.csv:2: deadline"));
}

TEST(WorkloadTest, ParsesGaiaTraceInHoursFromTheTraceStart) {
  const char* text =
      "arrival_time,length,cpus\n"
      "0.0,0.75,4\n"
      "1.5,19.083333333333332,8\n";
  WorkloadOptions options;
  options.gaia_time_unit = TimeUnit::kHours;
  options.trace_start = at("2022-01-01T00:00:00Z");

  auto workload = parse_workload_text(text, "azure.csv", options);

  ASSERT_OK(workload);
  ASSERT_EQ(2u, workload->jobs.size());
  EXPECT_EQ(at("2022-01-01T00:00:00Z"), workload->jobs[0].submit);
  EXPECT_EQ(Duration(45min), workload->jobs[0].duration);
  EXPECT_EQ(4, workload->jobs[0].cpus);
  EXPECT_EQ(at("2022-01-01T01:30:00Z"), workload->jobs[1].submit);
  EXPECT_EQ(Duration(68700), workload->jobs[1].duration);  // 19h05m.
  EXPECT_EQ("2", workload->jobs[1].id);
}

TEST(WorkloadTest, GaiaSecondsAndBadNumbersReportTheLine) {
  const char* text =
      "arrival_time,length,cpus\n"
      "68.0,1000.0,1\n"
      "70.0,abc,1\n";

  auto workload = parse_workload_text(text, "pai.csv", {});

  ASSERT_FALSE(workload);
  EXPECT_THAT(workload.error().message, HasSubstr("pai.csv:3: length"));
}

TEST(WorkloadTest, ParsesSwfSkippingCommentsAndUnknownRunTimes) {
  const char* text =
      "; Version: 2.2\n"
      ";\n"
      "    1        0     -1   1451  128     -1    -1   -1     -1\n"
      "    2     1460     -1     -1   64     -1    -1   -1     -1\n"
      "    3     5198     -1   1067   -1     -1    -1   16     -1\n";
  WorkloadOptions options;
  options.trace_start = at("2022-03-01T00:00:00Z");

  auto workload = parse_workload_text(text, "nasa.swf", options);

  ASSERT_OK(workload);
  ASSERT_EQ(2u, workload->jobs.size());
  EXPECT_EQ(1, workload->skipped);
  EXPECT_EQ("1", workload->jobs[0].id);
  EXPECT_EQ(Duration(1451), workload->jobs[0].duration);
  EXPECT_EQ(128, workload->jobs[0].cpus);
  EXPECT_EQ(at("2022-03-01T00:00:00Z") + Duration(5198),
            workload->jobs[1].submit);
  EXPECT_EQ(16, workload->jobs[1].cpus);  // Requested, as allocated is -1.
}

TEST(WorkloadTest, SwfErrorsNameTheLineAndField) {
  const char* text =
      "; comment\n"
      "    1        x     -1   1451  128     -1    -1   -1\n";

  auto workload =
      parse_workload_text(text, "bad.swf", {WorkloadFormat::kSwf, {}, {}});

  ASSERT_FALSE(workload);
  EXPECT_THAT(workload.error().message,
              HasSubstr("bad.swf:2: field 2 (submit time)"));
}

TEST(WorkloadTest, ReadsGzipCompressedFiles) {
  testing::ScopedTempDir dir;
  std::string path = dir.file("trace.swf.gz");
  const std::string text = "; gz\n    7  100  -1  60  2  -1  -1  -1\n";
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(nullptr, file);
  gzwrite(file, text.data(), static_cast<unsigned>(text.size()));
  gzclose(file);

  auto workload = load_workload(path, {});

  ASSERT_OK(workload);
  ASSERT_EQ(1u, workload->jobs.size());
  EXPECT_EQ("7", workload->jobs[0].id);
  EXPECT_EQ(Duration(60), workload->jobs[0].duration);
}

TEST(WorkloadTest, UnknownHeaderAsksForTheFormat) {
  auto workload = parse_workload_text("foo,bar\n1,2\n", "x.csv", {});

  ASSERT_FALSE(workload);
  EXPECT_THAT(workload.error().message, HasSubstr("x.csv:1"));
  EXPECT_THAT(workload.error().message, HasSubstr("--workload-format"));
}

TEST(WorkloadTest, MissingFileIsNotFound) {
  auto workload = load_workload("/nonexistent/trace.csv", {});

  ASSERT_FALSE(workload);
  EXPECT_EQ(ErrorCode::kNotFound, workload.error().code);
}

TEST(WorkloadTest, LoadsTheShippedTraces) {
  LOWCARB_REQUIRE_SHARED_DATA();
  WorkloadOptions hours;
  hours.gaia_time_unit = TimeUnit::kHours;

  auto alibaba =
      load_workload(testing::shared_data("workloads/alibaba-pai-1k.csv"), {});
  auto azure =
      load_workload(testing::shared_data("workloads/azure-100k.csv"), hours);
  auto nasa = load_workload(
      testing::shared_data("workloads/NASA-iPSC-1993-3.1-cln.swf.gz"), {});

  ASSERT_OK(alibaba);
  ASSERT_OK(azure);
  ASSERT_OK(nasa);
  EXPECT_EQ(1000u, alibaba->jobs.size() + alibaba->skipped);
  EXPECT_EQ(99988u, azure->jobs.size() + azure->skipped);
  EXPECT_EQ(18239u, nasa->jobs.size() + nasa->skipped);
}

}  // namespace
}  // namespace lowcarb::scheduler::simulation
