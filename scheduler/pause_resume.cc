// SPDX-License-Identifier: Apache-2.0
#include "scheduler/pause_resume.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>

namespace lowcarb::scheduler {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Sorted spans -> merged segments with totals.
SegmentsChoice merge_spans(std::vector<Span> spans,
                           const std::vector<Piece>& pieces) {
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.start < b.start; });
  SegmentsChoice choice;
  for (const auto& span : spans) {
    if (!choice.segments.empty() && choice.segments.back().end == span.start) {
      choice.segments.back().end = span.end;
    } else {
      choice.segments.push_back(span);
    }
  }
  for (const auto& segment : choice.segments) {
    choice.value_seconds +=
        integrate(pieces, segment.start, segment.end).value_seconds;
    choice.run_seconds += segment.end - segment.start;
  }
  return choice;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

std::optional<SegmentsChoice> cheapest_time(const std::vector<Piece>& pieces,
                                            int64_t duration) {
  std::vector<size_t> order(pieces.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Pieces are sorted by start, so a stable sort keeps ties earliest-first.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return pieces[a].value < pieces[b].value;
  });
  std::vector<Span> taken;
  int64_t remaining = duration;
  for (size_t index : order) {
    if (remaining <= 0) {
      break;
    }
    const Piece& piece = pieces[index];
    const int64_t take = std::min(remaining, piece.end - piece.start);
    taken.push_back({piece.start, piece.start + take});
    remaining -= take;
  }
  if (remaining > 0) {
    return std::nullopt;
  }
  return merge_spans(std::move(taken), pieces);
}

