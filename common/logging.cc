// SPDX-License-Identifier: Apache-2.0
#include "common/logging.h"

#include <mutex>
#include <regex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace lowcarb {
namespace {

struct LoggingState {
  std::mutex mutex;
  LoggingOptions options;
  spdlog::sink_ptr sink;
};

LoggingState& state() {
  static LoggingState instance;  // Logging is process-wide by nature.
  return instance;
}

spdlog::sink_ptr make_sink(const LoggingOptions& options) {
  spdlog::sink_ptr sink;
  if (!options.file.empty()) {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  if (options.format == "journald") {
    // journald reads "<N>" syslog priorities; it adds its own timestamps.
    sink->set_pattern("%n: %v");
  } else {
    // UTC timestamps, like everything else lowcarb prints.
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v",
        spdlog::pattern_time_type::utc));
  }
  return sink;
}

}  // namespace

void init_logging(const LoggingOptions& options) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.options = options;
  s.sink = make_sink(options);
  auto level = spdlog::level::from_str(options.level);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    logger->sinks().clear();
    logger->sinks().push_back(s.sink);
    logger->set_level(level);
  });
}

std::shared_ptr<spdlog::logger> get_logger(const std::string& component) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  if (auto existing = spdlog::get(component)) {
    return existing;
  }
  if (!s.sink) {
    s.sink = make_sink(s.options);
  }
  auto logger = std::make_shared<spdlog::logger>(component, s.sink);
  logger->set_level(spdlog::level::from_str(s.options.level));
  spdlog::register_logger(logger);
  return logger;
}

std::string redact(std::string_view text) {
  static const std::regex kUserInfo(R"(([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@)");
  static const std::regex kSecretParam(
      R"(((?:token|key|password|passwd|secret|auth[a-z_-]*|signature|sig)=)[^&\s"']+)",
      std::regex::icase);
  static const std::regex kSecretHeader(
      R"(((?:auth-token|x-api-key|api-key|authorization|x-auth-token|cookie)\s*:\s*)(?:(?:Bearer|Basic)\s+)?[^\s,"']+)",
      std::regex::icase);
  static const std::regex kScheme(
      R"(((?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{6,})");
  std::string out(text);
  out = std::regex_replace(out, kUserInfo, "$1***@");
  out = std::regex_replace(out, kSecretParam, "$1***");
  out = std::regex_replace(out, kSecretHeader, "$1***");
  out = std::regex_replace(out, kScheme, "$1***");
  return out;
}

std::string redact(std::string_view text,
                   const std::vector<std::string>& secrets) {
  std::string out = redact(text);
  for (const auto& secret : secrets) {
    if (secret.size() < 4) {
      continue;
    }
    for (size_t pos = out.find(secret); pos != std::string::npos;
         pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
  return out;
}

}  // namespace lowcarb
