// SPDX-License-Identifier: Apache-2.0
#include "data/profiles.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "common/assert.h"
#include "common/strings.h"
#include "data/catalogue.h"

namespace lowcarb::data {
namespace embedded {
extern const std::string_view kDiurnalProfilesCsv;
}  // namespace embedded

namespace {

constexpr size_t kFields = 3 + 24;

// The embedded file is part of the build, and a test checks every row, so a
// bad row is a bug: it aborts rather than being reported.
std::vector<DiurnalProfile> parse_profiles(std::string_view text) {
  std::vector<DiurnalProfile> profiles;
  std::string source;
  bool header_seen = false;
  for (const auto& raw : split(text, '\n')) {
    auto line = trim(raw);
    if (line.empty()) {
      continue;
    }
    if (line.front() == '#') {
      if (source.empty()) {
        source = std::string(trim(line.substr(1)));
        if (!source.empty() && source.back() == '.') {
          source.pop_back();
        }
      }
      continue;
    }
    if (!header_seen) {
      header_seen = true;
      continue;
    }
    const auto fields = split(line, ',');
    LOWCARB_ASSERT(fields.size() == kFields);
    const auto month = parse_integer(fields[2]);
    LOWCARB_ASSERT(month && *month >= 0 && *month <= 12);
    auto it = std::find_if(profiles.begin(), profiles.end(),
                           [&](const DiurnalProfile& p) {
                             return p.zone == fields[0] && p.scope == fields[1];
                           });
    if (it == profiles.end()) {
      profiles.push_back(DiurnalProfile{fields[0], fields[1], {}, source});
      it = std::prev(profiles.end());
    }
    for (size_t hour = 0; hour < 24; ++hour) {
      const auto value = parse_double(fields[3 + hour]);
      LOWCARB_ASSERT(value && *value >= 0);
      it->by_month[static_cast<size_t>(*month)][hour] = *value;
    }
  }
  return profiles;
}

}  // namespace

const std::vector<DiurnalProfile>& diurnal_profiles() {
  static const std::vector<DiurnalProfile> profiles =
      parse_profiles(embedded::kDiurnalProfilesCsv);
  return profiles;
}

const DiurnalProfile* find_diurnal_profile(std::string_view zone,
                                           std::string_view scope) {
  const auto& profiles = diurnal_profiles();
  auto find = [&](std::string_view id) -> const DiurnalProfile* {
    for (const auto& profile : profiles) {
      if (iequals(profile.zone, id) && iequals(profile.scope, scope)) {
        return &profile;
      }
    }
    return nullptr;
  };
  if (const auto* found = find(zone)) {
    return found;
  }
  if (const auto* info = find_zone(zone)) {
    return find(info->id);
  }
  return nullptr;
}

std::vector<std::string> diurnal_profile_zones() {
  std::vector<std::string> ids;
  for (const auto& profile : diurnal_profiles()) {
    if (std::find(ids.begin(), ids.end(), profile.zone) == ids.end()) {
      ids.push_back(profile.zone);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string_view diurnal_profiles_csv() {
  return embedded::kDiurnalProfilesCsv;
}

}  // namespace lowcarb::data