std::optional<SegmentsChoice> best_segments(const std::vector<Piece>& pieces,
                                            int64_t duration,
                                            const PauseResumeOptions& options,
                                            int64_t max_states) {
  if (pieces.empty() || duration <= 0) {
    return std::nullopt;
  }
  const int64_t lo = pieces.front().start;
  const int64_t hi = pieces.back().end;
  // The grid: gcd of the interior boundaries (the range ends may be off-grid
  // and are rounded inwards to whole cells).
  int64_t ref = lo;
  bool have_ref = false;
  int64_t grid = 0;
  for (const auto& piece : pieces) {
    for (int64_t b : {piece.start, piece.end}) {
      if (b == lo || b == hi) {
        continue;
      }
      if (!have_ref) {
        ref = b;
        have_ref = true;
      }
      grid = std::gcd(grid, b > ref ? b - ref : ref - b);
    }
  }
  if (grid == 0) {
    grid = hi - lo;  // One piece: any step works; refined below.
  }
  const int limited = options.max_pauses >= 0 ? 1 : 0;
  const int64_t chunk_count = limited ? int64_t{options.max_pauses} + 1 : 1;
  auto state_count = [&](int64_t step) {
    const int64_t first = ref + ceil_div(lo - ref, step) * step;
    const int64_t cells = hi > first ? (hi - first) / step : 0;
    return cells * chunk_count * (ceil_div(duration, step) + 1);
  };
  // Refine the step so the duration, chunk and overhead are whole cells
  // (exact) when the programme stays small enough.
  int64_t fine = std::gcd(grid, duration);
  if (options.min_chunk > 0) {
    fine = std::gcd(fine, options.min_chunk);
  }
  if (options.pause_overhead > 0) {
    fine = std::gcd(fine, options.pause_overhead);
  }
  const int64_t step = state_count(fine) <= max_states ? fine : grid;
  if (state_count(step) > max_states) {
    return std::nullopt;
  }

  const int64_t first_cell = ref + ceil_div(lo - ref, step) * step;
  const int64_t n = hi > first_cell ? (hi - first_cell) / step : 0;
  const int64_t work = ceil_div(duration, step);  // K
  if (n < work) {
    return std::nullopt;
  }
  // Cell costs (value x seconds); +inf where there is no usable value.
  std::vector<double> cost(static_cast<size_t>(n), kInf);
  for (const auto& piece : pieces) {
    int64_t c = std::max<int64_t>(0, ceil_div(piece.start - first_cell, step));
    for (; c < n && first_cell + (c + 1) * step <= piece.end; ++c) {
      cost[static_cast<size_t>(c)] = piece.value * static_cast<double>(step);
    }
  }
  // Block sums by prefix sums; unusable cells are counted separately (an inf
  // in the prefix would turn later differences into NaN).
  std::vector<int32_t> bad(static_cast<size_t>(n) + 1, 0);
  for (int64_t c = 0; c < n; ++c) {
    bad[static_cast<size_t>(c) + 1] =
        bad[static_cast<size_t>(c)] +
        (cost[static_cast<size_t>(c)] == kInf ? 1 : 0);
  }
  std::vector<double> prefix(static_cast<size_t>(n) + 1, 0);
  for (int64_t c = 0; c < n; ++c) {
    const double w = cost[static_cast<size_t>(c)];
    prefix[static_cast<size_t>(c) + 1] =
        prefix[static_cast<size_t>(c)] + (w == kInf ? 0.0 : w);
  }
  auto block_cost = [&](int64_t from, int64_t to) {
    if (bad[static_cast<size_t>(to)] != bad[static_cast<size_t>(from)]) {
      return kInf;
    }
    return prefix[static_cast<size_t>(to)] - prefix[static_cast<size_t>(from)];
  };

  const int64_t m =
      std::min(work, std::max<int64_t>(1, ceil_div(options.min_chunk, step)));
  const int64_t o =
      std::max<int64_t>(0, ceil_div(options.pause_overhead, step));
  const int64_t later = std::max(m, o + 1);  // Block entering a later chunk.
  const int64_t later_work = later - o;
  const int64_t span_k = work + 1;
  const int64_t row = chunk_count * span_k;  // States per cell and kind.
  const int64_t ring = std::max(m, later) + 1;

  std::vector<double> open(static_cast<size_t>(ring * row), kInf);
  std::vector<double> closed(static_cast<size_t>(ring * row), kInf);
  std::vector<uint8_t> open_choice(static_cast<size_t>((n + 1) * row), 0);
  std::vector<uint8_t> closed_choice(static_cast<size_t>((n + 1) * row), 0);
  auto slot = [&](int64_t i) { return static_cast<size_t>((i % ring) * row); };

  for (int64_t i = 1; i <= n; ++i) {
    const double w = cost[static_cast<size_t>(i - 1)];
    double* open_now = open.data() + slot(i);
    double* closed_now = closed.data() + slot(i);
    const double* open_prev = open.data() + slot(i - 1);
    const double* closed_prev = closed.data() + slot(i - 1);
    uint8_t* open_ch = open_choice.data() + i * row;
    uint8_t* closed_ch = closed_choice.data() + i * row;
    const double first_block = i >= m ? block_cost(i - m, i) : kInf;
    const double later_block = i >= later ? block_cost(i - later, i) : kInf;
    const double* closed_back =
        i >= later ? closed.data() + slot(i - later) : nullptr;
    for (int64_t j = 0; j < chunk_count; ++j) {
      const int64_t base = j * span_k;
      const int64_t src = limited ? (j - 1) * span_k : base;
      for (int64_t k = 0; k <= work; ++k) {
        const size_t at = static_cast<size_t>(base + k);
        // Outside a chunk: the previous cell was outside or ended a chunk.
        const double stay = closed_prev[at];
        const double stop = open_prev[at];
        closed_now[at] = stop < stay ? stop : stay;
        closed_ch[at] = stop < stay ? 1 : 0;
        // Inside a chunk: extend one, or enter with a whole block.
        double best = k >= 1 ? open_prev[at - 1] + w : kInf;
        uint8_t choice = 0;
        if (j == 0 && k == m && first_block < best) {
          best = first_block;
          choice = 1;
        }
        if (closed_back != nullptr && (!limited || j >= 1) && k >= later_work &&
            later_block != kInf) {
          const double via =
              closed_back[static_cast<size_t>(src + k - later_work)] +
              later_block;
          if (via < best) {
            best = via;
            choice = 2;
          }
        }
        open_now[at] = best;
        open_ch[at] = choice;
      }
    }
  }

  // The best final state with exactly K work cells.
  double best = kInf;
  int64_t best_j = 0;
  bool best_open = false;
  for (int64_t j = 0; j < chunk_count; ++j) {
    const size_t at = static_cast<size_t>(j * span_k + work);
    if (open[slot(n) + at] < best) {
      best = open[slot(n) + at];
      best_j = j;
      best_open = true;
    }
    if (closed[slot(n) + at] < best) {
      best = closed[slot(n) + at];
      best_j = j;
      best_open = false;
    }
  }
  if (best == kInf) {
    return std::nullopt;
  }
  std::vector<Span> cells;
  int64_t i = n;
  int64_t j = best_j;
  int64_t k = work;
  bool in_chunk = best_open;
  while (i > 0) {
    const size_t at = static_cast<size_t>(i * row + j * span_k + k);
    if (!in_chunk) {
      in_chunk = closed_choice[at] == 1;
      --i;
      continue;
    }
    const uint8_t choice = open_choice[at];
    if (choice == 0) {
      cells.push_back({first_cell + (i - 1) * step, first_cell + i * step});
      --i;
      --k;
    } else if (choice == 1) {
      cells.push_back({first_cell + (i - m) * step, first_cell + i * step});
      break;
    } else {
      cells.push_back({first_cell + (i - later) * step, first_cell + i * step});
      i -= later;
      k -= later_work;
      if (limited) {
        --j;
      }
      in_chunk = false;
    }
  }
  SegmentsChoice choice = merge_spans(std::move(cells), pieces);
  // Rounding the duration up to whole cells may leave extra time: trim it
  // from the end of the last segment when that keeps the segment long enough.
  const int64_t overhead_total =
      static_cast<int64_t>(choice.segments.size() - 1) * options.pause_overhead;
  const int64_t excess = choice.run_seconds - duration - overhead_total;
  if (excess > 0) {
    Span& last = choice.segments.back();
    const int64_t keep = last.end - last.start - excess;
    if (keep > 0 &&
        (choice.segments.size() == 1 || keep >= options.min_chunk)) {
      choice.value_seconds -=
          integrate(pieces, last.end - excess, last.end).value_seconds;
      last.end -= excess;
      choice.run_seconds -= excess;
    }
  }
  return choice;
}

}  // namespace lowcarb::scheduler
