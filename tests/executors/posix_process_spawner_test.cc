// SPDX-License-Identifier: Apache-2.0
// PosixProcessSpawner with real processes: which descriptors a spawned
// program inherits, and what becomes of a spawn whose caller dies (or its
// identification hook fails) before the go point. Every wait is bounded.
#include "executors/posix_process_spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using lowcarb::testing::ScopedTempDir;
using namespace std::chrono_literals;

using lowcarb::testing::eventually;

std::set<int> open_fds(pid_t pid) {
  std::set<int> fds;
  std::error_code ec;
  const auto dir = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    fds.insert(std::stoi(it->path().filename().string()));
  }
  return fds;
}

// Kills what a failed test may leave behind.
void kill_if_alive(PosixProcessSpawner& spawner,
                   const ProcessIdentity& identity) {
  if (identity.pid > 1 && spawner.is_alive(identity)) {
    (void)spawner.signal_process(identity.pid, SIGKILL);
  }
}

TEST(PosixProcessSpawnerTest, SpawnedProgramHoldsOnlyItsStandardDescriptors) {
  ScopedTempDir dir;
  // Neither close-on-exec nor closed: what a careless library in the daemon
  // might leave open.
  const int leaky_file =
      ::open(dir.file("leaky").c_str(), O_WRONLY | O_CREAT, 0644);
  int leaky_pipe[2];
  ASSERT_EQ(0, ::pipe(leaky_pipe));
  ASSERT_GE(leaky_file, 0);
  PosixProcessSpawner spawner;
  SpawnRequest request;
  request.argv = {"sleep", "10"};
  request.stdout_path = dir.file("out");

  auto identity = spawner.spawn(request);

  ASSERT_OK(identity);
  const std::set<int> standard = {0, 1, 2};
  std::set<int> fds;
  // The dynamic loader may hold a library open for a moment after exec.
  eventually([&] {
    fds = open_fds(identity->pid);
    return fds == standard;
  });
  kill_if_alive(spawner, *identity);
  ::close(leaky_file);
  ::close(leaky_pipe[0]);
  ::close(leaky_pipe[1]);
  EXPECT_EQ(standard, fds);
}

TEST(PosixProcessSpawnerTest, ProgramGetsExactlyTheRequestedEnvironment) {
  ScopedTempDir dir;
  ::setenv("LOWCARB_SPAWNER_TEST_SECRET", "only-in-the-caller", 1);
  PosixProcessSpawner spawner;
  SpawnRequest request;
  request.argv = {"/bin/sh", "-c", "env > env.txt"};
  request.working_dir = dir.path().string();
  request.env = {{"ONLY", "this"}, {"PATH", "/usr/bin:/bin"}};

  auto identity = spawner.spawn(request);
  ::unsetenv("LOWCARB_SPAWNER_TEST_SECRET");

  ASSERT_OK(identity);
  std::string env;
  eventually([&] {
    env = lowcarb::testing::read_file(dir.file("env.txt"));
    return env.find("ONLY=this") != std::string::npos;
  });
  EXPECT_NE(std::string::npos, env.find("ONLY=this\n"));
  EXPECT_EQ(std::string::npos, env.find("only-in-the-caller"));
  EXPECT_EQ(std::string::npos, env.find("LOWCARB_SPAWNER_TEST_SECRET"));
}

TEST(PosixProcessSpawnerTest, HookSeesTheProcessBeforeTheProgramRuns) {
  ScopedTempDir dir;
  PosixProcessSpawner spawner;
  SpawnRequest request;
  request.argv = {"sh", "-c", "touch ran"};
  request.working_dir = dir.path().string();
  std::optional<ProcessIdentity> seen;
  bool ran_before_go = true;
  request.on_identified = [&](const ProcessIdentity& identity) -> Status {
    seen = identity;
    // Give an escaped program time to run before we look.
    std::this_thread::sleep_for(100ms);
    ran_before_go = std::filesystem::exists(dir.file("ran"));
    return ok_status();
  };

  auto identity = spawner.spawn(request);

  ASSERT_OK(identity);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(*identity, *seen);
  EXPECT_FALSE(ran_before_go);
  EXPECT_TRUE(
      eventually([&] { return std::filesystem::exists(dir.file("ran")); }));
}

TEST(PosixProcessSpawnerTest, FailingHookMeansTheProgramNeverRuns) {
  ScopedTempDir dir;
  PosixProcessSpawner spawner;
  SpawnRequest request;
  request.argv = {"sh", "-c", "touch ran"};
  request.working_dir = dir.path().string();
  ProcessIdentity seen;
  request.on_identified = [&](const ProcessIdentity& identity) -> Status {
    seen = identity;
    return make_error(ErrorCode::kUnavailable, "disk full");
  };

  auto identity = spawner.spawn(request);

  ASSERT_FALSE(identity);
  EXPECT_EQ(ErrorCode::kUnavailable, identity.error().code);
  EXPECT_NE(std::string::npos, identity.error().message.find("disk full"));
  EXPECT_TRUE(eventually([&] { return !spawner.is_alive(seen); }));
  kill_if_alive(spawner, seen);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(std::filesystem::exists(dir.file("ran")));
}

// The daemon is killed between identifying the new process and letting it
// exec. The process must exit at once without running the program, and must
// not keep the daemon's state lock (or any other descriptor) alive.
TEST(PosixProcessSpawnerTest, CallerDyingBeforeGoLeavesNothingRunningOrOpen) {
  ScopedTempDir dir;
  const std::string lock_path = dir.file("lowcarb.lock");
  int report[2];
  ASSERT_EQ(0, ::pipe2(report, O_CLOEXEC));
  const pid_t daemon = ::fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    ::close(report[0]);
    // Like the daemon: a locked state file, plus a descriptor leaked
    // without close-on-exec.
    const int lock =
        ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
      ::_exit(2);
    }
    (void)::open(dir.file("leaky").c_str(), O_WRONLY | O_CREAT, 0644);
    PosixProcessSpawner spawner;
    SpawnRequest request;
    request.argv = {"sh", "-c", "touch ran"};
    request.working_dir = dir.path().string();
    request.on_identified = [&](const ProcessIdentity& identity) -> Status {
      ssize_t ignored = ::write(report[1], &identity, sizeof identity);
      (void)ignored;
      ::_exit(0);  // "SIGKILL" before the go byte.
    };
    (void)spawner.spawn(request);
    ::_exit(3);
  }
  ::close(report[1]);
  ProcessIdentity job;
  const ssize_t got = ::read(report[0], &job, sizeof job);
  ::close(report[0]);
  int status = 0;
  ::waitpid(daemon, &status, 0);
  ASSERT_EQ(static_cast<ssize_t>(sizeof job), got);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(0, WEXITSTATUS(status));
  PosixProcessSpawner spawner;

  const bool exited = eventually([&] { return !spawner.is_alive(job); });
  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  const bool lock_free =
      eventually([&] { return ::flock(lock, LOCK_EX | LOCK_NB) == 0; }, 2000ms);
  kill_if_alive(spawner, job);
  ::close(lock);

  EXPECT_TRUE(exited) << "pid " << job.pid << " still waits for its go byte";
  EXPECT_TRUE(lock_free) << "the dead daemon's lock is still held";
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(std::filesystem::exists(dir.file("ran")));
}

}  // namespace
}  // namespace lowcarb::executors
