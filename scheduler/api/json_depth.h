// SPDX-License-Identifier: Apache-2.0
// A pre-scan that bounds how deeply a JSON text nests arrays and objects,
// run before any parser sees an untrusted request body: a body of 100,000
// '[' is a few hundred kilobytes, well under the size limit, and enough to
// exhaust the stack of code that walks the parsed value recursively. The
// scan is linear, allocates nothing and understands strings (brackets inside
// "..." and escaped quotes do not count); it does not validate the JSON
// otherwise. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/result.h"

namespace lowcarb::scheduler::api {

// Deep enough for any real request (a submit nests 3 levels).
inline constexpr size_t kMaxJsonDepth = 64;

// The deepest nesting of arrays/objects in `text` (0 for a scalar).
size_t json_nesting_depth(std::string_view text);

// kInvalidArgument "request JSON nests deeper than N levels" when
// json_nesting_depth(text) > max_depth.
Status check_json_depth(std::string_view text,
                        size_t max_depth = kMaxJsonDepth);

}  // namespace lowcarb::scheduler::api
