// SPDX-License-Identifier: Apache-2.0
// Load benchmark of the real daemon (not a test: it prints figures and
// asserts nothing). Starts `lowcarb daemon --foreground` on a temporary state
// directory with the embedded profile provider, then:
//   1. N submissions over the socket from C concurrent clients (one
//      connection each): submissions/s and p50/p99 latency;
//   2. `list` at that queue size;
//   3. with the daemon stopped, fills the state database to Q queued jobs
//      directly (one transaction; their stored plans deliberately differ
//      from what the optimizer picks, so the next re-plan changes every
//      plan), then a full re-plan of Q jobs in this process over the
//      daemon's SQLite store and forecast chain: Scheduler::recover() then
//      tick() (which re-plans and rewrites every job), and tick() again
//      after invalidate_forecasts() (same forecasts: nothing rewritten); the
//      executor starts nothing;
//   4. restarts the daemon on Q jobs (time until it answers), N more
//      submissions at Q queued, `list` (active and --all, limit 100) at Q,
//      and the daemon's RSS.
// With `--replan-only 1` only step 3 runs (no daemon: Q jobs prefilled into
// a fresh state database), for profiling the re-plan.
// The re-plan line splits the first tick's time into the store's share
// (JobStore calls, timed by a forwarding wrapper) and the rest (optimizer,
// index, logging).
// Usage: daemon_load_bench [--clients 8] [--submissions 10000]
//                          [--queued 100000] [--binary PATH] [--keep DIR]
//                          [--replan-only 0|1]
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/curl_http_client.h"
#include "common/logging.h"
#include "common/sqlite_database.h"
#include "common/wal_checkpointer.h"
#include "config/load_config.h"
#include "forecast/provider_factory.h"
#include "scheduler/api/api_client.h"
#include "scheduler/memory_job_store.h"
#include "scheduler/scheduler.h"
#include "scheduler/sqlite_job_store.h"
#include "scheduler/tracker.h"

namespace {

using Clock = std::chrono::steady_clock;
using lowcarb::scheduler::api::ApiClient;
using nlohmann::json;

struct Options {
  int clients = 8;
  int submissions = 10000;
  int queued = 100000;
  std::string binary = LOWCARB_BINARY;
  std::string keep;
  bool replan_only = false;
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

long rss_kib(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::atol(line.c_str() + 6);
    }
  }
  return -1;
}

