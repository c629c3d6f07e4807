// SPDX-License-Identifier: Apache-2.0
// The wiring of one running lowcarb: from a Config, build the state
// database, the forecast service (providers + cache + fallback chains), the
// executors, the job store, the meter, the tracker and the scheduler, and own
// them. The daemon and `lowcarb run` use it; the simulator builds its own
// pieces. Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "common/sqlite_database.h"
#include "common/wal_checkpointer.h"
#include "config/config.h"
#include "executors/executor.h"
#include "forecast/background_forecasts.h"
#include "forecast/forecast_provider.h"
#include "scheduler/job_store.h"
#include "scheduler/scheduler.h"
#include "scheduler/tracker.h"

namespace lowcarb::executors {
class SlurmExecutor;
}

namespace lowcarb::scheduler {

struct AppOptions {
  // Path of the lowcarb binary that local jobs run under (exec-wrapper).
  std::string self_binary;
  // Fetch forecasts on a worker thread (forecast/background_forecasts.h),
  // as the daemon does; otherwise the scheduler's calls fetch in place.
  bool background_forecasts = false;
};

class App {
 public:
  // Creates the state directory if needed and opens <state_dir>/lowcarb.db.
  // Errors name the path and the cause.
  static Result<std::unique_ptr<App>> create(const config::Config& config,
                                             const Clock& clock,
                                             const AppOptions& options);
  ~App();

  const config::Config& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  Database& database() { return *db_; }
  JobStore& store() { return *store_; }
  Scheduler& scheduler() { return *scheduler_; }
  Tracker& tracker() { return *tracker_; }
  forecast::ForecastProvider& forecasts() { return *forecasts_; }
  // The background fetcher the scheduler asks, or null without
  // AppOptions::background_forecasts.
  forecast::BackgroundForecasts* background_forecasts() {
    return background_.get();
  }
  // A job's output file: for the local executor <log_dir>/<job id>.{out,err};
  // for a Slurm job the file its cluster writes (SlurmExecutor::output_path:
  // <state_dir>/logs/<cluster>/<uid>/<job id>.{out,err}, or the script's
  // own #SBATCH --output/--error). When we are root, a Slurm job's file
  // that is not a regular file owned by the job's user gives "" (no file):
  // a user's --output must not make the daemon read someone else's file.
  std::string log_path(const std::string& job_id, bool stderr_log) const;

 private:
  App(const config::Config& config, const Clock& clock)
      : config_(config), clock_(clock) {}

  config::Config config_;
  const Clock& clock_;
  // Pieces the members below borrow (spawner, runner, /proc reader);
  // declared first so they are destroyed last.
  std::vector<std::shared_ptr<void>> keep_alive_;
  std::unique_ptr<Database> db_;
  // Declared after db_: it must detach before db_ closes.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<forecast::ForecastProvider> forecasts_;
  std::unique_ptr<forecast::BackgroundForecasts> background_;
  std::vector<std::unique_ptr<executors::Executor>> executor_storage_;
  std::map<std::string, executors::SlurmExecutor*> slurm_by_name_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<IntensityHistory> history_;
  std::unique_ptr<JobMeter> meter_;
  std::unique_ptr<Tracker> tracker_;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace lowcarb::scheduler
