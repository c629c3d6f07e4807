// SPDX-License-Identifier: Apache-2.0
// Privilege separation and secrets, end to end (issue 11): the real daemon
// running as root, real second and third Unix users (lcsec_a, lcsec_b,
// created by useradd here and removed afterwards), real jobs, the real
// socket and HTTP port. Skipped unless run as root (CI runs as root).
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"
#include "scheduler/api/api_client.h"
#include "scheduler/api/protocol.h"
#include "tests/daemon/daemon_process.h"
#include "tests/daemon/test_users.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kWait = std::chrono::seconds(30);
constexpr char kDaemonSecret[] = "daemon-secret-emaps-token-77c1";

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

uid_t owner_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_uid : static_cast<uid_t>(-1);
}

// One socket connection, kept open until destroyed.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address),
                              sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool ok() const { return fd_ >= 0; }
  // Sends `line` and returns the answer line ("" on failure), waiting at
  // most 5 s.
  std::string ask(const std::string& line) {
    std::string text = line + "\n";
    // A refused connection is answered and closed at once, so the send may
    // fail while the answer still waits to be read.
    (void)::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string answer;
    char c = 0;
    while (::recv(fd_, &c, 1, 0) == 1 && c != '\n') {
      answer += c;
    }
    return answer;
  }

 private:
  int fd_ = -1;
};

class DaemonSecurityTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { remove_created_test_users(); }

  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: creates the Unix users lcsec_a and "
                      "lcsec_b and runs the daemon as root";
    }
    auto a = ensure_test_user("lcsec_a");
    auto b = ensure_test_user("lcsec_b");
    ASSERT_TRUE(a && b) << (a ? b.error().message : a.error().message);
    alice_ = *a;
    bob_ = *b;
    fs::permissions(dir_.path(), fs::perms(0755));
    for (const auto& [user, path] :
         {std::pair{alice_, &work_a_}, std::pair{bob_, &work_b_}}) {
      *path = dir_.file("work-" + user.name);
      fs::create_directories(*path);
      ASSERT_EQ(0, ::chown(path->c_str(), user.uid, user.gid));
      fs::permissions(*path, fs::perms(0700));
    }
    shared_ = dir_.file("shared");
    fs::create_directories(shared_);
    fs::permissions(shared_, fs::perms(01777));
    write_file(dir_.file("intensity.csv"),
               intensity_csv(real_now(), 72, {"FR"},
                             [](const std::string&, int) { return 50.0; }));
    write_config("");
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      daemon_->stop();
    }
  }

  void write_config(const std::string& extra_daemon) {
    write_file(dir_.file("lowcarb.yaml"),
               fmt::format(R"(
logging:
  level: debug
providers:
  testfile:
    type: file
    path: {}
zones:
  - id: FR
    providers: [testfile]
    executor: local
daemon:
  poll_period: 1s
  sample_period: 1m
  max_request_bytes: 1048576
{}
)",
                           dir_.file("intensity.csv"), extra_daemon));
  }

  DaemonLaunch launch() {
    DaemonLaunch l;
    l.config_path = dir_.file("lowcarb.yaml");
    l.state_dir = dir_.file("state");
    fs::create_directories(dir_.file("run"));
    fs::permissions(dir_.file("run"), fs::perms(0755));
    l.socket_path = dir_.file("run/lowcarb.sock");
    l.log_path = dir_.file("daemon.log");
    l.clock_speed = 60;
    // What a provider token in the daemon's environment looks like.
    l.env["ELECTRICITYMAPS_TOKEN"] = kDaemonSecret;
    return l;
  }

  void start(DaemonLaunch l) {
    daemon_ = std::make_unique<DaemonProcess>(std::move(l));
    std::string why;
    ASSERT_TRUE(daemon_->start(why)) << why;
    // Every user may connect to the socket (0660 + this group would do too).
    ::chmod(daemon_->launch().socket_path.c_str(), 0666);
  }

  std::string socket() const { return daemon_->launch().socket_path; }

  // Submits through the real CLI as `user` from `cwd` with `env`; returns
  // the job id ("" on failure, with the CLI's stderr in a test failure).
  std::string submit_as(const TestUser& user, const std::string& cwd,
                        const std::vector<std::string>& command,
                        std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args = {
        "submit",     "--socket", socket(), "--quiet", "--duration", "1m",
        "--deadline", "+2h",      "--zone", "FR",      "--"};
    args.insert(args.end(), command.begin(), command.end());
    CliRun run = run_lowcarb_as(user, cwd, args, env);
    EXPECT_EQ(0, run.status) << run.err;
    return std::string(trim(run.out));
  }

  static void write_script(const TestUser& user, const std::string& path,
                           const std::string& text) {
    write_file(path, text);
    ASSERT_EQ(0, ::chown(path.c_str(), user.uid, user.gid));
  }

  json show(const std::string& id) {
    auto job = daemon_->call({{"op", "show"}, {"id", id}});
    EXPECT_TRUE(job.has_value()) << job.error().message;
    return job ? *job : json();
  }

  bool finishes(const std::string& id) {
    return wait_until(
        [&] {
          auto job = daemon_->call({{"op", "show"}, {"id", id}});
          return job && ((*job)["state"] == "succeeded" ||
                         (*job)["state"] == "failed");
        },
        kWait);
  }

  ScopedTempDir dir_;
  TestUser alice_;
  TestUser bob_;
  std::string work_a_;
  std::string work_b_;
  std::string shared_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(DaemonSecurityTest, JobEnvironmentIsTheSubmittersAndNeverTheDaemons) {
  start(launch());

  write_script(alice_, work_a_ + "/job.sh", "env > env.out\n");
  const std::string id = submit_as(alice_, work_a_, {"sh", "job.sh"},
                                   {{"MY_VAR", "from-alice"},
                                    {"HOME", "/forged/home"},
                                    {"PATH", "/usr/bin:/bin"}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(finishes(id)) << daemon_->log();
  EXPECT_EQ("succeeded", show(id)["state"]) << show(id).dump();

  const std::string env = read_file(work_a_ + "/env.out");
  EXPECT_THAT(env, HasSubstr("MY_VAR=from-alice\n"));
  EXPECT_THAT(env, HasSubstr("USER=lcsec_a\n"));
  EXPECT_THAT(env, HasSubstr("LOGNAME=lcsec_a\n"));
  EXPECT_THAT(env, HasSubstr("LOWCARB_JOB_ID=" + id + "\n"));
  EXPECT_THAT(env, HasSubstr("PATH=/usr/bin:/bin\n"));
  // HOME is the user's own, not a submitted one.
  EXPECT_THAT(env, Not(HasSubstr("/forged/home")));
  EXPECT_THAT(env,
              HasSubstr("HOME=" + std::string(::getpwnam("lcsec_a")->pw_dir)));
  // Nothing of the daemon's environment.
  EXPECT_THAT(env, Not(HasSubstr(kDaemonSecret)));
  EXPECT_THAT(env, Not(HasSubstr("ELECTRICITYMAPS_TOKEN")));
  // The job's environment file was removed once the wrapper read it.
  EXPECT_FALSE(fs::exists(dir_.file("state/jobs/" + id + "/env-0.json")));
}

TEST_F(DaemonSecurityTest, LoaderVariablesNeverRunUserCodeAsRoot) {
  start(launch());
  const std::string preload_log = shared_ + "/preload.log";
  write_file(preload_log, "");
  ::chmod(preload_log.c_str(), 0666);
  const std::map<std::string, std::string> evil = {
      {"LD_PRELOAD", LCSEC_PRELOAD_LIBRARY},
      {"LCSEC_PRELOAD_LOG", preload_log}};

  // A user's job: the library may run in the user's own job (as the user),
  // never in the root wrapper.
  const std::string id = submit_as(alice_, work_a_, {"true"}, evil);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(finishes(id)) << daemon_->log();
  // Root's own job with the same variables: it runs as root, so they are
  // dropped and the job's stderr says so.
  auto roots = daemon_->call({{"op", "submit"},
                              {"argv", {"true"}},
                              {"env", evil},
                              {"working_dir", shared_},
                              {"duration", 60},
                              {"zones", {"FR"}},
                              {"deadline", "+2h"}});
  ASSERT_TRUE(roots) << roots.error().message;
  const std::string root_id = (*roots)["id"];
  ASSERT_TRUE(finishes(root_id)) << daemon_->log();

  const std::string lines = read_file(preload_log);
  // The library did run in alice's job: the test can see a preload.
  EXPECT_THAT(lines, HasSubstr(std::to_string(alice_.uid) + " "));
  for (const auto& line : split(lines, '\n')) {
    if (!line.empty()) {
      EXPECT_NE("0", line.substr(0, line.find(' ')))
          << "user-supplied LD_PRELOAD code ran as root: " << lines;
    }
  }
  EXPECT_EQ("succeeded", show(root_id)["state"]);
  EXPECT_THAT(read_file(show(root_id)["logs"]["stderr"].get<std::string>()),
              HasSubstr("not passing LD_PRELOAD"));
}

TEST_F(DaemonSecurityTest, WorkingDirUnderARootOnlyDirectoryFailsClosed) {
  start(launch());
  const std::string locked = dir_.file("root-only");
  fs::create_directories(locked + "/inside");
  fs::permissions(locked, fs::perms(0700));
  fs::permissions(locked + "/inside", fs::perms(0777));
  write_file(locked + "/inside/secret.txt", "root's secret\n");

  // The CLI sends its own working directory; move the job's below the
  // root-only one through the API instead.
  auto moved = run_as_user(alice_, [&] {
    auto client = scheduler::api::ApiClient::connect(socket());
    if (!client) {
      return 10;
    }
    auto answer = (*client)->call(
        {{"op", "submit"},
         {"argv", {"sh", "-c", "cat secret.txt > " + shared_ + "/stolen"}},
         {"working_dir", locked + "/inside"},
         {"duration", 60},
         {"zones", {"FR"}},
         {"deadline", "+2h"}});
    if (!answer) {
      return 11;
    }
    std::ofstream(shared_ + "/id") << (*answer)["id"].get<std::string>();
    return 0;
  });
  ASSERT_EQ(0, moved);
  const std::string trapped(trim(read_file(shared_ + "/id")));
  ASSERT_TRUE(finishes(trapped)) << daemon_->log();

  json job = show(trapped);
  EXPECT_EQ("failed", job["state"]);
  const std::string message = job.dump();
  EXPECT_THAT(message, HasSubstr("chdir '" + locked + "/inside' as lcsec_a"));
  EXPECT_THAT(message, HasSubstr("Permission denied"));
  EXPECT_FALSE(fs::exists(shared_ + "/stolen"));
  // The daemon keeps serving.
  EXPECT_TRUE(daemon_->call({{"op", "ping"}}).has_value());
}

TEST_F(DaemonSecurityTest, AnotherUserCannotReadTheEnvironmentDatabaseOrLogs) {
  start(launch());
  write_script(alice_, work_a_ + "/job.sh",
               "echo alice-output; echo alice-err >&2\n");
  const std::string id = submit_as(alice_, work_a_, {"sh", "job.sh"},
                                   {{"ALICE_SECRET", "alice-api-key-5150"}});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(finishes(id)) << daemon_->log();
  json job = show(id);
  const std::string out_log = job["logs"]["stdout"];
  const std::string err_log = job["logs"]["stderr"];
  const std::string state = dir_.file("state");
  const std::string db = state + "/lowcarb.db";

  // Modes: only the daemon reads the state; each log only its job's user.
  EXPECT_EQ(0700u, mode_of(state));  // The socket is elsewhere.
  EXPECT_EQ(0700u, mode_of(state + "/jobs"));
  EXPECT_EQ(0700u, mode_of(state + "/local"));
  EXPECT_EQ(0600u, mode_of(db));
  if (fs::exists(db + "-wal")) {
    EXPECT_EQ(0600u, mode_of(db + "-wal"));
    EXPECT_EQ(0600u, mode_of(db + "-shm"));
  }
  EXPECT_EQ(0600u, mode_of(out_log));
  EXPECT_EQ(alice_.uid, owner_of(out_log));
  EXPECT_EQ("alice-output\n", read_file(out_log));

  // Bob, by every route: files, the socket, the CLI.
  const int bob_status = run_as_user(bob_, [&] {
    for (const auto& path : {db, db + "-wal", out_log, err_log,
                             state + "/jobs/" + id + "/status-0.json"}) {
      int fd = ::open(path.c_str(), O_RDONLY);
      if (fd >= 0) {
        return 20;  // Readable: a leak.
      }
    }
    auto client = scheduler::api::ApiClient::connect(socket());
    if (!client) {
      return 21;
    }
    for (const char* op : {"show", "logs"}) {
      auto answer = (*client)->call({{"op", op}, {"id", id}});
      if (answer || answer.error().code != ErrorCode::kNotFound) {
        return 22;
      }
    }
    auto listed = (*client)->call({{"op", "list"}, {"all", true}});
    if (!listed || !(*listed)["jobs"].empty()) {
      return 23;
    }
    return 0;
  });
  EXPECT_EQ(0, bob_status);
  CliRun logs =
      run_lowcarb_as(bob_, work_b_, {"logs", "--socket", socket(), id}, {});
  EXPECT_NE(0, logs.status);
  EXPECT_THAT(logs.out + logs.err, Not(HasSubstr("alice-output")));
  // `lowcarb report` as bob: only bob's rows, never alice's job.
  CliRun report = run_lowcarb_as(bob_, work_b_,
                                 {"--config", dir_.file("lowcarb.yaml"),
                                  "report", "--json", "--state-dir", state},
                                 {{"LOWCARB_SOCKET", socket()}});
  EXPECT_EQ(0, report.status) << report.err;
  EXPECT_THAT(report.out + report.err, Not(HasSubstr("alice-api-key-5150")));
  EXPECT_THAT(report.out, Not(HasSubstr("\"" + id + "\"")));
  // Alice's own report goes through the daemon too, and has her job.
  CliRun alice_report =
      run_lowcarb_as(alice_, work_a_,
                     {"--config", dir_.file("lowcarb.yaml"), "report", "--json",
                      "--state-dir", state},
                     {{"LOWCARB_SOCKET", socket()}});
  EXPECT_EQ(0, alice_report.status) << alice_report.err;
  EXPECT_THAT(alice_report.out + alice_report.err,
              Not(HasSubstr("alice-api-key-5150")));
  // Alice reads her own log through the daemon.
  CliRun own =
      run_lowcarb_as(alice_, work_a_, {"logs", "--socket", socket(), id}, {});
  EXPECT_EQ(0, own.status) << own.err;
  EXPECT_THAT(own.out, HasSubstr("alice-output"));
}

TEST_F(DaemonSecurityTest, StateDirectoryIsSearchOnlyWhenTheSocketIsInside) {
  DaemonLaunch l = launch();
  l.socket_path = dir_.file("state/lowcarb.sock");
  start(l);
  EXPECT_EQ(0711u, mode_of(dir_.file("state")));
  EXPECT_EQ(0600u, mode_of(dir_.file("state/lowcarb.db")));
  EXPECT_EQ(0, run_as_user(bob_, [&] {
              auto client = scheduler::api::ApiClient::connect(
                  dir_.file("state/lowcarb.sock"));
              return client && (*client)->call({{"op", "ping"}}) ? 0 : 1;
            }));
}

TEST_F(DaemonSecurityTest, HttpTokensActAsTheirUsers) {
  const int port = free_loopback_port();
  const std::string token_a = "alice-http-token-0001";
  const std::string token_b = "bob-http-token-0002";
  write_file(dir_.file("token-a"), token_a + "\n");
  write_file(dir_.file("token-b"), token_b + "\n");
  ::chmod(dir_.file("token-a").c_str(), 0600);
  ::chmod(dir_.file("token-b").c_str(), 0400);
  write_config(fmt::format(R"(  http_listen: "127.0.0.1:{}"
  http_tokens:
    - {{file: {}, user: lcsec_a}}
    - {{file: {}, user: lcsec_b}})",
                           port, dir_.file("token-a"), dir_.file("token-b")));
  start(launch());

  HttpAnswer submitted =
      http_request(port, "POST", "/jobs", token_a,
                   fmt::format(R"({{"argv":["sh","-c","id -u > {}/http-whoami"],
                      "working_dir":"{}","duration":60,"deadline":"+2h",
                      "zones":["FR"]}})",
                               shared_, shared_));
  ASSERT_EQ(200, submitted.status) << submitted.body;
  const std::string id = json::parse(submitted.body)["result"]["id"];
  ASSERT_TRUE(finishes(id)) << daemon_->log();
  HttpAnswer as_bob = http_request(port, "GET", "/jobs/" + id, token_b);
  HttpAnswer bob_list = http_request(port, "GET", "/jobs?all=1", token_b);
  HttpAnswer alice_metrics = http_request(port, "GET", "/metrics", token_a);
  HttpAnswer bob_metrics = http_request(port, "GET", "/metrics", token_b);
  // A token in the URL (query and path) of a refused request.
  HttpAnswer leaked = http_request(
      port, "GET", "/jobs/" + token_b + "?token=" + token_a + "&x=1", "");
  // An authenticated request with a token as the job id: the error names
  // the job it did not find, masked.
  HttpAnswer token_as_id =
      http_request(port, "GET", "/jobs/" + token_a, token_a);

  EXPECT_EQ(std::to_string(alice_.uid) + "\n",
            read_file(shared_ + "/http-whoami"));
  EXPECT_EQ("lcsec_a", show(id)["user"]);
  EXPECT_EQ(404, as_bob.status);
  EXPECT_EQ(200, bob_list.status);
  EXPECT_THAT(bob_list.body, Not(HasSubstr(id)));
  EXPECT_THAT(alice_metrics.body,
              HasSubstr("lowcarb_api_requests_total{op=\"submit\"} 1"));
  EXPECT_THAT(bob_metrics.body, Not(HasSubstr("op=\"submit\"")));
  EXPECT_EQ(401, leaked.status);
  EXPECT_EQ(404, token_as_id.status);
  EXPECT_THAT(token_as_id.body, Not(HasSubstr(token_a)));
  const std::string log = daemon_->log();
  EXPECT_THAT(log, HasSubstr("refused GET"));
  EXPECT_THAT(log, Not(HasSubstr(token_a)));
  EXPECT_THAT(log, Not(HasSubstr(token_b)));
}

