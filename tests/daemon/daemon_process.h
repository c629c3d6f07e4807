// SPDX-License-Identifier: Apache-2.0
// Runs the real `lowcarb daemon --foreground` in a child process for the
// end-to-end tests, with its stderr in a log file, and talks to it over its
// real socket. Waiting is bounded polling.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "scheduler/job_store.h"

namespace lowcarb::testing {

struct DaemonLaunch {
  std::string config_path;
  std::string state_dir;
  std::string socket_path;
  std::string log_path;  // Daemon stderr (appended).
  double clock_speed = 1;
  std::vector<std::string> extra_args;
  std::map<std::string, std::string> env;  // Added to the environment.
};

class DaemonProcess {
 public:
  explicit DaemonProcess(DaemonLaunch launch) : launch_(std::move(launch)) {}
  ~DaemonProcess();  // SIGKILL if still running.

  // Starts the daemon and waits (up to `timeout`) until its socket answers
  // a ping. False (with the log's tail in `why`) when it does not.
  bool start(std::string& why,
             std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // SIGTERM and wait; returns the exit status (or -1).
  int stop();
  // SIGKILL and reap.
  void kill_hard();
  void signal(int signo);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // One request over a fresh connection.
  Result<nlohmann::json> call(const nlohmann::json& request) const;
  std::string log() const;
  // The job's state as `show` gives it ("" when the daemon does not answer).
  std::string state_of(const std::string& job_id) const;
  // Polls `show` until the job is in `state`, for up to `timeout`.
  bool reaches(const std::string& job_id, const std::string& state,
               std::chrono::milliseconds timeout) const;

  const DaemonLaunch& launch() const { return launch_; }

 private:
  DaemonLaunch launch_;
  pid_t pid_ = -1;
};

// Runs `lowcarb ARGS...` to completion; returns exit status, stdout, stderr.
struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};
CliRun run_lowcarb(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {});

// Forks; the child's stdout and stderr go to pipes and `in_child` runs there
// (it must exec or _exit). The parent reads both outputs (stdout first:
// small outputs only) and reaps the child; status -1 unless it exited.
CliRun capture_child(const std::function<void()>& in_child);

// `args` as an execv() argument vector (pointers into `args`).
std::vector<char*> exec_argv(std::vector<std::string>& args);

// A job's ledger rows, read from the state database at `db_path` (a test
// failure, and no rows, when it cannot be read).
std::vector<scheduler::LedgerRecord> read_ledger(const std::string& db_path,
                                                 const std::string& job_id);

// The current time to the second: the daemons under test run on the real
// clock (scaled from it), so forecast files are written around it.
std::chrono::sys_seconds real_now();

// Polls `done` every 50 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds timeout);

// A canonical intensity CSV `timestamp,zone,gco2_per_kwh` of hourly values
// from the hour before `from` for `hours` hours; `value(zone, hour index)`.
std::string intensity_csv(
    std::chrono::sys_seconds from, int hours,
    const std::vector<std::string>& zones,
    const std::function<double(const std::string&, int)>& value);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_loopback_port();

// Sends a raw HTTP/1.1 request to 127.0.0.1:`port`; returns the status code
// and body (status -1 when the connection failed).
struct HttpAnswer {
  int status = -1;
  std::string body;
};
HttpAnswer http_request(int port, const std::string& method,
                        const std::string& target,
                        const std::string& bearer_token,
                        const std::string& body = "");

}  // namespace lowcarb::testing
