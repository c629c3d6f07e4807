// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/json_depth.h"

#include <fmt/format.h>

namespace lowcarb::scheduler::api {

size_t json_nesting_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
      deepest = depth > deepest ? depth : deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Status check_json_depth(std::string_view text, size_t max_depth) {
  if (json_nesting_depth(text) > max_depth) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("request JSON nests arrays/objects deeper than {} levels; "
                    "refused unparsed",
                    max_depth));
  }
  return ok_status();
}

}  // namespace lowcarb::scheduler::api
