// SPDX-License-Identifier: Apache-2.0
// Process exit codes of the `lowcarb` binary, the same for every subcommand.
#pragma once

namespace lowcarb {

enum ExitStatus : int {
  kExitSuccess = 0,
  kExitFailure = 1,
  kExitUsage = 2,              // Bad arguments or a bad configuration.
  kExitDaemonUnreachable = 3,  // The CLI could not reach the daemon's socket.
  kExitInterrupted = 130,
};

}  // namespace lowcarb
