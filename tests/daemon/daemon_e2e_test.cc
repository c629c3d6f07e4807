// SPDX-License-Identifier: Apache-2.0
// End to end: the real `lowcarb daemon` process, its real socket and SQLite
// file, local jobs as real processes, time compressed with --clock-speed.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"
#include "common/time_format.h"
#include "scheduler/api/api_client.h"
#include "scheduler/api/protocol.h"
#include "tests/daemon/daemon_process.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kSpeed = 3600;  // One scheduled hour per real second.
constexpr auto kWait = std::chrono::seconds(30);

class DaemonE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    work_ = dir_.file("work");
    std::filesystem::create_directories(work_);
    std::filesystem::permissions(work_, std::filesystem::perms(0777));
    // DE: dirty for the next two hours, then clean. FR: always clean.
    write_file(dir_.file("intensity.csv"),
               intensity_csv(real_now(), 72, {"DE", "FR"},
                             [](const std::string& zone, int hour) {
                               if (zone == "FR") {
                                 return 50.0;
                               }
                               return hour < 2 ? 500.0 : 80.0;
                             }));
    write_config("");
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      daemon_->stop();
    }
  }

  void write_config(const std::string& extra_daemon,
                    const std::string& extra_providers = "",
                    const std::string& de_providers = "[testfile]") {
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
logging:
  level: debug
providers:
  testfile:
    type: file
    path: {}
{}
zones:
  - id: DE
    providers: {}
    executor: local
  - id: FR
    providers: [testfile]
    executor: local
planner:
  replan_period: 15m
  safety_margin: 10m
daemon:
  poll_period: 1s
  sample_period: 1m
  max_request_bytes: 65536
{}
)",
                           dir_.file("intensity.csv"), extra_providers,
                           de_providers, extra_daemon));
  }

  DaemonLaunch launch() {
    DaemonLaunch l;
    l.config_path = dir_.file("lowcarb.yaml");
    l.state_dir = dir_.file("state");
    std::filesystem::create_directories(dir_.file("run"));
    std::filesystem::permissions(dir_.file("run"),
                                 std::filesystem::perms(0755));
    l.socket_path = dir_.file("run/lowcarb.sock");
    l.log_path = dir_.file("daemon.log");
    l.clock_speed = kSpeed;
    return l;
  }

  void start(DaemonLaunch l) {
    daemon_ = std::make_unique<DaemonProcess>(std::move(l));
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
  }

  json submit(json request) {
    request["op"] = "submit";
    if (!request.contains("working_dir")) {
      request["working_dir"] = work_;
    }
    auto job = daemon_->call(request);
    EXPECT_TRUE(job.has_value()) << job.error().message;
    return job ? *job : json();
  }

  json show(const std::string& id) {
    auto job = daemon_->call({{"op", "show"}, {"id", id}});
    EXPECT_TRUE(job.has_value()) << job.error().message;
    return job ? *job : json();
  }

  bool reaches(const std::string& id, const std::string& state) {
    return daemon_->reaches(id, state, kWait);
  }

  // The error a raw request line gets; the connection is new each time.
  Error refusal(const std::string& line) {
    auto client =
        scheduler::api::ApiClient::connect(daemon_->launch().socket_path);
    if (!client) {
      return client.error();
    }
    auto answer = (*client)->call_raw(line);
    if (!answer) {
      return answer.error();
    }
    auto parsed = scheduler::api::parse_response(*answer);
    EXPECT_FALSE(parsed.has_value()) << "accepted: " << line;
    return parsed ? Error{ErrorCode::kInternal, "accepted"} : parsed.error();
  }

  ScopedTempDir dir_;
  std::string work_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(DaemonE2eTest, JobStartsAtItsPlannedCleanHourAndSucceeds) {
  start(launch());

  json job = submit({{"name", "waits"},
                     // Runs one real second = one scheduled hour, so the
                     // tracker meters it while it runs.
                     {"argv", {"sh", "-c", "sleep 1; echo ran >> marker"}},
                     {"duration", 3600},
                     {"zones", {"DE"}},
                     {"power_watts", 200},
                     {"deadline", "+12h"}});
  ASSERT_TRUE(job.contains("id"));
  const std::string id = job["id"];
  const TimePoint planned =
      *parse_time(job["planned_start"].get<std::string>());
  const TimePoint submitted =
      *parse_time(job["submitted_at"].get<std::string>());

  // DE is dirty for the next two hours: the plan waits for the clean hour.
  EXPECT_GE(planned - submitted, std::chrono::minutes(55));
  EXPECT_EQ("queued", job["state"]);
  ASSERT_TRUE(reaches(id, "succeeded")) << daemon_->log();
  json done = show(id);
  EXPECT_GE(*parse_time(done["started_at"].get<std::string>()), planned);
  EXPECT_EQ("ran\n", read_file(work_ + "/marker"));
  EXPECT_GE(done["history"].size(), 3u);

  auto report = daemon_->call({{"op", "report"}});
  ASSERT_OK(report);
  EXPECT_GE((*report)["job_count"].get<int>(), 1);
  EXPECT_GT((*report)["kwh"].get<double>(), 0);
}

