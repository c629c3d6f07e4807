// SPDX-License-Identifier: Apache-2.0
// Who may read the daemon's state. The database holds every job's submitted
// environment (often secrets), so it and its WAL/SHM/journal files are 0600;
// run records and job files (jobs/, local/) are 0700; log files are 0600 and
// owned by the job's user (posix_process_spawner.cc) in a 0711 log directory.
// The state directory is 0700, or 0711 (search only, nothing listable) when
// the control socket lives inside it, since other users must reach it.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace lowcarb::scheduler {

// The mode the state directory gets for a socket at `socket_path`.
mode_t state_dir_mode(const std::string& state_dir,
                      const std::string& socket_path);

// Creates (when missing) and chmods `state_dir`, its jobs/ and local/
// subdirectories and `log_dir` as described above. kUnavailable naming the
// path on failure.
Status secure_state_dir(const std::string& state_dir,
                        const std::string& socket_path,
                        const std::string& log_dir);

// Creates `db_path` 0600 when missing and chmods it and its -wal, -shm and
// -journal companions that exist to 0600. kUnavailable naming the file.
Status secure_database_files(const std::string& db_path);

}  // namespace lowcarb::scheduler
