// SPDX-License-Identifier: Apache-2.0
#include "scheduler/terminal_chart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/strings.h"
#include "common/time_format.h"

namespace lowcarb::scheduler {
namespace {

using std::chrono::hours;
using ::testing::HasSubstr;
using ::testing::Not;

const TimePoint kStart = *parse_time("2026-11-23T00:00:00Z");

forecast::IntensitySeries series_of(std::vector<std::optional<double>> values) {
  forecast::IntensitySeries series;
  series.zone = "DE";
  for (size_t i = 0; i < values.size(); ++i) {
    const TimePoint start = kStart + hours(static_cast<int>(i));
    series.points.push_back({start, start + hours(1), values[i]});
  }
  return series;
}

std::vector<std::string> lines_of(const std::string& text) {
  auto lines = split(text, '\n');
  if (!lines.empty() && lines.back().empty()) {
    lines.pop_back();
  }
  return lines;
}

TEST(TerminalChartTest, TallestBarReachesTheTopRowAndLabelsTheRange) {
  ChartOptions options;
  options.height = 4;

  auto lines = lines_of(render_chart(series_of({100, 200, 300, 400}), options));

  // 4 bar rows, the axis, the time labels. The baseline is 15% of the
  // range under the minimum: 100 - 45 = 55.
  ASSERT_EQ(6u, lines.size());
  EXPECT_EQ("400 ┤   █", lines[0]);
  EXPECT_EQ(" 55 ┤▄███", lines[3]);
  EXPECT_THAT(lines[4], HasSubstr("└────"));
  EXPECT_THAT(lines[5], HasSubstr("(UTC)"));
}

TEST(TerminalChartTest, MissingValuesAreDotsOnTheBaseline) {
  ChartOptions options;
  options.height = 2;

  auto lines =
      lines_of(render_chart(series_of({100, std::nullopt, 300}), options));

  EXPECT_EQ(" 70 ┤▂·█", lines[1]);
}

TEST(TerminalChartTest, MarksTheHighlightedWindowUnderTheAxis) {
  ChartOptions options;
  options.highlight =
      ChartWindow{kStart + hours(2), kStart + hours(4), "lowest 2h"};

  auto text = render_chart(series_of({300, 250, 100, 120, 280, 310}), options);

  EXPECT_THAT(text, HasSubstr("\n       ^^ lowest 2h\n"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b[")));
}

TEST(TerminalChartTest, ColoursTheWindowWhenAsked) {
  ChartOptions options;
  options.color = true;
  options.highlight = ChartWindow{kStart, kStart + hours(1), "x"};

  auto text = render_chart(series_of({300, 250}), options);

  EXPECT_THAT(text, HasSubstr("\x1b[32m"));
}

TEST(TerminalChartTest, TimeAxisShowsHoursAndTheDateAtMidnight) {
  std::vector<std::optional<double>> values(48, 200.0);

  auto text = render_chart(series_of(values));

  EXPECT_THAT(text, HasSubstr("11-23"));
  EXPECT_THAT(text, HasSubstr("11-24"));
  EXPECT_THAT(text, HasSubstr("12:00"));
}

TEST(TerminalChartTest, LongSeriesIsSqueezedIntoTheColumnLimit) {
  std::vector<std::optional<double>> values(24 * 7, 200.0);
  ChartOptions options;
  options.max_columns = 56;

  auto lines = lines_of(render_chart(series_of(values), options));

  // "200 ┤" then 56 bar cells of three bytes each.
  EXPECT_EQ(std::string("200 ┤").size() + 56 * std::string("█").size(),
            lines[0].size());
}

TEST(TerminalChartTest, EmptySeriesSaysSo) {
  EXPECT_EQ("(no data)\n", render_chart(forecast::IntensitySeries{}));
}

}  // namespace
}  // namespace lowcarb::scheduler
