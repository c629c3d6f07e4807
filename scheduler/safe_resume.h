// SPDX-License-Identifier: Apache-2.0
// The latest-safe-resume rule: the deadline guarantee of interruptible jobs,
// kept by the scheduler whatever the forecast or the plan says. Pure
// functions of a job's progress and limits; no clock, no I/O; thread-safe.
//
// Model. A job needs `work` seconds of running. Every resume after a pause
// costs `resume_overhead` seconds of running before work continues (a
// checkpoint restart reloading its state, a Slurm requeue waiting to be
// placed again), so running time and work differ by one overhead per resume.
// From a paused job's resume, it needs `overhead + remaining` seconds of
// running; a queued job that never ran needs `work`.
//
// The rule, checked at every re-plan and every tick:
//   - a queued or paused job is started or resumed, whatever its plan, once
//     `now >= latest_safe_resume()`; from then on it runs to the end;
//   - a running job may pause (at a planned segment end) only when, after
//     the pause, it could still resume strictly later and finish by
//     deadline - safety_margin (may_pause()), its chunk has lasted
//     min_chunk, the rest is worth a chunk of min_chunk and max_pauses is
//     not used up. Otherwise it runs to the end.
// Both only ever make a job run earlier or longer, so together they bound
// the finish by deadline - safety_margin (by the deadline when the margin
// does not fit), given the job's estimate of its work holds.
#pragma once

#include "common/clock.h"

namespace lowcarb::scheduler {

// A job's limits. Durations in seconds, >= 0.
struct ResumeLimits {
  TimePoint earliest;  // Never (re)start before this.
  TimePoint deadline;  // Must have finished by this.
  Duration safety_margin{0};
  Duration resume_overhead{0};  // Running time each resume costs.
  Duration min_chunk{0};        // Shortest run segment; 0 = none.
  int max_pauses = -1;          // -1 = unlimited.
};

// Where a job stands at the instant of the check.
struct ResumeProgress {
  Duration work{0};      // The job's whole work (its estimated run time).
  Duration run_time{0};  // Running so far, including the current segment.
  int pauses = 0;        // Pauses done so far.
  bool running = false;  // Running now (else queued or paused).
  Duration chunk{0};     // Running: how long the current segment has run.
};

// Resumes already made: a running job has resumed after every pause, a
// paused one is waiting for its last.
int resumes_done(const ResumeProgress& progress);

// Work still to do: work - (run_time - resumes_done x overhead), in
// [0, work]. Conservative: a chunk shorter than the overhead counts as
// negative work.
Duration remaining_work(const ResumeProgress& progress,
                        const ResumeLimits& limits);

// Running time still needed from now: remaining work, plus one overhead when
// the job is paused after at least one pause (its resume is still to come).
Duration time_to_finish(const ResumeProgress& progress,
                        const ResumeLimits& limits);

// The latest instant a queued or paused job can (re)start and still finish by
// deadline - safety_margin: that minus time_to_finish(); never before
// `earliest`. For a running job: the latest instant it could have resumed.
TimePoint latest_safe_resume(const ResumeProgress& progress,
                             const ResumeLimits& limits);

// The pauses a re-plan may still place (max_pauses - pauses, at least 0), or
// -1 when unlimited.
int pauses_left(const ResumeProgress& progress, const ResumeLimits& limits);

enum class PauseVerdict {
  kAllowed,
  kNotRunning,
  kWorkDone,       // Nothing left to do: let it finish.
  kPauseLimit,     // max_pauses used up.
  kChunkTooShort,  // The current chunk has not run min_chunk yet.
  kRestTooShort,   // What is left would make a chunk under min_chunk.
  kNoSlack,        // Pausing now could miss the deadline.
};

// "allowed", "pause limit reached", ...
const char* to_string(PauseVerdict verdict);

// Whether a running job may pause at `now` (see the file comment). kNoSlack
// when, after a pause at `now`, its latest safe resume would not be strictly
// after `now` (a resume at `now` itself would be a pause for nothing).
PauseVerdict may_pause(const ResumeProgress& progress,
                       const ResumeLimits& limits, TimePoint now);

}  // namespace lowcarb::scheduler
