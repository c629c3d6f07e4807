// SPDX-License-Identifier: Apache-2.0
// Loads and validates the YAML configuration. The only yaml-cpp user.
// Every error names file:line:column, the key path, what was expected and
// what was found, e.g.
//   lowcarb.yaml:12:14: zones[1].penalty: expected a number or a percentage
//   like "10%", found "ten"
#pragma once

#include <string>

#include "common/result.h"
#include "config/config.h"

namespace lowcarb::config {

// The configuration with every default and no file: the embedded zone
// catalogue's zone for `home_zone` only... see README. Never fails.
Config default_config();

// Loads `path`. kNotFound if it does not exist, kInvalidArgument (message as
// above) if it is not valid, kPermissionDenied if it holds a literal token and
// is readable by others.
Result<Config> load_config(const std::string& path);

// Parses YAML text as if read from `source_name` (for tests and stdin).
Result<Config> parse_config(const std::string& yaml,
                            const std::string& source_name);

// The effective configuration as YAML, secrets redacted.
std::string dump_config(const Config& config);

}  // namespace lowcarb::config
