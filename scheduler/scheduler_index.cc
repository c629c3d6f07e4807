// SPDX-License-Identifier: Apache-2.0
// The scheduler's next-event index: which active jobs tick() must visit and
// when the next thing is due, without walking all of a 100,000-job queue at
// every tick (issue 12). The *_by_scan() functions give the same answers by
// a walk over every job; tests hold the index to them.
#include <algorithm>

#include "scheduler/scheduler.h"

namespace lowcarb::scheduler {

bool Scheduler::waiting_at(const Job& job, TimePoint now) const {
  // A queue-planned job starts only at its planned start (step()).
  return job.state == JobState::kQueued && !job.handle &&
         (job.held || in_late_tail(job) ||
          (job.plan && now < job.plan->start() &&
           (now < latest_safe_start(job) || queue_planned(job))));
}

bool Scheduler::waits_for_capacity(const Job& job) const {
  return job.state == JobState::kQueued && !job.handle && !job.held &&
         job.plan && capacity_of(job.zone) > 0;
}

bool Scheduler::in_late_tail(const Job& job) const {
  return job.state == JobState::kQueued && !job.handle && job.plan &&
         job.plan->reason == "queue-tail" && queue_planned(job);
}

std::vector<std::string> Scheduler::late_tail_head(const std::string& zone,
                                                   size_t n) const {
  std::vector<std::string> ids;
  if (auto it = late_tails_.find(zone); it != late_tails_.end()) {
    for (auto t = it->second.begin(); t != it->second.end() && ids.size() < n;
         ++t) {
      ids.push_back(t->second);
    }
  }
  return ids;
}

size_t Scheduler::late_tail_size(const std::string& zone) const {
  auto it = late_tails_.find(zone);
  return it == late_tails_.end() ? 0 : it->second.size();
}

bool Scheduler::replanned_each_round(const Job& job) const {
  return !job.held &&
         (job.state == JobState::kQueued || job.state == JobState::kPaused) &&
         !queue_planned(job) &&
         !(job.plan && policy_of(job.spec) == Policy::kRunNow);
}

namespace {

template <typename Entry>
std::optional<std::string> member_zone_of(const Job& job, const Entry& entry) {
  if ((entry.parked && !entry.queue_planned) || entry.late_tail) {
    return std::nullopt;
  }
  return job.zone;
}

// Where an entry's wake is kept: in wakes_, or parked in its zone's tail.
template <typename Entry, typename Wakes, typename Tails>
void place_wake(const Entry& entry, const std::string& id, Wakes& wakes,
                Tails& tails) {
  if (entry.parked) {
    tails[*entry.tail_zone].insert({entry.deadline, id});
  } else if (entry.wake) {
    wakes.insert({*entry.wake, id});
  }
}

}  // namespace

void Scheduler::unplace_wake(const IndexEntry& entry, const std::string& id) {
  if (entry.parked) {
    auto tail = tails_.find(*entry.tail_zone);
    tail->second.erase({entry.deadline, id});
    if (tail->second.empty()) {
      tails_.erase(tail);
    }
  } else if (entry.wake) {
    wakes_.erase(wakes_.find({*entry.wake, id}));
  }
}

void Scheduler::set_member_zone(IndexEntry& entry, const std::string& id,
                                std::optional<std::string> zone) {
  if (entry.member_zone == zone) {
    return;
  }
  if (entry.member_zone) {
    auto members = zone_members_.find(*entry.member_zone);
    members->second.erase(id);
    if (members->second.empty()) {
      zone_members_.erase(members);
    }
  }
  if (zone) {
    zone_members_[*zone].insert(id);
  }
  entry.member_zone = std::move(zone);
}

std::vector<std::string> Scheduler::zone_members(
    const std::string& zone) const {
  auto it = zone_members_.find(zone);
  if (it == zone_members_.end()) {
    return {};
  }
  return {it->second.begin(), it->second.end()};
}

void Scheduler::erase_late_tail(const std::string& zone, TimePoint deadline,
                                const std::string& id) {
  auto tail = late_tails_.find(zone);
  tail->second.erase({deadline, id});
  if (tail->second.empty()) {
    late_tails_.erase(tail);
  }
}

void Scheduler::park_woken(TimePoint now) {
  for (auto it = wakes_.begin(); it != wakes_.end() && it->first <= now;) {
    IndexEntry& entry = index_.at(it->second);
    if (!entry.tail_zone) {
      ++it;
      continue;
    }
    entry.parked = true;
    tails_[*entry.tail_zone].insert({entry.deadline, it->second});
    if (!entry.queue_planned) {
      set_member_zone(entry, it->second, std::nullopt);
    }
    it = wakes_.erase(it);
  }
}

void Scheduler::unindex(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) {
    return;
  }
  const IndexEntry& entry = it->second;
  for (const auto& t : entry.events) {
    events_.erase(events_.find({t, id}));
  }
  unplace_wake(entry, id);
  if (entry.round_replan) {
    round_replans_.erase(id);
  }
  set_member_zone(it->second, id, std::nullopt);
  if (entry.late_tail) {
    erase_late_tail(entry.member_zone_for_tail, entry.deadline, id);
  }
  visit_.erase(id);
  urgent_.erase(id);
  polled_.erase(id);
  newest_.erase(id);
  for (const auto& zone : entry.zones) {
    if (--zone_refs_[zone] <= 0) {
      zone_refs_.erase(zone);
    }
    auto deadlines = zone_deadlines_.find(zone);
    deadlines->second.erase(deadlines->second.find(entry.spec_deadline));
    if (deadlines->second.empty()) {
      zone_deadlines_.erase(deadlines);
    }
  }
  if (entry.slot_zone) {
    if (--slots_taken_[*entry.slot_zone] <= 0) {
      slots_taken_.erase(*entry.slot_zone);
    }
  }
  index_.erase(it);
}

