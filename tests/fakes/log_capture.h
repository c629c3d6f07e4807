// SPDX-License-Identifier: Apache-2.0
// Captures what one component's logger writes during a test ("%l %v": the
// level, then the message), at info and above unless told otherwise.
#pragma once

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>

#include <spdlog/sinks/ostream_sink.h>

#include "common/logging.h"

namespace lowcarb::testing {

class LogCapture {
 public:
  explicit LogCapture(const std::string& component,
                      spdlog::level::level_enum level = spdlog::level::info)
      : logger_(get_logger(component)),
        sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_)) {
    sink_->set_pattern("%l %v");
    logger_->sinks().push_back(sink_);
    previous_level_ = logger_->level();
    logger_->set_level(level);
  }
  ~LogCapture() {
    auto& sinks = logger_->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    logger_->set_level(previous_level_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return stream_.str(); }
  // How often `needle` occurs in what was captured.
  size_t count(const std::string& needle) const {
    size_t n = 0;
    const std::string all = stream_.str();
    for (auto pos = all.find(needle); pos != std::string::npos;
         pos = all.find(needle, pos + 1)) {
      ++n;
    }
    return n;
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::level::level_enum previous_level_ = spdlog::level::info;
};

}  // namespace lowcarb::testing
