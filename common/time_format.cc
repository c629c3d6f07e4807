// SPDX-License-Identifier: Apache-2.0
#include "common/time_format.h"

#include <cctype>
#include <charconv>
#include <cstdint>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace lowcarb {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

tl::unexpected<Error> bad_time(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("invalid time '{}': {}", text, why));
}

// Reads exactly `width` digits at `pos`, advancing it.
bool read_digits(std::string_view text, size_t& pos, size_t width, int& out) {
  if (pos + width > text.size()) {
    return false;
  }
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += width;
  out = value;
  return true;
}

bool consume(std::string_view text, size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

Result<TimePoint> parse_time(std::string_view text, MissingOffset missing) {
  size_t pos = 0;
  int year = 0;
  int month = 0;
  int day = 0;
  if (!read_digits(text, pos, 4, year) || !consume(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !consume(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return bad_time(text, "expected YYYY-MM-DD");
  }
  date::year_month_day ymd{date::year{year}, date::month(unsigned(month)),
                           date::day(unsigned(day))};
  if (!ymd.ok()) {
    return bad_time(text, "no such calendar date");
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  bool has_time = false;
  if (pos < text.size() &&
      (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    ++pos;
    has_time = true;
    if (!read_digits(text, pos, 2, hour) || !consume(text, pos, ':') ||
        !read_digits(text, pos, 2, minute)) {
      return bad_time(text, "expected HH:MM after the date");
    }
    if (consume(text, pos, ':')) {
      if (!read_digits(text, pos, 2, second)) {
        return bad_time(text, "expected two digits of seconds");
      }
      if (consume(text, pos, '.') || consume(text, pos, ',')) {
        size_t digits = 0;
        while (pos < text.size() &&
               std::isdigit(static_cast<unsigned char>(text[pos]))) {
          ++pos;
          ++digits;
        }
        if (digits == 0) {
          return bad_time(text, "expected digits after the decimal point");
        }
      }
    }
    // 24:00:00 is the end of the day in ISO 8601.
    if (hour > 24 || minute > 59 || second > 60 ||
        (hour == 24 && (minute != 0 || second != 0))) {
      return bad_time(text, "hour, minute or second out of range");
    }
    if (second == 60) {
      second = 59;  // A leap second: the instant is close enough.
    }
  }
  seconds offset{0};
  bool has_offset = false;
  if (pos < text.size()) {
    char c = text[pos];
    if (!has_time) {
      return bad_time(text, "unexpected text after the date");
    }
    if (c == 'Z' || c == 'z') {
      ++pos;
      has_offset = true;
    } else if (c == '+' || c == '-') {
      ++pos;
      int off_h = 0;
      int off_m = 0;
      if (!read_digits(text, pos, 2, off_h)) {
        return bad_time(text, "expected a UTC offset like +01:00");
      }
      consume(text, pos, ':');
      if (pos < text.size() && !read_digits(text, pos, 2, off_m)) {
        return bad_time(text, "expected a UTC offset like +01:00");
      }
      if (off_h > 18 || off_m > 59) {
        return bad_time(text, "UTC offset out of range");
      }
      offset = hours(off_h) + minutes(off_m);
      if (c == '-') {
        offset = -offset;
      }
      has_offset = true;
    }
    if (pos != text.size()) {
      return bad_time(text, "unexpected trailing text");
    }
  }
  if (!has_offset && has_time && missing == MissingOffset::kReject) {
    return bad_time(text, "no UTC offset (add Z or +HH:MM)");
  }
  TimePoint local =
      date::sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second);
  return local - offset;
}

std::string format_utc(TimePoint time) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", time);
}

Result<Duration> parse_duration(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("invalid duration '{}': {}", text, why));
  };
  if (text.empty()) {
    return bad("empty");
  }
  if (text.front() == '-') {
    return bad("negative durations are not allowed");
  }
  // A plain number is seconds.
  bool all_digits = true;
  for (char c : text) {
    all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  }
  if (all_digits) {
    int64_t value = 0;
    auto [ptr, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return bad("number out of range");
    }
    return Duration(value);
  }
  bool iso = text.front() == 'P' || text.front() == 'p';
  size_t pos = iso ? 1 : 0;
  bool in_time_part = !iso;
  bool any = false;
  int64_t total = 0;
  while (pos < text.size()) {
    if (iso && (text[pos] == 'T' || text[pos] == 't')) {
      if (in_time_part) {
        return bad("'T' appears twice");
      }
      in_time_part = true;
      ++pos;
      continue;
    }
    size_t start = pos;
    while (pos < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      ++pos;
    }
    if (start == pos || pos == text.size()) {
      return bad("expected a number followed by a unit (s, m, h, d, w)");
    }
    int64_t value = 0;
    auto [ptr, ec] =
        std::from_chars(text.data() + start, text.data() + pos, value);
    if (ec != std::errc() || value > 100'000'000) {
      return bad("number out of range");
    }
    char unit =
        static_cast<char>(std::tolower(static_cast<unsigned char>(text[pos])));
    ++pos;
    int64_t factor = 0;
    if (iso && !in_time_part) {
      if (unit == 'd') {
        factor = 86400;
      } else if (unit == 'w') {
        factor = 7 * 86400;
      } else {
        return bad(
            "in ISO 8601 only D and W come before 'T' (no months or "
            "years: their length varies)");
      }
    } else {
      switch (unit) {
        case 's':
          factor = 1;
          break;
        case 'm':
          factor = 60;
          break;
        case 'h':
          factor = 3600;
          break;
        case 'd':
          factor = iso ? 0 : 86400;
          break;
        case 'w':
          factor = iso ? 0 : 7 * 86400;
          break;
        default:
          break;
      }
      if (factor == 0) {
        return bad(fmt::format("unknown unit '{}'", text[pos - 1]));
      }
    }
    total += value * factor;
    any = true;
  }
  if (!any) {
    return bad("no value");
  }
  return Duration(total);
}

std::string format_duration(Duration duration) {
  int64_t total = duration.count();
  if (total == 0) {
    return "0s";
  }
  std::string out;
  if (total < 0) {
    out += '-';
    total = -total;
  }
  const std::pair<int64_t, char> units[] = {
      {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, name] : units) {
    if (total >= size) {
      out += std::to_string(total / size);
      out += name;
      total %= size;
    }
  }
  return out;
}

Result<TimePoint> parse_time_spec(std::string_view text, TimePoint now) {
  if (text == "now") {
    return now;
  }
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    auto duration = parse_duration(text.substr(1));
    if (!duration) {
      return make_error(duration.error());
    }
    return text.front() == '+' ? now + *duration : now - *duration;
  }
  return parse_time(text, MissingOffset::kReject);
}

