// SPDX-License-Identifier: Apache-2.0
// The only source of "now". Production code gets a SystemClock; the simulator
// and tests get a ManualClock and move time by hand. Decision code never asks a
// clock: it takes `now` as an argument.
#pragma once

#include <chrono>
#include <mutex>

namespace lowcarb {

// UTC wall-clock instant with one-second resolution.
using TimePoint = std::chrono::sys_seconds;
// Durations are whole seconds throughout lowcarb.
using Duration = std::chrono::seconds;

// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The wall clock of this machine, truncated to whole seconds.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

// A clock that only moves when told to: the simulator's virtual clock and the
// tests' fake clock. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}

  TimePoint now() const override;
  void set(TimePoint now);
  void advance(Duration by);

 private:
  mutable std::mutex mutex_;
  TimePoint now_;
};

}  // namespace lowcarb