void Scheduler::reindex(const std::string& id) {
  auto found = active_.find(id);
  if (found == active_.end()) {
    unindex(id);
    return;
  }
  const Job& job = found->second;
  IndexEntry entry;
  // tick() between re-plans: see waiting_at(). A queued job without a
  // handle waits while held (until changed) or until its planned start or
  // latest safe start, whichever comes first; every other job is visited.
  const bool late_tail = in_late_tail(job);
  if (job.state == JobState::kQueued && !job.handle && (job.held || job.plan)) {
    if (!job.held && !late_tail) {
      entry.wake = queue_planned(job)
                       ? job.plan->start()
                       : std::min(job.plan->start(), latest_safe_start(job));
    }
  } else {
    entry.visit = true;
  }
  // next_event(): a held job contributes nothing (not even polls).
  if (!job.held && !late_tail) {
    switch (job.state) {
      case JobState::kQueued:
      case JobState::kPaused:
        if (job.plan) {
          entry.events.push_back(job.plan->start());
        }
        entry.events.push_back(latest_safe_start(job));
        break;
      case JobState::kRunning:
        if (job.plan && job.plan->segments.size() > 1) {
          entry.events.push_back(job.plan->segments.front().end);
        }
        break;
      default:
        entry.urgent = true;
    }
    entry.polled = job.handle.has_value();
  }
  if (holds_slot(job)) {
    entry.slot_zone = job.zone;
  }
  if (entry.wake && waits_for_capacity(job)) {
    entry.tail_zone = job.zone;
    entry.deadline = job.spec.deadline;
  }
  entry.round_replan = replanned_each_round(job);
  entry.queue_planned = queue_planned(job);
  entry.late_tail = late_tail;
  entry.deadline = job.spec.deadline;
  // Most re-indexings change nothing (a re-plan to the same decision, a
  // step of a waiting job): leave the sets alone then. A job's spec, and so
  // its zones, does not change while it is active.
  if (auto old = index_.find(id); old != index_.end()) {
    IndexEntry& was = old->second;
    // A parked job stays in its tail while its wake does not move.
    entry.parked = was.parked && was.wake == entry.wake &&
                   was.tail_zone == entry.tail_zone &&
                   was.deadline == entry.deadline;
    if (was.events == entry.events && was.wake == entry.wake &&
        was.visit == entry.visit && was.urgent == entry.urgent &&
        was.polled == entry.polled && was.slot_zone == entry.slot_zone &&
        was.tail_zone == entry.tail_zone && was.parked == entry.parked &&
        was.deadline == entry.deadline &&
        was.round_replan == entry.round_replan &&
        was.queue_planned == entry.queue_planned &&
        was.late_tail == entry.late_tail &&
        was.member_zone == member_zone_of(job, entry)) {
      return;
    }
    // Otherwise only what changed is moved (a re-plan of 100,000 jobs
    // changes one or two times of each; taking every set entry out and
    // putting it back was a large share of that tick). newest_ and the
    // zone counts depend on the id and spec only.
    if (was.events.size() == entry.events.size()) {
      for (size_t i = 0; i < entry.events.size(); ++i) {
        if (was.events[i] != entry.events[i]) {
          events_.erase(events_.find({was.events[i], id}));
          events_.insert({entry.events[i], id});
        }
      }
    } else {
      for (const auto& t : was.events) {
        events_.erase(events_.find({t, id}));
      }
      for (const auto& t : entry.events) {
        events_.insert({t, id});
      }
    }
    if (was.wake != entry.wake || was.parked != entry.parked ||
        was.tail_zone != entry.tail_zone || was.deadline != entry.deadline) {
      unplace_wake(was, id);
      place_wake(entry, id, wakes_, tails_);
    }
    auto update = [&](std::set<std::string>& set, bool was_in, bool is_in) {
      if (was_in && !is_in) {
        set.erase(id);
      } else if (!was_in && is_in) {
        set.insert(id);
      }
    };
    update(visit_, was.visit, entry.visit);
    update(urgent_, was.urgent, entry.urgent);
    update(polled_, was.polled, entry.polled);
    update(round_replans_, was.round_replan, entry.round_replan);
    if (was.late_tail != entry.late_tail || was.deadline != entry.deadline) {
      if (was.late_tail) {
        erase_late_tail(was.member_zone_for_tail, was.deadline, id);
      }
      if (entry.late_tail) {
        late_tails_[job.zone].insert({entry.deadline, id});
      }
    }
    entry.member_zone_for_tail = entry.late_tail ? job.zone : std::string();
    if (was.slot_zone != entry.slot_zone) {
      if (was.slot_zone && --slots_taken_[*was.slot_zone] <= 0) {
        slots_taken_.erase(*was.slot_zone);
      }
      if (entry.slot_zone) {
        ++slots_taken_[*entry.slot_zone];
      }
    }
    entry.zones = std::move(was.zones);
    entry.spec_deadline = was.spec_deadline;
    auto member = member_zone_of(job, entry);
    entry.member_zone = was.member_zone;
    was = std::move(entry);
    set_member_zone(was, id, std::move(member));
    return;
  }
  entry.zones = zones_of(job.spec);
  entry.spec_deadline = job.spec.deadline;
  unindex(id);
  for (const auto& t : entry.events) {
    events_.insert({t, id});
  }
  place_wake(entry, id, wakes_, tails_);
  if (entry.round_replan) {
    round_replans_.insert(id);
  }
  if (entry.late_tail) {
    late_tails_[job.zone].insert({entry.deadline, id});
    entry.member_zone_for_tail = job.zone;
  }
  if (entry.visit) {
    visit_.insert(id);
  }
  if (entry.urgent) {
    urgent_.insert(id);
  }
  if (entry.polled) {
    polled_.insert(id);
  }
  newest_.insert(id);
  for (const auto& zone : entry.zones) {
    ++zone_refs_[zone];
    zone_deadlines_[zone].insert(entry.spec_deadline);
  }
  if (entry.slot_zone) {
    ++slots_taken_[*entry.slot_zone];
  }
  auto member = member_zone_of(job, entry);
  IndexEntry& stored = index_[id] = std::move(entry);
  set_member_zone(stored, id, std::move(member));
}

