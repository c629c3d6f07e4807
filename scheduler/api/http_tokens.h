// SPDX-License-Identifier: Apache-2.0
// The HTTP API's bearer tokens and whom each acts as. `daemon.http_tokens`
// maps a token file to a local user; the legacy single token
// (`--http-token-file` / `daemon.http_token_file`) acts as the daemon's own
// user, i.e. it is an admin credential when the daemon runs as root. Every
// file is checked by read_token_file() (no group/other read access).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "scheduler/api/http_server.h"

namespace lowcarb::scheduler::api {

// kInvalidArgument naming the file (or the user) when a file is unsafe,
// empty or unreadable, a user is unknown, or no token is configured at all.
Result<std::vector<HttpToken>> load_http_tokens(
    const std::string& legacy_token_file,
    const std::vector<config::HttpTokenConfig>& tokens);

}  // namespace lowcarb::scheduler::api