TEST_F(DaemonE2eTest, CleanZoneJobStartsAtOnce) {
  start(launch());

  json job = submit({{"argv", {"sh", "-c", "echo now >> fr"}},
                     {"duration", 600},
                     {"zones", {"FR"}},
                     {"deadline", "+12h"}});
  const std::string id = job["id"];

  ASSERT_TRUE(reaches(id, "succeeded")) << daemon_->log();
  EXPECT_EQ("now\n", read_file(work_ + "/fr"));
}

TEST_F(DaemonE2eTest, PausesResumesAndCancelsARunningInterruptibleJob) {
  start(launch());
  json job = submit({{"argv", {"sh", "-c", "echo start >> p; sleep 60"}},
                     {"duration", 36000},
                     {"interruptible", true},
                     {"zones", {"FR"}},
                     {"deadline", "+48h"}});
  const std::string id = job["id"];
  ASSERT_TRUE(reaches(id, "running")) << daemon_->log();
  ASSERT_TRUE(
      wait_until([&] { return read_file(work_ + "/p") == "start\n"; }, kWait));

  auto paused = daemon_->call({{"op", "pause"}, {"id", id}});
  ASSERT_OK(paused);
  EXPECT_EQ("paused", (*paused)["state"]);
  auto resumed = daemon_->call({{"op", "resume"}, {"id", id}});
  ASSERT_OK(resumed);
  EXPECT_EQ("running", (*resumed)["state"]);
  auto cancelled = daemon_->call({{"op", "cancel"}, {"id", id}});
  ASSERT_OK(cancelled);

  EXPECT_EQ("cancelled", (*cancelled)["state"]);
  EXPECT_EQ("start\n", read_file(work_ + "/p"));  // Stopped, never restarted.
}

TEST_F(DaemonE2eTest, CancelsAQueuedJobBeforeItStarts) {
  start(launch());
  json job = submit({{"argv", {"sh", "-c", "echo never >> q"}},
                     {"duration", 600},
                     {"zones", {"DE"}},
                     {"deadline", "+40h"}});
  const std::string id = job["id"];

  auto cancelled = daemon_->call({{"op", "cancel"}, {"id", id}});

  ASSERT_OK(cancelled);
  EXPECT_EQ("cancelled", (*cancelled)["state"]);
  auto all = daemon_->call({{"op", "list"}, {"all", true}});
  ASSERT_OK(all);
  EXPECT_EQ("cancelled", (*all)["jobs"][0]["state"]);
  EXPECT_FALSE(std::filesystem::exists(work_ + "/q"));
}

TEST_F(DaemonE2eTest, BadRequestsGetClearErrorsAndTheDaemonKeepsServing) {
  start(launch());
  const std::string good_tail =
      R"("argv":["true"],"duration":60,"deadline":"+2h")";

  struct Case {
    std::string line;
    std::string expected;
  };
  const Case cases[] = {
      {R"({"op":"submit",)", "malformed JSON"},
      {"\x01\x02garbage", "malformed JSON"},
      {R"({"op":"submit","colour":"green",)" + good_tail + "}",
       "unknown field 'colour'"},
      {R"({"op":"submit","argv":["true"],"duration":0,"deadline":"+2h"})",
       "'duration': must be positive"},
      {R"({"op":"submit","argv":["true"],"duration":"900d","deadline":"+2h"})",
       "longer than the limit"},
      {R"({"op":"submit","argv":["true"],"duration":60,"deadline":"+3000d"})",
       "'deadline'"},
      {R"({"op":"submit","argv":["true"],"duration":60,"deadline":"-1h"})",
       "in the past"},
      {R"({"op":"submit","argv":["true"],"duration":60,"earliest":"+5h","deadline":"+2h"})",
       "after the deadline"},
      {R"({"op":"submit","zones":["XX"],)" + good_tail + "}",
       "unknown zone 'XX'"},
      {R"({"op":"submit","duration":60,"deadline":"+2h"})", "missing command"},
      {R"({"op":"launch"})", "unknown op 'launch'"},
  };
  for (const auto& c : cases) {
    Error error = refusal(c.line);
    EXPECT_EQ(ErrorCode::kInvalidArgument, error.code) << c.line;
    EXPECT_THAT(error.message, HasSubstr(c.expected)) << c.line;
  }
  Error huge =
      refusal(R"({"op":"submit","name":")" + std::string(200000, 'x') + "\"}");
  EXPECT_THAT(huge.message, HasSubstr("larger than the limit of 65536 bytes"));

  auto ping = daemon_->call({{"op", "ping"}});
  ASSERT_OK(ping);
  EXPECT_TRUE((*ping)["pong"].get<bool>());
  EXPECT_TRUE(daemon_->running());
}

