// SPDX-License-Identifier: Apache-2.0
// Property: a pause-resume job never finishes after its deadline (minus the
// safety margin when that fits), whatever the forecasts say and whenever
// they change. Each trial drives the production Scheduler on a ManualClock
// through random forecasts (resolution, offsets, gaps, failures) replaced at
// random times, random re-plan periods and forced re-plans, random work,
// slack, min_chunk, max_pauses, safety margin and resume overhead, with an
// executor whose jobs do real (virtual-time) work and pay the overhead on
// every resume; half the trials defer starts on the backend, as Slurm does.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/time_format.h"
#include "scheduler/memory_job_store.h"
#include "scheduler/safe_resume.h"
#include "scheduler/scheduler.h"
#include "tests/fakes/fake_forecast_provider.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler {
namespace {

using executors::ExecutorHandle;
using executors::RunState;
using executors::RunStatus;
using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kStart = *parse_time("2026-03-01T00:00:00Z");

// An executor whose jobs work on `clock`: a job needs its
// LaunchSpec::expected_duration of work; after each resume it first spends
// `overhead` running without progress (a checkpoint restart). A deferring
// one holds a started job pending until its begin time (reschedule moves
// it), as Slurm's --begin does.
class WorkExecutor final : public executors::Executor {
 public:
  WorkExecutor(const Clock& clock, Duration overhead, bool defers)
      : clock_(clock), overhead_(overhead), defers_(defers) {}

  std::string name() const override { return defers_ ? "slurm" : "local"; }
  bool defers_start() const override { return defers_; }

  Result<ExecutorHandle> start(const executors::LaunchSpec& spec,
                               TimePoint begin) override {
    Run run;
    run.needed = spec.expected_duration;
    const TimePoint now = clock_.now();
    run.begin = defers_ ? std::max(begin, now) : now;
    run.state =
        defers_ && run.begin > now ? RunState::kPending : RunState::kRunning;
    run.since = run.begin;
    run.work_from = run.begin;
    const std::string id = spec.job_id + "/" + std::to_string(next_++);
    runs_[id] = run;
    return ExecutorHandle{name(), "", id};
  }

  Status reschedule(const ExecutorHandle& handle, TimePoint begin) override {
    Run& run = settle(handle.native_id);
    if (run.state != RunState::kPending) {
      return make_error(ErrorCode::kConflict, "already started");
    }
    run.begin = std::max(begin, clock_.now());
    run.since = run.begin;
    run.work_from = run.begin;
    settle(handle.native_id);
    return {};
  }

  Result<RunStatus> poll(const ExecutorHandle& handle) override {
    const Run& run = settle(handle.native_id);
    RunStatus status;
    status.state = run.state;
    if (run.state != RunState::kPending) {
      status.started_at = run.begin;
    }
    status.ended_at = run.ended;
    if (run.state == RunState::kSucceeded) {
      status.exit_code = 0;
    }
    return status;
  }

  Status pause(const ExecutorHandle& handle, executors::PauseMode) override {
    Run& run = settle(handle.native_id);
    if (run.state != RunState::kRunning) {
      return make_error(ErrorCode::kConflict, "not running");
    }
    run.done += worked(run, clock_.now());
    run.state = RunState::kPaused;
    ++pauses_;
    return {};
  }

  Result<ExecutorHandle> resume(const ExecutorHandle& handle,
                                const executors::LaunchSpec&,
                                executors::PauseMode) override {
    Run& run = settle(handle.native_id);
    if (run.state != RunState::kPaused) {
      return make_error(ErrorCode::kConflict, "not paused");
    }
    run.state = RunState::kRunning;
    run.since = clock_.now();
    run.work_from = run.since + overhead_;
    return handle;
  }

  Status cancel(const ExecutorHandle& handle) override {
    Run& run = settle(handle.native_id);
    run.state = RunState::kCancelled;
    run.ended = clock_.now();
    return {};
  }

  Result<std::optional<ExecutorHandle>> find(const std::string&, int) override {
    return std::optional<ExecutorHandle>();
  }

