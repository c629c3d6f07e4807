// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/rapl_meter.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::executors {
namespace {

using lowcarb::testing::ScopedTempDir;
using lowcarb::testing::write_file;
using ::testing::HasSubstr;

const TimePoint kStart{Duration{1'800'000'000}};

// Builds a powercap tree like a two-socket server with DRAM domains, psys,
// and the intel-rapl-mmio duplicate of package-0.
class RaplMeterTest : public ::testing::Test {
 protected:
  void zone(const std::string& dir, const std::string& name, uint64_t uj,
            uint64_t max_uj = 262143328850) {
    std::filesystem::create_directories(temp_.path() / dir);
    write_file(temp_.file(dir + "/name"), name + "\n");
    set(dir, uj);
    write_file(temp_.file(dir + "/max_energy_range_uj"),
               std::to_string(max_uj) + "\n");
  }
  void set(const std::string& dir, uint64_t uj) {
    write_file(temp_.file(dir + "/energy_uj"), std::to_string(uj) + "\n");
  }
  void server() {
    std::filesystem::create_directories(temp_.path() / "intel-rapl");
    zone("intel-rapl:0", "package-0", 1'000'000);
    zone("intel-rapl:0:0", "core", 500'000);
    zone("intel-rapl:0:1", "dram", 100'000);
    zone("intel-rapl:1", "package-1", 2'000'000);
    zone("intel-rapl:1:0", "dram", 200'000);
    zone("intel-rapl:2", "psys", 9'000'000);
    zone("intel-rapl-mmio:0", "package-0", 1'000'000);
  }
  std::string root() const { return temp_.path().string(); }

  ScopedTempDir temp_;
};

TEST_F(RaplMeterTest, CountsPackagesAndDramOnceAndNeverPsys) {
  server();

  auto domains = discover_rapl_domains(root(), RaplOptions{});

  ASSERT_OK(domains);
  std::vector<std::string> zones;
  for (const auto& d : *domains) {
    zones.push_back(d.zone + "=" + d.package + "/" + d.name);
  }
  EXPECT_THAT(
      zones, ::testing::UnorderedElementsAre("intel-rapl:0=package-0/package-0",
                                             "intel-rapl:0:1=package-0/dram",
                                             "intel-rapl:1=package-1/package-1",
                                             "intel-rapl:1:0=package-1/dram"));
}

TEST_F(RaplMeterTest, DramCanBeLeftOut) {
  server();

  auto domains = discover_rapl_domains(root(), RaplOptions{false});

  ASSERT_OK(domains);
  EXPECT_EQ(2u, domains->size());
}

TEST_F(RaplMeterTest, SampleReportsJoulesSinceThePreviousSample) {
  server();
  auto meter = RaplMeter::create(root());
  ASSERT_OK(meter);

  auto first = (*meter)->sample(kStart);
  set("intel-rapl:0", 11'000'000);       // +10 J
  set("intel-rapl-mmio:0", 11'000'000);  // The same counter; not added.
  set("intel-rapl:1", 7'000'000);        // +5 J
  set("intel-rapl:0:1", 1'100'000);      // +1 J dram
  set("intel-rapl:2", 99'000'000);       // psys; ignored
  auto second = (*meter)->sample(kStart + Duration{10});

  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_DOUBLE_EQ(0, first->joules());
  EXPECT_DOUBLE_EQ(15, second->joules_cpu);
  EXPECT_DOUBLE_EQ(1, second->joules_ram);
  EXPECT_EQ("rapl", second->source);
  EXPECT_EQ(kStart, second->start);
}

TEST_F(RaplMeterTest, HandlesCounterWraparound) {
  zone("intel-rapl:0", "package-0", 9'000'000, 10'000'000);
  auto meter = RaplMeter::create(root());
  ASSERT_OK(meter);

  ASSERT_OK((*meter)->sample(kStart));
  set("intel-rapl:0", 500'000);  // 1 J to the top, then 0.5 J.
  auto sample = (*meter)->sample(kStart + Duration{10});

  ASSERT_OK(sample);
  EXPECT_DOUBLE_EQ(1.5, sample->joules_cpu);
}

TEST(RaplCounterDeltaTest, WrapsAtTheMaximumRange) {
  EXPECT_EQ(100u, rapl_counter_delta(900, 1000, 5000));
  EXPECT_EQ(600u, rapl_counter_delta(4900, 500, 5000));
  EXPECT_EQ(500u, rapl_counter_delta(4900, 500, 0));  // Unknown: a reset.
}

TEST_F(RaplMeterTest, NoRaplIsNotFound) {
  auto meter = RaplMeter::create(root() + "/missing");

  ASSERT_FALSE(meter);
  EXPECT_EQ(ErrorCode::kNotFound, meter.error().code);
}

TEST_F(RaplMeterTest, VanishedCounterIsAnErrorNotZero) {
  zone("intel-rapl:0", "package-0", 1'000'000);
  auto meter = RaplMeter::create(root());
  ASSERT_OK(meter);
  ASSERT_OK((*meter)->sample(kStart));

  std::filesystem::remove(temp_.file("intel-rapl:0/energy_uj"));
  auto sample = (*meter)->sample(kStart + Duration{10});

  ASSERT_FALSE(sample);
  EXPECT_THAT(sample.error().message, HasSubstr("energy_uj"));
}

// Root reads any file, so the unreadable counter is checked from a child
// that has dropped to `nobody`.
TEST_F(RaplMeterTest, UnreadableCounterReportsTheFix) {
  zone("intel-rapl:0", "package-0", 1'000'000);
  std::filesystem::permissions(temp_.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(temp_.file("intel-rapl:0/energy_uj"),
                               std::filesystem::perms::none);
  int pipe_fds[2];
  ASSERT_EQ(0, ::pipe(pipe_fds));

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      _exit(2);
    }
    auto meter = RaplMeter::create(root());
    std::string text = meter
                           ? std::string("ok")
                           : std::string(error_code_name(meter.error().code)) +
                                 "|" + meter.error().message;
    ssize_t ignored = ::write(pipe_fds[1], text.data(), text.size());
    (void)ignored;
    _exit(0);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[512];
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);

  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(text, HasSubstr("permission denied"));
  EXPECT_THAT(text, HasSubstr("chmod a+r"));
  EXPECT_THAT(text, HasSubstr("run the lowcarb daemon as root"));
}

}  // namespace
}  // namespace lowcarb::executors
