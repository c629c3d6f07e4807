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

// "12.3 g" / "4.56 kg" for grams-scale amounts given in kg.
std::string format_kg(double kg);
// A job's one-line plan summary: "start <time> in <zone>, expected ... ".
std::string plan_summary(const nlohmann::json& job);

}  // namespace lowcarb::scheduler
