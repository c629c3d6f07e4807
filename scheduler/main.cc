// SPDX-License-Identifier: Apache-2.0
// The `lowcarb` binary: a thin main over the scheduler library.
#include <exception>
#include <iostream>

#include "common/clock.h"
#include "common/exit_status.h"
#include "scheduler/cli.h"

int main(int argc, char** argv) {
  try {
    lowcarb::SystemClock clock;
    lowcarb::scheduler::CliContext context(std::cout, std::cerr, clock);
    return lowcarb::scheduler::run_cli(argc, argv, context);
  } catch (const std::exception& e) {
    std::cerr << "lowcarb: fatal: " << e.what() << "\n";
    return lowcarb::kExitFailure;
  }
}
