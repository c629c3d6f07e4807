// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/clock.h"

namespace lowcarb::fakes {

// Tests move time by hand; the same class drives the simulator.
using FakeClock = ManualClock;

}  // namespace lowcarb::fakes
