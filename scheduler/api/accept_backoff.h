// SPDX-License-Identifier: Apache-2.0
// What an accept loop does after accept() fails. Out of descriptors
// (EMFILE, ENFILE, ENOBUFS, ENOMEM) the pending connection stays queued and
// an immediate retry fails again at once, so retrying without a pause spins
// the loop (and the log). The loop waits 100 ms, doubling up to 2 s while the
// failures last, and logs one line when an episode starts and one when it
// ends (with the count). Other errors (a peer that reset before it was
// accepted) are retried at once and logged at most once a second. Pure
// bookkeeping: the caller owns the timer and the logger. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/system/error_code.hpp>

namespace lowcarb::scheduler::api {

class AcceptBackoff {
 public:
  struct Decision {
    std::chrono::milliseconds delay{0};  // Wait this long before accepting.
    std::string log;                     // "" = log nothing this time.
  };

  // After a failed accept at `now` on `what` (e.g. the socket path).
  Decision on_error(const boost::system::error_code& ec,
                    std::chrono::steady_clock::time_point now,
                    const std::string& what);
  // After a successful accept; returns a line to log when an episode of
  // descriptor exhaustion just ended, else "".
  std::string on_success(const std::string& what);

  static bool out_of_descriptors(const boost::system::error_code& ec);

 private:
  std::chrono::milliseconds delay_{0};
  int64_t failures_ = 0;
  std::chrono::steady_clock::time_point last_other_log_{};
};

}  // namespace lowcarb::scheduler::api