TEST_F(DaemonSecurityTest, GroupReadableTokenFileIsRefusedNamingFileAndMode) {
  const int port = free_loopback_port();
  write_file(dir_.file("token-a"), "alice-http-token-0003\n");
  ::chmod(dir_.file("token-a").c_str(), 0640);
  write_config(fmt::format(R"(  http_listen: "127.0.0.1:{}"
  http_tokens:
    - {{file: {}, user: lcsec_a}})",
                           port, dir_.file("token-a")));
  DaemonProcess daemon(launch());
  std::string why;

  EXPECT_FALSE(daemon.start(why, std::chrono::seconds(10)));
  EXPECT_THAT(why, HasSubstr(dir_.file("token-a")));
  EXPECT_THAT(why, HasSubstr("mode 0640"));
  EXPECT_THAT(why, HasSubstr("readable by its group"));
  EXPECT_THAT(why, Not(HasSubstr("alice-http-token-0003")));
}

TEST_F(DaemonSecurityTest, SighupRotatesHttpTokensAndKeepsThemOnABadFile) {
  const int port = free_loopback_port();
  const std::string old_token = "alice-http-token-old-0005";
  const std::string new_token = "alice-http-token-new-0006";
  const std::string file = dir_.file("token-a");
  write_file(file, old_token + "\n");
  ::chmod(file.c_str(), 0600);
  write_config(fmt::format(R"(  http_listen: "127.0.0.1:{}"
  http_tokens:
    - {{file: {}, user: lcsec_a}})",
                           port, file));
  start(launch());
  ASSERT_EQ(200, http_request(port, "GET", "/jobs", old_token).status);

  write_file(file, new_token + "\n");
  daemon_->signal(SIGHUP);
  const bool rotated = wait_until(
      [&] {
        return daemon_->log().find("HTTP API tokens reloaded") !=
               std::string::npos;
      },
      kWait);
  ASSERT_TRUE(rotated) << daemon_->log();
  const int old_after_rotation =
      http_request(port, "GET", "/jobs", old_token).status;
  const int new_after_rotation =
      http_request(port, "GET", "/jobs", new_token).status;
  // The reloaded service masks the new token too.
  HttpAnswer new_as_id =
      http_request(port, "GET", "/jobs/" + new_token, new_token);

  // A token file others may read is refused at reload as at start: the
  // running tokens stay.
  write_file(file, "alice-http-token-leaky-0007\n");
  ::chmod(file.c_str(), 0644);
  daemon_->signal(SIGHUP);
  const bool refused = wait_until(
      [&] {
        return daemon_->log().find(
                   "reload failed, keeping the running "
                   "configuration") != std::string::npos;
      },
      kWait);

  EXPECT_EQ(401, old_after_rotation);
  EXPECT_EQ(200, new_after_rotation);
  EXPECT_EQ(404, new_as_id.status);
  EXPECT_THAT(new_as_id.body, Not(HasSubstr(new_token)));
  EXPECT_TRUE(refused) << daemon_->log();
  EXPECT_EQ(200, http_request(port, "GET", "/jobs", new_token).status);
  EXPECT_EQ(
      401,
      http_request(port, "GET", "/jobs", "alice-http-token-leaky-0007").status);
  EXPECT_THAT(daemon_->log(), HasSubstr("mode 0644"));
  EXPECT_THAT(daemon_->log(), Not(HasSubstr("alice-http-token")));
}
TEST_F(DaemonSecurityTest, DeepJsonIsRejectedAndTheDaemonKeepsServing) {
  const int port = free_loopback_port();
  write_file(dir_.file("token"), "root-http-token-0004\n");
  ::chmod(dir_.file("token").c_str(), 0600);
  DaemonLaunch l = launch();
  l.extra_args = {"--http", fmt::format("127.0.0.1:{}", port),
                  "--http-token-file", dir_.file("token")};
  start(l);
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');

  RawConnection connection(socket());
  ASSERT_TRUE(connection.ok());
  const std::string socket_answer = connection.ask(deep);
  HttpAnswer http_answer =
      http_request(port, "POST", "/api", "root-http-token-0004", deep);
  HttpAnswer http_submit = http_request(
      port, "POST", "/jobs", "root-http-token-0004",
      "{\"argv\":" + std::string(5000, '[') + std::string(5000, ']') + "}");

  EXPECT_THAT(socket_answer, HasSubstr("invalid_argument"));
  EXPECT_THAT(socket_answer, HasSubstr("deeper than 64 levels"));
  EXPECT_EQ(400, http_answer.status);
  EXPECT_THAT(http_answer.body, HasSubstr("deeper than 64 levels"));
  EXPECT_EQ(400, http_submit.status);
  EXPECT_TRUE(daemon_->running());
  EXPECT_EQ(0, ::kill(daemon_->pid(), 0));
  EXPECT_TRUE(daemon_->call({{"op", "ping"}}).has_value());
  EXPECT_EQ(200,
            http_request(port, "GET", "/ping", "root-http-token-0004").status);
}

