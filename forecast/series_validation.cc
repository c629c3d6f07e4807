// SPDX-License-Identifier: Apache-2.0
#include "forecast/series_validation.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/time_format.h"

namespace lowcarb::forecast {
namespace {

// Findings listed one by one per kind before the rest are only counted.
constexpr int kListed = 3;

class Findings {
 public:
  Findings(const IntensitySeries& series, std::vector<std::string>& out)
      : series_(series), out_(out) {}

  void add(const std::string& kind, const std::string& text) {
    int& n = counts_[kind];
    ++n;
    if (n <= kListed) {
      out_.push_back(fmt::format("forecast for {} from {}: {}", series_.zone,
                                 provider(), text));
    }
  }

  void summarize() {
    for (const auto& [kind, n] : counts_) {
      if (n > kListed) {
        out_.push_back(fmt::format("forecast for {} from {}: {} more {}",
                                   series_.zone, provider(), n - kListed,
                                   kind));
      }
    }
  }

 private:
  std::string provider() const {
    return series_.provider.empty() ? "?" : series_.provider;
  }
  const IntensitySeries& series_;
  std::vector<std::string>& out_;
  std::map<std::string, int> counts_;
};

}  // namespace

Result<CheckedSeries> check_series(IntensitySeries series,
                                   const SeriesLimits& limits) {
  CheckedSeries checked;
  Findings findings(series, checked.warnings);

  // Values that cannot be right become "no value".
  for (auto& point : series.points) {
    if (!point.gco2_per_kwh) {
      continue;
    }
    const double value = *point.gco2_per_kwh;
    std::string why;
    if (!std::isfinite(value)) {
      why = "not a finite number";
    } else if (value < 0) {
      why = "negative";
    } else if (value > limits.max_gco2_per_kwh) {
      why = fmt::format("above {:g} g/kWh", limits.max_gco2_per_kwh);
    }
    if (!why.empty()) {
      findings.add("values rejected",
                   fmt::format("value {:g} at {} rejected ({})", value,
                               format_utc(point.start), why));
      point.gco2_per_kwh.reset();
    }
  }

  // Duplicate starts: identical copies are dropped quietly, conflicting
  // ones are reported and the first kept.
  std::stable_sort(series.points.begin(), series.points.end(),
                   [](const IntensityPoint& a, const IntensityPoint& b) {
                     return a.start < b.start;
                   });
  std::vector<IntensityPoint> unique;
  unique.reserve(series.points.size());
  for (auto& point : series.points) {
    if (!unique.empty() && unique.back().start == point.start) {
      if (unique.back() != point) {
        auto show = [](const std::optional<double>& v) {
          return v ? fmt::format("{:g}", *v) : std::string("null");
        };
        findings.add(
            "conflicting duplicates",
            fmt::format("conflicting values {} and {} for {}; kept "
                        "the first",
                        show(unique.back().gco2_per_kwh),
                        show(point.gco2_per_kwh), format_utc(point.start)));
        if (!unique.back().gco2_per_kwh) {
          unique.back() = point;
        }
      }
      continue;
    }
    unique.push_back(point);
  }
  series.points = std::move(unique);

  // Mixed resolutions are planned on as they are (the optimizer works on
  // intervals) but reported: they usually mean two feeds were spliced.
  std::map<Duration, int> lengths;
  for (const auto& point : series.points) {
    ++lengths[point.end - point.start];
  }
  if (lengths.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& [length, n] : lengths) {
      parts.push_back(fmt::format("{} x {}", n, format_duration(length)));
    }
    std::string list;
    for (const auto& part : parts) {
      list += list.empty() ? part : ", " + part;
    }
    findings.add("mixed resolutions",
                 fmt::format("mixed interval lengths ({})", list));
  }

  findings.summarize();
  const bool any_value =
      std::any_of(series.points.begin(), series.points.end(),
                  [](const IntensityPoint& p) { return p.gco2_per_kwh; });
  if (!any_value) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("forecast for {} from {}: no usable value ({} points{})",
                    series.zone,
                    series.provider.empty() ? "?" : series.provider,
                    series.points.size(),
                    series.points.empty() ? "" : ", all null or rejected"));
  }
  checked.series = std::move(series);
  return checked;
}

}  // namespace lowcarb::forecast
