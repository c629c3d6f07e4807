// SPDX-License-Identifier: Apache-2.0
// Observed carbon intensity kept in the SQLite state database: one row per
// (zone, basis, scope, interval start), so re-importing a file or recording
// the same observation twice replaces rather than duplicates. Feeds the
// history forecaster and `lowcarb forecast import`. Used from one thread at a
// time, like the Database it writes through.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "common/sqlite_database.h"
#include "forecast/intensity_series.h"

namespace lowcarb::forecast {

class HistoryStore {
 public:
  // Creates the table in `db` if needed. `db` must outlive the store.
  static Result<std::unique_ptr<HistoryStore>> open(Database& db);

  // Upserts every point of `series` under (series.zone, series.kind's basis
  // and scope) in one transaction; a stored point with the same start is
  // replaced. Null values are stored as NULL; points longer than a day are
  // stored as day-long pieces. Returns the rows written.
  Result<size_t> append(const IntensitySeries& series);

  // The stored points of `zone` and `kind` (basis and scope; the horizon is
  // ignored) that overlap [from, to), sorted by start, as an observed series
  // with provider "history". Empty points when nothing is stored.
  Result<IntensitySeries> range(const std::string& zone, const SignalKind& kind,
                                TimePoint from, TimePoint to);

  // The kinds stored for `zone`, the one with most points first.
  Result<std::vector<SignalKind>> kinds(const std::string& zone);

  // Zone ids with stored points, sorted.
  Result<std::vector<std::string>> zones();

 private:
  explicit HistoryStore(Database& db) : db_(db) {}

  Database& db_;
};

}  // namespace lowcarb::forecast