bool Scheduler::refresh_due(TimePoint now) const {
  for (const auto& [zone, count] : zone_refs_) {
    auto it = zone_forecasts_.find(zone);
    if (it == zone_forecasts_.end() ||
        now - it->second.fetched_at >= options_.forecast_refresh) {
      return true;
    }
  }
  return false;
}

namespace {

// Of the due jobs waiting for capacity, by zone: the first `free` of each
// zone by (deadline, id), as tick() would start them (earliest deadline
// first); the others could only wait.
using TailCandidates =
    std::map<std::string, std::vector<std::pair<TimePoint, std::string>>>;

template <typename FreeSlots>
void add_tail_heads(TailCandidates& candidates, FreeSlots free_slots,
                    std::vector<std::string>& ids) {
  for (auto& [zone, list] : candidates) {
    const int free = free_slots(zone);
    if (free <= 0) {
      continue;
    }
    const auto n = std::min(list.size(), static_cast<size_t>(free));
    std::partial_sort(list.begin(), list.begin() + static_cast<long>(n),
                      list.end());
    for (size_t i = 0; i < n; ++i) {
      ids.push_back(list[i].second);
    }
  }
}

}  // namespace

std::vector<std::string> Scheduler::due_jobs(TimePoint now) const {
  std::vector<std::string> ids(visit_.begin(), visit_.end());
  const size_t visited = ids.size();
  TailCandidates candidates;
  for (const auto& [t, id] : wakes_) {
    if (t > now) {
      break;
    }
    const IndexEntry& entry = index_.at(id);
    if (entry.tail_zone) {
      candidates[*entry.tail_zone].push_back({entry.deadline, id});
    } else {
      ids.push_back(id);
    }
  }
  // A parked job's wake has passed: it is due whenever its zone has a slot.
  for (const auto& [zone, tail] : tails_) {
    const int free = capacity_of(zone) - slots_taken(zone);
    auto& list = candidates[zone];
    int taken = 0;
    for (auto it = tail.begin(); it != tail.end() && taken < free;
         ++it, ++taken) {
      list.push_back(*it);
    }
  }
  add_tail_heads(
      candidates,
      [this](const std::string& zone) {
        return capacity_of(zone) - slots_taken(zone);
      },
      ids);
  // tick() acts in id order (as over active_): the woken ones are merged in.
  std::sort(ids.begin() + static_cast<long>(visited), ids.end());
  std::inplace_merge(ids.begin(), ids.begin() + static_cast<long>(visited),
                     ids.end());
  return ids;
}

