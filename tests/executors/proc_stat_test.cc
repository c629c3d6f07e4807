// SPDX-License-Identifier: Apache-2.0
#include "executors/proc_stat.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using lowcarb::testing::ScopedTempDir;
using lowcarb::testing::write_file;

// A stat line as the kernel writes it, with the fields lowcarb reads set.
std::string stat_line(int pid, const std::string& comm, char state, int ppid,
                      int pgrp, int session, int utime, int stime, int cutime,
                      int cstime, long long start, int rss) {
  // Fields 3..24; the ones not named are zeros.
  return std::to_string(pid) + " (" + comm + ") " + state + " " +
         std::to_string(ppid) + " " + std::to_string(pgrp) + " " +
         std::to_string(session) + " 0 -1 4194304 100 0 0 0 " +
         std::to_string(utime) + " " + std::to_string(stime) + " " +
         std::to_string(cutime) + " " + std::to_string(cstime) + " 20 0 1 0 " +
         std::to_string(start) + " 3133440 " + std::to_string(rss) +
         " 18446744073709551615 0 0 0 0 0 0 0\n";
}

TEST(ProcStatTest, ParsesTheFieldsLowcarbUses) {
  auto stat = parse_proc_stat(
      stat_line(42, "sleep", 'S', 1, 40, 39, 150, 50, 7, 3, 123456, 361));

  ASSERT_OK(stat);
  EXPECT_EQ(42, stat->pid);
  EXPECT_EQ("sleep", stat->comm);
  EXPECT_EQ('S', stat->state);
  EXPECT_EQ(1, stat->ppid);
  EXPECT_EQ(40, stat->pgrp);
  EXPECT_EQ(39, stat->session);
  EXPECT_EQ(150u, stat->utime_ticks);
  EXPECT_EQ(50u, stat->stime_ticks);
  EXPECT_EQ(7u, stat->cutime_ticks);
  EXPECT_EQ(3u, stat->cstime_ticks);
  EXPECT_EQ(123456u, stat->start_ticks);
  EXPECT_EQ(361u, stat->rss_pages);
}

TEST(ProcStatTest, CommMayContainSpacesAndParentheses) {
  auto stat = parse_proc_stat(
      stat_line(7, "my (odd) prog) x", 'R', 1, 7, 7, 1, 2, 0, 0, 99, 1));

  ASSERT_OK(stat);
  EXPECT_EQ("my (odd) prog) x", stat->comm);
  EXPECT_EQ('R', stat->state);
  EXPECT_EQ(99u, stat->start_ticks);
}

TEST(ProcStatTest, RejectsTruncatedLine) {
  auto stat = parse_proc_stat("42 (sleep) S 1 40 39 0");

  ASSERT_FALSE(stat);
  EXPECT_EQ(ErrorCode::kInvalidArgument, stat.error().code);
  EXPECT_NE(std::string::npos, stat.error().message.find("too few fields"));
}

TEST(ProcStatTest, RejectsLineWithoutComm) {
  EXPECT_FALSE(parse_proc_stat("42 sleep S 1 40 39"));
}

TEST(ProcStatTest, ZombiesAreNotAliveAndStoppedIsReported) {
  auto zombie =
      parse_proc_stat(stat_line(5, "z", 'Z', 1, 5, 5, 0, 0, 0, 0, 1, 0));
  auto stopped =
      parse_proc_stat(stat_line(6, "t", 'T', 1, 6, 6, 0, 0, 0, 0, 1, 0));

  ASSERT_OK(zombie);
  ASSERT_OK(stopped);
  EXPECT_FALSE(zombie->alive());
  EXPECT_TRUE(stopped->alive());
  EXPECT_TRUE(stopped->stopped());
}

