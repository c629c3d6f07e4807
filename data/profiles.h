// SPDX-License-Identifier: Apache-2.0
// Embedded typical days: for each zone with a profile, the mean carbon
// intensity by UTC hour of day, over the whole year and per month, for the
// direct and lifecycle scopes. The source is diurnal_profiles.csv beside this
// file, derived by scripts/derive-diurnal-profiles.py from the Electricity
// Maps 2022 hourly dataset (ODbL). Parsed once on first use; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lowcarb::data {

struct DiurnalProfile {
  std::string zone;   // Electricity Maps zone id: "DE", "US-CAL-CISO".
  std::string scope;  // "direct" | "lifecycle"
  // by_month[0] is the whole year, by_month[1..12] January..December; each
  // holds 24 means in gCO2eq/kWh, index = UTC hour of day.
  std::array<std::array<double, 24>, 13> by_month{};
  std::string source;  // The file's source line.

  // The mean for UTC `hour` (0..23) of `month` (1..12; 0 = whole year).
  double at(unsigned month, unsigned hour) const {
    return by_month[month][hour];
  }
};

const std::vector<DiurnalProfile>& diurnal_profiles();

// Case-insensitive lookup by zone id and scope ("direct" | "lifecycle");
// also accepts what data::find_zone() accepts (a cloud region). nullptr if
// the zone has no profile.
const DiurnalProfile* find_diurnal_profile(std::string_view zone,
                                           std::string_view scope = "direct");

// Zone ids with a profile, sorted.
std::vector<std::string> diurnal_profile_zones();

// The raw embedded file.
std::string_view diurnal_profiles_csv();

}  // namespace lowcarb::data
