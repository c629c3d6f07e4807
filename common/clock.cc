// SPDX-License-Identifier: Apache-2.0
#include "common/clock.h"

namespace lowcarb {

TimePoint SystemClock::now() const {
  return std::chrono::floor<std::chrono::seconds>(
      std::chrono::system_clock::now());
}

TimePoint ManualClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void ManualClock::set(TimePoint now) {
  std::lock_guard lock(mutex_);
  now_ = now;
}

void ManualClock::advance(Duration by) {
  std::lock_guard lock(mutex_);
  now_ += by;
}

}  // namespace lowcarb
