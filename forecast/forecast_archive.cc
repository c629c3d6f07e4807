// SPDX-License-Identifier: Apache-2.0
#include "forecast/forecast_archive.h"

#include <limits>
#include <map>

#include <fmt/format.h>

#include "forecast/history_store.h"

namespace lowcarb::forecast {

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS forecast_archive (
  zone TEXT NOT NULL,
  provider TEXT NOT NULL,
  issued_s INTEGER NOT NULL,
  start_s INTEGER NOT NULL,
  end_s INTEGER NOT NULL,
  basis TEXT NOT NULL,
  scope TEXT NOT NULL,
  gco2_per_kwh REAL NOT NULL,
  PRIMARY KEY (zone, provider, issued_s, start_s)
) WITHOUT ROWID;
)sql";

int64_t seconds(TimePoint time) { return time.time_since_epoch().count(); }

}  // namespace

Result<std::unique_ptr<ForecastArchive>> ForecastArchive::open(Database& db) {
  if (auto history = HistoryStore::open(db); !history) {
    return make_error(history.error());
  }
  if (auto status = db.exec(kSchema); !status) {
    return make_error(status.error().with_context(
        fmt::format("creating the forecast archive in {}", db.path())));
  }
  return std::unique_ptr<ForecastArchive>(new ForecastArchive(db));
}

Result<size_t> ForecastArchive::record(const IntensitySeries& series) {
  if (series.stale) {
    return size_t{0};
  }
  Transaction transaction(db_);
  if (auto status = transaction.begin(); !status) {
    return make_error(status.error());
  }
  const std::string basis =
      series.kind.basis == Basis::kAverage ? "average" : "marginal";
  const std::string scope =
      series.kind.scope == Scope::kDirect ? "direct" : "lifecycle";
  size_t count = 0;
  for (const auto& point : series.points) {
    if (!point.gco2_per_kwh) {
      continue;
    }
    auto written = db_.execute(
        "INSERT OR IGNORE INTO forecast_archive (zone, provider, issued_s, "
        "start_s, end_s, basis, scope, gco2_per_kwh) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6, ?7, ?8)",
        {series.zone, series.provider, seconds(series.generated_at),
         seconds(point.start), seconds(point.end), basis, scope,
         *point.gco2_per_kwh});
    if (!written) {
      return make_error(written.error().with_context(fmt::format(
          "storing the {} forecast for {}", series.provider, series.zone)));
    }
    count += static_cast<size_t>(*written);
  }
  if (auto status = transaction.commit(); !status) {
    return make_error(status.error());
  }
  return count;
}

Result<std::vector<AccuracyRow>> ForecastArchive::accuracy(
    const std::string& zone) {
  auto rows = db_.query(
      "SELECT f.provider, (f.start_s - f.issued_s) / 86400 AS block, "
      "COUNT(*), SUM(ABS(f.gco2_per_kwh - h.gco2_per_kwh)), "
      "SUM(ABS(h.gco2_per_kwh)), "
      "SUM(CASE WHEN h.gco2_per_kwh > 0 THEN ABS(f.gco2_per_kwh - "
      "h.gco2_per_kwh) / h.gco2_per_kwh ELSE 0 END), "
      "SUM(CASE WHEN h.gco2_per_kwh > 0 THEN 1 ELSE 0 END) "
      "FROM forecast_archive f JOIN intensity_history h ON h.zone = f.zone "
      "AND h.basis = f.basis AND h.scope = f.scope AND h.start_s = f.start_s "
      "AND h.end_s = f.end_s "
      "WHERE f.zone = ?1 AND h.gco2_per_kwh IS NOT NULL "
      "AND f.start_s >= f.issued_s - 3600 "
      "GROUP BY f.provider, block ORDER BY f.provider, block",
      {zone});
  if (!rows) {
    return make_error(rows.error().with_context(
        fmt::format("scoring the stored forecasts of {}", zone)));
  }
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<AccuracyRow> result;
  for (const auto& row : *rows) {
    AccuracyRow score;
    score.provider = row.text(0);
    score.day = static_cast<int>(std::max<int64_t>(0, row.integer(1))) + 1;
    score.points = static_cast<size_t>(row.integer(2));
    const double abs_error = row.real(3);
    const double abs_truth = row.real(4);
    const auto positive = row.integer(6);
    score.wape = abs_truth > 0 ? abs_error / abs_truth : kNaN;
    score.mae =
        score.points > 0 ? abs_error / static_cast<double>(score.points) : kNaN;
    score.mape =
        positive > 0 ? row.real(5) / static_cast<double>(positive) : kNaN;
    result.push_back(score);
  }
  return result;
}

Result<std::vector<double>> ForecastArchive::mae_by_lead_day(
    const std::string& zone) {
  auto rows = accuracy(zone);
  if (!rows) {
    return make_error(rows.error());
  }
  std::map<std::string, size_t> points;
  for (const auto& row : *rows) {
    points[row.provider] += row.points;
  }
  std::string provider;
  size_t most = 0;
  for (const auto& [name, count] : points) {
    if (count > most) {
      provider = name;
      most = count;
    }
  }
  std::vector<double> result;
  for (const auto& row : *rows) {  // Sorted by provider, then day.
    if (row.provider != provider || row.points == 0) {
      continue;
    }
    if (row.day != static_cast<int>(result.size()) + 1) {
      break;
    }
    result.push_back(row.mae);
  }
  return result;
}

Result<std::vector<std::string>> ForecastArchive::zones() {
  auto rows =
      db_.query("SELECT DISTINCT zone FROM forecast_archive ORDER BY zone");
  if (!rows) {
    return make_error(rows.error());
  }
  std::vector<std::string> zones;
  for (const auto& row : *rows) {
    zones.push_back(row.text(0));
  }
  return zones;
}

}  // namespace lowcarb::forecast
