// SPDX-License-Identifier: Apache-2.0
#include "scheduler/safe_resume.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lowcarb::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kMidnight = *parse_time("2026-11-23T00:00:00Z");

ResumeLimits limits(Duration margin = minutes(10),
                    Duration overhead = minutes(0)) {
  ResumeLimits l;
  l.earliest = kMidnight;
  l.deadline = kMidnight + hours(12);
  l.safety_margin = margin;
  l.resume_overhead = overhead;
  return l;
}

ResumeProgress progress(Duration work, Duration run_time, int pauses,
                        bool running, Duration chunk = Duration(0)) {
  return {work, run_time, pauses, running, chunk};
}

TEST(SafeResumeTest, QueuedJobStartsByDeadlineMinusMarginMinusWork) {
  EXPECT_EQ(kMidnight + hours(9) + minutes(50),
            latest_safe_resume(progress(hours(2), Duration(0), 0, false),
                               limits(minutes(10), minutes(20))));
}

TEST(SafeResumeTest, PausedJobAlsoNeedsTheTimeItsResumeTakes) {
  // 2 h of work, 1 h done in one chunk, one pause: 1 h left plus the
  // 20-minute resume.
  auto paused = progress(hours(2), hours(1), 1, false);
  auto l = limits(minutes(10), minutes(20));
  EXPECT_EQ(hours(1), remaining_work(paused, l));
  EXPECT_EQ(hours(1) + minutes(20), time_to_finish(paused, l));
  EXPECT_EQ(kMidnight + hours(10) + minutes(30), latest_safe_resume(paused, l));
}

TEST(SafeResumeTest, EachResumeCostsItsOverheadInWorkDone) {
  // Two pauses, so one resume done: 90 min of running is 70 min of work.
  auto paused = progress(hours(2), minutes(90), 2, false);
  EXPECT_EQ(minutes(50),
            remaining_work(paused, limits(minutes(0), minutes(20))));
  // Running after both resumes: 110 min of running is 70 min of work.
  auto running = progress(hours(2), minutes(110), 2, true, minutes(20));
  EXPECT_EQ(minutes(50),
            remaining_work(running, limits(minutes(0), minutes(20))));
}

TEST(SafeResumeTest, RemainingWorkStaysWithinZeroAndTheWork) {
  auto l = limits(minutes(0), hours(1));
  EXPECT_EQ(hours(2), remaining_work(progress(hours(2), minutes(30), 3, true),
                                     l));  // Run time below the overheads.
  EXPECT_EQ(Duration(0),
            remaining_work(progress(hours(2), hours(9), 0, true), l));
}

TEST(SafeResumeTest, NeverBeforeTheEarliestStart) {
  auto l = limits(minutes(10));
  l.deadline = kMidnight + hours(2);
  EXPECT_EQ(kMidnight,
            latest_safe_resume(progress(hours(2), Duration(0), 0, false), l));
}

TEST(SafeResumeTest, PauseLimitIsCountedAcrossReplans) {
  auto l = limits();
  l.max_pauses = 2;
  EXPECT_EQ(2, pauses_left(progress(hours(2), Duration(0), 0, false), l));
  EXPECT_EQ(1, pauses_left(progress(hours(2), hours(1), 1, false), l));
  EXPECT_EQ(0, pauses_left(progress(hours(2), hours(1), 5, false), l));
  l.max_pauses = -1;
  EXPECT_EQ(-1, pauses_left(progress(hours(2), hours(1), 5, false), l));
}

TEST(SafeResumeTest, PauseAllowedOnlyWithSlackForTheResume) {
  auto l = limits(minutes(10), minutes(20));
  // 1 h of 2 done at 10:00: a resume needs 1 h 20 min, latest 10:30.
  auto running = progress(hours(2), hours(1), 0, true, hours(1));
  EXPECT_EQ(PauseVerdict::kAllowed,
            may_pause(running, l, kMidnight + hours(10)));
  EXPECT_EQ(PauseVerdict::kAllowed,
            may_pause(running, l, kMidnight + hours(10) + minutes(29)));
  // At 10:30 the resume would have to be at once: pausing is pointless.
  EXPECT_EQ(PauseVerdict::kNoSlack,
            may_pause(running, l, kMidnight + hours(10) + minutes(30)));
  EXPECT_EQ(PauseVerdict::kNoSlack,
            may_pause(running, l, kMidnight + hours(11)));
}

TEST(SafeResumeTest, MarginClampedByEarliestDoesNotAllowALatePause) {
  auto l = limits(hours(1));
  l.deadline = kMidnight + hours(3);
  // 2 h of work, earliest 00:00: the margin does not fit, the latest resume
  // is clamped to 00:00; a pause at 00:30 must not be allowed.
  auto running = progress(hours(2), minutes(30), 0, true, minutes(30));
  EXPECT_EQ(PauseVerdict::kNoSlack,
            may_pause(running, l, kMidnight + minutes(30)));
}

TEST(SafeResumeTest, PauseRefusedByTheChunkAndPauseLimits) {
  auto l = limits(minutes(0));
  l.min_chunk = minutes(30);
  l.max_pauses = 1;
  const TimePoint now = kMidnight + hours(1);
  EXPECT_EQ(
      PauseVerdict::kChunkTooShort,
      may_pause(progress(hours(4), minutes(20), 0, true, minutes(20)), l, now));
  EXPECT_EQ(PauseVerdict::kRestTooShort,
            may_pause(progress(hours(4), hours(4) - minutes(10), 0, true,
                               minutes(40)),
                      l, now));
  EXPECT_EQ(
      PauseVerdict::kPauseLimit,
      may_pause(progress(hours(4), hours(1), 1, true, minutes(40)), l, now));
  EXPECT_EQ(PauseVerdict::kAllowed,
            may_pause(progress(hours(4), hours(1), 0, true, hours(1)), l, now));
  EXPECT_EQ(PauseVerdict::kWorkDone,
            may_pause(progress(hours(4), hours(4), 0, true, hours(4)), l, now));
  EXPECT_EQ(PauseVerdict::kNotRunning,
            may_pause(progress(hours(4), hours(1), 0, false), l, now));
}

TEST(SafeResumeTest, VerdictsHaveNames) {
  EXPECT_STREQ("no slack left for another resume",
               to_string(PauseVerdict::kNoSlack));
  EXPECT_STREQ("allowed", to_string(PauseVerdict::kAllowed));
}

}  // namespace
}  // namespace lowcarb::scheduler
