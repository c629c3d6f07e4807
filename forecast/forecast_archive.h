// SPDX-License-Identifier: Apache-2.0
// Every provider forecast the daemon fetched, kept in the SQLite state
// database with its issue time (the series' generated_at), and scored later
// against the observations in the history store (forecast/history_store.h):
// MAPE and WAPE per provider and lead day. A forecast point is scored when an
// observation with the same zone, basis, scope, start and end is stored
// (hourly forecasts score against hourly observations). Used from one thread
// at a time, like the Database it writes through.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sqlite_database.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

struct AccuracyRow {
  std::string provider;
  int day = 0;        // Lead day: 1 = points starting [0, 24 h) after issue.
  size_t points = 0;  // Scored points.
  double mape = 0;    // Fraction, over points whose observation is > 0; NaN
                      // when none.
  double wape = 0;    // Fraction; NaN when the observations sum to 0.
  double mae = 0;     // Mean absolute error, g/kWh.
};

class ForecastArchive {
 public:
  // Creates the archive table (and the history table it is scored against)
  // in `db` if needed. `db` must outlive the archive.
  static Result<std::unique_ptr<ForecastArchive>> open(Database& db);

  // Stores the points of `series` with values, keyed by (zone, provider,
  // issue time, start): recording the same forecast again (a cache hit)
  // changes nothing. Stale series (served from cache after a failure) are
  // not stored. Returns the points written.
  Result<size_t> record(const IntensitySeries& series);

  // Scores of `zone`'s stored forecasts, by provider then lead day.
  Result<std::vector<AccuracyRow>> accuracy(const std::string& zone);

  // The MAE (g/kWh) per lead day, from day 1 up to the first day without
  // scored points, of the provider of `zone` with the most scored points
  // (the one the daemon mostly served). Empty when nothing is scored.
  Result<std::vector<double>> mae_by_lead_day(const std::string& zone);

  // Zones with stored forecasts, sorted.
  Result<std::vector<std::string>> zones();

 private:
  explicit ForecastArchive(Database& db) : db_(db) {}

  Database& db_;
};

}  // namespace lowcarb::forecast
