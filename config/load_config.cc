// SPDX-License-Identifier: Apache-2.0
// TODO(issue 2): placeholder until the YAML loader lands.
#include "config/load_config.h"

namespace lowcarb::config {

Config default_config() {
  Config config;
  config.source = "<embedded defaults>";
  return config;
}

Result<Config> load_config(const std::string& path) {
  return make_error(ErrorCode::kInternal, "load_config(" + path + "): not yet implemented");
}

Result<Config> parse_config(const std::string&, const std::string& source_name) {
  return make_error(ErrorCode::kInternal, "parse_config(" + source_name + "): not yet implemented");
}

std::string dump_config(const Config& config) { return "source: " + config.source + "\n"; }

}  // namespace lowcarb::config
