// SPDX-License-Identifier: Apache-2.0
// Failures callers must handle are values: Result<T> holds either a T or an
// Error. Callers branch on Error::code (retry kUnavailable/kTimeout, never
// kInvalidArgument); the message is for people and reads
// "<what we tried>: <why it failed>".
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace lowcarb {

enum class ErrorCode {
  kInvalidArgument,   // The input is wrong; retrying will not help.
  kNotFound,          // The thing asked for does not exist.
  kUnavailable,       // A dependency failed; a retry may succeed.
  kTimeout,           // A dependency did not answer in time.
  kPermissionDenied,  // Credentials or rights are missing.
  kConflict,          // The state does not allow the operation now.
  kInternal,          // A bug or an unexpected system failure.
};

std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // Returns a copy whose message is "`context`: <message>".
  Error with_context(std::string_view context) const;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Status-only results.
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

inline tl::unexpected<Error> make_error(Error error) {
  return tl::unexpected<Error>(std::move(error));
}

inline Status ok_status() { return {}; }

}  // namespace lowcarb