  // The earliest future instant a job begins or completes.
  std::optional<TimePoint> next_change() const {
    std::optional<TimePoint> next;
    for (const auto& [id, run] : runs_) {
      std::optional<TimePoint> at;
      if (run.state == RunState::kPending) {
        at = run.begin;
      } else if (run.state == RunState::kRunning) {
        at = std::max(run.work_from, run.since) + (run.needed - run.done);
      }
      if (at && (!next || *at < *next)) {
        next = at;
      }
    }
    return next;
  }

  int pauses() const { return pauses_; }

 private:
  struct Run {
    RunState state = RunState::kPending;
    Duration needed{0};
    Duration done{0};
    TimePoint begin;
    TimePoint since;      // Start of the current running segment.
    TimePoint work_from;  // Work progresses from here (after the overhead).
    std::optional<TimePoint> ended;
  };

  static Duration worked(const Run& run, TimePoint now) {
    const TimePoint from = std::max(run.work_from, run.since);
    return std::max(Duration(0), now - from);
  }

  // Brings a run up to the clock: pending -> running at its begin,
  // running -> succeeded when its work is done.
  Run& settle(const std::string& id) {
    Run& run = runs_.at(id);
    const TimePoint now = clock_.now();
    if (run.state == RunState::kPending && now >= run.begin) {
      run.state = RunState::kRunning;
    }
    if (run.state == RunState::kRunning &&
        run.done + worked(run, now) >= run.needed) {
      run.ended = std::max(run.work_from, run.since) + (run.needed - run.done);
      run.done = run.needed;
      run.state = RunState::kSucceeded;
    }
    return run;
  }

