// SPDX-License-Identifier: Apache-2.0
#include "scheduler/window_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lowcarb::scheduler {

int64_t to_seconds(TimePoint time) { return time.time_since_epoch().count(); }

TimePoint from_seconds(int64_t seconds) {
  return TimePoint{std::chrono::seconds{seconds}};
}

std::vector<Piece> pieces_in(const forecast::IntensitySeries& series,
                             int64_t from, int64_t to) {
  std::vector<Piece> pieces;
  pieces_in(series, from, to, pieces);
  return pieces;
}

void pieces_in(const forecast::IntensitySeries& series, int64_t from,
               int64_t to, std::vector<Piece>& out) {
  out.clear();
  // Points are sorted and do not overlap, so their ends are sorted too: skip
  // to the first point ending after `from` and stop at the first starting at
  // or after `to` (a day's plan in a year-long series reads a day).
  const auto& points = series.points;
  auto it = std::partition_point(points.begin(), points.end(),
                                 [from](const forecast::IntensityPoint& p) {
                                   return to_seconds(p.end) <= from;
                                 });
  out.reserve(static_cast<size_t>(points.end() - it));
  for (; it != points.end(); ++it) {
    const auto& point = *it;
    const int64_t point_start = to_seconds(point.start);
    if (point_start >= to) {
      break;
    }
    if (!point.gco2_per_kwh) {
      continue;
    }
    const int64_t start = std::max(point_start, from);
    const int64_t end = std::min(to_seconds(point.end), to);
    if (end <= start) {
      continue;
    }
    // Loaders promise sorted, non-overlapping points; clip defensively so a
    // bad series can never make a window count time twice.
    if (!out.empty() && start < out.back().end) {
      continue;
    }
    out.push_back({start, end, *point.gco2_per_kwh});
  }
}

std::vector<Piece> restrict_to(const std::vector<Piece>& pieces,
                               const std::vector<Span>& spans) {
  std::vector<Piece> out;
  out.reserve(pieces.size() + spans.size());
  size_t s = 0;
  for (const auto& piece : pieces) {
    while (s < spans.size() && spans[s].end <= piece.start) {
      ++s;
    }
    for (size_t k = s; k < spans.size() && spans[k].start < piece.end; ++k) {
      const int64_t start = std::max(piece.start, spans[k].start);
      const int64_t end = std::min(piece.end, spans[k].end);
      if (end > start) {
        out.push_back({start, end, piece.value});
      }
    }
  }
  return out;
}

Integral integrate(const std::vector<Piece>& pieces, int64_t from, int64_t to) {
  Integral result;
  auto it = std::lower_bound(
      pieces.begin(), pieces.end(), from,
      [](const Piece& piece, int64_t t) { return piece.end <= t; });
  for (; it != pieces.end() && it->start < to; ++it) {
    const int64_t start = std::max(it->start, from);
    const int64_t end = std::min(it->end, to);
    if (end > start) {
      result.value_seconds += it->value * static_cast<double>(end - start);
      result.covered_seconds += end - start;
    }
  }
  return result;
}

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

// The best start so far. Candidates arrive in increasing order, so keeping
// only strict improvements sends ties to the earliest start.
struct BestStart {
  bool found = false;
  int64_t start = 0;
  double integral = 0;

  // `f_start` and `f_end` are the running integral F at s and s + duration.
  void consider(int64_t s, double f_start, double f_end) {
    const double value = f_end - f_start;
    // Differences below the rounding noise of the running sums are ties.
    const double noise = 8 * kEps * (std::abs(f_end) + std::abs(f_start));
    if (!found || value < integral - noise) {
      found = true;
      start = s;
      integral = value;
    }
  }
};

// One run of contiguous pieces, boundaries b_0 < ... < b_count, b_k =
// run[k].start (b_count = the run's end). F(t) is the integral from b_0 to t,
// summed piece by piece from b_0, so F at a boundary is the same double
// however it is reached.
//
// Regular runs (every piece `step` long, the duration and the candidate
// range on the step) need only boundaries as starts: F(b_k) and
// F(b_k + duration) = F(b_{k+w}) by two running sums w pieces apart.
void search_regular_run(const Piece* run, size_t k0, size_t k1, size_t w,
                        int64_t run_start, int64_t step, BestStart& best) {
  const double length = static_cast<double>(step);
  double f_start = 0;
  for (size_t k = 0; k < k0; ++k) {
    f_start += run[k].value * length;
  }
  double f_end = f_start;
  for (size_t k = k0; k < k0 + w; ++k) {
    f_end += run[k].value * length;
  }
  for (size_t k = k0;; ++k) {
    best.consider(run_start + static_cast<int64_t>(k) * step, f_start, f_end);
    if (k == k1) {
      break;
    }
    f_start += run[k].value * length;
    f_end += run[k + w].value * length;
  }
}

