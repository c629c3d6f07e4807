// SPDX-License-Identifier: Apache-2.0
#include "scheduler/pause_resume.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>  // The AVX2 forward pass.
#endif

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

// Rounds towards +infinity for either sign of `a`. REQUIRES: b > 0.
int64_t ceil_div(int64_t a, int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// The programme's layout in cells (see the file comment). Values live in a
// ring of `ring` rows, one row per cell; a row holds, for each chunk count j,
// a block of `pad` cells of +inf followed by K + 1 states (k = 0..K) rounded
// up to a multiple of 4. The padding makes "k - 1" and "k - later_work" read
// +inf below k = 0, so every state is updated by the same branch-free code,
// four at a time.
struct Layout {
  int64_t n = 0;           // Cells.
  int64_t work = 0;        // K: work cells.
  int64_t m = 0;           // Cells in the block entering the first chunk.
  int64_t later = 0;       // Cells in the block entering a later chunk.
  int64_t later_work = 0;  // Work cells in that block (later - overhead).
  int64_t chunks = 0;      // J.
  bool limited = false;    // Chunks are counted (max_pauses set).
  int64_t lanes = 0;       // K + 1 rounded up to a multiple of 4.
  int64_t pad = 0;         // = lanes (>= K + 1 >= later_work).
  int64_t block = 0;       // pad + lanes: one chunk count's states.
  int64_t row = 0;         // J * block: one cell's states of one kind.
  int64_t ring = 0;        // Rows kept: max(m, later) + 1.
  int64_t groups = 0;      // lanes / 4: back-pointer bytes per block.

  // Cell i's row is ring slot i % ring; the passes step slots without
  // dividing.
  size_t value_at(int64_t slot, int64_t j, int64_t k) const {
    return static_cast<size_t>(slot * row + j * block + pad + k);
  }
  int64_t slot_of(int64_t i) const { return i % ring; }
  size_t choice_at(int64_t i, int64_t j, int64_t k) const {
    return static_cast<size_t>((i * chunks + j) * groups + k / 4);
  }
};

// Inputs and outputs of the forward pass. Back-pointers: one byte per four
// states (k = 4g..4g+3): bit k % 4 = the closed state came from an open one
// (a chunk ended there), bit 4 + k % 4 = the open state entered a later
// chunk with a whole block (else it extended the previous cell).
// `first_entered[i]` = the open state (j = 0, k = m) at cell i entered the
// first chunk with its block of m cells.
struct Programme {
  const double* cost = nullptr;  // Per cell (index i - 1); +inf unusable.
  const double* first_block = nullptr;  // Per cell i: block of m ending at i.
  const double* later_block = nullptr;  // Per cell i: block of `later`.
  double* open = nullptr;               // Ring (Layout::value_at).
  double* closed = nullptr;
  uint8_t* choice = nullptr;         // Rows 1..n (Layout::choice_at).
  uint8_t* first_entered = nullptr;  // Cells 1..n.
};

// Per-thread buffers reused across calls, so repeated planning does not
// allocate (and fault in fresh pages) every time. Kept up to kKeepBytes.
struct Scratch {
  std::vector<double> values;
  std::vector<uint8_t> bytes;
};
constexpr size_t kKeepBytes = size_t{8} << 20;

Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Frees a scratch that grew past kKeepBytes (a rare, very large programme).
void trim(Scratch& scratch) {
  if (scratch.values.capacity() * sizeof(double) + scratch.bytes.capacity() >
      kKeepBytes) {
    scratch = Scratch{};
  }
}

// The ring slots of cells i, i - 1 and i - later during the forward pass.
struct Slots {
  int64_t now = 0;
  int64_t previous = 0;
  int64_t back = 0;  // Valid when i >= later.

  void advance(const Layout& l) {
    previous = now;
    now = now + 1 == l.ring ? 0 : now + 1;
    back = now >= l.later ? now - l.later : now - l.later + l.ring;
  }
};

// The state (j = 0, k = m) at cell i, in the original comparison order:
// extend, then the first block, then a later block; strict improvements
// only, so ties keep the earlier option. Called after the row update, which
// has already stored extend-or-later there.
inline void enter_first_chunk(const Layout& l, const Programme& p, int64_t i,
                              const Slots& slots, bool via_ok) {
  const double* op = p.open + l.value_at(slots.previous, 0, 0);
  double* on = p.open + l.value_at(slots.now, 0, 0);
  const int64_t m = l.m;
  double best = op[m - 1] + p.cost[i - 1];
  int how = 0;
  if (p.first_block[i] < best) {
    best = p.first_block[i];
    how = 1;
  }
  if (via_ok && m >= l.later_work) {
    const double via = p.closed[l.value_at(slots.back, 0, m - l.later_work)] +
                       p.later_block[i];
    if (via < best) {
      best = via;
      how = 2;
    }
  }
  on[m] = best;
  uint8_t& bits = p.choice[l.choice_at(i, 0, m)];
  const int via_bit = 1 << (4 + m % 4);
  bits = static_cast<uint8_t>(how == 2 ? bits | via_bit : bits & ~via_bit);
  p.first_entered[i] = how == 1 ? 1 : 0;
}

// Whether chunk count j at cell i may be entered by a later block.
bool later_entry_allowed(const Layout& l, const Programme& p, int64_t i,
                         int64_t j) {
  return i >= l.later && (!l.limited || j >= 1) && p.later_block[i] != kInf;
}

// The forward pass, portable version: for each cell i and chunk count j,
//   closed[k] = min(closed'[k], open'[k])            (' = cell i - 1)
//   open[k]   = min(open'[k - 1] + cost_i,           (extend)
//                   closed''[k - later_work] + later_block_i)
// where closed'' is cell i - later at chunk count j - 1 (j when unlimited);
// then the first-chunk entry at (0, m). `a < b ? a : b` keeps b on ties.
void forward_portable(const Layout& l, const Programme& p) {
  Slots slots;
  for (int64_t i = 1; i <= l.n; ++i) {
    slots.advance(l);
    const double w = p.cost[i - 1];
    const double later = p.later_block[i];
    for (int64_t j = 0; j < l.chunks; ++j) {
      const double* op = p.open + l.value_at(slots.previous, j, 0);
      const double* cp = p.closed + l.value_at(slots.previous, j, 0);
      double* on = p.open + l.value_at(slots.now, j, 0);
      double* cn = p.closed + l.value_at(slots.now, j, 0);
      uint8_t* ch = p.choice + l.choice_at(i, j, 0);
      const bool via_ok = later_entry_allowed(l, p, i, j);
      const double* back =
          via_ok ? p.closed + l.value_at(slots.back, l.limited ? j - 1 : j,
                                         -l.later_work)
                 : nullptr;
      for (int64_t g = 0; g < l.groups; ++g) {
        int bits = 0;
        for (int64_t t = 0; t < 4; ++t) {
          const int64_t k = 4 * g + t;
          const double stop = op[k];
          const double stay = cp[k];
          cn[k] = stop < stay ? stop : stay;
          bits |= stop < stay ? 1 << t : 0;
          const double extend = op[k - 1] + w;
          if (back != nullptr) {
            const double via = back[k] + later;
            on[k] = via < extend ? via : extend;
            bits |= via < extend ? 1 << (4 + t) : 0;
          } else {
            on[k] = extend;
          }
        }
        ch[g] = static_cast<uint8_t>(bits);
      }
    }
    enter_first_chunk(l, p, i, slots, later_entry_allowed(l, p, i, 0));
  }
}

// LOWCARB_PORTABLE_PAUSE_RESUME forces the portable pass (to compare the
// two in a test build).
#if defined(__x86_64__) && defined(__GNUC__) && \
    !defined(LOWCARB_PORTABLE_PAUSE_RESUME)
#define LOWCARB_HAVE_AVX2_PASS 1

// The same pass, four states per instruction. MINPD(a, b) is a < b ? a : b,
// the portable version's select, so both give identical doubles and
// back-pointers.
__attribute__((target("avx2"))) void forward_avx2(const Layout& l,
                                                  const Programme& p) {
  Slots slots;
  for (int64_t i = 1; i <= l.n; ++i) {
    slots.advance(l);
    const __m256d w = _mm256_set1_pd(p.cost[i - 1]);
    const __m256d later = _mm256_set1_pd(p.later_block[i]);
    for (int64_t j = 0; j < l.chunks; ++j) {
      const double* op = p.open + l.value_at(slots.previous, j, 0);
      const double* cp = p.closed + l.value_at(slots.previous, j, 0);
      double* on = p.open + l.value_at(slots.now, j, 0);
      double* cn = p.closed + l.value_at(slots.now, j, 0);
      uint8_t* ch = p.choice + l.choice_at(i, j, 0);
      if (later_entry_allowed(l, p, i, j)) {
        const double* back =
            p.closed +
            l.value_at(slots.back, l.limited ? j - 1 : j, -l.later_work);
        for (int64_t g = 0; g < l.groups; ++g) {
          const int64_t k = 4 * g;
          const __m256d stop = _mm256_load_pd(op + k);
          const __m256d stay = _mm256_load_pd(cp + k);
          _mm256_store_pd(cn + k, _mm256_min_pd(stop, stay));
          const int ended =
              _mm256_movemask_pd(_mm256_cmp_pd(stop, stay, _CMP_LT_OQ));
          const __m256d extend = _mm256_add_pd(_mm256_loadu_pd(op + k - 1), w);
          const __m256d via = _mm256_add_pd(_mm256_loadu_pd(back + k), later);
          _mm256_store_pd(on + k, _mm256_min_pd(via, extend));
          const int entered =
              _mm256_movemask_pd(_mm256_cmp_pd(via, extend, _CMP_LT_OQ));
          ch[g] = static_cast<uint8_t>(ended | (entered << 4));
        }
      } else {
        for (int64_t g = 0; g < l.groups; ++g) {
          const int64_t k = 4 * g;
          const __m256d stop = _mm256_load_pd(op + k);
          const __m256d stay = _mm256_load_pd(cp + k);
          _mm256_store_pd(cn + k, _mm256_min_pd(stop, stay));
          ch[g] = static_cast<uint8_t>(
              _mm256_movemask_pd(_mm256_cmp_pd(stop, stay, _CMP_LT_OQ)));
          _mm256_store_pd(on + k,
                          _mm256_add_pd(_mm256_loadu_pd(op + k - 1), w));
        }
      }
    }
    enter_first_chunk(l, p, i, slots, later_entry_allowed(l, p, i, 0));
  }
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

void forward_pass(const Layout& l, const Programme& p) {
#if defined(LOWCARB_HAVE_AVX2_PASS)
  if (cpu_has_avx2()) {
    forward_avx2(l, p);
    return;
  }
#endif
  forward_portable(l, p);
}

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
  std::vector<bool> taken_flag(pieces.size(), false);
  int64_t remaining = duration;
  for (size_t index : order) {
    if (remaining <= 0) {
      break;
    }
    const Piece& piece = pieces[index];
    const int64_t take = std::min(remaining, piece.end - piece.start);
    // A partial piece: take the end that touches time already taken, so the
    // plan has fewer pauses at the same cost.
    const bool next_taken = index + 1 < pieces.size() &&
                            pieces[index + 1].start == piece.end &&
                            taken_flag[index + 1];
    const bool previous_taken = index > 0 &&
                                pieces[index - 1].end == piece.start &&
                                taken_flag[index - 1];
    if (take < piece.end - piece.start && next_taken && !previous_taken) {
      taken.push_back({piece.end - take, piece.end});
    } else {
      taken.push_back({piece.start, piece.start + take});
    }
    taken_flag[index] = true;
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
  // The gcd of all differences to the first interior boundary is the gcd
  // of the differences between consecutive ones; equal steps repeat it, so
  // only a new step costs a gcd.
  int64_t ref = lo;
  bool have_ref = false;
  int64_t grid = 0;
  int64_t previous = 0;
  int64_t last_step = 0;
  for (const auto& piece : pieces) {
    for (int64_t b : {piece.start, piece.end}) {
      if (b == lo || b == hi || (have_ref && b == previous)) {
        continue;
      }
      if (!have_ref) {
        ref = b;
        have_ref = true;
      } else {
        const int64_t difference = b > previous ? b - previous : previous - b;
        if (difference != last_step) {
          grid = std::gcd(grid, difference);
          last_step = difference;
        }
      }
      previous = b;
    }
  }
  if (grid == 0) {
    // At most one interior boundary: the ends decide (refined below).
    grid = have_ref ? std::gcd(ref - lo, hi - ref) : hi - lo;
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
  const int64_t m =
      std::min(work, std::max<int64_t>(1, ceil_div(options.min_chunk, step)));
  const int64_t o =
      std::max<int64_t>(0, ceil_div(options.pause_overhead, step));
  const int64_t later = std::max(m, o + 1);  // Block entering a later chunk.
  const int64_t later_work = later - o;
  Layout l;
  l.n = n;
  l.work = work;
  l.m = m;
  l.later = later;
  l.later_work = later_work;
  l.chunks = chunk_count;
  l.limited = limited != 0;
  l.lanes = (work + 1 + 3) / 4 * 4;
  l.pad = l.lanes;
  l.block = l.pad + l.lanes;
  l.row = chunk_count * l.block;
  l.ring = std::max(m, later) + 1;
  l.groups = l.lanes / 4;

  // All buffers come from the thread's scratch space: cell costs, prefix
  // sums, block sums (n + 1 each), the two value rings (32-byte aligned for
  // the vector pass; blocks are multiples of 4 doubles), back-pointers.
  const size_t per_cell = static_cast<size_t>(n) + 1;
  const size_t ring_size = static_cast<size_t>(l.ring * l.row);
  const size_t choice_size =
      static_cast<size_t>((n + 1) * chunk_count * l.groups);
  Scratch& scratch = thread_scratch();
  scratch.values.resize(4 * per_cell + 2 * ring_size + 4);
  scratch.bytes.resize(choice_size + per_cell);
  double* cost = scratch.values.data();
  double* prefix = cost + per_cell;
  double* first_block = prefix + per_cell;
  double* later_block = first_block + per_cell;
  double* rings = later_block + per_cell;
  while (reinterpret_cast<uintptr_t>(rings) % 32 != 0) {
    ++rings;
  }
  // The rings' padding is never written, so it stays +inf. Back-pointer
  // bytes of rows 1..n are all written before they are read.
  std::fill(cost, cost + per_cell, kInf);
  std::fill(first_block, rings + 2 * ring_size, kInf);

  // Cell costs (value x seconds); +inf where there is no usable value.
  // One forward walk over cells and pieces (sorted), no division per piece.
  int64_t cell = 0;
  for (const auto& piece : pieces) {
    while (cell < n && first_cell + cell * step < piece.start) {
      ++cell;
    }
    for (; cell < n && first_cell + (cell + 1) * step <= piece.end; ++cell) {
      cost[cell] = piece.value * static_cast<double>(step);
    }
  }
  // Block sums by prefix sums, in one pass: unusable cells are counted
  // separately (an inf in the prefix would turn later differences into
  // NaN), by sliding counts over the two block lengths.
  prefix[0] = 0;
  int64_t bad_in_first = 0;
  int64_t bad_in_later = 0;
  for (int64_t i = 1; i <= n; ++i) {
    const double w = cost[i - 1];
    prefix[i] = prefix[i - 1] + (w == kInf ? 0.0 : w);
    bad_in_first += w == kInf ? 1 : 0;
    bad_in_later += w == kInf ? 1 : 0;
    if (i > m) {
      bad_in_first -= cost[i - 1 - m] == kInf ? 1 : 0;
    }
    if (i > later) {
      bad_in_later -= cost[i - 1 - later] == kInf ? 1 : 0;
    }
    if (i >= m && bad_in_first == 0) {
      first_block[i] = prefix[i] - prefix[i - m];
    }
    if (i >= later && bad_in_later == 0) {
      later_block[i] = prefix[i] - prefix[i - later];
    }
  }
  Programme p;
  p.cost = cost;
  p.first_block = first_block;
  p.later_block = later_block;
  p.open = rings;
  p.closed = rings + ring_size;
  p.choice = scratch.bytes.data();
  p.first_entered = scratch.bytes.data() + choice_size;
  forward_pass(l, p);

  // The best final state with exactly K work cells.
  double best = kInf;
  int64_t best_j = 0;
  bool best_open = false;
  for (int64_t j = 0; j < chunk_count; ++j) {
    const double open_value = p.open[l.value_at(l.slot_of(n), j, work)];
    const double closed_value = p.closed[l.value_at(l.slot_of(n), j, work)];
    if (open_value < best) {
      best = open_value;
      best_j = j;
      best_open = true;
    }
    if (closed_value < best) {
      best = closed_value;
      best_j = j;
      best_open = false;
    }
  }
  if (best == kInf) {
    trim(scratch);
    return std::nullopt;
  }
  std::vector<Span> cells;
  int64_t i = n;
  int64_t j = best_j;
  int64_t k = work;
  bool in_chunk = best_open;
  while (i > 0) {
    const int bits = p.choice[l.choice_at(i, j, k)];
    if (!in_chunk) {
      in_chunk = ((bits >> (k % 4)) & 1) != 0;
      --i;
      continue;
    }
    if (j == 0 && k == m && p.first_entered[i] != 0) {
      cells.push_back({first_cell + (i - m) * step, first_cell + i * step});
      break;
    }
    if (((bits >> (4 + k % 4)) & 1) == 0) {
      cells.push_back({first_cell + (i - 1) * step, first_cell + i * step});
      --i;
      --k;
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
  trim(scratch);
  SegmentsChoice result = merge_spans(std::move(cells), pieces);
  // Rounding the duration up to whole cells may leave extra time: trim it
  // from the end of the last segment when that keeps the segment long enough.
  const int64_t overhead_total =
      static_cast<int64_t>(result.segments.size() - 1) * options.pause_overhead;
  const int64_t excess = result.run_seconds - duration - overhead_total;
  if (excess > 0) {
    Span& last = result.segments.back();
    const int64_t keep = last.end - last.start - excess;
    if (keep > 0 &&
        (result.segments.size() == 1 || keep >= options.min_chunk)) {
      result.value_seconds -=
          integrate(pieces, last.end - excess, last.end).value_seconds;
      last.end -= excess;
      result.run_seconds -= excess;
    }
  }
  return result;
}

}  // namespace lowcarb::scheduler
