// SPDX-License-Identifier: Apache-2.0
#include "forecast/history_store.h"

#include <algorithm>

#include <fmt/format.h>

namespace lowcarb::forecast {

namespace {

constexpr Duration kMaxRowSpan{86400};

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS intensity_history (
  zone TEXT NOT NULL,
  basis TEXT NOT NULL,
  scope TEXT NOT NULL,
  start_s INTEGER NOT NULL,
  end_s INTEGER NOT NULL,
  gco2_per_kwh REAL,
  PRIMARY KEY (zone, basis, scope, start_s)
) WITHOUT ROWID;
)sql";

std::string basis_name(Basis basis) {
  return basis == Basis::kAverage ? "average" : "marginal";
}

std::string scope_name(Scope scope) {
  return scope == Scope::kDirect ? "direct" : "lifecycle";
}

int64_t seconds(TimePoint time) { return time.time_since_epoch().count(); }

TimePoint from_seconds(int64_t value) { return TimePoint{Duration{value}}; }

}  // namespace

Result<std::unique_ptr<HistoryStore>> HistoryStore::open(Database& db) {
  if (auto status = db.exec(kSchema); !status) {
    return make_error(status.error().with_context(
        fmt::format("creating the history table in {}", db.path())));
  }
  return std::unique_ptr<HistoryStore>(new HistoryStore(db));
}

Result<size_t> HistoryStore::append(const IntensitySeries& series) {
  Transaction transaction(db_);
  if (auto status = transaction.begin(); !status) {
    return make_error(status.error());
  }
  const std::string basis = basis_name(series.kind.basis);
  const std::string scope = scope_name(series.kind.scope);
  size_t count = 0;
  for (const auto& original : series.points) {
    SqlValue value = nullptr;
    if (original.gco2_per_kwh) {
      value = *original.gco2_per_kwh;
    }
    // Rows span at most a day so range() can bound its index scan.
    for (TimePoint start = original.start; start < original.end;
         start += kMaxRowSpan) {
      const IntensityPoint point{start,
                                 std::min(original.end, start + kMaxRowSpan),
                                 original.gco2_per_kwh};
      ++count;
      auto written = db_.execute(
          "INSERT INTO intensity_history (zone, basis, scope, start_s, end_s, "
          "gco2_per_kwh) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
          "ON CONFLICT (zone, basis, scope, start_s) DO UPDATE SET "
          "end_s = excluded.end_s, gco2_per_kwh = excluded.gco2_per_kwh",
          {series.zone, basis, scope, seconds(point.start), seconds(point.end),
           value});
      if (!written) {
        return make_error(written.error().with_context(
            fmt::format("storing history for {}", series.zone)));
      }
    }
  }
  if (auto status = transaction.commit(); !status) {
    return make_error(status.error());
  }
  return count;
}

Result<IntensitySeries> HistoryStore::range(const std::string& zone,
                                            const SignalKind& kind,
                                            TimePoint from, TimePoint to) {
  // An interval overlaps [from, to) when start < to and end > from; rows
  // never span more than a day (append() splits them), which bounds the
  // index scan from below.
  auto rows = db_.query(
      "SELECT start_s, end_s, gco2_per_kwh FROM intensity_history "
      "WHERE zone = ?1 AND basis = ?2 AND scope = ?3 AND start_s < ?4 "
      "AND start_s >= ?5 AND end_s > ?6 ORDER BY start_s",
      {zone, basis_name(kind.basis), scope_name(kind.scope), seconds(to),
       seconds(from - kMaxRowSpan), seconds(from)});
  if (!rows) {
    return make_error(
        rows.error().with_context(fmt::format("reading history for {}", zone)));
  }
  IntensitySeries series;
  series.zone = zone;
  series.kind = {kind.basis, kind.scope, Horizon::kObserved};
  series.provider = "history";
  series.points.reserve(rows->size());
  for (const auto& row : *rows) {
    series.points.push_back({from_seconds(row.integer(0)),
                             from_seconds(row.integer(1)),
                             row.optional_real(2)});
  }
  if (!series.empty()) {
    series.generated_at = series.end_time();
  }
  return series;
}

Result<std::vector<SignalKind>> HistoryStore::kinds(const std::string& zone) {
  auto rows = db_.query(
      "SELECT basis, scope, COUNT(*) AS n FROM intensity_history "
      "WHERE zone = ?1 GROUP BY basis, scope ORDER BY n DESC, basis, scope",
      {zone});
  if (!rows) {
    return make_error(rows.error().with_context(
        fmt::format("reading history kinds for {}", zone)));
  }
  std::vector<SignalKind> kinds;
  for (const auto& row : *rows) {
    kinds.push_back(
        {row.text(0) == "marginal" ? Basis::kMarginal : Basis::kAverage,
         row.text(1) == "lifecycle" ? Scope::kLifecycle : Scope::kDirect,
         Horizon::kObserved});
  }
  return kinds;
}

Result<std::vector<std::string>> HistoryStore::zones() {
  auto rows =
      db_.query("SELECT DISTINCT zone FROM intensity_history ORDER BY zone");
  if (!rows) {
    return make_error(rows.error().with_context("reading history zones"));
  }
  std::vector<std::string> zones;
  for (const auto& row : *rows) {
    zones.push_back(row.text(0));
  }
  return zones;
}

}  // namespace lowcarb::forecast
