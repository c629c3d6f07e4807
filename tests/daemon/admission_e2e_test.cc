// SPDX-License-Identifier: Apache-2.0
// Capacity admission (issue 13) through the real daemon and the real CLI: a
// zone with one slot, a long job holding it, and a second job whose
// deadline that slot cannot meet. `lowcarb submit` refuses it (non-zero
// exit, the error names the deadline and the capacity), admits it with
// `--allow-late` (with a warning), and `lowcarb list` shows exactly the
// accepted jobs.
#include <chrono>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class AdmissionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    const auto now = std::chrono::floor<std::chrono::seconds>(
        std::chrono::system_clock::now());
    // A flat grid: every job's cheapest start is as early as a slot allows.
    write_file(dir_.file("intensity.csv"),
               intensity_csv(now, 72, {"DE"},
                             [](const std::string&, int) { return 300.0; }));
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
state_dir: {}
providers:
  testfile:
    type: file
    path: {}
zones:
  - id: DE
    providers: [testfile]
    executor: local
    capacity: 1
daemon:
  poll_period: 1s
)",
                           dir_.file("state"), dir_.file("intensity.csv")));
    env_ = {{"XDG_STATE_HOME", dir_.file("xdg")},
            {"HOME", dir_.file("home")},
            {"LOWCARB_SOCKET", ""}};
    std::filesystem::create_directories(dir_.file("run"));
    DaemonLaunch launch;
    launch.config_path = dir_.file("lowcarb.yaml");
    launch.state_dir = dir_.file("state");
    launch.socket_path = dir_.file("run/lowcarb.sock");
    launch.log_path = dir_.file("daemon.log");
    daemon_ = std::make_unique<DaemonProcess>(launch);
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      daemon_->stop();
    }
  }

  CliRun submit(const std::string& name, const std::string& duration,
                const std::string& deadline, bool allow_late = false) {
    std::vector<std::string> args = {"--config",
                                     dir_.file("lowcarb.yaml"),
                                     "submit",
                                     "--socket",
                                     dir_.file("run/lowcarb.sock"),
                                     "--name",
                                     name,
                                     "--duration",
                                     duration,
                                     "--deadline",
                                     deadline,
                                     "--zone",
                                     "DE",
                                     "--policy",
                                     "flexible-start"};
    if (allow_late) {
      args.push_back("--allow-late");
    }
    for (const char* word : {"--", "sleep", "30"}) {
      args.push_back(word);
    }
    return run_lowcarb(args, env_);
  }

  ScopedTempDir dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(AdmissionE2eTest, RefusesADeadlineTheSlotCannotMeetUnlessAllowedLate) {
  // The slot is taken for the next 4 h (planned, then running).
  CliRun holder = submit("holder", "4h", "+6h");
  ASSERT_EQ(0, holder.status) << holder.err;

  // 2 h of work due in 3 h: the only slot frees at +4 h.
  const std::string deadline =
      format_utc(std::chrono::floor<std::chrono::seconds>(
                     std::chrono::system_clock::now()) +
                 std::chrono::hours(3));
  CliRun refused = submit("refused", "2h", deadline);
  CliRun late = submit("late", "2h", deadline, /*allow_late=*/true);

  EXPECT_NE(0, refused.status) << refused.out;
  EXPECT_THAT(refused.err, HasSubstr("deadline " + deadline));
  EXPECT_THAT(refused.err, HasSubstr("capacity"));
  EXPECT_THAT(refused.err, HasSubstr("1 slots"));
  EXPECT_THAT(refused.err, HasSubstr("--allow-late"));
  ASSERT_EQ(0, late.status) << late.err;
  EXPECT_THAT(late.err, HasSubstr("warning"));
  EXPECT_THAT(late.err, HasSubstr("admitted with --allow-late"));

  CliRun list =
      run_lowcarb({"--config", dir_.file("lowcarb.yaml"), "list", "--all",
                   "--json", "--socket", dir_.file("run/lowcarb.sock")},
                  env_);
  ASSERT_EQ(0, list.status) << list.err;
  std::vector<std::string> names;
  const json doc = json::parse(list.out);
  for (const auto& job : doc.at("jobs")) {
    names.push_back(job.at("name").get<std::string>());
  }
  EXPECT_THAT(names, UnorderedElementsAre("holder", "late")) << list.out;
}

}  // namespace
}  // namespace lowcarb::testing
