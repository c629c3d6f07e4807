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
  pieces.reserve(series.points.size());
  for (const auto& point : series.points) {
    if (!point.gco2_per_kwh) {
      continue;
    }
    const int64_t start = std::max(to_seconds(point.start), from);
    const int64_t end = std::min(to_seconds(point.end), to);
    if (end <= start) {
      continue;
    }
    // Loaders promise sorted, non-overlapping points; clip defensively so a
    // bad series can never make a window count time twice.
    if (!pieces.empty() && start < pieces.back().end) {
      continue;
    }
    pieces.push_back({start, end, *point.gco2_per_kwh});
  }
  return pieces;
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

// F(t): the integral from the run's first boundary to t, for t moving
// forward only. Keeps its own running sum, so no prefix array is needed.
class Cursor {
 public:
  Cursor(const Piece* first, size_t count) : pieces_(first), count_(count) {}

  double at(int64_t t) {
    while (index_ + 1 < count_ && pieces_[index_].end <= t) {
      sum_ += pieces_[index_].value *
              static_cast<double>(pieces_[index_].end - pieces_[index_].start);
      ++index_;
    }
    return sum_ + pieces_[index_].value *
                      static_cast<double>(t - pieces_[index_].start);
  }

 private:
  const Piece* pieces_;
  size_t count_;
  size_t index_ = 0;
  double sum_ = 0;
};

}  // namespace

std::optional<WindowChoice> best_window(const std::vector<Piece>& pieces,
                                        int64_t lo, int64_t hi,
                                        int64_t duration) {
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  std::optional<int64_t> best_start;
  double best_integral = 0;
  size_t run_begin = 0;
  while (run_begin < pieces.size()) {
    size_t run_end = run_begin + 1;
    while (run_end < pieces.size() &&
           pieces[run_end].start == pieces[run_end - 1].end) {
      ++run_end;
    }
    const Piece* run = pieces.data() + run_begin;
    const size_t count = run_end - run_begin;
    const int64_t run_start = run[0].start;
    const int64_t run_stop = run[count - 1].end;
    run_begin = run_end;

    const int64_t s_lo = std::max(lo, run_start);
    const int64_t s_hi = std::min(hi, run_stop) - duration;
    if (s_hi < s_lo) {
      continue;
    }
    // Boundary k of the run: the start of piece k, or the run's end.
    auto boundary = [&](size_t k) {
      return k < count ? run[k].start : run_stop;
    };
    Cursor at_start(run, count);
    Cursor at_end(run, count);
    auto consider = [&](int64_t s) {
      const double f_end = at_end.at(s + duration);
      const double f_start = at_start.at(s);
      const double integral = f_end - f_start;
      // Differences below the rounding noise of the running sums are ties,
      // and ties go to the earliest start (candidates arrive in order).
      const double noise = 8 * kEps * (std::abs(f_end) + std::abs(f_start));
      if (!best_start || integral < best_integral - noise) {
        best_start = s;
        best_integral = integral;
      }
    };

    consider(s_lo);
    size_t i = 0;  // Next boundary as a start candidate.
    while (i <= count && boundary(i) <= s_lo) {
      ++i;
    }
    size_t j = 0;  // Next boundary as an end candidate (start = b - D).
    while (j <= count && boundary(j) - duration <= s_lo) {
      ++j;
    }
    constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
    for (;;) {
      const int64_t ci = i <= count ? boundary(i) : kNone;
      const int64_t cj = j <= count ? boundary(j) - duration : kNone;
      const int64_t c = std::min(ci, cj);
      if (c >= s_hi) {
        break;
      }
      consider(c);
      if (ci == c) {
        ++i;
      }
      if (cj == c) {
        ++j;
      }
    }
    if (s_hi > s_lo) {
      consider(s_hi);
    }
  }
  if (!best_start) {
    return std::nullopt;
  }
  return WindowChoice{*best_start,
                      best_integral / static_cast<double>(duration)};
}

}  // namespace lowcarb::scheduler