  const Clock& clock_;
  Duration overhead_;
  bool defers_;
  std::map<std::string, Run> runs_;
  int next_ = 1;
  int pauses_ = 0;
};

class ConstantHistory final : public IntensityHistory {
 public:
  std::optional<RealizedIntensity> realized(const std::string&, TimePoint,
                                            TimePoint) override {
    return RealizedIntensity{100, "test"};
  }
};

template <typename T>
T pick(std::mt19937_64& rng, const std::vector<T>& values) {
  return values[rng() % values.size()];
}

int64_t uniform(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// A random forecast for `zone` from `from` for 5 days: step 15/30/60 min,
// offset from the hour, values 20..800 with a daily swing, some gaps.
forecast::IntensitySeries random_series(std::mt19937_64& rng,
                                        const std::string& zone,
                                        TimePoint from) {
  forecast::IntensitySeries series;
  series.zone = zone;
  series.provider = "random";
  series.generated_at = from;
  const Duration step =
      pick<Duration>(rng, {minutes(15), minutes(30), hours(1), minutes(7)});
  TimePoint t = from - hours(1) + Duration(uniform(rng, 0, step.count() - 1));
  const double gaps = pick<double>(rng, {0.0, 0.0, 0.05, 0.3});
  std::uniform_real_distribution<double> unit(0, 1);
  const double phase = unit(rng) * 24;
  while (t < from + hours(24 * 5)) {
    std::optional<double> value;
    if (unit(rng) >= gaps) {
      const double hour =
          static_cast<double>((t - kStart).count()) / 3600.0 + phase;
      value = 20 + 390 * (1 + std::sin(hour * 3.14159 / 12)) + unit(rng) * 200 -
              100;
      value = std::max(1.0, *value);
    }
    series.points.push_back({t, t + step, value});
    t += step;
  }
  return series;
}

struct TrialJob {
  std::string id;
  TimePoint submit;
  TimePoint deadline;
  Duration work{0};
  Duration margin{0};
};

struct TrialCounts {
  int jobs = 0;    // Jobs checked.
  int pauses = 0;  // Pauses the executor was asked for.
};

// One trial. Failures are reported with the trial's seed and parameters.
TrialCounts run_trial(uint64_t seed) {
  std::mt19937_64 rng(seed);
  ManualClock clock(kStart);
  const Duration overhead = pick<Duration>(
      rng, {Duration(0), Duration(0), Duration(30), minutes(5), minutes(20)});
  const bool defers = rng() % 2 == 0;
  WorkExecutor executor(clock, overhead, defers);
  MemoryJobStore store;
  fakes::FakeForecastProvider forecasts;
  ConstantHistory history;
  DeclaredPowerMeter meter(100);
  Tracker tracker(store, history, meter, 1.0, "Z");
  forecasts.set_series(random_series(rng, "Z", kStart));

  SchedulerOptions options;
  config::ZoneConfig zone;
  zone.id = "Z";
  zone.time_zone = "UTC";
  options.zones = {zone};
  options.policy_override = Policy::kPauseResume;
  options.safety_margin = pick<Duration>(
      rng, {Duration(0), Duration(0), minutes(1), minutes(10), minutes(45)});
  options.replan_period =
      pick<Duration>(rng, {minutes(5), minutes(15), hours(1), hours(3)});
  options.forecast_refresh =
      pick<Duration>(rng, {minutes(10), minutes(30), hours(1), hours(2)});
  options.horizon = pick<Duration>(rng, {hours(6), hours(24), hours(48)});
  options.max_forecast_age = pick<Duration>(rng, {hours(1), hours(6)});
  Scheduler scheduler(store, forecasts, {{executor.name(), &executor}}, tracker,
                      options);

  std::vector<TrialJob> jobs;
  const int count = static_cast<int>(uniform(rng, 1, 3));
  std::vector<std::pair<TimePoint, JobSpec>> submissions;
  for (int i = 0; i < count; ++i) {
    JobSpec spec;
    spec.name = "job" + std::to_string(i);
    spec.argv = {"work"};
    spec.uid = 1000;
    spec.executor = executor.name();
    spec.interruptible = true;
    spec.power_watts = 100;
    spec.duration = Duration(uniform(rng, 60, 20 * 3600));
    const TimePoint submit = kStart + Duration(uniform(rng, 0, 3 * 3600));
    spec.earliest = submit;
    const Duration slack = pick<Duration>(
        rng, {Duration(0), Duration(uniform(rng, 1, 3600)), hours(6),
              Duration(uniform(rng, 0, 24 * 3600)), hours(24)});
    spec.deadline = submit + spec.duration + slack;
    spec.min_chunk =
        pick<Duration>(rng, {Duration(0), Duration(0), minutes(15), hours(1),
                             Duration(uniform(rng, 1, 4 * 3600))});
    spec.min_chunk = std::min(spec.min_chunk, spec.duration);
    spec.max_pauses = pick<int>(rng, {-1, -1, 0, 1, 3, 10});
    spec.resume_overhead = overhead;
    submissions.push_back({submit, spec});
  }
  std::sort(submissions.begin(), submissions.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  // Random disturbances: a new forecast, sometimes a failing provider or a
  // forced re-plan, at random times.
  TimePoint next_disturbance = kStart + Duration(uniform(rng, 60, 4 * 3600));
  TimePoint now = kStart;
  size_t next_submission = 0;
  const TimePoint give_up = kStart + hours(24 * 4);
  TrialCounts counts;
  while (now < give_up) {
    clock.set(now);
    if (now >= next_disturbance) {
      const int what = static_cast<int>(rng() % 6);
      if (what == 0) {
        forecasts.fail_with(Error{ErrorCode::kUnavailable, "provider down"});
      } else {
        forecasts.fail_with(std::nullopt);
        forecasts.set_series(random_series(rng, "Z", now));
      }
      if (what == 2 || what == 3) {
        scheduler.invalidate_forecasts();
      }
      next_disturbance = now + Duration(uniform(rng, 60, 3 * 3600));
    }
    for (; next_submission < submissions.size() &&
           submissions[next_submission].first <= now;
         ++next_submission) {
      JobSpec spec = submissions[next_submission].second;
      auto submitted = scheduler.submit(spec, now);
      EXPECT_TRUE(submitted.has_value())
          << "seed " << seed << ": " << submitted.error().message;
      if (!submitted) {
        continue;
      }
      TrialJob job;
      job.id = submitted->id;
      job.submit = now;
      job.deadline = spec.deadline;
      job.work = spec.duration;
      job.margin = std::max(now, spec.earliest) + spec.duration <=
                           spec.deadline - options.safety_margin
                       ? options.safety_margin
                       : Duration(0);
      jobs.push_back(job);
    }
    scheduler.tick(now);
    if (next_submission == submissions.size() &&
        scheduler.active_jobs().empty()) {
      break;
    }
    TimePoint next = next_disturbance;
    if (next_submission < submissions.size()) {
      next = std::min(next, submissions[next_submission].first);
    }
    next = std::min(next, scheduler.next_event(now, false));
    if (auto change = executor.next_change()) {
      next = std::min(next, *change);
    }
    now = std::max(next, now + Duration(1));
  }
  for (const auto& job : jobs) {
    auto stored = store.get(job.id);
    EXPECT_TRUE(stored.has_value()) << "seed " << seed;
    if (!stored) {
      continue;
    }
    ++counts.jobs;
    EXPECT_EQ(JobState::kSucceeded, stored->state)
        << "seed " << seed << " job " << job.id << " not done by "
        << format_utc(give_up);
    EXPECT_TRUE(stored->ended_at.has_value()) << "seed " << seed;
    if (!stored->ended_at) {
      continue;
    }
    EXPECT_LE(*stored->ended_at, job.deadline - job.margin)
        << "seed " << seed << " job " << job.id << ": work " << job.work.count()
        << " s, submitted " << format_utc(job.submit) << ", deadline "
        << format_utc(job.deadline) << " margin " << job.margin.count()
        << " s, overhead " << overhead.count() << " s, min_chunk "
        << stored->spec.min_chunk.count() << " s, max_pauses "
        << stored->spec.max_pauses << ", pauses " << stored->segment
        << (defers ? ", deferring executor" : "");
  }
  counts.pauses = executor.pauses();
  return counts;
}

TEST(SafeResumePropertyTest, PauseResumeJobsNeverFinishAfterTheirDeadline) {
  TrialCounts total;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const TrialCounts counts = run_trial(seed);
    total.jobs += counts.jobs;
    total.pauses += counts.pauses;
    if (::testing::Test::HasFailure()) {
      break;  // The first failing seed says enough.
    }
  }
  EXPECT_GT(total.jobs, 200);  // Every trial had at least one job.
  // The trials exercise what the property is about: jobs that pause.
  EXPECT_GT(total.pauses, 100);
}

// A constructed case, to show the harness runs pause-resume as planned: an
// 8 h job with a day of slack and two clean 4 h spells runs in both.
TEST(SafeResumePropertyTest, HarnessRunsAPlannedPause) {
  ManualClock clock(kStart);
  WorkExecutor executor(clock, Duration(0), false);
  MemoryJobStore store;
  fakes::FakeForecastProvider forecasts;
  std::vector<double> values(48, 500.0);
  for (int h : {2, 3, 4, 5, 14, 15, 16, 17}) {
    values[static_cast<size_t>(h)] = 50;
  }
  forecasts.set_hourly("Z", kStart, values);
  ConstantHistory history;
  DeclaredPowerMeter meter(100);
  Tracker tracker(store, history, meter, 1.0, "Z");
  SchedulerOptions options;
  config::ZoneConfig zone;
  zone.id = "Z";
  zone.time_zone = "UTC";
  options.zones = {zone};
  options.policy_override = Policy::kPauseResume;
  Scheduler scheduler(store, forecasts, {{"local", &executor}}, tracker,
                      options);
  JobSpec spec;
  spec.argv = {"work"};
  spec.duration = hours(8);
  spec.earliest = kStart;
  spec.deadline = kStart + hours(24);
  spec.interruptible = true;
  auto job = scheduler.submit(spec, kStart);
  ASSERT_OK(job);
  TimePoint now = kStart;
  while (!scheduler.active_jobs().empty() && now < kStart + hours(30)) {
    clock.set(now);
    scheduler.tick(now);
    TimePoint next = scheduler.next_event(now, false);
    if (auto change = executor.next_change()) {
      next = std::min(next, *change);
    }
    now = std::max(next, now + Duration(1));
  }
  auto stored = store.get(job->id);
  ASSERT_OK(stored);
  EXPECT_EQ(JobState::kSucceeded, stored->state);
  EXPECT_EQ(1, executor.pauses());
  EXPECT_EQ(1, stored->segment);
  EXPECT_EQ(kStart + hours(18), stored->ended_at.value_or(TimePoint{}));
}

}  // namespace
}  // namespace lowcarb::scheduler
