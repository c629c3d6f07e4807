// SPDX-License-Identifier: Apache-2.0
// Pause-and-resume planning: the set of sub-intervals of a range, totalling a
// job's duration, with the least emissions. Pure functions; thread-safe.
//
// Unconstrained (no minimum chunk, no pause limit, no pause overhead): the
// cheapest time first, exact (fractional knapsack), including partial pieces.
//
// Constrained: a dynamic programme over grid cells. The grid step g is the
// gcd of the signal's piece boundaries (and, when the state count allows,
// the duration, minimum chunk and overhead); the range is shrunk to whole
// cells. With K = ceil(duration / g) work cells, m = ceil(min_chunk / g),
// o = ceil(overhead / g) and J = max_pauses + 1 (1 when unlimited), the
// states are (cell i, chunks j, work cells k) x {inside a chunk that is
// already >= m long, outside a chunk}; a chunk is entered as one block of m
// cells (m + o for later chunks' overhead) priced by a prefix sum, so each
// state has O(1) transitions: O(n * K * J) time, 2 bits per state for the
// back-pointers (buffers are kept per thread between calls, up to 8 MB). It
// is exact on the grid (tests check it against brute force
// over subsets); off-grid bounds and durations are rounded conservatively
// (range shrunk to whole cells, duration rounded up, then trimmed).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "scheduler/window_search.h"

namespace lowcarb::scheduler {

struct PauseResumeOptions {
  int64_t min_chunk = 0;       // Seconds; shortest run segment.
  int max_pauses = -1;         // -1 = unlimited.
  int64_t pause_overhead = 0;  // Seconds of extra run time per pause.

  bool unconstrained() const {
    return min_chunk <= 0 && max_pauses < 0 && pause_overhead <= 0;
  }
};

struct SegmentsChoice {
  std::vector<Span> segments;  // Sorted, disjoint, non-adjacent.
  double value_seconds = 0;    // Integral of the signal over the segments.
  int64_t run_seconds = 0;     // Total length of the segments.
};

// Unconstrained: the cheapest `duration` seconds among `pieces`, ties to
// the earliest time. nullopt when the pieces hold less than `duration`.
std::optional<SegmentsChoice> cheapest_time(const std::vector<Piece>& pieces,
                                            int64_t duration);

// Constrained (see the file comment). `pieces` are the usable known values
// (already clipped to the job's range and allowed hours). nullopt when no
// selection satisfies the constraints or the programme would exceed
// `max_states` states (callers fall back to a contiguous window, which
// satisfies every constraint).
std::optional<SegmentsChoice> best_segments(const std::vector<Piece>& pieces,
                                            int64_t duration,
                                            const PauseResumeOptions& options,
                                            int64_t max_states = 20'000'000);

}  // namespace lowcarb::scheduler
