// SPDX-License-Identifier: Apache-2.0
// The daemon's socket latency while a forecast provider hangs (not a test:
// it prints figures and asserts nothing). Runs a loopback TCP server that
// accepts connections and never answers (the provider that hangs), starts
// `lowcarb daemon --foreground` with zone DE asking that provider first
// (Electricity Maps type, 10 s timeout, 3 retries) then the embedded profile,
// submits jobs to DE and FR, and pings the daemon over fresh socket
// connections for `--seconds`, printing p50/p99/max of the ping round trip
// and how many requests the hanging provider received meanwhile. The daemon
// runs with --clock-speed 60 so that its one-minute back-off after a failed
// refresh passes in a second: the worker is stuck on the provider nearly all
// the time.
// Usage: forecast_hang_bench [--seconds 30] [--binary PATH] [--keep DIR]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "scheduler/api/api_client.h"

namespace {

using Clock = std::chrono::steady_clock;
using lowcarb::scheduler::api::ApiClient;
using nlohmann::json;

// Accepts on 127.0.0.1 and never answers; counts connections.
class HangingServer {
 public:
  HangingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(fd_, 64);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int client = ::accept(fd_, nullptr, nullptr);
        if (client < 0) {
          return;
        }
        ++accepted_;
        held_.push_back(client);  // Never read, never answered.
      }
    });
  }
  ~HangingServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int fd : held_) {
      ::close(fd);
    }
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::vector<int> held_;
  std::thread thread_;
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  return sorted[static_cast<size_t>(p *
                                    static_cast<double>(sorted.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 30;
  std::string binary = LOWCARB_BINARY;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--seconds") {
      seconds = std::clamp(std::stoi(value), 1, 600);
    } else if (key == "--binary") {
      binary = value;
    } else if (key == "--keep") {
      keep = value;
    } else {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  std::string dir = keep;
  if (dir.empty()) {
    char pattern[] = "/tmp/lowcarb-hang-XXXXXX";
    dir = ::mkdtemp(pattern);
  }
  std::filesystem::create_directories(dir);
  HangingServer provider;
  const std::string socket = dir + "/lowcarb.sock";
  {
    std::ofstream config(dir + "/lowcarb.yaml");
    config << "state_dir: " << dir << "/state\n"
           << "logging:\n  level: warn\n"
           << "providers:\n  em:\n    type: electricitymaps\n"
           << "    base_url: http://127.0.0.1:" << provider.port() << "/v3\n"
           << "    token_env: LOWCARB_BENCH_EM_TOKEN\n"
           << "    timeout: 10s\n    retries: 3\n"
           << "zones:\n  - id: DE\n    providers: [em, profile]\n"
           << "    executor: local\n"
           << "  - id: FR\n    providers: [profile]\n    executor: local\n"
           << "daemon:\n  socket: " << socket << "\n"
           << "  poll_period: 1s\n";
  }
  ::setenv("LOWCARB_BENCH_EM_TOKEN", "bench-token", 1);
  pid_t pid = ::fork();
  if (pid == 0) {
    int log = ::open((dir + "/daemon.log").c_str(),
                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    std::vector<std::string> args = {
        binary,   "--config",     dir + "/lowcarb.yaml",
        "daemon", "--foreground", "--clock-speed",
        "60"};
    std::vector<char*> raw;
    for (auto& a : args) {
      raw.push_back(a.data());
    }
    raw.push_back(nullptr);
    ::execv(raw[0], raw.data());
    ::_exit(127);
  }
  bool ready = false;
  for (auto until = Clock::now() + std::chrono::seconds(20);
       !ready && Clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(10))) {
    if (auto client = ApiClient::connect(socket)) {
      ready = static_cast<bool>((*client)->call({{"op", "ping"}}));
    }
  }
  if (!ready) {
    std::cerr << "the daemon did not answer; see " << dir << "/daemon.log\n";
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return 1;
  }
  // Jobs in both zones keep both forecasts wanted (none becomes due).
  for (const char* zone : {"DE", "FR"}) {
    if (auto client = ApiClient::connect(socket)) {
      (void)(*client)->call({{"op", "submit"},
                             {"name", std::string("bench-") + zone},
                             {"argv", {"true"}},
                             {"duration", 3600},
                             {"zones", {zone}},
                             {"earliest", "+100h"},
                             {"deadline", "+120h"}});
    }
  }
  std::vector<double> pings;
  int failures = 0;
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < until) {
    const auto start = Clock::now();
    auto client = ApiClient::connect(socket);
    bool ok = client && (*client)->call({{"op", "ping"}});
    pings.push_back(ms_since(start));
    failures += ok ? 0 : 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::sort(pings.begin(), pings.end());
  fmt::print(
      "ping over the socket while the provider hangs ({} s, {} pings, {} "
      "failed): p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n",
      seconds, pings.size(), failures, percentile(pings, 0.5),
      percentile(pings, 0.99), pings.empty() ? 0.0 : pings.back());
  fmt::print("requests the hanging provider received meanwhile: {}\n",
             provider.accepted());
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (keep.empty()) {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