TEST_F(DaemonSecurityTest, OneUserHoldingItsConnectionsDoesNotLockOutAnother) {
  write_config("  max_connections_per_user: 4");
  start(launch());
  int ready[2];
  int release[2];
  ASSERT_EQ(0, ::pipe(ready));
  ASSERT_EQ(0, ::pipe(release));
  const pid_t hog = ::fork();
  if (hog == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    if (::initgroups("lcsec_a", alice_.gid) != 0 || ::setgid(alice_.gid) != 0 ||
        ::setuid(alice_.uid) != 0) {
      ::_exit(98);
    }
    std::vector<std::unique_ptr<RawConnection>> held;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<RawConnection>(socket()));
    }
    // Each held connection is served (so it counts), then stays open.
    for (auto& c : held) {
      if (c->ask(R"({"op":"ping"})").find("pong") == std::string::npos) {
        ::_exit(10);
      }
    }
    RawConnection fifth(socket());
    std::string refused = fifth.ask(R"({"op":"ping"})");
    std::ofstream(shared_ + "/fifth") << refused;
    const char verdict =
        refused.find("per-user limit") != std::string::npos ? 'y' : 'n';
    ssize_t ignored = ::write(ready[1], &verdict, 1);
    (void)ignored;
    char byte = 0;
    ignored = ::read(release[0], &byte, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char verdict = 0;
  ASSERT_EQ(1, ::read(ready[0], &verdict, 1));

  // While alice holds all of hers, bob and root are served.
  const int bob = run_as_user(bob_, [&] {
    RawConnection c(socket());
    return c.ask(R"({"op":"ping"})").find("pong") != std::string::npos ? 0 : 1;
  });
  auto root = daemon_->call({{"op", "ping"}});
  char byte = 1;
  ASSERT_EQ(1, ::write(release[1], &byte, 1));
  int status = 0;
  ::waitpid(hog, &status, 0);

  EXPECT_EQ('y', verdict) << "alice's fifth connection was not refused: "
                          << read_file(shared_ + "/fifth");
  EXPECT_EQ(0, bob);
  EXPECT_TRUE(root.has_value());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Once alice let go, she is served again: once the daemon has seen her
  // connections close, which on a loaded machine can take a moment.
  EXPECT_TRUE(wait_until(
      [&] {
        return run_as_user(alice_, [&] {
                 RawConnection c(socket());
                 return c.ask(R"({"op":"ping"})").find("pong") !=
                                std::string::npos
                            ? 0
                            : 1;
               }) == 0;
      },
      kWait));
}