pid_t start_daemon(const Options& options, const std::string& dir) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int log = ::open((dir + "/daemon.log").c_str(),
                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    std::vector<std::string> args = {options.binary, "--config",
                                     dir + "/lowcarb.yaml", "daemon",
                                     "--foreground"};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

bool wait_ready(const std::string& socket, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (auto client = ApiClient::connect(socket)) {
      if ((*client)->call({{"op", "ping"}})) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Submits `count` jobs over one connection per client; returns latencies.
std::vector<double> submit_concurrently(const std::string& socket, int clients,
                                        int count, std::atomic<int>& failures) {
  std::vector<std::vector<double>> per_client(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto client = ApiClient::connect(socket, std::chrono::seconds(120));
      if (!client) {
        failures += count / clients;
        return;
      }
      const int mine = count / clients + (c < count % clients ? 1 : 0);
      for (int i = 0; i < mine; ++i) {
        json request{{"op", "submit"},
                     {"name", fmt::format("bench-{}-{}", c, i)},
                     {"argv", {"true"}},
                     {"duration", 3600 + 60 * (i % 120)},
                     // Nothing becomes due during the run: no process is
                     // started, and plans only change when forecasts do.
                     {"earliest", "+24h"},
                     {"deadline", fmt::format("+{}h", 30 + i % 36)}};
        auto start = Clock::now();
        auto answer = (*client)->call(request);
        per_client[c].push_back(ms_since(start));
        if (!answer) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::vector<double> all;
  for (auto& v : per_client) {
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  return all;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  size_t index =
      static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// Starts nothing: the re-plan measurement must not launch processes.
class IdleExecutor final : public lowcarb::executors::Executor {
 public:
  std::string name() const override { return "local"; }
  bool defers_start() const override { return false; }
  lowcarb::Result<lowcarb::executors::ExecutorHandle> start(
      const lowcarb::executors::LaunchSpec&, lowcarb::TimePoint) override {
    return lowcarb::make_error(lowcarb::ErrorCode::kUnavailable, "bench");
  }
  lowcarb::Status reschedule(const lowcarb::executors::ExecutorHandle&,
                             lowcarb::TimePoint) override {
    return {};
  }
  lowcarb::Result<lowcarb::executors::RunStatus> poll(
      const lowcarb::executors::ExecutorHandle&) override {
    return lowcarb::executors::RunStatus{};
  }
  lowcarb::Status pause(const lowcarb::executors::ExecutorHandle&,
                        lowcarb::executors::PauseMode) override {
    return {};
  }
  lowcarb::Result<lowcarb::executors::ExecutorHandle> resume(
      const lowcarb::executors::ExecutorHandle& handle,
      const lowcarb::executors::LaunchSpec&,
      lowcarb::executors::PauseMode) override {
    return handle;
  }
  lowcarb::Status cancel(const lowcarb::executors::ExecutorHandle&) override {
    return {};
  }
};

// Forwards to a store and adds up the time spent in it, so the re-plan
// figure splits into the store's share and the scheduler's (optimizer).
class TimedStore final : public lowcarb::scheduler::JobStore {
 public:
  explicit TimedStore(lowcarb::scheduler::JobStore& inner) : inner_(inner) {}
  double ms() const { return ms_; }
  // The part of ms() in commit_batch() (the WAL write and sync).
  double commit_ms() const { return commit_ms_; }
  void reset() { ms_ = commit_ms_ = 0; }

  // Runs f, adding its time to ms_.
  template <typename F>
  auto timed(F&& f) {
    auto start = Clock::now();
    auto result = f();
    ms_ += ms_since(start);
    return result;
  }

  lowcarb::Result<lowcarb::scheduler::Job> insert(
      lowcarb::scheduler::Job job, lowcarb::TimePoint now) override {
    return timed([&] { return inner_.insert(std::move(job), now); });
  }
  lowcarb::Status update(const lowcarb::scheduler::Job& job,
                         lowcarb::TimePoint now,
                         const std::string& note) override {
    return timed([&] { return inner_.update(job, now, note); });
  }
  lowcarb::Status update_plan(const lowcarb::scheduler::Job& job,
                              lowcarb::TimePoint now,
                              const std::string& note) override {
    return timed([&] { return inner_.update_plan(job, now, note); });
  }
  lowcarb::Result<lowcarb::scheduler::Job> get(const std::string& id) override {
    return timed([&] { return inner_.get(id); });
  }
  lowcarb::Result<std::optional<lowcarb::scheduler::Job>> find_by_request(
      unsigned uid, const std::string& request_id) override {
    return timed([&] { return inner_.find_by_request(uid, request_id); });
  }
  lowcarb::Result<std::vector<lowcarb::scheduler::Job>> active_jobs() override {
    return timed([&] { return inner_.active_jobs(); });
  }
  lowcarb::Result<std::vector<lowcarb::scheduler::Job>> list(
      std::optional<unsigned> uid, size_t limit) override {
    return timed([&] { return inner_.list(uid, limit); });
  }
  lowcarb::Result<std::vector<lowcarb::scheduler::TransitionRecord>>
  transitions(const std::string& job_id) override {
    return timed([&] { return inner_.transitions(job_id); });
  }
  lowcarb::Status begin_batch() override {
    return timed([&] { return inner_.begin_batch(); });
  }
  lowcarb::Status commit_batch() override {
    auto start = Clock::now();
    auto status = timed([&] { return inner_.commit_batch(); });
    commit_ms_ += ms_since(start);
    return status;
  }
  void abort_batch() override { inner_.abort_batch(); }
  lowcarb::Status append_ledger(
      const lowcarb::scheduler::LedgerRecord& record) override {
    return timed([&] { return inner_.append_ledger(record); });
  }
  lowcarb::Result<std::vector<lowcarb::scheduler::LedgerRecord>> ledger(
      const lowcarb::scheduler::LedgerFilter& filter) override {
    return timed([&] { return inner_.ledger(filter); });
  }
  lowcarb::Result<std::vector<lowcarb::scheduler::LedgerRecord>> ledger_of(
      const std::vector<std::string>& job_ids,
      std::optional<unsigned> uid) override {
    return timed([&] { return inner_.ledger_of(job_ids, uid); });
  }

 private:
  lowcarb::scheduler::JobStore& inner_;
  double ms_ = 0;
  double commit_ms_ = 0;
};

// Writes `count` queued jobs like the ones submit_concurrently() sends
// straight into the daemon's state database (the daemon is stopped), with a
// one-segment plan at the earliest start that re-planning replaces.
void prefill(const std::string& db_path, int count) {
  auto db = lowcarb::Database::open(db_path);
  if (!db) {
    std::cout << "prefill: " << db.error().message << "\n";
    return;
  }
  auto store = lowcarb::scheduler::SqliteJobStore::open(**db);
  if (!store) {
    std::cout << "prefill: " << store.error().message << "\n";
    return;
  }
  lowcarb::SystemClock clock;
  const lowcarb::TimePoint now = clock.now();
  auto start = Clock::now();
  (void)(*store)->begin_batch();
  for (int i = 0; i < count; ++i) {
    lowcarb::scheduler::Job job;
    job.spec.name = fmt::format("prefill-{}", i);
    job.spec.uid = ::getuid();
    job.spec.gid = ::getgid();
    job.spec.argv = {"true"};
    job.spec.working_dir = "/";
    job.spec.duration = lowcarb::Duration(3600 + 60 * (i % 120));
    job.spec.submitted_at = now;
    job.spec.earliest = now + std::chrono::hours(24);
    job.spec.deadline = now + std::chrono::hours(30 + i % 36);
    job.spec.zones = {"DE"};
    job.zone = "DE";
    job.executor = "local";
    lowcarb::scheduler::Plan plan;
    plan.zone = "DE";
    plan.segments = {
        {job.spec.earliest, job.spec.earliest + job.spec.duration}};
    plan.reason = "prefill";
    job.plan = plan;
    if (auto inserted = (*store)->insert(job, now); !inserted) {
      std::cout << "prefill: " << inserted.error().message << "\n";
      (*store)->abort_batch();
      return;
    }
  }
  if (auto s = (*store)->commit_batch(); !s) {
    std::cout << "prefill: " << s.error().message << "\n";
    return;
  }
  std::cout << fmt::format("prefilled {} queued jobs in {:.1f} s\n", count,
                           ms_since(start) / 1000);
}

// `list` timings over `rounds` calls: p50 and max in ms.
void measure_list(const std::string& socket, bool all, int rounds) {
  auto client = ApiClient::connect(socket);
  if (!client) {
    return;
  }
  std::vector<double> times;
  size_t listed = 0;
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    auto answer =
        (*client)->call({{"op", "list"}, {"limit", 100}, {"all", all}});
    times.push_back(ms_since(start));
    if (answer) {
      listed = (*answer)["jobs"].size();
    }
  }
  std::sort(times.begin(), times.end());
  std::cout << fmt::format(
      "list{} (limit 100, {} returned), {} calls: p50 {:.1f} ms, max {:.1f} "
      "ms\n",
      all ? " --all" : "", listed, rounds, percentile(times, 0.5),
      times.back());
}

void measure_replan(const std::string& config_path,
                    const std::string& db_path) {
  auto db = lowcarb::Database::open(db_path);
  if (!db) {
    std::cout << "re-plan: cannot open " << db_path << ": "
              << db.error().message << "\n";
    return;
  }
  auto store = lowcarb::scheduler::SqliteJobStore::open(**db);
  if (!store) {
    std::cout << "re-plan: " << store.error().message << "\n";
    return;
  }
  // As the daemon does (scheduler/app.cc): WAL checkpoints on their own
  // thread, timed separately below.
  auto checkpointer = lowcarb::WalCheckpointer::attach(**db);
  if (!checkpointer) {
    std::cout << "re-plan: " << checkpointer.error().message << "\n";
    return;
  }
  IdleExecutor executor;
  // The daemon's own forecast chain (the embedded profile), so re-planning
  // sees the forecasts the stored plans were made with.
  auto config = lowcarb::config::load_config(config_path);
  if (!config) {
    std::cout << "re-plan: " << config.error().message << "\n";
    return;
  }
  lowcarb::CurlHttpClient http;
  lowcarb::SystemClock service_clock;
  auto service = lowcarb::forecast::make_forecast_service(
      *config, http, service_clock, nullptr);
  if (!service) {
    std::cout << "re-plan: " << service.error().message << "\n";
    return;
  }
  auto& forecasts = (*service)->chain();
  struct NoHistory final : lowcarb::scheduler::IntensityHistory {
    std::optional<lowcarb::scheduler::RealizedIntensity> realized(
        const std::string&, lowcarb::TimePoint, lowcarb::TimePoint) override {
      return std::nullopt;
    }
  } history;
  lowcarb::scheduler::DeclaredPowerMeter meter(100);
  TimedStore timed(**store);
  lowcarb::scheduler::Tracker tracker(timed, history, meter, 1.0, "DE");
  lowcarb::scheduler::SchedulerOptions options;
  options.zones = config->zones;
  lowcarb::scheduler::Scheduler scheduler(
      timed, forecasts, {{"local", &executor}}, tracker, options);
  lowcarb::SystemClock clock;
  auto start = Clock::now();
  if (auto s = scheduler.recover(clock.now()); !s) {
    std::cout << "re-plan: recover: " << s.error().message << "\n";
    return;
  }
  double recover_ms = ms_since(start);
  // recover() asked for a full re-plan at the next tick. Re-planning moves
  // no start into the past here (nothing is due), so nothing is written
  // except changed plans.
  timed.reset();
  start = Clock::now();
  scheduler.tick(clock.now());
  double first = ms_since(start);
  double first_store = timed.ms();
  double first_commit = timed.commit_ms();
  start = Clock::now();
  (*checkpointer)->wait_idle();
  double checkpoint_wait = ms_since(start);
  scheduler.invalidate_forecasts();
  start = Clock::now();
  scheduler.tick(clock.now());
  double second = ms_since(start);
  std::cout << fmt::format(
      "in-process recover of {} jobs from SQLite: {:.0f} ms; full re-plan "
      "tick: {:.0f} ms (first after recover; store {:.0f} ms of which commit "
      "{:.0f} ms, rest {:.0f} ms), {:.0f} ms (after invalidate_forecasts); "
      "WAL checkpoint on its own thread finished {:.0f} ms after the tick\n",
      scheduler.active_jobs().size(), recover_ms, first, first_store,
      first_commit, first - first_store, second, checkpoint_wait);
}

}  // namespace

int main(int argc, char** argv) {
  lowcarb::LoggingOptions logging;
  logging.level = "warn";
  lowcarb::init_logging(logging);
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    std::string value = argv[i + 1];
    if (key == "--clients") {
      options.clients = std::stoi(value);
    } else if (key == "--submissions") {
      options.submissions = std::stoi(value);
    } else if (key == "--queued") {
      options.queued = std::stoi(value);
    } else if (key == "--binary") {
      options.binary = value;
    } else if (key == "--keep") {
      options.keep = value;
    } else if (key == "--replan-only") {
      options.replan_only = value != "0";
    } else {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  std::string dir = options.keep;
  if (dir.empty()) {
    char pattern[] = "/tmp/lowcarb-load-XXXXXX";
    dir = ::mkdtemp(pattern);
  }
  std::filesystem::create_directories(dir);
  const std::string socket = dir + "/lowcarb.sock";
  {
    std::ofstream config(dir + "/lowcarb.yaml");
    config << "state_dir: " << dir << "/state\n"
           << "logging:\n  level: warn\n"
           << "zones:\n  - id: DE\n    providers: [profile]\n"
           << "    executor: local\n"
           << "daemon:\n  socket: " << socket << "\n  poll_period: 5s\n";
  }
  if (options.replan_only) {
    std::filesystem::create_directories(dir + "/state");
    prefill(dir + "/state/lowcarb.db", options.queued);
    measure_replan(dir + "/lowcarb.yaml", dir + "/state/lowcarb.db");
    if (options.keep.empty()) {
      std::filesystem::remove_all(dir);
    }
    return 0;
  }
  pid_t pid = start_daemon(options, dir);
  if (!wait_ready(socket, std::chrono::seconds(30))) {
    std::cerr << "daemon did not start; see " << dir << "/daemon.log\n";
    ::kill(pid, SIGKILL);
    return 1;
  }
  std::cout << fmt::format(
      "lowcarb daemon load benchmark ({} clients, state "
      "in {})\n",
      options.clients, dir);
  std::atomic<int> failures{0};
  auto start = Clock::now();
  auto latencies = submit_concurrently(socket, options.clients,
                                       options.submissions, failures);
  double seconds = ms_since(start) / 1000;
  std::cout << fmt::format(
      "{} submissions in {:.2f} s: {:.0f} submissions/s, latency p50 {:.2f} "
      "ms, p99 {:.2f} ms, max {:.2f} ms, {} failed; RSS {} MiB\n",
      latencies.size(), seconds,
      static_cast<double>(latencies.size()) / seconds,
      percentile(latencies, 0.5), percentile(latencies, 0.99),
      latencies.empty() ? 0.0 : latencies.back(), failures.load(),
      rss_kib(pid) / 1024);

  measure_list(socket, false, 20);
  {
    auto client = ApiClient::connect(socket);
    if (client) {
      auto start_metrics = Clock::now();
      auto metrics = (*client)->call({{"op", "metrics"}});
      std::cout << fmt::format("metrics: {:.1f} ms\n", ms_since(start_metrics));
    }
  }
  int status = 0;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);

  // Fill to `queued` jobs and re-plan them all with changed plans.
  const int more = options.queued - static_cast<int>(latencies.size());
  if (more > 0) {
    prefill(dir + "/state/lowcarb.db", more);
  }
  measure_replan(dir + "/lowcarb.yaml", dir + "/state/lowcarb.db");

  // The daemon on the full queue.
  start = Clock::now();
  pid = start_daemon(options, dir);
  bool back = wait_ready(socket, std::chrono::seconds(600));
  std::cout << fmt::format(
      "restart with {} queued jobs: serving again after {:.0f} ms; RSS {} "
      "MiB\n",
      options.queued, ms_since(start), back ? rss_kib(pid) / 1024 : -1);
  if (back) {
    // Let the first full re-plan after recovery pass.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    start = Clock::now();
    auto at_full = submit_concurrently(socket, options.clients,
                                       options.submissions, failures);
    seconds = ms_since(start) / 1000;
    std::cout << fmt::format(
        "{} submissions at {} queued: {:.0f} submissions/s, p50 {:.2f} ms, "
        "p99 {:.2f} ms, max {:.2f} ms; {} failed in all; RSS {} MiB\n",
        at_full.size(), options.queued,
        static_cast<double>(at_full.size()) / seconds, percentile(at_full, 0.5),
        percentile(at_full, 0.99), at_full.empty() ? 0.0 : at_full.back(),
        failures.load(), rss_kib(pid) / 1024);
    measure_list(socket, false, 20);
    measure_list(socket, true, 20);
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  if (options.keep.empty()) {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
