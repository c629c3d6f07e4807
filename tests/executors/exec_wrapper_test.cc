// SPDX-License-Identifier: Apache-2.0
#include "executors/exec_wrapper.h"

#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using lowcarb::testing::ScopedTempDir;

TEST(ExitRecordTest, RoundTripsThroughText) {
  ExitRecord record;
  record.exit_code = 143;
  record.signal = 15;
  record.ended_at = TimePoint{Duration{1'800'000'000}};

  auto parsed = parse_exit_record(format_exit_record(record), "test");

  ASSERT_OK(parsed);
  EXPECT_EQ(record, *parsed);
}

TEST(ExitRecordTest, MalformedTextNamesTheFile) {
  auto parsed =
      parse_exit_record("{\"exit\": 1", "/state/jobs/a/status-0.json");

  ASSERT_FALSE(parsed);
  EXPECT_EQ(ErrorCode::kInvalidArgument, parsed.error().code);
  EXPECT_NE(std::string::npos,
            parsed.error().message.find("/state/jobs/a/status-0.json"));
}

TEST(ExitRecordTest, WriteReplacesAtomicallyAndLeavesNoTempFile) {
  ScopedTempDir dir;
  const std::string path = dir.file("status-0.json");
  ExitRecord first{3, std::nullopt, std::nullopt, ""};
  ExitRecord second{0, std::nullopt, TimePoint{Duration{5}}, ""};

  ASSERT_OK(write_exit_record(path, first));
  ASSERT_OK(write_exit_record(path, second));
  auto read = read_exit_record(path);

  ASSERT_OK(read);
  EXPECT_EQ(second, *read);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(ExitRecordTest, MissingFileIsNotFound) {
  ScopedTempDir dir;

  auto read = read_exit_record(dir.file("nope.json"));

  ASSERT_FALSE(read);
  EXPECT_EQ(ErrorCode::kNotFound, read.error().code);
}

}  // namespace
}  // namespace lowcarb::executors
