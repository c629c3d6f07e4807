// SPDX-License-Identifier: Apache-2.0
#include "scheduler/app.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "common/curl_http_client.h"
#include "common/logging.h"
#include "executors/local_executor.h"
#include "executors/meters/cpu_time_meter.h"
#include "executors/posix_process_runner.h"
#include "executors/posix_process_spawner.h"
#include "executors/proc_stat.h"
#include "executors/slurm_executor.h"
#include "forecast/forecast_archive.h"
#include "forecast/observation_recorder.h"
#include "forecast/provider_factory.h"
#include "scheduler/intensity_history.h"
#include "scheduler/job_meters.h"
#include "scheduler/sqlite_job_store.h"
#include "scheduler/state_permissions.h"

namespace lowcarb::scheduler {
namespace {

// Stores a served forecast in the archive (when there is one) with its zone,
// and what happened so far in the history store (ObservationRecorder: the
// provider's observed values, else its value for the current interval), so
// that the archive can be scored without importing observations. A failure
// to store is a warning, never a failed forecast.
void archive_forecast(forecast::ForecastArchive* archive,
                      forecast::ObservationRecorder* observations,
                      const std::string& zone, TimePoint now,
                      const Result<forecast::IntensitySeries>& series) {
  if (!series || archive == nullptr) {
    return;
  }
  forecast::IntensitySeries named = *series;
  named.zone = zone;
  if (auto recorded = archive->record(named); !recorded) {
    get_logger("forecast")
        ->warn("storing the forecast of {}: {}", zone,
               redact(recorded.error().message));
  }
  if (observations == nullptr) {
    return;
  }
  if (auto recorded = observations->record(zone, now, named); !recorded) {
    get_logger("forecast")
        ->warn("storing the observations of {}: {}", zone,
               redact(recorded.error().message));
  }
}

// The recorder over `service`'s history store and full chain; nullptr
// without a store.
std::unique_ptr<forecast::ObservationRecorder> make_recorder(
    forecast::ForecastService& service) {
  if (service.history_store() == nullptr) {
    return nullptr;
  }
  return std::make_unique<forecast::ObservationRecorder>(
      *service.history_store(), service.chain(),
      [&service](const std::string& name) { return service.is_remote(name); });
}

// Owns the forecast service behind the ForecastProvider the scheduler uses,
// and stores every forecast it serves in the forecast archive (scored by
// `lowcarb forecast --accuracy`) when there is one.
class ServiceChain final : public forecast::ForecastProvider {
 public:
  ServiceChain(std::unique_ptr<forecast::ForecastService> service,
               std::unique_ptr<forecast::ForecastArchive> archive)
      : service_(std::move(service)),
        archive_(std::move(archive)),
        observations_(make_recorder(*service_)) {}
  std::string name() const override { return service_->chain().name(); }
  Result<forecast::IntensitySeries> forecast(const std::string& zone,
                                             TimePoint now,
                                             Duration horizon) override {
    auto series = service_->chain().forecast(zone, now, horizon);
    archive_forecast(archive_.get(), observations_.get(), zone, now, series);
    return series;
  }
  Result<forecast::IntensitySeries> history(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override {
    return service_->chain().history(zone, from, to);
  }
  forecast::ForecastService& service() { return *service_; }

 private:
  std::unique_ptr<forecast::ForecastService> service_;
  std::unique_ptr<forecast::ForecastArchive> archive_;
  std::unique_ptr<forecast::ObservationRecorder> observations_;
};

// The full chain the background worker fetches with, over its own database
// connection and HTTP client so that it shares nothing with the loop thread.
// What it fetches goes to the forecast archive through that connection.
class WorkerChain final : public forecast::ForecastProvider {
 public:
  WorkerChain(std::unique_ptr<Database> db, std::unique_ptr<HttpClient> http)
      : db_(std::move(db)), http_(std::move(http)) {}
  Status build(const config::Config& config, const Clock& clock) {
    auto service =
        forecast::make_forecast_service(config, *http_, clock, db_.get());
    if (!service) {
      return make_error(service.error());
    }
    service_ = std::move(*service);
    auto archive = forecast::ForecastArchive::open(*db_);
    if (!archive) {
      return make_error(archive.error());
    }
    archive_ = std::move(*archive);
    observations_ = make_recorder(*service_);
    return {};
  }
  std::string name() const override { return service_->chain().name(); }
  Result<forecast::IntensitySeries> forecast(const std::string& zone,
                                             TimePoint now,
                                             Duration horizon) override {
    auto series = service_->chain().forecast(zone, now, horizon);
    archive_forecast(archive_.get(), observations_.get(), zone, now, series);
    return series;
  }
  Result<forecast::IntensitySeries> history(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override {
    return service_->chain().history(zone, from, to);
  }

 private:
  std::unique_ptr<Database> db_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<forecast::ForecastService> service_;
  std::unique_ptr<forecast::ForecastArchive> archive_;
  std::unique_ptr<forecast::ObservationRecorder> observations_;
};

}  // namespace

App::~App() = default;

std::string App::log_path(const std::string& job_id, bool stderr_log) const {
  if (scheduler_ && !slurm_by_name_.empty()) {
    auto job = scheduler_->job(job_id, Requester{0});
    if (job) {
      auto it = slurm_by_name_.find(job->executor);
      if (it != slurm_by_name_.end()) {
        const auto spec = scheduler_->launch_spec(*job);
        std::string path = it->second->output_path(
            spec, job->handle ? job->handle->native_id : "", stderr_log);
        struct stat info {};
        if (::geteuid() == 0 && job->spec.uid != 0 &&
            ::lstat(path.c_str(), &info) == 0 &&
            (!S_ISREG(info.st_mode) || info.st_uid != job->spec.uid)) {
          return "";
        }
        return path;
      }
    }
  }
  std::string dir = config_.executors.local.log_dir.empty()
                        ? config_.state_dir + "/logs"
                        : config_.executors.local.log_dir;
  return fmt::format("{}/{}.{}", dir, job_id, stderr_log ? "err" : "out");
}

Result<std::unique_ptr<App>> App::create(const config::Config& config,
                                         const Clock& clock,
                                         const AppOptions& options) {
  std::unique_ptr<App> app(new App(config, clock));
  const std::string& state_dir = app->config_.state_dir;
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("create state directory {}: {}", state_dir, ec.message()));
  }
  // Readable by the daemon only (state_permissions.h): the database holds
  // every job's environment.
  const std::string socket_path = app->config_.daemon.socket_path.empty()
                                      ? state_dir + "/lowcarb.sock"
                                      : app->config_.daemon.socket_path;
  if (auto s = secure_state_dir(
          state_dir, socket_path,
          std::filesystem::path(app->log_path("x", false)).parent_path());
      !s) {
    return make_error(s.error());
  }
  const std::string db_path = state_dir + "/lowcarb.db";
  if (auto s = secure_database_files(db_path); !s) {
    return make_error(s.error());
  }
  auto db = Database::open(db_path, Durability::kFull);
  if (!db) {
    return make_error(db.error());
  }
  // The WAL and SHM files exist only now; SQLite gives them the database's
  // mode, but ones left by an older version may be wider.
  if (auto s = secure_database_files(db_path); !s) {
    return make_error(s.error());
  }
  app->db_ = std::move(*db);
  // Checkpoints off the event loop (common/wal_checkpointer.h).
  auto checkpointer = WalCheckpointer::attach(*app->db_);
  if (!checkpointer) {
    return make_error(checkpointer.error());
  }
  app->checkpointer_ = std::move(*checkpointer);
  app->http_ = std::make_unique<CurlHttpClient>();

