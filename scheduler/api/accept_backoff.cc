// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/accept_backoff.h"

#include <cerrno>

#include <fmt/format.h>

namespace lowcarb::scheduler::api {
namespace {
constexpr std::chrono::milliseconds kFirstDelay{100};
constexpr std::chrono::milliseconds kMaxDelay{2000};
}  // namespace

bool AcceptBackoff::out_of_descriptors(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) {
    return false;
  }
  const int value = ec.value();
  return value == EMFILE || value == ENFILE || value == ENOBUFS ||
         value == ENOMEM;
}

AcceptBackoff::Decision AcceptBackoff::on_error(
    const boost::system::error_code& ec,
    std::chrono::steady_clock::time_point now, const std::string& what) {
  Decision decision;
  if (out_of_descriptors(ec)) {
    ++failures_;
    if (delay_.count() == 0) {
      delay_ = kFirstDelay;
      decision.log = fmt::format(
          "accept on {}: {}; pausing accepts (retrying every {} ms up to {} "
          "ms) until descriptors are free",
          what, ec.message(), kFirstDelay.count(), kMaxDelay.count());
    } else {
      delay_ = std::min(delay_ * 2, kMaxDelay);
    }
    decision.delay = delay_;
    return decision;
  }
  if (now - last_other_log_ >= std::chrono::seconds(1)) {
    last_other_log_ = now;
    decision.log = fmt::format("accept on {}: {}", what, ec.message());
  }
  return decision;
}

std::string AcceptBackoff::on_success(const std::string& what) {
  if (delay_.count() == 0) {
    return "";
  }
  std::string line = fmt::format(
      "accept on {} works again after {} failed attempts "
      "(out of descriptors)",
      what, failures_);
  delay_ = std::chrono::milliseconds{0};
  failures_ = 0;
  return line;
}

}  // namespace lowcarb::scheduler::api