// Any run: candidate starts are s_lo, s_hi, every boundary b and every
// b - duration strictly between them, merged in increasing order. `a` is the
// piece holding the candidate start and `e` the piece holding its end, with
// F at their first boundaries in `f_a` and `f_e`; both only move forward.
void search_run(const Piece* run, size_t count, int64_t s_lo, int64_t s_hi,
                int64_t duration, BestStart& best) {
  auto boundary = [&](size_t k) {
    return k == 0 ? run[0].start : run[k - 1].end;
  };
  size_t i = 0;  // Next boundary as a start candidate.
  while (i <= count && boundary(i) <= s_lo) {
    ++i;
  }
  size_t j = 0;  // Next boundary as an end candidate (start = b - D).
  while (j <= count && boundary(j) - duration <= s_lo) {
    ++j;
  }
  size_t a = i - 1;
  // s_lo + duration may be the run's end (j = count + 1): the last piece.
  size_t e = std::min(j, count) - 1;
  double f_a = 0;
  double f_e = 0;
  for (size_t k = 0; k < e; ++k) {
    const double part =
        run[k].value * static_cast<double>(run[k].end - run[k].start);
    f_e += part;
    if (k < a) {
      f_a += part;
    }
  }
  auto f_at_start = [&](int64_t s) {
    return f_a + run[a].value * static_cast<double>(s - run[a].start);
  };
  auto f_at_end = [&](int64_t t) {
    return f_e + run[e].value * static_cast<double>(t - run[e].start);
  };
  best.consider(s_lo, f_at_start(s_lo), f_at_end(s_lo + duration));
  if (s_hi == s_lo) {
    return;
  }
  // From here i, j <= count: every candidate is below s_hi <= b_count - D.
  for (;;) {
    const int64_t ci = run[i - 1].end;
    const int64_t cj = run[j - 1].end - duration;
    const int64_t c = std::min(ci, cj);
    if (c >= s_hi) {
      break;
    }
    // At a boundary the formula gives F there exactly as the next piece's
    // running sum does, so it becomes that piece's base as it is.
    const double f_start = f_at_start(c);
    const double f_end = f_at_end(c + duration);
    best.consider(c, f_start, f_end);
    if (ci == c) {
      a = i;
      f_a = f_start;
      ++i;
    }
    if (cj == c) {
      e = j;
      f_e = f_end;
      ++j;
    }
  }
  best.consider(s_hi, f_at_start(s_hi), f_at_end(s_hi + duration));
}

}  // namespace

std::optional<WindowChoice> best_window(const std::vector<Piece>& pieces,
                                        int64_t lo, int64_t hi,
                                        int64_t duration) {
  BestStart best;
  size_t run_begin = 0;
  while (run_begin < pieces.size()) {
    const Piece* run = pieces.data() + run_begin;
    const int64_t step = run[0].end - run[0].start;
    bool regular = true;
    size_t count = 1;
    while (run_begin + count < pieces.size() &&
           run[count].start == run[count - 1].end) {
      regular = regular && run[count].end - run[count].start == step;
      ++count;
    }
    run_begin += count;
    const int64_t run_start = run[0].start;
    const int64_t run_stop = run[count - 1].end;
    const int64_t s_lo = std::max(lo, run_start);
    const int64_t s_hi = std::min(hi, run_stop) - duration;
    if (s_hi < s_lo) {
      continue;
    }
    if (regular && step > 0 && duration % step == 0 &&
        (s_lo - run_start) % step == 0 && (s_hi - run_start) % step == 0) {
      search_regular_run(run, static_cast<size_t>((s_lo - run_start) / step),
                         static_cast<size_t>((s_hi - run_start) / step),
                         static_cast<size_t>(duration / step), run_start, step,
                         best);
    } else {
      search_run(run, count, s_lo, s_hi, duration, best);
    }
  }
  if (!best.found) {
    return std::nullopt;
  }
  return WindowChoice{best.start,
                      best.integral / static_cast<double>(duration)};
}

}  // namespace lowcarb::scheduler