  auto service = forecast::make_forecast_service(app->config_, *app->http_,
                                                 clock, app->db_.get());
  if (!service) {
    return make_error(service.error());
  }
  auto* observed = (*service)->history_store();
  auto archive = forecast::ForecastArchive::open(*app->db_);
  if (!archive) {
    return make_error(archive.error());
  }
  auto chain =
      std::make_unique<ServiceChain>(std::move(*service), std::move(*archive));
  forecast::ForecastProvider* chain_ptr = chain.get();
  if (options.background_forecasts) {
    auto worker_db =
        Database::open(state_dir + "/lowcarb.db", Durability::kFull);
    if (!worker_db) {
      return make_error(worker_db.error());
    }
    auto worker = std::make_shared<WorkerChain>(
        std::move(*worker_db), std::make_unique<CurlHttpClient>());
    if (auto built = worker->build(app->config_, clock); !built) {
      return make_error(built.error());
    }
    forecast::BackgroundOptions background;
    background.refresh = app->config_.planner.replan_period;
    background.max_age = app->config_.planner.max_forecast_age;
    app->background_ = std::make_unique<forecast::BackgroundForecasts>(
        std::move(worker), chain->service().local_chain(), background);
  }
  app->forecasts_ = std::move(chain);
  forecast::ForecastProvider& planner_forecasts =
      app->background_
          ? static_cast<forecast::ForecastProvider&>(*app->background_)
          : *app->forecasts_;