TEST_F(DaemonE2eTest, CliReportsAnUnreachableDaemonWithExit3AndThePath) {
  const std::string path = dir_.file("nowhere.sock");

  CliRun run = run_lowcarb({"list", "--socket", path});

  EXPECT_EQ(3, run.status);
  EXPECT_THAT(run.err, HasSubstr(path));
}

TEST_F(DaemonE2eTest, CliSubmitListShowAndCancelThroughTheSocket) {
  start(launch());
  const std::string socket = daemon_->launch().socket_path;

  CliRun submitted =
      run_lowcarb({"submit", "--socket", socket, "--quiet", "--duration", "10m",
                   "--deadline", "+30h", "--zone", "DE", "--", "true"});
  ASSERT_EQ(0, submitted.status) << submitted.err;
  std::string id(trim(submitted.out));
  CliRun listed = run_lowcarb({"list", "--socket", socket});
  CliRun shown = run_lowcarb({"show", "--socket", socket, id, "--json"});
  CliRun bad = run_lowcarb({"submit", "--socket", socket, "--duration", "1h",
                            "--deadline", "+2h", "--zone", "XX", "--", "true"});
  CliRun cancelled = run_lowcarb({"cancel", "--socket", socket, id});

  EXPECT_EQ(0, listed.status) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr(id));
  EXPECT_THAT(listed.out, HasSubstr("queued"));
  EXPECT_EQ(0, shown.status) << shown.err;
  EXPECT_EQ(id, json::parse(shown.out)["id"]);
  EXPECT_EQ(2, bad.status);
  EXPECT_THAT(bad.err, HasSubstr("unknown zone 'XX'"));
  EXPECT_EQ(0, cancelled.status) << cancelled.err;
  EXPECT_THAT(cancelled.out, HasSubstr("cancelled"));
}

// A `lowcarb` child that runs while the test watches it; its stdout and
// stderr go to files. Killed (SIGKILL) if still running when destroyed, so a
// command that never ends cannot outlive its test.
class CliChild {
 public:
  CliChild(const std::vector<std::string>& args, const std::string& out_path,
           const std::string& err_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || err < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
          ::dup2(err, STDERR_FILENO) < 0) {
        ::_exit(126);
      }
      std::vector<std::string> all = {lowcarb_binary()};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  CliChild(const CliChild&) = delete;
  CliChild& operator=(const CliChild&) = delete;
  ~CliChild() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  bool started() const { return pid_ > 0; }

  bool running() {
    if (pid_ <= 0 || exit_status_) {
      return false;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return false;
    }
    return true;
  }

