// SPDX-License-Identifier: Apache-2.0
#include "executors/job_environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

const JobUser kAlice{1001, "alice", "/home/alice", "/bin/bash"};
const JobUser kRoot{0, "root", "/root", "/bin/sh"};

TEST(JobEnvironmentTest, SubmittedVariablesPlusTheUsersOwnIdentity) {
  Environment env = job_environment({{"FOO", "bar"},
                                     {"HOME", "/forged"},
                                     {"USER", "root"},
                                     {"PATH", "/opt/bin:/usr/bin"}},
                                    kAlice);

  EXPECT_EQ("bar", env.at("FOO"));
  EXPECT_EQ("/home/alice", env.at("HOME"));
  EXPECT_EQ("alice", env.at("USER"));
  EXPECT_EQ("alice", env.at("LOGNAME"));
  EXPECT_EQ("/bin/bash", env.at("SHELL"));
  EXPECT_EQ("/opt/bin:/usr/bin", env.at("PATH"));  // Submitted PATH kept.
  EXPECT_EQ(6u, env.size());
}

TEST(JobEnvironmentTest, DefaultPathWhenNoneWasSubmitted) {
  EXPECT_EQ(kDefaultPath, job_environment({}, kAlice).at("PATH"));
  EXPECT_EQ(kDefaultPath, job_environment({{"PATH", ""}}, kAlice).at("PATH"));
}

TEST(JobEnvironmentTest, LoaderVariablesAreDroppedOnlyForRootJobs) {
  const Environment submitted = {{"LD_PRELOAD", "/home/u/m.so"},
                                 {"LD_LIBRARY_PATH", "/home/u/lib"},
                                 {"GCONV_PATH", "/home/u/gconv"},
                                 {"GLIBC_TUNABLES", "x"},
                                 {"KEEP", "1"}};
  std::vector<std::string> dropped;

  Environment as_root = job_environment(submitted, kRoot, &dropped);
  Environment as_alice = job_environment(submitted, kAlice);

  EXPECT_EQ(0u, as_root.count("LD_PRELOAD"));
  EXPECT_EQ(0u, as_root.count("LD_LIBRARY_PATH"));
  EXPECT_EQ(0u, as_root.count("GCONV_PATH"));
  EXPECT_EQ(0u, as_root.count("GLIBC_TUNABLES"));
  EXPECT_EQ("1", as_root.at("KEEP"));
  EXPECT_THAT(dropped, UnorderedElementsAre("LD_PRELOAD", "LD_LIBRARY_PATH",
                                            "GCONV_PATH", "GLIBC_TUNABLES"));
  // The user's own job may use its own loader settings.
  EXPECT_EQ("/home/u/m.so", as_alice.at("LD_PRELOAD"));
}

TEST(JobEnvironmentTest, LoaderVariableNames) {
  EXPECT_TRUE(is_loader_variable("LD_PRELOAD"));
  EXPECT_TRUE(is_loader_variable("LD_AUDIT"));
  EXPECT_TRUE(is_loader_variable("LD_ANYTHING"));
  EXPECT_TRUE(is_loader_variable("MALLOC_TRACE"));
  EXPECT_TRUE(is_loader_variable("TMPDIR"));
  EXPECT_FALSE(is_loader_variable("PATH"));
  EXPECT_FALSE(is_loader_variable("OLD_PRELOAD"));
  EXPECT_FALSE(is_loader_variable("LDFLAGS"));
}

TEST(JobEnvironmentTest, NamesThatCannotBeVariablesAreSkipped) {
  Environment env = job_environment({{"", "x"}, {"A=B", "y"}, {"OK", "z"}},
                                    JobUser{1001, "", "", ""});
  EXPECT_EQ(0u, env.count(""));
  EXPECT_EQ(0u, env.count("A=B"));
  EXPECT_EQ("z", env.at("OK"));
  EXPECT_EQ(0u, env.count("USER"));  // No passwd entry: nothing invented.
}

TEST(JobEnvironmentTest, WrapperEnvironmentIsFixed) {
  EXPECT_EQ((Environment{{"PATH", kDefaultPath}}), wrapper_environment());
}

TEST(JobEnvironmentTest, FileRoundTripsAndRejectsGarbageNamingTheFile) {
  const Environment env = {{"A", "1"}, {"B", "two words\nand a line"}};
  auto parsed = parse_environment_file(format_environment_file(env), "f");
  auto garbage = parse_environment_file("[1,2]", "/state/env-0.json");
  auto not_string = parse_environment_file(R"({"A": 1})", "/state/env-0.json");

  ASSERT_OK(parsed);
  EXPECT_EQ(env, *parsed);
  ASSERT_FALSE(garbage);
  EXPECT_THAT(garbage.error().message,
              ::testing::HasSubstr("/state/env-0.json"));
  ASSERT_FALSE(not_string);
  EXPECT_THAT(not_string.error().message, ::testing::HasSubstr("value of A"));
  EXPECT_THAT(environment_strings({{"A", "1"}, {"B", "2"}}),
              ElementsAre("A=1", "B=2"));
}

}  // namespace
}  // namespace lowcarb::executors
