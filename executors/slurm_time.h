// SPDX-License-Identifier: Apache-2.0
// The one place that decides which time zone Slurm is given.
//
// Slurm's CLI (sbatch --begin/--deadline, scontrol update StartTime=) reads
// wall-clock times "YYYY-MM-DD[THH:MM[:SS]]" in the *client process's* local
// time zone and rejects a `Z` suffix or an offset (measured on 22.05). So
// lowcarb formats every instant in UTC and runs every Slurm command with
// TZ=UTC in its environment (kSlurmTimeZoneEnv); the daemon's own TZ never
// matters. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "common/result.h"

namespace lowcarb::executors {

// The environment entry every Slurm command runs with: {"TZ", "UTC"}.
inline constexpr std::pair<const char*, const char*> kSlurmTimeZoneEnv{"TZ",
                                                                       "UTC"};

// "2026-11-23T14:00:00": `time` in UTC without a suffix, for a Slurm client
// running with TZ=UTC.
std::string to_slurm_time(TimePoint time);

// Parses a time printed by a Slurm client running with TZ=UTC: epoch seconds
// (SLURM_TIME_FORMAT=%s) or "YYYY-MM-DDTHH:MM:SS". "N/A", "None", "Unknown",
// "" and 0 are "no time" (nullopt). Errors name the text.
Result<std::optional<TimePoint>> parse_slurm_time(std::string_view text);

// Parses a Slurm duration: "[D-]HH:MM:SS", "MM:SS", "MM:SS.mmm", with
// optional fractional seconds, into seconds. Errors name the text.
Result<double> parse_slurm_duration(std::string_view text);

}  // namespace lowcarb::executors
