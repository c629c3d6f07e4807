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

// The configuration with every default and no file: one zone, DE from the
// embedded catalogue, asking the built-in providers history, profile and
// static in that order; state_dir from default_state_dir() with this
// process's euid, $XDG_STATE_HOME and $HOME. Never fails.
Config default_config();

// The default state directory: /var/lib/lowcarb for root (`euid` 0), else
// `xdg_state_home`/lowcarb when set and absolute, else
// `home`/.local/state/lowcarb, else ".lowcarb-state". Null pointers mean
// "unset". Pure.
std::string default_state_dir(unsigned euid, const char* xdg_state_home,
                              const char* home);

// Loads `path`. kNotFound if it does not exist, kInvalidArgument (message as
// above) if it is not valid, kPermissionDenied if it holds a literal token and
// is readable by others (the message names the file and key, never the
// token). Environment variables named by token_env & co are not read here:
// a missing one is reported when the provider is built.
Result<Config> load_config(const std::string& path);

// Parses YAML text as if read from `source_name` (for tests and stdin). Keys
// missing from the text take the defaults of default_config(). Literal
// tokens are accepted: there is no file mode to check.
Result<Config> parse_config(const std::string& yaml,
                            const std::string& source_name);

// The effective configuration as YAML that parse_config() accepts, every
// literal token replaced by "***" and credentials in URLs redacted.
std::string dump_config(const Config& config);

}  // namespace lowcarb::config
