// SPDX-License-Identifier: Apache-2.0
// LOWCARB_ASSERT guards invariants and stays on in release builds: a wrong
// schedule is worse than a crash.
#pragma once

namespace lowcarb::detail {
[[noreturn]] void assert_failed(const char* file, int line,
                                const char* condition);
}  // namespace lowcarb::detail

#define LOWCARB_ASSERT(condition)                                       \
  do {                                                                  \
    if (!(condition)) {                                                 \
      ::lowcarb::detail::assert_failed(__FILE__, __LINE__, #condition); \
    }                                                                   \
  } while (false)
