// SPDX-License-Identifier: Apache-2.0
#include "scheduler/safe_resume.h"

#include <algorithm>

namespace lowcarb::scheduler {

int resumes_done(const ResumeProgress& progress) {
  const int pauses = std::max(0, progress.pauses);
  return progress.running ? pauses : std::max(0, pauses - 1);
}

Duration remaining_work(const ResumeProgress& progress,
                        const ResumeLimits& limits) {
  const Duration overhead = std::max(Duration(0), limits.resume_overhead);
  const Duration done = std::max(
      Duration(0), progress.run_time - resumes_done(progress) * overhead);
  return std::clamp(progress.work - done, Duration(0),
                    std::max(Duration(0), progress.work));
}

Duration time_to_finish(const ResumeProgress& progress,
                        const ResumeLimits& limits) {
  Duration needed = remaining_work(progress, limits);
  if (!progress.running && progress.pauses > 0) {
    needed += std::max(Duration(0), limits.resume_overhead);
  }
  return needed;
}

TimePoint latest_safe_resume(const ResumeProgress& progress,
                             const ResumeLimits& limits) {
  const TimePoint latest = limits.deadline -
                           std::max(Duration(0), limits.safety_margin) -
                           time_to_finish(progress, limits);
  return std::max(latest, limits.earliest);
}

int pauses_left(const ResumeProgress& progress, const ResumeLimits& limits) {
  if (limits.max_pauses < 0) {
    return -1;
  }
  return std::max(0, limits.max_pauses - std::max(0, progress.pauses));
}

const char* to_string(PauseVerdict verdict) {
  switch (verdict) {
    case PauseVerdict::kAllowed:
      return "allowed";
    case PauseVerdict::kNotRunning:
      return "not running";
    case PauseVerdict::kWorkDone:
      return "work done";
    case PauseVerdict::kPauseLimit:
      return "pause limit reached";
    case PauseVerdict::kChunkTooShort:
      return "chunk shorter than min_chunk";
    case PauseVerdict::kRestTooShort:
      return "rest shorter than min_chunk";
    case PauseVerdict::kNoSlack:
      return "no slack left for another resume";
  }
  return "?";
}

PauseVerdict may_pause(const ResumeProgress& progress,
                       const ResumeLimits& limits, TimePoint now) {
  if (!progress.running) {
    return PauseVerdict::kNotRunning;
  }
  if (remaining_work(progress, limits) <= Duration(0)) {
    return PauseVerdict::kWorkDone;
  }
  if (pauses_left(progress, limits) == 0) {
    return PauseVerdict::kPauseLimit;
  }
  const Duration min_chunk = std::max(Duration(0), limits.min_chunk);
  if (progress.chunk < min_chunk) {
    return PauseVerdict::kChunkTooShort;
  }
  ResumeProgress paused = progress;
  paused.running = false;
  paused.chunk = Duration(0);
  paused.pauses = std::max(0, progress.pauses) + 1;
  if (time_to_finish(paused, limits) < min_chunk) {
    return PauseVerdict::kRestTooShort;
  }
  // Unclamped: a latest resume held up by `earliest` does not help a job
  // that is already past it.
  const TimePoint latest = limits.deadline -
                           std::max(Duration(0), limits.safety_margin) -
                           time_to_finish(paused, limits);
  if (latest <= now) {
    return PauseVerdict::kNoSlack;
  }
  return PauseVerdict::kAllowed;
}

}  // namespace lowcarb::scheduler
