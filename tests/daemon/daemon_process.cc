// SPDX-License-Identifier: Apache-2.0
#include "tests/daemon/daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/sqlite_database.h"
#include "common/time_format.h"
#include "scheduler/api/api_client.h"
#include "scheduler/sqlite_job_store.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string read_fd(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) {
    kill_hard();
  }
}

bool DaemonProcess::start(std::string& why, std::chrono::milliseconds timeout) {
  std::vector<std::string> args = {
      lowcarb_binary(),  "--config",     launch_.config_path,
      "daemon",          "--foreground", "--state-dir",
      launch_.state_dir, "--socket",     launch_.socket_path};
  if (launch_.clock_speed != 1) {
    args.push_back("--clock-speed");
    args.push_back(fmt::format("{}", launch_.clock_speed));
  }
  args.insert(args.end(), launch_.extra_args.begin(), launch_.extra_args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int log = ::open(launch_.log_path.c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    for (const auto& [key, value] : launch_.env) {
      ::setenv(key.c_str(), value.c_str(), 1);
    }
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  bool up = wait_until(
      [this] {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;  // Exited: stop waiting.
        }
        return call({{"op", "ping"}}).has_value();
      },
      timeout);
  if (!up || pid_ < 0) {
    std::string text = log();
    why = "daemon did not come up; log tail:\n" +
          text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
    return false;
  }
  return true;
}

int DaemonProcess::stop() {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  bool exited =
      wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; },
                 std::chrono::seconds(20));
  if (!exited) {
    kill_hard();
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void DaemonProcess::kill_hard() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void DaemonProcess::signal(int signo) {
  if (pid_ > 0) {
    ::kill(pid_, signo);
  }
}

Result<nlohmann::json> DaemonProcess::call(
    const nlohmann::json& request) const {
  auto client = scheduler::api::ApiClient::connect(launch_.socket_path,
                                                   std::chrono::seconds(20));
  if (!client) {
    return make_error(client.error());
  }
  return (*client)->call(request);
}

std::string DaemonProcess::log() const { return read_all(launch_.log_path); }

std::string DaemonProcess::state_of(const std::string& job_id) const {
  auto job = call({{"op", "show"}, {"id", job_id}});
  return job && job->contains("state") ? (*job)["state"].get<std::string>()
                                       : std::string();
}

bool DaemonProcess::reaches(const std::string& job_id, const std::string& state,
                            std::chrono::milliseconds timeout) const {
  return wait_until([&] { return state_of(job_id) == state; }, timeout);
}

CliRun capture_child(const std::function<void()>& in_child) {
  int out_pipe[2];
  int err_pipe[2];
  CliRun run;
  if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) {
    return run;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    in_child();
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  run.out = read_fd(out_pipe[0]);
  run.err = read_fd(err_pipe[0]);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::vector<char*> exec_argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  return argv;
}

CliRun run_lowcarb(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env) {
  std::vector<std::string> all = {lowcarb_binary()};
  all.insert(all.end(), args.begin(), args.end());
  return capture_child([&] {
    for (const auto& [key, value] : env) {
      ::setenv(key.c_str(), value.c_str(), 1);
    }
    auto argv = exec_argv(all);
    ::execv(argv[0], argv.data());
  });
}

std::vector<scheduler::LedgerRecord> read_ledger(const std::string& db_path,
                                                 const std::string& job_id) {
  auto db = Database::open(db_path);
  EXPECT_TRUE(db.has_value()) << db.error().message;
  if (!db) {
    return {};
  }
  auto store = scheduler::SqliteJobStore::open(**db);
  EXPECT_TRUE(store.has_value()) << store.error().message;
  if (!store) {
    return {};
  }
  auto rows = (*store)->ledger(scheduler::LedgerFilter{job_id, {}, {}});
  EXPECT_TRUE(rows.has_value()) << rows.error().message;
  return rows ? *rows : std::vector<scheduler::LedgerRecord>{};
}

std::chrono::sys_seconds real_now() {
  return std::chrono::floor<std::chrono::seconds>(
      std::chrono::system_clock::now());
}

std::string intensity_csv(
    std::chrono::sys_seconds from, int hours,
    const std::vector<std::string>& zones,
    const std::function<double(const std::string&, int)>& value) {
  std::string text = "timestamp,zone,gco2_per_kwh\n";
  const auto hour = std::chrono::floor<std::chrono::hours>(from);
  for (const auto& zone : zones) {
    for (int i = -1; i < hours; ++i) {
      text += fmt::format(
          "{},{},{}\n",
          format_utc(std::chrono::sys_seconds(hour + std::chrono::hours(i))),
          zone, value(zone, i));
    }
  }
  return text;
}

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

HttpAnswer http_request(int port, const std::string& method,
                        const std::string& target,
                        const std::string& bearer_token,
                        const std::string& body) {
  HttpAnswer answer;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
      0) {
    ::close(fd);
    return answer;
  }
  std::string request = fmt::format(
      "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{}"
      "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
      method, target,
      bearer_token.empty() ? ""
                           : "Authorization: Bearer " + bearer_token + "\r\n",
      body.size(), body);
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response = read_fd(fd);
  ::close(fd);
  if (response.rfind("HTTP/1.1 ", 0) == 0 && response.size() >= 12) {
    answer.status = std::stoi(response.substr(9, 3));
  }
  auto split = response.find("\r\n\r\n");
  if (split != std::string::npos) {
    answer.body = response.substr(split + 4);
  }
  return answer;
}

}  // namespace lowcarb::testing
