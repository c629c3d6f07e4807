// SPDX-License-Identifier: Apache-2.0
// UTC parsing and formatting, durations, and the only home of time-zone rules.
// lowcarb stores and computes every instant in UTC; local time appears only
// when a rule is written in local terms (allowed hours, "next workday 09:00").
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb {

// What to do with an ISO 8601 timestamp that has no `Z` or offset.
enum class MissingOffset {
  kReject,     // An error: the instant is ambiguous.
  kAssumeUtc,  // Data files whose column is documented as UTC.
};

// Parses ISO 8601 / RFC 3339 date-times: "2026-11-23T14:00:00Z",
// "2026-11-23T14:00:00+01:00", "2026-11-23T14:00+0100", "2026-11-23 14:00:00",
// with optional fractional seconds (truncated) and a date alone
// ("2026-11-23" = midnight). Errors name the text and what was wrong.
Result<TimePoint> parse_time(std::string_view text,
                             MissingOffset missing = MissingOffset::kReject);

// "2026-11-23T14:00:00Z".
std::string format_utc(TimePoint time);

// Parses a duration: "90s", "45m", "2h", "1h30m", "1d", "1d2h", "1w", the ISO
// 8601 forms "PT1H30M", "P1DT2H", "P1W", or a plain non-negative number of
// seconds ("3600", "1.5" is rejected). Negative durations are errors.
Result<Duration> parse_duration(std::string_view text);

// The shortest of the compact forms: "1h30m", "2d", "45s", "0s".
std::string format_duration(Duration duration);

// Parses a time given on a command line: "now", "+DUR" or "-DUR" relative to
// `now`, or an ISO 8601 date-time with an offset (a missing offset is an
// error, so "14:00" never silently means UTC).
Result<TimePoint> parse_time_spec(std::string_view text, TimePoint now);

// A broken-down local time in an IANA zone.
struct LocalTime {
  int year = 0;
  unsigned month = 0;    // 1..12
  unsigned day = 0;      // 1..31
  unsigned weekday = 0;  // 0 = Sunday .. 6 = Saturday
  int hour = 0;
  int minute = 0;
  int second = 0;
  Duration utc_offset{0};
};

// Converts `time` to local time in IANA zone `tz` ("Europe/London").
Result<LocalTime> to_local(TimePoint time, std::string_view tz);

// The UTC instant of local wall-clock time `local` (fields year..second) in
// zone `tz`. In a DST gap the time is moved forward by the gap; in a repeated
// hour the earlier instant is chosen.
Result<TimePoint> from_local(const LocalTime& local, std::string_view tz);

// True if `tz` names a time zone in the system's database.
bool is_valid_time_zone(std::string_view tz);

}  // namespace lowcarb
