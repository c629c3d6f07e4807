// SPDX-License-Identifier: Apache-2.0
// The CLI's side of the control socket: connects to the daemon's Unix
// socket and exchanges newline-delimited JSON requests and responses.
// Blocking, with a timeout per call. Not thread-safe; one connection.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace lowcarb::scheduler::api {

class ApiClient {
 public:
  // Connects to `socket_path`. kUnavailable with the path and a hint when
  // no daemon answers there (the CLI exits 3 on it).
  static Result<std::unique_ptr<ApiClient>> connect(
      const std::string& socket_path,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Sends one request object and returns the response's result, or the
  // Error the daemon answered with. A broken connection is kUnavailable, no
  // answer in time kTimeout.
  Result<nlohmann::json> call(const nlohmann::json& request);

  // Sends `line` as is (a newline is added) and returns the raw response
  // line. Used by tests and the load benchmark.
  Result<std::string> call_raw(const std::string& line);

  const std::string& socket_path() const { return path_; }

 private:
  ApiClient(int fd, std::string path, std::chrono::milliseconds timeout)
      : fd_(fd), path_(std::move(path)), timeout_(timeout) {}

  int fd_;
  std::string path_;
  std::chrono::milliseconds timeout_;
  std::string pending_;  // Bytes read past the last response line.
};

}  // namespace lowcarb::scheduler::api
