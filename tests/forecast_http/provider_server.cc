// SPDX-License-Identifier: Apache-2.0
#include "tests/forecast_http/provider_server.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

std::string find_python() {
  if (::access("/usr/bin/python3", X_OK) == 0) {
    return "/usr/bin/python3";
  }
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path ? path : "", ':')) {
    auto candidate = std::filesystem::path(dir) / "python3";
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<ProviderServer>> ProviderServer::start() {
  std::string python = find_python();
  if (python.empty()) {
    return make_error(ErrorCode::kNotFound,
                      "python3 not found: the loopback provider server needs "
                      "it");
  }
  if (!shared_data_available()) {
    return make_error(ErrorCode::kNotFound,
                      "reference data not found at " + shared_data_dir());
  }
  std::string script =
      lowcarb::testing::source_dir() + "/tests/support/provider_server.py";
  std::string data_dir = shared_data("api-responses");
  int in_pipe[2];
  int out_pipe[2];
  if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0) {
    return make_error(ErrorCode::kInternal, "pipe failed");
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    return make_error(ErrorCode::kInternal, "fork failed");
  }
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    ::execl(python.c_str(), python.c_str(), script.c_str(), "--data-dir",
            data_dir.c_str(), "--max-lifetime", "300",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  // Read the first line (the port), waiting at most 10 s in total.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd fd{out_pipe[0], POLLIN, 0};
    if (left.count() <= 0 ||
        ::poll(&fd, 1, static_cast<int>(left.count())) <= 0) {
      break;
    }
    char buffer[64];
    ssize_t n = ::read(out_pipe[0], buffer, sizeof buffer);
    if (n <= 0) {
      break;
    }
    line.append(buffer, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  auto port = parse_integer(line.substr(0, line.find('\n')));
  if (!port || *port <= 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ::close(in_pipe[1]);
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("{} did not print its port within 10 s "
                                  "(got \"{}\")",
                                  script, line));
  }
  return std::unique_ptr<ProviderServer>(
      new ProviderServer(pid, in_pipe[1], static_cast<int>(*port)));
}

ProviderServer::~ProviderServer() {
  ::close(stdin_fd_);     // The server exits when its stdin closes...
  ::kill(pid_, SIGTERM);  // ...and on SIGTERM, whichever comes first.
  ::waitpid(pid_, nullptr, 0);
}

std::string ProviderServer::url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

Result<std::string> ProviderServer::control(const std::string& path_and_query) {
  HttpRequest request;
  request.url = url(path_and_query);
  auto response = http_.send(request);
  if (!response) {
    return make_error(response.error());
  }
  if (response->status != 200) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("{}: HTTP {}", path_and_query, response->status));
  }
  return response->body;
}

Status ProviderServer::fault(const std::string& path, const std::string& mode,
                             int count, const std::string& extra) {
  auto done =
      control(fmt::format("/__fault?path={}&mode={}&count={}{}",
                          url_encode(path), url_encode(mode), count, extra));
  if (!done) {
    return make_error(done.error());
  }
  return ok_status();
}

Result<int> ProviderServer::count(const std::string& path) {
  auto body = control("/__stats");
  if (!body) {
    return make_error(body.error());
  }
  auto doc = nlohmann::json::parse(*body);
  return doc["counts"].value(path, 0);
}

Result<std::map<std::string, std::string>> ProviderServer::last_headers(
    const std::string& path) {
  auto body = control("/__stats");
  if (!body) {
    return make_error(body.error());
  }
  auto doc = nlohmann::json::parse(*body);
  std::map<std::string, std::string> out;
  if (doc["last_headers"].contains(path)) {
    for (const auto& [name, value] : doc["last_headers"][path].items()) {
      out[name] = value.get<std::string>();
    }
  }
  return out;
}

Status ProviderServer::reset() {
  auto done = control("/__reset");
  if (!done) {
    return make_error(done.error());
  }
  return ok_status();
}

}  // namespace lowcarb::testing