  // The exit status once the child has ended within `timeout`; nullopt
  // while it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    wait_until([&] { return !running(); }, timeout);
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

TEST_F(DaemonE2eTest, LogsFollowStreamsOutputAndExitsWhenTheJobEnds) {
  start(launch());
  const std::string socket = daemon_->launch().socket_path;
  json job = submit({{"argv", {"sh", "-c", "echo first; sleep 2; echo second"}},
                     // Ten real seconds: the job never overruns its estimate.
                     {"duration", 36000},
                     {"zones", {"FR"}},
                     {"deadline", "+48h"}});
  ASSERT_TRUE(job.contains("id"));
  const std::string id = job["id"];
  ASSERT_TRUE(reaches(id, "running")) << daemon_->log();
  const std::string out = dir_.file("follow.out");
  const std::string err = dir_.file("follow.err");

  CliChild follow(
      {"logs", "--socket", socket, id, "--follow", "--interval", "0.1"}, out,
      err);
  ASSERT_TRUE(follow.started());

  // The first line arrives while the job still sleeps, so it was streamed
  // rather than read once at the end.
  ASSERT_TRUE(wait_until(
      [&] { return read_file(out).find("first\n") != std::string::npos; },
      kWait))
      << "out: " << read_file(out) << "\nerr: " << read_file(err);
  EXPECT_EQ("first\n", read_file(out));
  EXPECT_TRUE(follow.running());
  // Once the job has ended, the follower prints the rest and exits by itself.
  std::optional<int> status = follow.wait_exit(std::chrono::seconds(15));
  ASSERT_TRUE(status.has_value())
      << "still following 15 s later; out: " << read_file(out)
      << "\njob: " << show(id).dump();
  EXPECT_EQ(0, *status) << read_file(err);
  EXPECT_EQ("first\nsecond\n", read_file(out));
  EXPECT_EQ("succeeded", show(id)["state"]);
}

TEST_F(DaemonE2eTest, SecondDaemonOnTheSameStateDirectoryIsRefused) {
  start(launch());
  DaemonLaunch other = launch();
  other.socket_path = dir_.file("run/other.sock");
  other.log_path = dir_.file("other.log");
  DaemonProcess second(other);

  std::string why;
  EXPECT_FALSE(second.start(why, std::chrono::seconds(10)));

  EXPECT_THAT(second.log(), HasSubstr("another lowcarb daemon (pid " +
                                      std::to_string(daemon_->pid())));
  EXPECT_OK(daemon_->call({{"op", "ping"}}));
}

TEST_F(DaemonE2eTest, InvalidConfigurationOnSighupKeepsTheRunningOne) {
  start(launch());
  write_file(dir_.file("lowcarb.yaml"), "zones: [ this is not yaml");

  daemon_->signal(SIGHUP);

  ASSERT_TRUE(wait_until(
      [&] { return daemon_->log().find("reload failed") != std::string::npos; },
      kWait))
      << daemon_->log();
  json job = submit({{"argv", {"true"}},
                     {"duration", 60},
                     {"zones", {"FR"}},
                     {"deadline", "+2h"}});
  EXPECT_TRUE(job.contains("id"));
}

TEST_F(DaemonE2eTest,
       GracefulStopLeavesRunningJobsRunningAndRestartAdoptsThem) {
  start(launch());
  json job = submit({{"argv", {"sh", "-c", "sleep 2; echo done >> adopted"}},
                     {"duration", 600},
                     {"zones", {"FR"}},
                     {"deadline", "+12h"}});
  const std::string id = job["id"];
  ASSERT_TRUE(reaches(id, "running")) << daemon_->log();

  EXPECT_EQ(0, daemon_->stop());
  start(launch());

  ASSERT_TRUE(reaches(id, "succeeded")) << daemon_->log();
  EXPECT_EQ("done\n", read_file(work_ + "/adopted"));
}

TEST_F(DaemonE2eTest, HttpApiRefusesRequestsWithoutTheToken) {
  const int port = free_loopback_port();
  write_file(dir_.file("token"), "s3cret-http-token\n");
  ::chmod(dir_.file("token").c_str(), 0600);
  DaemonLaunch l = launch();
  l.extra_args = {"--http", fmt::format("127.0.0.1:{}", port),
                  "--http-token-file", dir_.file("token")};
  start(l);

  HttpAnswer none = http_request(port, "GET", "/metrics", "");
  HttpAnswer wrong = http_request(port, "GET", "/metrics", "s3cret-http-tokem");
  HttpAnswer metrics =
      http_request(port, "GET", "/metrics", "s3cret-http-token");
  HttpAnswer submitted = http_request(
      port, "POST", "/jobs", "s3cret-http-token",
      R"({"argv":["true"],"duration":60,"deadline":"+2h","zones":["DE"]})");
  HttpAnswer bad = http_request(port, "POST", "/jobs", "s3cret-http-token",
                                R"({"argv":["true"],"duration":60})");

  EXPECT_EQ(401, none.status);
  EXPECT_EQ(401, wrong.status);
  EXPECT_EQ(200, metrics.status);
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE lowcarb_jobs gauge"));
  EXPECT_EQ(200, submitted.status) << submitted.body;
  EXPECT_EQ(400, bad.status);
  EXPECT_THAT(bad.body, HasSubstr("missing field 'deadline'"));
  EXPECT_THAT(daemon_->log(), Not(HasSubstr("s3cret-http-token")));
}

TEST_F(DaemonE2eTest, HttpApiListensOnLoopbackOnly) {
  write_file(dir_.file("token"), "tok-tok-tok\n");
  ::chmod(dir_.file("token").c_str(), 0600);
  DaemonLaunch l = launch();
  l.extra_args = {"--http", "0.0.0.0:8787", "--http-token-file",
                  dir_.file("token")};
  DaemonProcess daemon(l);

  std::string why;
  EXPECT_FALSE(daemon.start(why, std::chrono::seconds(10)));
  EXPECT_THAT(daemon.log(), HasSubstr("loopback addresses only"));
}

TEST_F(DaemonE2eTest, ProviderTokenNeverAppearsInTheLog) {
  const std::string token = "lowcarb-e2e-secret-token-4242";
  const int dead_port = free_loopback_port();
  write_config("",
               fmt::format(R"(  em:
    type: electricitymaps
    base_url: http://127.0.0.1:{}
    token_env: LOWCARB_E2E_TOKEN
    retries: 0
    timeout: 1s)",
                           dead_port),
               "[em, testfile]");
  DaemonLaunch l = launch();
  l.env["LOWCARB_E2E_TOKEN"] = token;
  start(l);

