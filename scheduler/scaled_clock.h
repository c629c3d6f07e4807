// SPDX-License-Identifier: Apache-2.0
// A testing and demo aid: a clock that starts at its base clock's time and
// then runs `speed` times faster than real time, so an hour-scale plan plays
// out in seconds (`lowcarb daemon --clock-speed N`). Never use it for real
// work: jobs' actual run times do not speed up. Thread-safe.
#pragma once

#include <chrono>

#include "common/clock.h"

namespace lowcarb::scheduler {

class ScaledClock final : public Clock {
 public:
  // REQUIRES: speed > 0. `base` gives the start time only.
  ScaledClock(const Clock& base, double speed);

  TimePoint now() const override;
  double speed() const { return speed_; }

  // The real time until `later` on this clock (zero if it has passed).
  std::chrono::nanoseconds real_time_until(TimePoint later) const;

 private:
  TimePoint start_;
  std::chrono::steady_clock::time_point real_start_;
  double speed_;
};

}  // namespace lowcarb::scheduler
