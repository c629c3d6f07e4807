// SPDX-License-Identifier: Apache-2.0
#include "executors/executor.h"

namespace lowcarb::executors {

bool is_terminal(RunState state) {
  return state == RunState::kSucceeded || state == RunState::kFailed ||
         state == RunState::kCancelled || state == RunState::kLost;
}

const char* to_string(RunState state) {
  switch (state) {
    case RunState::kPending:
      return "pending";
    case RunState::kRunning:
      return "running";
    case RunState::kPaused:
      return "paused";
    case RunState::kSucceeded:
      return "succeeded";
    case RunState::kFailed:
      return "failed";
    case RunState::kCancelled:
      return "cancelled";
    case RunState::kLost:
      return "lost";
  }
  return "unknown";
}

}  // namespace lowcarb::executors
