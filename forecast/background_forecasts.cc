// SPDX-License-Identifier: Apache-2.0
#include "forecast/background_forecasts.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/logging.h"
#include "common/time_format.h"

namespace lowcarb::forecast {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  static auto instance = get_logger("forecast");
  return instance;
}

// The points of [now, now + horizon).
IntensitySeries window(const IntensitySeries& series, TimePoint now,
                       Duration horizon) {
  IntensitySeries out = series;
  out.points.clear();
  const TimePoint until = now + horizon;
  for (const auto& point : series.points) {
    if (point.end > now && point.start < until) {
      out.points.push_back(point);
    }
  }
  return out;
}

// The points of `earlier` answers that end before `latest` begins, then
// `latest`'s: what was forecast for times the newest answer no longer covers.
std::vector<IntensityPoint> earlier_points(
    const std::vector<IntensityPoint>& earlier, const IntensitySeries& replaced,
    const IntensitySeries& latest, TimePoint keep_after) {
  if (latest.points.empty()) {
    return earlier;
  }
  const TimePoint begins = latest.points.front().start;
  std::vector<IntensityPoint> kept;
  for (const auto* points : {&earlier, &replaced.points}) {
    for (const auto& point : *points) {
      if (point.end > keep_after && point.end <= begins &&
          (kept.empty() || point.start >= kept.back().end)) {
        kept.push_back(point);
      }
    }
  }
  return kept;
}

}  // namespace

struct BackgroundForecasts::State {
  struct Entry {
    std::optional<IntensitySeries> series;  // The last good answer.
    // What earlier answers said of times before the last one begins (at
    // most max_age back): the tracker asks for the forecast in force at a
    // job's submission when it meters the run-now counterfactual.
    std::vector<IntensityPoint> earlier;
    TimePoint fetched_at{};
    Duration horizon{0};
    bool queued = false;  // A refresh is queued or running.
    std::optional<TimePoint> failed_at;
    bool stale_logged = false;
  };
  struct Request {
    std::string zone;
    TimePoint now;
    Duration horizon;
  };

  std::mutex mutex;
  // Held while the update callback runs, so that once the destructor has
  // taken it no callback runs any more.
  std::mutex notify_mutex;
  std::condition_variable wake;
  std::condition_variable idle;
  std::map<std::string, Entry> entries;
  std::deque<Request> queue;
  bool busy = false;
  bool stopping = false;
  std::function<void()> on_update;
  std::shared_ptr<ForecastProvider> remote;
  Duration max_age{0};

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (stopping) {
        return;
      }
      Request request = std::move(queue.front());
      queue.pop_front();
      busy = true;
      lock.unlock();
      auto result =
          remote->forecast(request.zone, request.now, request.horizon);
      lock.lock();
      if (stopping) {
        return;
      }
      auto& entry = entries[request.zone];
      entry.queued = false;
      bool updated = false;
      if (result) {
        // Only news wakes the caller: the same answer again changes no plan.
        updated = !entry.series || entry.series->points != result->points ||
                  entry.series->provider != result->provider;
        if (entry.series) {
          entry.earlier = earlier_points(entry.earlier, *entry.series, *result,
                                         request.now - max_age);
        }
        entry.series = std::move(*result);
        entry.fetched_at = request.now;
        entry.horizon = request.horizon;
        entry.failed_at.reset();
        entry.stale_logged = false;
      } else {
        entry.failed_at = request.now;
        logger()->warn("background forecast refresh for {} failed: {}",
                       request.zone, redact(result.error().message));
      }
      if (updated) {
        lock.unlock();
        {
          std::lock_guard notifying(notify_mutex);
          std::function<void()> callback;
          {
            std::lock_guard again(mutex);
            if (!stopping) {
              callback = on_update;
            }
          }
          if (callback) {
            callback();
          }
        }
        lock.lock();
      }
      busy = false;
      if (queue.empty()) {
        idle.notify_all();
      }
    }
  }
};

BackgroundForecasts::BackgroundForecasts(
    std::shared_ptr<ForecastProvider> remote, ForecastProvider& immediate,
    BackgroundOptions options)
    : state_(std::make_shared<State>()),
      immediate_(immediate),
      options_(options) {
  state_->remote = std::move(remote);
  state_->max_age = options_.max_age;
  std::thread([state = state_] { state->run(); }).detach();
}

BackgroundForecasts::~BackgroundForecasts() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->on_update = nullptr;
    state_->wake.notify_all();
    state_->idle.notify_all();
  }
  // Waits for a callback under way (never for a fetch).
  std::lock_guard notifying(state_->notify_mutex);
}

void BackgroundForecasts::set_on_update(std::function<void()> callback) {
  std::lock_guard lock(state_->mutex);
  state_->on_update = std::move(callback);
}

bool BackgroundForecasts::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->idle.wait_for(
      lock, timeout, [this] { return state_->queue.empty() && !state_->busy; });
}

Result<IntensitySeries> BackgroundForecasts::forecast(const std::string& zone,
                                                      TimePoint now,
                                                      Duration horizon) {
  std::optional<IntensitySeries> served;
  {
    std::lock_guard lock(state_->mutex);
    auto& entry = state_->entries[zone];
    const bool have = entry.series.has_value();
    const bool covers = have && entry.horizon >= horizon;
    const bool fresh = covers && now - entry.fetched_at < options_.refresh;
    const bool may_retry = !entry.failed_at || now - *entry.failed_at >=
                                                   options_.retry_after_failure;
    if (!fresh && !entry.queued && may_retry) {
      entry.queued = true;
      state_->queue.push_back(
          {zone, now, std::max(horizon, have ? entry.horizon : Duration{0})});
      state_->wake.notify_one();
    }
    if (have && now - entry.fetched_at <= options_.max_age) {
      auto part = window(*entry.series, now, horizon);
      if (!entry.earlier.empty() && !entry.series->points.empty() &&
          now < entry.series->points.front().start) {
        IntensitySeries joined = *entry.series;
        joined.points = entry.earlier;
        joined.points.insert(joined.points.end(), entry.series->points.begin(),
                             entry.series->points.end());
        part = window(joined, now, horizon);
      }
      if (!part.empty()) {
        served = std::move(part);
      }
    } else if (have && !entry.stale_logged) {
      entry.stale_logged = true;
      logger()->warn(
          "forecast for {}: the last good forecast ({}, fetched {}) is older "
          "than {}; planning on the local fallback chain until a refresh "
          "succeeds",
          zone, entry.series->provider, format_utc(entry.fetched_at),
          format_duration(options_.max_age));
    }
  }
  if (served) {
    return std::move(*served);
  }
  return immediate_.forecast(zone, now, horizon);
}

Result<IntensitySeries> BackgroundForecasts::history(const std::string& zone,
                                                     TimePoint from,
                                                     TimePoint to) {
  return immediate_.history(zone, from, to);
}

}  // namespace lowcarb::forecast