  json job = submit({{"argv", {"true"}},
                     {"duration", 60},
                     {"zones", {"DE"}},
                     {"deadline", "+6h"}});
  ASSERT_TRUE(job.contains("id"));
  // The provider is asked on the daemon's forecast worker, off the loop: the
  // submit is answered first (from the local chain), the failure comes after.
  (void)wait_until(
      [&] {
        return daemon_->log().find("provider em failed") != std::string::npos;
      },
      kWait);
  daemon_->stop();

  const std::string log = daemon_->log();
  // The provider was asked (and failed) with the token, and that was logged.
  EXPECT_THAT(log, HasSubstr(fmt::format("127.0.0.1:{}", dead_port)));
  EXPECT_THAT(log, HasSubstr("provider em failed"));
  EXPECT_THAT(log, Not(HasSubstr(token)));
}

// Runs `body` in a child process as `nobody`; returns its exit status.
int as_nobody(const std::function<int()>& body) {
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) {
    return 99;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(nobody->pw_gid) != 0 ||
        ::setuid(nobody->pw_uid) != 0) {
      ::_exit(98);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 97;
}

TEST_F(DaemonE2eTest, OtherUsersCannotSeeOrTouchAJobAndTheirJobsRunAsThem) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to act as a second user (nobody)";
  }
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nullptr, nobody);
  const group* nogroup = ::getgrgid(nobody->pw_gid);
  ASSERT_NE(nullptr, nogroup);
  write_config(fmt::format("  socket_group: {}", nogroup->gr_name));
  start(launch());
  json roots = submit({{"argv", {"true"}},
                       {"duration", 600},
                       {"zones", {"DE"}},
                       {"deadline", "+30h"}});
  const std::string id = roots["id"];
  const std::string socket = daemon_->launch().socket_path;
  const std::string work = work_;

  int status = as_nobody([&] {
    auto call = [&](const json& request) {
      auto client = scheduler::api::ApiClient::connect(socket);
      if (!client) {
        ::_exit(10);
      }
      return (*client)->call(request);
    };
    auto listed = call({{"op", "list"}, {"all", true}});
    if (!listed || !(*listed)["jobs"].empty()) {
      return 11;
    }
    for (const char* op : {"show", "cancel", "pause", "logs"}) {
      auto answer = call({{"op", op}, {"id", id}});
      if (answer || answer.error().code != ErrorCode::kNotFound) {
        return 12;
      }
    }
    // The CLI too: `lowcarb logs` of root's job fails (exit 1, not found)
    // and prints none of it.
    CliRun logs = run_lowcarb({"logs", "--socket", socket, id});
    if (logs.status != 1 || !logs.out.empty()) {
      return 14;
    }
    auto mine = call({{"op", "submit"},
                      {"argv", {"sh", "-c", "id -u > whoami"}},
                      {"working_dir", work},
                      {"duration", 60},
                      {"zones", {"FR"}},
                      {"deadline", "+2h"}});
    if (!mine) {
      return 13;
    }
    return 0;
  });

  EXPECT_EQ(0, status);
  EXPECT_EQ("queued", show(id)["state"]);
  ASSERT_TRUE(wait_until(
      [&] { return std::filesystem::exists(work_ + "/whoami"); }, kWait))
      << daemon_->log();
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file(work_ + "/whoami").find('\n') != std::string::npos;
      },
      kWait));
  EXPECT_EQ(std::to_string(nobody->pw_uid) + "\n",
            read_file(work_ + "/whoami"));
}

}  // namespace
}  // namespace lowcarb::testing
