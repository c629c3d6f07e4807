// SPDX-License-Identifier: Apache-2.0
#include "common/assert.h"

#include <cstdio>
#include <cstdlib>

namespace lowcarb::detail {

void assert_failed(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "lowcarb: assertion failed at %s:%d: %s\n", file, line,
               condition);
  std::abort();
}

}  // namespace lowcarb::detail
