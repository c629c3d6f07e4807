// SPDX-License-Identifier: Apache-2.0
// The environment model for local jobs. The daemon's own environment (its
// provider tokens, its PATH, anything a service manager set) never reaches a
// job: the root supervisor (`lowcarb exec-wrapper`) runs with the fixed
// wrapper_environment(), and the job gets exactly job_environment(): the
// variables the submitter sent with the job (as submitted), the LOWCARB_* job
// variables, the user's own HOME/USER/LOGNAME/SHELL and a default PATH when
// none was submitted. A job that runs as root never gets a dynamic-loader or
// other libc-"unsafe" variable (LD_PRELOAD, GCONV_PATH, ...). Pure functions;
// thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace lowcarb::executors {

using Environment = std::map<std::string, std::string>;

// PATH used when the submitter sent none, and for the wrapper itself.
inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The complete environment of the root exec-wrapper: PATH only.
Environment wrapper_environment();

// True for variables the dynamic loader or libc act on before main() (the
// LD_* family, GCONV_PATH, GLIBC_TUNABLES, ...): the set glibc itself drops
// for set-user-id programs.
bool is_loader_variable(std::string_view name);

// Who the job runs as, as far as its environment is concerned.
struct JobUser {
  unsigned uid = 0;
  std::string name;  // "" = unknown (no passwd entry): USER etc. not set.
  std::string home;
  std::string shell;
};

// The job's complete environment, as described above. `dropped` (when not
// null) receives the names of the loader variables removed.
Environment job_environment(const Environment& submitted, const JobUser& user,
                            std::vector<std::string>* dropped = nullptr);

// "NAME=value" strings for execve.
std::vector<std::string> environment_strings(const Environment& env);

// The job environment file LocalExecutor hands to the wrapper: a JSON object
// of strings, written 0600 in the state directory. kInvalidArgument (naming
// `path`) when malformed, kNotFound when missing.
std::string format_environment_file(const Environment& env);
Result<Environment> parse_environment_file(const std::string& text,
                                           const std::string& path);

}  // namespace lowcarb::executors
