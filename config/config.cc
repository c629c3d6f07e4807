// SPDX-License-Identifier: Apache-2.0
#include "config/config.h"

namespace lowcarb::config {

const ZoneConfig* Config::find_zone(const std::string& id) const {
  for (const auto& zone : zones) {
    if (zone.id == id) {
      return &zone;
    }
  }
  return nullptr;
}

const ProviderConfig* Config::find_provider(const std::string& name) const {
  auto it = providers.find(name);
  return it == providers.end() ? nullptr : &it->second;
}

}  // namespace lowcarb::config
