// SPDX-License-Identifier: Apache-2.0
#include "scheduler/scaled_clock.h"

#include "common/assert.h"

namespace lowcarb::scheduler {

ScaledClock::ScaledClock(const Clock& base, double speed)
    : start_(base.now()),
      real_start_(std::chrono::steady_clock::now()),
      speed_(speed) {
  LOWCARB_ASSERT(speed > 0);
}

TimePoint ScaledClock::now() const {
  const std::chrono::duration<double> real =
      std::chrono::steady_clock::now() - real_start_;
  return start_ + Duration(static_cast<int64_t>(real.count() * speed_));
}

std::chrono::nanoseconds ScaledClock::real_time_until(TimePoint later) const {
  // Seconds on this clock since start_, converted back to real time.
  const double scaled = static_cast<double>((later - start_).count());
  const auto target =
      real_start_ + std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::duration<double>(scaled / speed_));
  const auto left = target - std::chrono::steady_clock::now();
  return left.count() > 0
             ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
             : std::chrono::nanoseconds(0);
}

}  // namespace lowcarb::scheduler