std::vector<std::string> Scheduler::due_jobs_by_scan(TimePoint now) const {
  std::vector<std::string> ids;
  TailCandidates candidates;
  for (const auto& [id, job] : active_) {
    if (waiting_at(job, now)) {
      continue;
    }
    if (waits_for_capacity(job)) {
      candidates[job.zone].push_back({job.spec.deadline, id});
    } else {
      ids.push_back(id);
    }
  }
  add_tail_heads(
      candidates,
      [this](const std::string& zone) {
        return capacity_of(zone) - slots_taken_by_scan(zone);
      },
      ids);
  std::sort(ids.begin(), ids.end());
  return ids;
}

int Scheduler::slots_taken(const std::string& zone) const {
  auto it = slots_taken_.find(zone);
  return it == slots_taken_.end() ? 0 : it->second;
}

int Scheduler::slots_taken_by_scan(const std::string& zone) const {
  int taken = 0;
  for (const auto& [id, job] : active_) {
    taken += job.zone == zone && holds_slot(job) ? 1 : 0;
  }
  return taken;
}

TimePoint Scheduler::next_event(TimePoint now, bool include_polls) const {
  TimePoint next = TimePoint::max();
  auto consider = [&](TimePoint t) {
    if (t > now && t < next) {
      next = t;
    }
  };
  if (!active_.empty()) {
    if (last_replan_) {
      consider(*last_replan_ + options_.replan_period);
    }
    for (const auto& [zone, entry] : zone_forecasts_) {
      consider(entry.fetched_at + options_.forecast_refresh);
    }
  }
  // TimePoint counts whole seconds: the first entry after `now`.
  if (auto it = events_.lower_bound({now + Duration(1), std::string()});
      it != events_.end()) {
    consider(it->first);
  }
  if (!urgent_.empty()) {
    consider(now + std::chrono::seconds(1));
  }
  if (include_polls && !polled_.empty()) {
    consider(now + options_.sample_period);
  }
  return next;
}

TimePoint Scheduler::next_event_by_scan(TimePoint now,
                                        bool include_polls) const {
  TimePoint next = TimePoint::max();
  auto consider = [&](TimePoint t) {
    if (t > now && t < next) {
      next = t;
    }
  };
  if (!active_.empty()) {
    if (last_replan_) {
      consider(*last_replan_ + options_.replan_period);
    }
    for (const auto& [zone, entry] : zone_forecasts_) {
      consider(entry.fetched_at + options_.forecast_refresh);
    }
  }
  for (const auto& [id, job] : active_) {
    if (job.held || in_late_tail(job)) {
      continue;
    }
    switch (job.state) {
      case JobState::kQueued:
      case JobState::kPaused:
        if (job.plan) {
          consider(job.plan->start());
        }
        consider(latest_safe_start(job));
        break;
      case JobState::kRunning:
        if (job.plan && job.plan->segments.size() > 1) {
          consider(job.plan->segments.front().end);
        }
        break;
      default:
        consider(now + std::chrono::seconds(1));
    }
    if (include_polls && job.handle) {
      consider(now + options_.sample_period);
    }
  }
  return next;
}

}  // namespace lowcarb::scheduler
