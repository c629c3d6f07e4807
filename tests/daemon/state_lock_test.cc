// SPDX-License-Identifier: Apache-2.0
#include "scheduler/state_lock.h"

#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using ::testing::HasSubstr;

// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(StateLockTest, SecondLockOnTheSameDirectoryFails) {
  testing::ScopedTempDir dir;
  auto first = StateLock::acquire(dir.path().string());
  ASSERT_OK(first);

  auto second = StateLock::acquire(dir.path().string());

  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(ErrorCode::kConflict, second.error().code);
  EXPECT_THAT(second.error().message,
              HasSubstr("pid " + std::to_string(::getpid())));
  EXPECT_THAT(second.error().message, HasSubstr(dir.file("lowcarb.lock")));
}

TEST(StateLockTest, LockIsFreeAgainAfterACleanRelease) {
  testing::ScopedTempDir dir;
  { ASSERT_OK(StateLock::acquire(dir.path().string())); }

  auto again = StateLock::acquire(dir.path().string());

  ASSERT_OK(again);
  EXPECT_FALSE((*again)->stale_pid().has_value());
  EXPECT_EQ("", (*again)->stale_description());
}

TEST(StateLockTest, StaleLockOfADeadDaemonIsTakenOverAndReported) {
  testing::ScopedTempDir dir;
  pid_t dead = dead_pid();
  testing::write_file(dir.file("lowcarb.lock"), std::to_string(dead) + "\n");

  auto lock = StateLock::acquire(dir.path().string());

  ASSERT_OK(lock);
  EXPECT_EQ(std::optional<long>(dead), (*lock)->stale_pid());
  EXPECT_THAT(
      (*lock)->stale_description(),
      HasSubstr("pid " + std::to_string(dead) + " did not shut down cleanly"));
  EXPECT_EQ(std::to_string(::getpid()) + "\n",
            testing::read_file(dir.file("lowcarb.lock")));
}

TEST(StateLockTest, LockHeldByAnotherProcessFails) {
  testing::ScopedTempDir dir;
  int ready[2];
  int release[2];
  ASSERT_EQ(0, ::pipe(ready));
  ASSERT_EQ(0, ::pipe(release));
  pid_t child = ::fork();
  if (child == 0) {
    auto lock = StateLock::acquire(dir.path().string());
    char c = lock ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(1, ::read(ready[0], &c, 1));
  ASSERT_EQ('y', c);

  auto mine = StateLock::acquire(dir.path().string());

  c = 'x';
  (void)!::write(release[1], &c, 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_FALSE(mine.has_value());
  EXPECT_THAT(mine.error().message, HasSubstr("pid " + std::to_string(child)));
}

}  // namespace
}  // namespace lowcarb::scheduler
