// SPDX-License-Identifier: Apache-2.0
// Test fixture: runs tests/support/provider_server.py (a loopback stand-in
// for the provider APIs serving the recorded responses) as a child process
// for the lifetime of the object, and talks to its control endpoints.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

#include "common/curl_http_client.h"
#include "common/result.h"

namespace lowcarb::testing {

// The credentials the server expects (its defaults).
inline constexpr char kServerEmToken[] = "test-em-token-0123";
inline constexpr char kServerWattTimeUser[] = "wt-user";
inline constexpr char kServerWattTimePassword[] = "wt-password-0123";
inline constexpr char kServerWattTimeToken[] = "abcdef0123456789fedcabc";

class ProviderServer {
 public:
  // Starts the server and waits (at most 10 s) for its port. kNotFound when
  // python3 or the recorded responses are missing (tests skip), another
  // Error when the server did not come up.
  static Result<std::unique_ptr<ProviderServer>> start();

  ~ProviderServer();
  ProviderServer(const ProviderServer&) = delete;
  ProviderServer& operator=(const ProviderServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" + `path`.
  std::string url(const std::string& path = "") const;

  // The next `count` requests whose path starts with `path` fail with `mode`
  // (see provider_server.py); `extra` is appended to the query ("&delay=2").
  Status fault(const std::string& path, const std::string& mode, int count,
               const std::string& extra = "");
  // Requests served per path since the start or the last reset().
  Result<int> count(const std::string& path);
  // The headers (lower-case names) of the last request to `path`.
  Result<std::map<std::string, std::string>> last_headers(
      const std::string& path);
  Status reset();

 private:
  ProviderServer(pid_t pid, int stdin_fd, int port)
      : pid_(pid), stdin_fd_(stdin_fd), port_(port) {}
  Result<std::string> control(const std::string& path_and_query);

  pid_t pid_;
  int stdin_fd_;
  int port_;
  CurlHttpClient http_;
};

}  // namespace lowcarb::testing

// Starts a ProviderServer into `var` or skips the test with the reason.
#define LOWCARB_START_PROVIDER_SERVER(var)                               \
  auto var##_started = ::lowcarb::testing::ProviderServer::start();      \
  if (!var##_started) {                                                  \
    if (var##_started.error().code == ::lowcarb::ErrorCode::kNotFound) { \
      GTEST_SKIP() << var##_started.error().message;                     \
    }                                                                    \
    FAIL() << var##_started.error().message;                             \
  }                                                                      \
  auto& var = **var##_started