namespace {

Result<const date::time_zone*> find_zone(std::string_view tz) {
  try {
    return date::locate_zone(std::string(tz));
  } catch (const std::exception&) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("unknown time zone '{}'", tz));
  }
}

}  // namespace

bool is_valid_time_zone(std::string_view tz) {
  return find_zone(tz).has_value();
}

Result<LocalTime> to_local(TimePoint time, std::string_view tz) {
  auto zone = find_zone(tz);
  if (!zone) {
    return make_error(zone.error());
  }
  auto info = (*zone)->get_info(time);
  auto local = time + info.offset;
  auto day_point = std::chrono::floor<days>(local);
  date::year_month_day ymd{date::sys_days(day_point)};
  date::weekday wd{date::sys_days(day_point)};
  auto since_midnight = local - day_point;
  LocalTime out;
  out.year = int(ymd.year());
  out.month = unsigned(ymd.month());
  out.day = unsigned(ymd.day());
  out.weekday = wd.c_encoding();
  out.hour = int(since_midnight.count() / 3600);
  out.minute = int(since_midnight.count() % 3600 / 60);
  out.second = int(since_midnight.count() % 60);
  out.utc_offset = info.offset;
  return out;
}

Result<TimePoint> from_local(const LocalTime& local, std::string_view tz) {
  auto zone = find_zone(tz);
  if (!zone) {
    return make_error(zone.error());
  }
  date::year_month_day ymd{date::year{local.year}, date::month{local.month},
                           date::day{local.day}};
  if (!ymd.ok()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("invalid local date {}-{}-{}", local.year,
                                  local.month, local.day));
  }
  date::local_seconds wall = date::local_days(ymd) + hours(local.hour) +
                             minutes(local.minute) + seconds(local.second);
  auto info = (*zone)->get_info(wall);
  switch (info.result) {
    case date::local_info::unique:
      return TimePoint(wall.time_since_epoch() - info.first.offset);
    case date::local_info::ambiguous:
      // The repeated hour when clocks go back: take the earlier instant.
      return TimePoint(wall.time_since_epoch() - info.first.offset);
    case date::local_info::nonexistent:
      // Inside the spring-forward gap: the wall time "moves forward" by the
      // gap, which is the instant of the transition plus the time into it.
      return TimePoint(wall.time_since_epoch() - info.first.offset);
  }
  return make_error(ErrorCode::kInternal, "unreachable");
}

}  // namespace lowcarb
