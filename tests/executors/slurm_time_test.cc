// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_time.h"

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "common/time_format.h"
#include "executors/posix_process_runner.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

TimePoint at(const char* text) { return *parse_time(text); }

// Sets TZ for the lifetime of the object and restores it afterwards.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) {
      old_ = old;
    }
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (old_) {
      ::setenv("TZ", old_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> old_;
};

TEST(SlurmTimeTest, FormatsUtcWithoutZoneSuffix) {
  EXPECT_EQ("2026-11-23T14:05:09", to_slurm_time(at("2026-11-23T14:05:09Z")));
  EXPECT_EQ("2026-11-23T13:05:09",
            to_slurm_time(at("2026-11-23T14:05:09+01:00")));
}

TEST(SlurmTimeTest, IgnoresTheProcessTimeZone) {
  ScopedTz tz("America/New_York");

  EXPECT_EQ("2026-07-01T02:30:00", to_slurm_time(at("2026-07-01T02:30:00Z")));
}

TEST(SlurmTimeTest, SlurmCommandsRunWithTzUtc) {
  EXPECT_STREQ("TZ", kSlurmTimeZoneEnv.first);
  EXPECT_STREQ("UTC", kSlurmTimeZoneEnv.second);
}

// Slurm clients read "--begin=YYYY-MM-DDTHH:MM:SS" in their own local time
// zone. A client given TZ=UTC (as every Slurm command is) must read our text
// as the same instant even when lowcarb itself runs in New York. date(1)
// reads local times the same way, so it stands in for sbatch here.
TEST(SlurmTimeTest, ClientWithTzUtcReadsTheSameInstantUnderNewYorkTz) {
  ScopedTz tz("America/New_York");
  const TimePoint when = at("2026-03-08T07:30:00Z");  // Around a DST switch.
  PosixProcessRunner runner;
  Command command;
  command.argv = {"date", "-d", to_slurm_time(when), "+%s"};
  command.env[kSlurmTimeZoneEnv.first] = kSlurmTimeZoneEnv.second;

  auto result = runner.run(command);

  ASSERT_OK(result);
  EXPECT_EQ(std::to_string(when.time_since_epoch().count()) + "\n",
            result->out);
  // Without TZ=UTC the same text would mean a different instant.
  command.env.clear();
  auto local = runner.run(command);
  ASSERT_OK(local);
  EXPECT_NE(result->out, local->out);
}

TEST(SlurmTimeTest, ParsesEpochAndIsoTimes) {
  auto epoch = parse_slurm_time("1795456346");
  auto iso = parse_slurm_time("2026-11-23T18:29:25");

  ASSERT_OK(epoch);
  ASSERT_TRUE(epoch->has_value());
  EXPECT_EQ(1795456346, (*epoch)->time_since_epoch().count());
  ASSERT_OK(iso);
  EXPECT_EQ(at("2026-11-23T18:29:25Z"), **iso);
}

TEST(SlurmTimeTest, TreatsPlaceholdersAsNoTime) {
  for (const char* text : {"N/A", "None", "Unknown", "", "0"}) {
    auto parsed = parse_slurm_time(text);
    ASSERT_OK(parsed);
    EXPECT_FALSE(parsed->has_value()) << text;
  }
}

TEST(SlurmTimeTest, RejectsGarbageTimeNamingIt) {
  auto parsed = parse_slurm_time("tomorrow");

  ASSERT_FALSE(parsed);
  EXPECT_NE(std::string::npos, parsed.error().message.find("tomorrow"));
}

TEST(SlurmTimeTest, ParsesSlurmDurations) {
  EXPECT_DOUBLE_EQ(67.402, *parse_slurm_duration("01:07.402"));
  EXPECT_DOUBLE_EQ(316, *parse_slurm_duration("00:05:16"));
  EXPECT_DOUBLE_EQ(93784, *parse_slurm_duration("1-02:03:04"));
  EXPECT_DOUBLE_EQ(0, *parse_slurm_duration("00:00:00"));
  EXPECT_FALSE(parse_slurm_duration("1:xx"));
  EXPECT_FALSE(parse_slurm_duration(""));
  EXPECT_FALSE(parse_slurm_duration("1:2:3:4"));
}

}  // namespace
}  // namespace lowcarb::executors
