// SPDX-License-Identifier: Apache-2.0
#include "scheduler/terminal_chart.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace lowcarb::scheduler {

namespace {

// Eighth blocks, index = eighths filled (1..8).
constexpr const char* kBlocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr const char* kColorOn = "\x1b[32m";
constexpr const char* kColorOff = "\x1b[0m";

struct Column {
  TimePoint start;
  TimePoint end;
  std::optional<double> value;
};

std::vector<Column> columns_of(const forecast::IntensitySeries& series,
                               int max_columns) {
  const TimePoint begin = series.begin_time();
  const auto total = (series.end_time() - begin).count();
  const auto count = static_cast<int64_t>(std::clamp<size_t>(
      series.points.size(), 1, static_cast<size_t>(std::max(1, max_columns))));
  std::vector<Column> columns;
  std::vector<double> sum(static_cast<size_t>(count), 0);
  std::vector<double> weight(static_cast<size_t>(count), 0);
  for (int64_t c = 0; c < count; ++c) {
    columns.push_back({begin + Duration{total * c / count},
                       begin + Duration{total * (c + 1) / count},
                       std::nullopt});
  }
  for (const auto& point : series.points) {
    if (!point.gco2_per_kwh) {
      continue;
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      const TimePoint from = std::max(columns[c].start, point.start);
      const TimePoint to = std::min(columns[c].end, point.end);
      if (to > from) {
        const auto seconds = static_cast<double>((to - from).count());
        sum[c] += *point.gco2_per_kwh * seconds;
        weight[c] += seconds;
      }
    }
  }
  for (size_t c = 0; c < columns.size(); ++c) {
    if (weight[c] > 0) {
      columns[c].value = sum[c] / weight[c];
    }
  }
  return columns;
}

std::string tick_label(TimePoint time) {
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::hh_mm_ss clock{time - day};
  if (clock.hours().count() == 0 && clock.minutes().count() == 0) {
    const std::chrono::year_month_day ymd{day};
    return fmt::format("{:02d}-{:02d}", static_cast<unsigned>(ymd.month()),
                       static_cast<unsigned>(ymd.day()));
  }
  return fmt::format("{:02d}:{:02d}", clock.hours().count(),
                     clock.minutes().count());
}

}  // namespace

std::string render_chart(const forecast::IntensitySeries& series,
                         const ChartOptions& options) {
  if (series.empty()) {
    return "(no data)\n";
  }
  const auto columns = columns_of(series, options.max_columns);
  const int height = std::max(1, options.height);
  double lo = 0;
  double hi = 0;
  bool any = false;
  for (const auto& column : columns) {
    if (column.value) {
      lo = any ? std::min(lo, *column.value) : *column.value;
      hi = any ? std::max(hi, *column.value) : *column.value;
      any = true;
    }
  }
  // A baseline a little under the minimum keeps the lowest bar visible
  // while the differences between hours stay readable.
  const double baseline = std::max(0.0, lo - std::max(1.0, (hi - lo) * 0.15));
  const double range = std::max(1e-9, hi - baseline);

  auto highlighted = [&](const Column& column) {
    if (!options.highlight) {
      return false;
    }
    const TimePoint middle = column.start + (column.end - column.start) / 2;
    return middle >= options.highlight->start &&
           middle < options.highlight->end;
  };

  const std::string top_label = any ? fmt::format("{:.0f}", hi) : "";
  const std::string bottom_label = any ? fmt::format("{:.0f}", baseline) : "";
  const size_t gutter = std::max(top_label.size(), bottom_label.size());
  std::string out;
  for (int row = height - 1; row >= 0; --row) {
    const std::string& label = row == height - 1 ? top_label
                               : row == 0        ? bottom_label
                                                 : std::string();
    out += fmt::format("{:>{}} {}", label, gutter, label.empty() ? "│" : "┤");
    for (const auto& column : columns) {
      std::string_view cell = " ";
      if (column.value) {
        const auto eighths = std::max(
            1L, std::lround((*column.value - baseline) / range * height * 8));
        cell = kBlocks[std::clamp(eighths - row * 8L, 0L, 8L)];
      } else if (row == 0) {
        cell = "·";
      }
      const bool colour = options.color && highlighted(column) && cell != " ";
      if (colour) {
        out += kColorOn;
      }
      out += cell;
      if (colour) {
        out += kColorOff;
      }
    }
    out += "\n";
  }
  out += std::string(gutter + 1, ' ') + "└";
  for (size_t c = 0; c < columns.size(); ++c) {
    out += "─";
  }
  out += "\n";

  // Ticks on whole hours, spaced so the labels do not collide.
  const Duration span = columns.front().end - columns.front().start;
  std::string axis(columns.size() + 6, ' ');
  for (const auto hours : {1, 2, 3, 6, 12, 24, 48, 168}) {
    const Duration tick{hours * 3600};
    if (span.count() > 0 && tick / span < 7 && hours != 168) {
      continue;
    }
    size_t free_from = 0;
    for (size_t c = 0; c < columns.size(); ++c) {
      const auto& column = columns[c];
      // The first tick instant at or after the column's start.
      auto t = column.start.time_since_epoch().count();
      const auto step = tick.count();
      const auto first = (t + step - 1) / step * step;
      if (first >= column.end.time_since_epoch().count() || c < free_from) {
        continue;
      }
      const std::string label = tick_label(TimePoint{Duration{first}});
      axis.replace(c, label.size(), label);
      free_from = c + label.size() + 1;
    }
    break;
  }
  while (!axis.empty() && axis.back() == ' ') {
    axis.pop_back();
  }
  out += std::string(gutter + 2, ' ') + axis + "  (UTC)\n";

  if (options.highlight) {
    std::string marks;
    bool marked = false;
    for (const auto& column : columns) {
      const bool on = highlighted(column);
      marked = marked || on;
      marks += on ? "^" : " ";
    }
    if (marked) {
      while (!marks.empty() && marks.back() == ' ') {
        marks.pop_back();
      }
      out += std::string(gutter + 2, ' ') + marks + " " +
             options.highlight->label + "\n";
    }
  }
  return out;
}

}  // namespace lowcarb::scheduler
