// SPDX-License-Identifier: Apache-2.0
#include "executors/job_environment.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lowcarb::executors {

Environment wrapper_environment() { return {{"PATH", kDefaultPath}}; }

bool is_loader_variable(std::string_view name) {
  if (name.substr(0, 3) == "LD_") {
    return true;
  }
  // glibc's UNSECURE_ENVVARS (elf/dl-support / sysdeps/generic/unsecvars.h).
  static constexpr std::string_view kUnsafe[] = {"GCONV_PATH",
                                                 "GETCONF_DIR",
                                                 "GLIBC_TUNABLES",
                                                 "HOSTALIASES",
                                                 "LOCALDOMAIN",
                                                 "LOCPATH",
                                                 "MALLOC_ARENA_MAX",
                                                 "MALLOC_ARENA_TEST",
                                                 "MALLOC_PERTURB_",
                                                 "MALLOC_TCACHE_COUNT",
                                                 "MALLOC_TCACHE_MAX",
                                                 "MALLOC_TCACHE_UNSORTED_LIMIT",
                                                 "MALLOC_TOP_PAD_",
                                                 "MALLOC_TRACE",
                                                 "MALLOC_TRIM_THRESHOLD_",
                                                 "MALLOC_MMAP_MAX_",
                                                 "MALLOC_MMAP_THRESHOLD_",
                                                 "MALLOC_CHECK_",
                                                 "NIS_PATH",
                                                 "NLSPATH",
                                                 "RESOLV_HOST_CONF",
                                                 "RES_OPTIONS",
                                                 "TMPDIR",
                                                 "TZDIR"};
  for (auto unsafe : kUnsafe) {
    if (name == unsafe) {
      return true;
    }
  }
  return false;
}

Environment job_environment(const Environment& submitted, const JobUser& user,
                            std::vector<std::string>* dropped) {
  Environment env;
  for (const auto& [name, value] : submitted) {
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      continue;  // Not expressible as NAME=value.
    }
    if (user.uid == 0 && is_loader_variable(name)) {
      if (dropped != nullptr) {
        dropped->push_back(name);
      }
      continue;
    }
    env[name] = value;
  }
  if (!user.name.empty()) {
    env["USER"] = user.name;
    env["LOGNAME"] = user.name;
    env["HOME"] = user.home.empty() ? std::string("/") : user.home;
    env["SHELL"] = user.shell.empty() ? std::string("/bin/sh") : user.shell;
  }
  if (auto it = env.find("PATH"); it == env.end() || it->second.empty()) {
    env["PATH"] = kDefaultPath;
  }
  return env;
}

std::vector<std::string> environment_strings(const Environment& env) {
  std::vector<std::string> strings;
  strings.reserve(env.size());
  for (const auto& [name, value] : env) {
    strings.push_back(name + "=" + value);
  }
  return strings;
}

std::string format_environment_file(const Environment& env) {
  return nlohmann::json(env).dump() + "\n";
}

Result<Environment> parse_environment_file(const std::string& text,
                                           const std::string& path) {
  try {
    const auto doc = nlohmann::json::parse(text);
    if (!doc.is_object()) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("job environment file {}: not a JSON object", path));
    }
    Environment env;
    for (const auto& [name, value] : doc.items()) {
      if (!value.is_string()) {
        return make_error(
            ErrorCode::kInvalidArgument,
            fmt::format("job environment file {}: the value of {} is not a "
                        "string",
                        path, name));
      }
      env[name] = value.get<std::string>();
    }
    return env;
  } catch (const nlohmann::json::exception& e) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("job environment file {}: {}", path, e.what()));
  }
}

}  // namespace lowcarb::executors
