// SPDX-License-Identifier: Apache-2.0
// The optimizer's building blocks over a piecewise-constant intensity signal:
// "pieces" (known values only, clipped to a range), direct integration, and
// the O(n) search for the lowest-mean contiguous window. Pure functions;
// thread-safe. Times are seconds since the epoch (int64) so the arithmetic is
// exact; values are gCO2eq/kWh.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "forecast/intensity_series.h"

namespace lowcarb::scheduler {

// One stretch [start, end) with a known value. Pieces in a vector are sorted
// by start and do not overlap; two pieces are contiguous when one's end is
// the next one's start.
struct Piece {
  int64_t start = 0;
  int64_t end = 0;
  double value = 0;
};

// A half-open span [start, end) in epoch seconds.
struct Span {
  int64_t start = 0;
  int64_t end = 0;
};

int64_t to_seconds(TimePoint time);
TimePoint from_seconds(int64_t seconds);

// The known values of `series` clipped to [from, to). Points without a value
// and zero-length points are dropped; gaps stay gaps.
std::vector<Piece> pieces_in(const forecast::IntensitySeries& series,
                             int64_t from, int64_t to);
// The same into `out` (cleared first), reusing its capacity.
void pieces_in(const forecast::IntensitySeries& series, int64_t from,
               int64_t to, std::vector<Piece>& out);

// The pieces of `pieces` that lie inside the sorted, disjoint `spans`
// (allowed hours). Pieces are split at span boundaries.
std::vector<Piece> restrict_to(const std::vector<Piece>& pieces,
                               const std::vector<Span>& spans);

// The integral of the signal over [from, to) in (g/kWh) x seconds, and the
// number of seconds of [from, to) that have a value.
struct Integral {
  double value_seconds = 0;
  int64_t covered_seconds = 0;
};
Integral integrate(const std::vector<Piece>& pieces, int64_t from, int64_t to);

struct WindowChoice {
  int64_t start = 0;
  double mean = 0;  // Time-weighted mean over [start, start + duration).
};

// The start s minimising the mean over [s, s + duration) with lo <= s and
// s + duration <= hi, inside contiguous known pieces; ties (within rounding
// noise) to the earliest s. Exact for piecewise-constant signals: the
// optimum is at lo, hi - duration, a piece boundary, or a boundary minus
// `duration`. O(pieces). nullopt when no window fits.
// REQUIRES: duration > 0.
std::optional<WindowChoice> best_window(const std::vector<Piece>& pieces,
                                        int64_t lo, int64_t hi,
                                        int64_t duration);

}  // namespace lowcarb::scheduler
