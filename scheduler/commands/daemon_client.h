// SPDX-License-Identifier: Apache-2.0
// What the CLI commands that talk to the daemon share: the --socket and
// --json options, finding the socket, one call with uniform error handling
// (exit 3 with the socket path when the daemon is unreachable), and the
// human-readable formats of jobs.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "scheduler/cli.h"

namespace lowcarb::scheduler {

struct ClientOptions {
  std::string socket;  // --socket; "" = the default below.
  bool json = false;   // --json: print the daemon's JSON answer.
};

// Adds --socket PATH and --json to `command`.
void add_client_options(CLI::App& command, ClientOptions& options);

// --socket, else $LOWCARB_SOCKET, else daemon.socket_path from the
// configuration, else <state_dir>/lowcarb.sock. nullopt when the
// configuration could not be loaded (already reported).
std::optional<std::string> resolve_socket_path(const std::string& flag,
                                               CliContext& context);

// Sends `request` and returns the result. On failure prints
// "lowcarb <command>: <message>" and sets the exit code: 3 when the daemon
// is unreachable, 2 for a request the daemon called invalid, 1 otherwise.
std::optional<nlohmann::json> call_daemon(CliContext& context,
                                          const std::string& command,
                                          const ClientOptions& options,
                                          const nlohmann::json& request);

// As call_daemon() for a request that is safe to send again (a submit with
// a request_id): when the daemon is unreachable, the connection breaks or
// no answer comes in time, tries again after 0.5, 1, 2, 4 and 8 s (so a
// daemon that restarts within about 15 s still answers). Other errors are
// final.
std::optional<nlohmann::json> call_daemon_retrying(
    CliContext& context, const std::string& command,
    const ClientOptions& options, const nlohmann::json& request);

// A fresh random id for one CLI invocation's request ("cli-" + 32 hex).
std::string new_request_id();

// "12.3 g" / "4.56 kg" for grams-scale amounts given in kg.
std::string format_kg(double kg);
// A job's one-line plan summary: "start <time> in <zone>, expected ... ".
std::string plan_summary(const nlohmann::json& job);

}  // namespace lowcarb::scheduler