TEST(ProcStatTest, SessionUsageSumsLiveProcessesOfThatSessionOnly) {
  std::vector<ProcStat> stats;
  stats.push_back(*parse_proc_stat(
      stat_line(10, "w", 'S', 1, 10, 10, 100, 50, 20, 30, 1, 10)));
  stats.push_back(*parse_proc_stat(
      stat_line(11, "job", 'R', 10, 10, 10, 200, 0, 0, 0, 2, 100)));
  stats.push_back(*parse_proc_stat(
      stat_line(12, "other", 'R', 1, 12, 12, 999, 999, 0, 0, 3, 999)));
  stats.push_back(*parse_proc_stat(
      stat_line(13, "dead", 'Z', 10, 10, 10, 500, 0, 0, 0, 4, 0)));

  TreeUsage usage = sum_session_usage(stats, 10, 100, 4096);

  EXPECT_EQ(2, usage.processes);
  EXPECT_DOUBLE_EQ(4.0, usage.cpu_seconds);  // (100+50+20+30+200) / 100
  EXPECT_EQ(110u * 4096u, usage.rss_bytes);
}

TEST(ProcReaderTest, ReadsAFakeProcTree) {
  ScopedTempDir dir;
  for (int pid : {100, 101, 200}) {
    std::filesystem::create_directories(dir.path() / std::to_string(pid));
  }
  std::filesystem::create_directories(dir.path() / "self");
  write_file(dir.file("100/stat"), stat_line(100, "wrapper", 'S', 1, 100, 100,
                                             10, 10, 0, 0, 5000, 1));
  write_file(dir.file("101/stat"),
             stat_line(101, "job", 'R', 100, 100, 100, 80, 0, 0, 0, 5001, 1));
  write_file(dir.file("200/stat"),
             stat_line(200, "zombie", 'Z', 1, 200, 200, 0, 0, 0, 0, 6000, 0));
  ProcReader reader(dir.path().string(), 100, 4096);

  auto stat = reader.read_stat(101);
  auto missing = reader.read_stat(555);
  TreeUsage usage = reader.session_usage(100, TimePoint{Duration{1000}});

  ASSERT_OK(stat);
  EXPECT_EQ(5001u, stat->start_ticks);
  ASSERT_FALSE(missing);
  EXPECT_EQ(ErrorCode::kNotFound, missing.error().code);
  EXPECT_EQ(3u, reader.read_all().size());
  EXPECT_DOUBLE_EQ(1.0, usage.cpu_seconds);
  EXPECT_TRUE(reader.group_has_live_process(100));
  EXPECT_FALSE(reader.group_has_live_process(200));  // Only a zombie.
}

TEST(ProcReaderTest, OneScanServesEverySampleWithTheSameNow) {
  ScopedTempDir dir;
  std::filesystem::create_directories(dir.path() / "100");
  write_file(dir.file("100/stat"),
             stat_line(100, "job", 'R', 1, 100, 100, 100, 0, 0, 0, 1, 1));
  ProcReader reader(dir.path().string(), 100, 4096);
  const TimePoint now{Duration{1000}};

  const double first = reader.session_usage(100, now).cpu_seconds;
  write_file(dir.file("100/stat"),
             stat_line(100, "job", 'R', 1, 100, 100, 300, 0, 0, 0, 1, 1));
  const double same_round = reader.session_usage(100, now).cpu_seconds;
  const double next_round =
      reader.session_usage(100, now + Duration{10}).cpu_seconds;

  EXPECT_DOUBLE_EQ(1.0, first);
  EXPECT_DOUBLE_EQ(1.0, same_round);
  EXPECT_DOUBLE_EQ(3.0, next_round);
}

TEST(ProcReaderTest, ReadsThisProcessFromTheRealProc) {
  ProcReader reader;

  auto stat = reader.read_stat(::getpid());

  ASSERT_OK(stat);
  EXPECT_EQ(::getpid(), stat->pid);
  EXPECT_GT(stat->start_ticks, 0u);
  EXPECT_TRUE(stat->alive());
}

}  // namespace
}  // namespace lowcarb::executors
