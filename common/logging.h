// SPDX-License-Identifier: Apache-2.0
// Logging setup and secret redaction. Only a main calls init_logging(); library
// code asks for its component logger ("forecast", "executors.slurm",
// "scheduler") and never changes global spdlog state. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

namespace lowcarb {

struct LoggingOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  // "text": timestamped lines on stderr; "journald": no timestamp, level as a
  // syslog priority prefix (<3>, <4>, ...) so journald keeps the level.
  std::string format = "text";
  std::string file;  // If set, logs are appended here instead of stderr.
};

// Configures every component logger. Safe to call again (reload).
void init_logging(const LoggingOptions& options);

// The logger of `component`, created on first use with the current settings.
std::shared_ptr<spdlog::logger> get_logger(const std::string& component);

// Returns `text` with credentials masked: the user-info of URLs
// (https://user:pass@host), the values of query parameters and headers whose
// names suggest a secret (token, key, password, secret, auth, signature), and
// "Bearer <token>" / "Basic <token>". Used before anything that may hold a
// secret reaches a log line or an error message.
std::string redact(std::string_view text);

// Same as redact(text) and also masks every occurrence of each of `secrets`
// (values of length >= 4).
std::string redact(std::string_view text,
                   const std::vector<std::string>& secrets);

}  // namespace lowcarb
