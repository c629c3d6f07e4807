// SPDX-License-Identifier: Apache-2.0
#include "scheduler/simulation/trace_forecast_provider.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "common/strings.h"

namespace lowcarb::scheduler::simulation {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// A uniform double in (0, 1).
double unit_interval(uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

}  // namespace

std::string ForecastSpec::text() const {
  switch (mode) {
    case ForecastMode::kPerfect:
      return "perfect";
    case ForecastMode::kNoisy:
      return fmt::format("noisy:{}", sigma);
    case ForecastMode::kNoisyAbsolute:
      return fmt::format("noisy-abs:{}", sigma);
    case ForecastMode::kHistory:
      return "history";
  }
  return "?";
}

Result<ForecastSpec> forecast_spec_from_string(std::string_view text,
                                               uint64_t seed) {
  std::string lower = to_lower(trim(text));
  ForecastSpec spec;
  spec.seed = seed;
  if (lower == "perfect") {
    return spec;
  }
  if (lower == "history") {
    spec.mode = ForecastMode::kHistory;
    return spec;
  }
  bool absolute = lower.rfind("noisy-abs:", 0) == 0;
  if (absolute || lower.rfind("noisy:", 0) == 0) {
    std::string number = lower.substr(absolute ? 10 : 6);
    bool percent = !number.empty() && number.back() == '%';
    if (percent) {
      number.pop_back();
    }
    auto sigma = parse_double(number);
    if (sigma && percent) {
      *sigma /= 100.0;
    }
    if (!sigma || *sigma < 0 || *sigma > 10) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--forecast " + std::string(text) +
                            ": σ must be a number in [0, 10] (e.g. noisy:0.05 "
                            "or noisy:5%)");
    }
    spec.mode = absolute ? ForecastMode::kNoisyAbsolute : ForecastMode::kNoisy;
    spec.sigma = *sigma;
    return spec;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown --forecast '" + std::string(text) +
                        "' (known: perfect, noisy:σ, noisy-abs:σ, history)");
}

TraceForecastProvider::TraceForecastProvider(const TraceIntensityHistory& trace,
                                             ForecastSpec spec)
    : trace_(trace), spec_(spec) {
  if (spec_.mode == ForecastMode::kHistory) {
    std::vector<forecast::IntensitySeries> observed;
    for (const auto& zone : trace_.zones()) {
      observed.push_back(*trace_.series(zone));
    }
    history_ = forecast::EnsembleForecaster::from_series(observed);
  }
  if (spec_.mode == ForecastMode::kNoisyAbsolute) {
    for (const auto& zone : trace_.zones()) {
      const auto* series = trace_.series(zone);
      if (series->empty()) {
        continue;
      }
      zone_means_[zone] =
          trace_.mean(zone, series->begin_time(), series->end_time())
              .value_or(0);
    }
  }
}

std::string TraceForecastProvider::name() const {
  return "trace/" + spec_.text();
}

double TraceForecastProvider::noise_factor(const std::string& zone,
                                           TimePoint point_start,
                                           TimePoint issued) const {
  return std::max(
      0.0, 1.0 + spec_.sigma * standard_normal(zone, point_start, issued));
}

double TraceForecastProvider::standard_normal(const std::string& zone,
                                              TimePoint point_start,
                                              TimePoint issued) const {
  uint64_t key = splitmix64(spec_.seed);
  key = splitmix64(key ^ fnv1a(zone));
  key = splitmix64(
      key ^ static_cast<uint64_t>(point_start.time_since_epoch().count()));
  key = splitmix64(key ^
                   static_cast<uint64_t>(issued.time_since_epoch().count()));
  // Box-Muller from two independent uniforms.
  double u1 = unit_interval(key);
  double u2 = unit_interval(splitmix64(key));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Result<forecast::IntensitySeries> TraceForecastProvider::forecast(
    const std::string& zone, TimePoint now, Duration horizon) {
  if (spec_.mode == ForecastMode::kHistory) {
    return history_->forecast(zone, now, horizon);
  }
  const auto* actual = trace_.series(zone);
  if (actual == nullptr) {
    return make_error(ErrorCode::kNotFound,
                      "simulated forecast: no intensity data for zone " + zone);
  }
  forecast::IntensitySeries out;
  out.zone = zone;
  out.kind = actual->kind;
  out.kind.horizon = forecast::Horizon::kForecast;
  out.provider = name();
  out.generated_at = now;
  out.points = trace_.points_between(zone, now, now + horizon);
  if (spec_.mode == ForecastMode::kNoisy) {
    for (auto& point : out.points) {
      if (point.gco2_per_kwh) {
        *point.gco2_per_kwh *= noise_factor(zone, point.start, now);
      }
    }
  } else if (spec_.mode == ForecastMode::kNoisyAbsolute) {
    const double sd = spec_.sigma * zone_means_[zone];
    for (auto& point : out.points) {
      if (point.gco2_per_kwh) {
        // Issue time fixed: the same noisy series whenever it is asked.
        *point.gco2_per_kwh += sd * standard_normal(zone, point.start, {});
      }
    }
  }
  return out;
}

Result<forecast::IntensitySeries> TraceForecastProvider::history(
    const std::string& zone, TimePoint from, TimePoint to) {
  const auto* actual = trace_.series(zone);
  if (actual == nullptr) {
    return make_error(ErrorCode::kNotFound,
                      "simulated history: no intensity data for zone " + zone);
  }
  forecast::IntensitySeries out;
  out.zone = zone;
  out.kind = actual->kind;
  out.provider = "trace";
  out.generated_at = to;
  out.points = trace_.points_between(zone, from, to);
  return out;
}

}  // namespace lowcarb::scheduler::simulation