TEST_F(DaemonSecurityTest, DescriptorExhaustionBacksOffInsteadOfSpinning) {
  start(launch());
  const pid_t pid = daemon_->pid();
  size_t open_fds = 0;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator(fmt::format("/proc/{}/fd", pid))) {
    ++open_fds;
  }
  rlimit old_limit{};
  ASSERT_EQ(0, ::prlimit(pid, RLIMIT_NOFILE, nullptr, &old_limit));
  rlimit tight = old_limit;
  tight.rlim_cur = open_fds + 4;
  ASSERT_EQ(0, ::prlimit(pid, RLIMIT_NOFILE, &tight, nullptr));
  const size_t log_before = split(daemon_->log(), '\n').size();

  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 40; ++i) {
    flood.push_back(std::make_unique<RawConnection>(socket()));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::string log = daemon_->log();
  const size_t new_lines = split(log, '\n').size() - log_before;
  flood.clear();
  ASSERT_EQ(0, ::prlimit(pid, RLIMIT_NOFILE, &old_limit, nullptr));

  EXPECT_THAT(log, HasSubstr("pausing accepts"));
  // Without back-off this is hundreds of thousands of lines.
  EXPECT_LT(new_lines, 40u) << log;
  EXPECT_TRUE(wait_until(
      [&] {
        return daemon_->call({{"op", "ping"}}).has_value();
      },
      std::chrono::seconds(10)));
  EXPECT_THAT(daemon_->log(), HasSubstr("works again after"));
}

}  // namespace
}  // namespace lowcarb::testing