  // Executors: "local" always, one "slurm:<cluster>" per configured cluster.
  std::map<std::string, executors::Executor*> executors;
  SlurmExecutors slurm_executors;  // The same, for the Slurm meter.
  auto spawner = std::make_shared<executors::PosixProcessSpawner>();
  app->keep_alive_.push_back(spawner);
  executors::LocalExecutorOptions local_options;
  local_options.wrapper_binary = options.self_binary;
  local_options.state_dir = state_dir;
  local_options.config = app->config_.executors.local;
  if (local_options.config.log_dir.empty()) {
    local_options.config.log_dir = state_dir + "/logs";
  }
  auto local = executors::LocalExecutor::create(*spawner, clock, local_options);
  if (!local) {
    return make_error(local.error().with_context("local executor"));
  }
  executors["local"] = local->get();
  app->executor_storage_.push_back(std::move(*local));
  if (!app->config_.executors.slurm.empty()) {
    auto runner = std::make_shared<executors::PosixProcessRunner>();
    app->keep_alive_.push_back(runner);
    executors::SlurmExecutorOptions slurm_options;
    slurm_options.log_dir = state_dir + "/logs";
    for (const auto& cluster : app->config_.executors.slurm) {
      auto slurm = std::make_unique<executors::SlurmExecutor>(cluster, *runner,
                                                              slurm_options);
      executors["slurm:" + cluster.name] = slurm.get();
      app->slurm_by_name_["slurm:" + cluster.name] = slurm.get();
      slurm_executors["slurm:" + cluster.name] = slurm.get();
      app->executor_storage_.push_back(std::move(slurm));
    }
  }

  auto store = SqliteJobStore::open(*app->db_);
  if (!store) {
    return make_error(store.error());
  }
  app->store_ = std::move(*store);

  auto proc = std::make_shared<executors::ProcReader>();
  app->keep_alive_.push_back(proc);
  auto model = executors::cpu_power_model(app->config_.hardware);
  app->meter_ = std::make_unique<JobMeters>(
      app->config_.hardware, *proc, model.watts_per_core, slurm_executors);
  app->history_ = std::make_unique<ObservedOrForecastHistory>(
      app->background_ ? planner_forecasts : *chain_ptr, observed,
      forecast::comparison_kind(app->config_.planner.comparison));
  std::string home =
      app->config_.zones.empty() ? "" : app->config_.zones.front().id;
  app->tracker_ =
      std::make_unique<Tracker>(*app->store_, *app->history_, *app->meter_,
                                app->config_.hardware.pue, home);

  SchedulerOptions scheduler_options;
  scheduler_options.zones = app->config_.zones;
  scheduler_options.forecast_refresh = app->config_.planner.replan_period;
  scheduler_options.replan_period = app->config_.planner.replan_period;
  scheduler_options.horizon = app->config_.planner.default_horizon;
  scheduler_options.safety_margin = app->config_.planner.safety_margin;
  scheduler_options.resume_overhead = app->config_.planner.resume_overhead;
  scheduler_options.max_forecast_age = app->config_.planner.max_forecast_age;
  scheduler_options.sample_period = app->config_.daemon.sample_period;
  scheduler_options.default_power_watts = model.watts_per_core;
  if (app->config_.planner.threshold_gco2_per_kwh > 0) {
    scheduler_options.threshold_gco2_per_kwh =
        app->config_.planner.threshold_gco2_per_kwh;
  }
  scheduler_options.min_confidence = app->config_.planner.min_confidence;
  if (scheduler_options.min_confidence > 0) {
    // The measured error per zone from the archive, re-read at most once a
    // replan period (a query per plan would cost more than the plan).
    auto errors = forecast::ForecastArchive::open(*app->db_);
    if (!errors) {
      return make_error(errors.error());
    }
    struct ErrorCache {
      std::unique_ptr<forecast::ForecastArchive> archive;
      std::map<std::string, std::pair<TimePoint, std::vector<double>>> zones;
    };
    auto cache = std::make_shared<ErrorCache>();
    cache->archive = std::move(*errors);
    const Duration period = app->config_.planner.replan_period;
    scheduler_options.forecast_error = [cache, period,
                                        &clock](const std::string& zone) {
      const TimePoint now = clock.now();
      auto it = cache->zones.find(zone);
      if (it == cache->zones.end() || now - it->second.first >= period) {
        auto mae = cache->archive->mae_by_lead_day(zone);
        if (!mae) {
          get_logger("forecast")
              ->warn("reading the forecast error of {}: {}", zone,
                     mae.error().message);
        }
        it = cache->zones
                 .insert_or_assign(
                     zone,
                     std::make_pair(now, mae ? *mae : std::vector<double>{}))
                 .first;
      }
      return it->second.second;
    };
  }
  app->scheduler_ =
      std::make_unique<Scheduler>(*app->store_, planner_forecasts, executors,
                                  *app->tracker_, scheduler_options);
  get_logger("scheduler")
      ->info("state in {}; zones {}; executors {}", state_dir,
             app->config_.zones.size(), executors.size());
  return app;
}

}  // namespace lowcarb::scheduler
