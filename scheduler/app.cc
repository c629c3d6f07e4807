// SPDX-License-Identifier: Apache-2.0
#include "scheduler/app.h"

#include <sys/stat.h>

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
#include "forecast/provider_factory.h"
#include "scheduler/intensity_history.h"
#include "scheduler/job_meters.h"
#include "scheduler/sqlite_job_store.h"

namespace lowcarb::scheduler {
namespace {

// Owns the forecast service behind the ForecastProvider the scheduler uses.
class ServiceChain final : public forecast::ForecastProvider {
 public:
  explicit ServiceChain(std::unique_ptr<forecast::ForecastService> service)
      : service_(std::move(service)) {}
  std::string name() const override { return service_->chain().name(); }
  Result<forecast::IntensitySeries> forecast(const std::string& zone,
                                             TimePoint now,
                                             Duration horizon) override {
    return service_->chain().forecast(zone, now, horizon);
  }
  Result<forecast::IntensitySeries> history(const std::string& zone,
                                            TimePoint from,
                                            TimePoint to) override {
    return service_->chain().history(zone, from, to);
  }
  forecast::ForecastService& service() { return *service_; }

 private:
  std::unique_ptr<forecast::ForecastService> service_;
};

}  // namespace

App::~App() = default;

std::string App::log_path(const std::string& job_id, bool stderr_log) const {
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
  ::chmod(state_dir.c_str(), 0755);
  std::filesystem::create_directories(
      std::filesystem::path(app->log_path("x", false)).parent_path(), ec);

  auto db = Database::open(state_dir + "/lowcarb.db", Durability::kFull);
  if (!db) {
    return make_error(db.error());
  }
  app->db_ = std::move(*db);
  app->http_ = std::make_unique<CurlHttpClient>();

  auto service = forecast::make_forecast_service(app->config_, *app->http_,
                                                 clock, app->db_.get());
  if (!service) {
    return make_error(service.error());
  }
  auto* observed = (*service)->history_store();
  auto chain = std::make_unique<ServiceChain>(std::move(*service));
  auto* chain_ptr = chain.get();
  app->forecasts_ = std::move(chain);

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
    for (const auto& cluster : app->config_.executors.slurm) {
      auto slurm = std::make_unique<executors::SlurmExecutor>(cluster, *runner);
      executors["slurm:" + cluster.name] = slurm.get();
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
      *chain_ptr, observed,
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
  app->scheduler_ =
      std::make_unique<Scheduler>(*app->store_, *app->forecasts_, executors,
                                  *app->tracker_, scheduler_options);
  get_logger("scheduler")
      ->info("state in {}; zones {}; executors {}", state_dir,
             app->config_.zones.size(), executors.size());
  return app;
}

}  // namespace lowcarb::scheduler
