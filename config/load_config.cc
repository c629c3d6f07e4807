// SPDX-License-Identifier: Apache-2.0
// Reading and validating the YAML configuration. config/ is the only yaml-cpp
// user (this file reads, dump_config.cc writes). yaml-cpp's parser and node
// accessors throw: every such call runs inside the try block of
// parse_document(), where YAML::Exception becomes an Error with
// file:line:column.
#include "config/load_config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/logging.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "config/value_parsers.h"
#include "data/catalogue.h"

namespace lowcarb::config {
namespace {

const std::vector<std::string> kBuiltinProviders = {"history", "profile",
                                                    "static"};
const std::vector<std::string> kProviderTypes = {
    "carbon-aware-sdk", "electricitymaps",   "file",    "history", "profile",
    "static",           "ukcarbonintensity", "watttime"};
constexpr const char* kDefaultZone = "DE";

// Whether the file may hold a literal token.
enum class FileAccess {
  kOwnerOnly,  // Mode 0600 or stricter, or text that is not a file.
  kShared,     // Group or others may read it.
};

// 1-based; 0 when unknown.
struct Location {
  int line = 0;
  int column = 0;
};

Location location_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

// How an error message shows a value it did not expect. Secrets are never
// shown.
enum class Show { kValue, kHidden };

std::string describe(const YAML::Node& node, Show show = Show::kValue) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return show == Show::kHidden ? std::string("a value that is not one")
                                   : "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

// One value in the document: the node, its key path ("zones[1].penalty")
// and where its key was, for values that have no position of their own
// (an empty value has none in yaml-cpp).
struct Field {
  YAML::Node node;
  std::string path;
  Location key_at;
};

Location location_of(const Field& field) {
  // yaml-cpp places an empty value at the next token, often on the next
  // line: point at the key instead.
  if (field.node.IsNull()) {
    return field.key_at;
  }
  Location at = location_of(field.node);
  return at.line > 0 ? at : field.key_at;
}

bool is_env_name(const std::string& text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) {
    return false;
  }
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

// A name referenced elsewhere in the document, checked once everything is
// read (the section that defines it may come later in the file).
struct Reference {
  Location at;
  std::string path;
  std::string name;
};

// Fills a Config from a YAML document. Keeps the first error only: every
// message is one line naming a position, so the first one is the one to
// fix. Not thread-safe; one reader per document.
class ConfigReader {
 public:
  ConfigReader(std::string source, FileAccess access)
      : source_(std::move(source)), access_(access) {}

  std::optional<Error> read(const YAML::Node& root, Config& config);
  // Checks the names one section gives to another (a zone's providers and
  // executor, a cluster's zone). Call after complete(), so that default
  // zones and providers count.
  std::optional<Error> check_references(const Config& config);

 private:
  bool ok() const { return !error_.has_value(); }

  void fail_at(Location at, const std::string& path, const std::string& what,
               ErrorCode code = ErrorCode::kInvalidArgument) {
    if (error_) {
      return;
    }
    std::string message = source_;
    if (at.line > 0) {
      message +=
          ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
    }
    message += ": " + path + ": " + what;
    error_ = Error{code, message};
  }
  void fail(const Field& field, const std::string& what) {
    fail_at(location_of(field), field.path, what);
  }
  // "expected <what>, found <the value>".
  void expected(const Field& field, const std::string& what,
                Show show = Show::kValue) {
    fail(field, "expected " + what + ", found " + describe(field.node, show));
  }

  // Calls `handler` for each entry of the map `field`, in document order.
  // Unknown and repeated keys are errors.
  void for_each_key(const Field& field, const std::vector<std::string>& keys,
                    const std::function<void(const std::string& key,
                                             const Field& value)>& handler);
  // Calls `handler` for each item of a list.
  void for_each_item(const Field& field,
                     const std::function<void(const Field& item)>& handler);

  std::optional<std::string> text(const Field& field, Show show = Show::kValue);
  std::optional<double> number(const Field& field, double min,
                               const std::string& what);
  std::optional<long long> integer(const Field& field, long long min,
                                   long long max, const std::string& what);
  std::optional<bool> boolean(const Field& field);
  std::optional<Duration> duration(const Field& field, bool positive);
  std::optional<std::string> choice(const Field& field,
                                    const std::vector<std::string>& choices);

  void read_logging(const Field& field, LoggingOptions& logging);
  void read_zones(const Field& field, std::vector<ZoneConfig>& zones);
  void read_zone(const Field& field, ZoneConfig& zone);
  void read_providers(const Field& field,
                      std::map<std::string, ProviderConfig>& providers);
  void read_provider(const Field& field, ProviderConfig& provider);
  void read_planner(const Field& field, PlannerConfig& planner);
  void read_hardware(const Field& field, HardwareConfig& hardware);
  void read_executors(const Field& field, ExecutorsConfig& executors);
  void read_local(const Field& field, LocalExecutorConfig& local);
  void read_slurm(const Field& field, SlurmClusterConfig& cluster);
  void read_daemon(const Field& field, DaemonConfig& daemon);

  std::string source_;
  FileAccess access_;
  std::optional<Error> error_;
  std::vector<Reference> provider_refs_;
  std::vector<Reference> cluster_refs_;
  std::vector<Reference> cluster_zone_refs_;
};

void ConfigReader::for_each_key(
    const Field& field, const std::vector<std::string>& keys,
    const std::function<void(const std::string&, const Field&)>& handler) {
  if (!ok()) {
    return;
  }
  if (!field.node.IsMap()) {
    expected(field, "a map with the keys " + join(keys));
    return;
  }
  std::set<std::string> seen;
  for (auto it = field.node.begin(); it != field.node.end() && ok(); ++it) {
    // A copy: `it->first` lives in a proxy that dies with this statement.
    const YAML::Node key_node = it->first;
    const std::string key = key_node.IsScalar() ? key_node.Scalar() : "";
    const std::string path = field.path.empty() ? key : field.path + "." + key;
    Field key_field{key_node, path, location_of(key_node)};
    if (!key_node.IsScalar()) {
      expected(Field{key_node, field.path, field.key_at}, "a key");
      return;
    }
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      auto hint = did_you_mean(key, keys);
      fail(key_field, "expected a known key" +
                          (hint.empty() ? " (" + join(keys) + ")" : "") +
                          ", found \"" + key + "\"" + hint);
      return;
    }
    if (!seen.insert(key).second) {
      fail(key_field, "expected each key once, found \"" + key + "\" again");
      return;
    }
    handler(key, Field{it->second, path, location_of(key_node)});
  }
}

void ConfigReader::for_each_item(
    const Field& field, const std::function<void(const Field&)>& handler) {
  if (!ok()) {
    return;
  }
  if (!field.node.IsSequence()) {
    expected(field, "a list");
    return;
  }
  for (size_t i = 0; i < field.node.size() && ok(); ++i) {
    handler(Field{field.node[i], field.path + "[" + std::to_string(i) + "]",
                  location_of(field)});
  }
}

std::optional<std::string> ConfigReader::text(const Field& field, Show show) {
  if (!field.node.IsScalar()) {
    expected(field, "a string", show);
    return std::nullopt;
  }
  return field.node.Scalar();
}

std::optional<double> ConfigReader::number(const Field& field, double min,
                                           const std::string& what) {
  std::optional<double> value;
  if (field.node.IsScalar()) {
    value = parse_double(field.node.Scalar());
  }
  if (!value || *value < min) {
    expected(field, what);
    return std::nullopt;
  }
  return value;
}

std::optional<long long> ConfigReader::integer(const Field& field,
                                               long long min, long long max,
                                               const std::string& what) {
  std::optional<long long> value;
  if (field.node.IsScalar()) {
    value = parse_integer(field.node.Scalar());
  }
  if (!value || *value < min || *value > max) {
    expected(field, what);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ConfigReader::boolean(const Field& field) {
  if (field.node.IsScalar()) {
    const std::string value = to_lower(field.node.Scalar());
    if (value == "true" || value == "yes" || value == "on") {
      return true;
    }
    if (value == "false" || value == "no" || value == "off") {
      return false;
    }
  }
  expected(field, "true or false");
  return std::nullopt;
}

std::optional<Duration> ConfigReader::duration(const Field& field,
                                               bool positive) {
  const std::string what = std::string("a ") + (positive ? "positive " : "") +
                           "duration like \"90s\", \"15m\", \"2h\" or \"1d\"";
  if (!field.node.IsScalar()) {
    expected(field, what);
    return std::nullopt;
  }
  auto parsed = parse_duration(field.node.Scalar());
  if (!parsed || (positive && parsed->count() <= 0)) {
    expected(field, what);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::string> ConfigReader::choice(
    const Field& field, const std::vector<std::string>& choices) {
  std::string what = "one of " + join(choices);
  if (field.node.IsScalar()) {
    const std::string value = field.node.Scalar();
    for (const auto& candidate : choices) {
      if (iequals(candidate, value)) {
        return candidate;
      }
    }
    fail(field, "expected " + what + ", found \"" + value + "\"" +
                    did_you_mean(to_lower(value), choices));
    return std::nullopt;
  }
  expected(field, what);
  return std::nullopt;
}

std::optional<Error> ConfigReader::read(const YAML::Node& root,
                                        Config& config) {
  if (root.IsNull()) {
    return std::nullopt;  // An empty file: every default.
  }
  const std::vector<std::string> sections = {"state_dir", "logging", "zones",
                                             "providers", "planner", "hardware",
                                             "executors", "daemon"};
  Field document{root, "", location_of(root)};
  if (!root.IsMap()) {
    fail(Field{root, "(document)", {1, 1}},
         "expected a map with the sections " + join(sections) + ", found " +
             describe(root));
    return error_;
  }
  bool zones_given = false;
  for_each_key(document, sections,
               [&](const std::string& key, const Field& value) {
                 if (key == "state_dir") {
                   if (auto dir = text(value)) {
                     if (dir->empty()) {
                       expected(value, "a directory");
                     }
                     config.state_dir = *dir;
                   }
                 } else if (key == "logging") {
                   read_logging(value, config.logging);
                 } else if (key == "zones") {
                   zones_given = true;
                   read_zones(value, config.zones);
                 } else if (key == "providers") {
                   read_providers(value, config.providers);
                 } else if (key == "planner") {
                   read_planner(value, config.planner);
                 } else if (key == "hardware") {
                   read_hardware(value, config.hardware);
                 } else if (key == "executors") {
                   read_executors(value, config.executors);
                 } else if (key == "daemon") {
                   read_daemon(value, config.daemon);
                 }
               });
  if (ok() && zones_given && config.zones.empty()) {
    fail_at(location_of(root["zones"]), "zones",
            "expected at least one zone, found an empty list");
  }
  return error_;
}

void ConfigReader::read_logging(const Field& field, LoggingOptions& logging) {
  for_each_key(
      field, {"level", "format", "file"},
      [&](const std::string& key, const Field& value) {
        if (key == "level") {
          if (auto level = choice(value, {"trace", "debug", "info", "warn",
                                          "error", "critical", "off"})) {
            logging.level = *level;
          }
        } else if (key == "format") {
          if (auto format = choice(value, {"text", "journald"})) {
            logging.format = *format;
          }
        } else if (key == "file") {
          if (auto file = text(value)) {
            logging.file = *file;
          }
        }
      });
}

void ConfigReader::read_zones(const Field& field,
                              std::vector<ZoneConfig>& zones) {
  for_each_item(field, [&](const Field& item) {
    ZoneConfig zone;
    read_zone(item, zone);
    if (!ok()) {
      return;
    }
    for (size_t i = 0; i < zones.size(); ++i) {
      if (iequals(zones[i].id, zone.id)) {
        fail(Field{item.node.IsMap() ? item.node["id"] : item.node,
                   item.path + (item.node.IsMap() ? ".id" : ""), item.key_at},
             "expected each zone once, found \"" + zone.id +
                 "\" again (first at zones[" + std::to_string(i) + "], line " +
                 std::to_string(zones[i].line) + ")");
        return;
      }
    }
    zones.push_back(std::move(zone));
  });
}

void ConfigReader::read_zone(const Field& field, ZoneConfig& zone) {
  zone.line = location_of(field).line;
  std::optional<Field> id_field;
  if (field.node.IsScalar()) {
    id_field = field;  // "- DE" is short for "- id: DE".
  } else {
    for_each_key(
        field,
        {"id", "time_zone", "priority", "penalty", "allowed_hours", "max_delay",
         "providers", "location", "capacity", "executor"},
        [&](const std::string& key, const Field& value) {
          if (key == "id") {
            id_field = value;
          } else if (key == "time_zone") {
            if (auto tz = text(value)) {
              if (!is_valid_time_zone(*tz)) {
                expected(value, "an IANA time zone like \"Europe/Berlin\"");
              }
              zone.time_zone = *tz;
            }
          } else if (key == "priority") {
            if (auto priority =
                    integer(value, 0, 1000000, "a non-negative integer")) {
              zone.priority = static_cast<int>(*priority);
            }
          } else if (key == "penalty") {
            if (!value.node.IsScalar()) {
              expected(value,
                       "a non-negative number (g/kWh) or a percentage like "
                       "\"10%\"");
              return;
            }
            auto penalty = parse_penalty(value.node.Scalar());
            if (!penalty) {
              fail(value, penalty.error().message);
              return;
            }
            zone.penalty_gco2_per_kwh = penalty->gco2_per_kwh;
            zone.penalty_percent = penalty->percent;
          } else if (key == "allowed_hours") {
            // A single range may be written without the list brackets.
            // (A new Field: assigning to a YAML::Node writes through to the
            // document.)
            YAML::Node wrapped(YAML::NodeType::Sequence);
            if (value.node.IsScalar()) {
              wrapped.push_back(YAML::Node(value.node.Scalar()));
            }
            const Field list = value.node.IsScalar()
                                   ? Field{wrapped, value.path, value.key_at}
                                   : value;
            for_each_item(list, [&](const Field& item) {
              std::string range;
              if (item.node.IsMap()) {
                std::string start;
                std::string end;
                for_each_key(item, {"start", "end"},
                             [&](const std::string& k, const Field& v) {
                               if (auto hour = text(v)) {
                                 (k == "start" ? start : end) = *hour;
                               }
                             });
                if (!ok()) {
                  return;
                }
                if (start.empty() || end.empty()) {
                  expected(item, "both start and end");
                  return;
                }
                range = start + "-" + end;
              } else if (item.node.IsScalar()) {
                range = item.node.Scalar();
              } else {
                expected(item,
                         "an hour range like \"22-06\" or {start: 22, end: 6}");
                return;
              }
              auto parsed = parse_hour_range(range);
              if (!parsed) {
                fail(item, parsed.error().message);
                return;
              }
              zone.allowed_hours.push_back(*parsed);
            });
          } else if (key == "max_delay") {
            if (auto delay = duration(value, false)) {
              zone.max_delay = *delay;
            }
          } else if (key == "providers") {
            for_each_item(value, [&](const Field& item) {
              if (auto name = text(item)) {
                zone.providers.push_back(*name);
                provider_refs_.push_back({location_of(item), item.path, *name});
              }
            });
          } else if (key == "location") {
            if (auto location = text(value)) {
              zone.provider_location = *location;
            }
          } else if (key == "capacity") {
            if (auto capacity = integer(value, 0, 1000000,
                                        "a non-negative integer (0 = no "
                                        "limit)")) {
              zone.capacity = static_cast<int>(*capacity);
            }
          } else if (key == "executor") {
            auto executor = text(value);
            if (!executor) {
              return;
            }
            if (*executor == "local") {
              zone.executor = *executor;
            } else if (executor->rfind("slurm:", 0) == 0 &&
                       executor->size() > 6) {
              zone.executor = *executor;
              cluster_refs_.push_back(
                  {location_of(value), value.path, executor->substr(6)});
            } else {
              expected(value, "\"local\" or \"slurm:<cluster>\"");
            }
          }
        });
  }
  if (!ok()) {
    return;
  }
  if (!id_field) {
    fail(field, "expected a zone with an id, found none");
    return;
  }
  auto id = text(*id_field);
  if (!id) {
    return;
  }
  if (const data::ZoneInfo* info = data::find_zone(*id)) {
    zone.id = info->id;  // Canonical spelling; region names map to zones.
    if (zone.time_zone.empty()) {
      zone.time_zone = info->time_zone;
    }
  } else if (!zone.time_zone.empty() && !id->empty()) {
    zone.id = *id;  // A custom zone: allowed when it names its time zone.
  } else {
    fail(*id_field,
         "expected an Electricity Maps zone id from the catalogue (or set "
         "time_zone for a custom zone), found \"" +
             *id + "\"" + did_you_mean(*id, data::zone_ids()));
  }
}

void ConfigReader::read_providers(
    const Field& field, std::map<std::string, ProviderConfig>& providers) {
  if (!ok()) {
    return;
  }
  if (!field.node.IsMap()) {
    expected(field, "a map of provider name to settings");
    return;
  }
  std::set<std::string> seen;
  for (auto it = field.node.begin(); it != field.node.end() && ok(); ++it) {
    Field key{it->first, field.path, location_of(it->first)};
    auto name = text(key);
    if (!name) {
      return;
    }
    key.path = field.path + "." + *name;
    if (name->empty() || !seen.insert(*name).second) {
      expected(key, "a unique provider name");
      return;
    }
    ProviderConfig provider;
    provider.name = *name;
    provider.line = key.key_at.line;
    read_provider(Field{it->second, key.path, key.key_at}, provider);
    providers[*name] = std::move(provider);
  }
}

void ConfigReader::read_provider(const Field& field, ProviderConfig& provider) {
  std::optional<Field> token_field;
  std::optional<Field> type_field;
  if (field.node.IsNull()) {
    // "history:" alone declares a built-in type with its defaults.
  } else {
    for_each_key(
        field,
        {"type", "base_url", "token_env", "token", "username_env",
         "password_env", "path", "scope", "ttl", "horizon", "timeout",
         "retries"},
        [&](const std::string& key, const Field& value) {
          if (key == "type") {
            type_field = value;
            if (auto type = choice(value, kProviderTypes)) {
              provider.type = *type;
            }
          } else if (key == "base_url") {
            if (auto url = text(value, Show::kHidden)) {
              if (url->rfind("http://", 0) != 0 &&
                  url->rfind("https://", 0) != 0) {
                // The URL may hold credentials: show it redacted.
                fail(value, "expected an http:// or https:// URL, found \"" +
                                redact(*url) + "\"");
              }
              provider.base_url = *url;
            }
          } else if (key == "token_env" || key == "username_env" ||
                     key == "password_env") {
            auto name = text(value, Show::kHidden);
            if (!name) {
              return;
            }
            if (!is_env_name(*name)) {
              // Never echo it: this is where a token pasted into the wrong
              // key ends up.
              expected(value,
                       "an environment variable name like EM_TOKEN (not the "
                       "secret itself)",
                       Show::kHidden);
              return;
            }
            (key == "token_env"      ? provider.token_env
             : key == "username_env" ? provider.username_env
                                     : provider.password_env) = *name;
          } else if (key == "token") {
            token_field = value;
            if (auto token = text(value, Show::kHidden)) {
              provider.token = *token;
            }
          } else if (key == "path") {
            if (auto path = text(value)) {
              provider.path = *path;
            }
          } else if (key == "scope") {
            if (auto scope = choice(value, {"direct", "lifecycle"})) {
              provider.scope = *scope;
            }
          } else if (key == "ttl") {
            if (auto ttl = duration(value, false)) {
              provider.ttl = *ttl;
            }
          } else if (key == "horizon") {
            if (auto horizon = duration(value, true)) {
              provider.horizon = *horizon;
            }
          } else if (key == "timeout") {
            if (auto timeout = duration(value, true)) {
              provider.timeout = *timeout;
            }
          } else if (key == "retries") {
            if (auto retries =
                    integer(value, 0, 100, "an integer from 0 to 100")) {
              provider.retries = static_cast<int>(*retries);
            }
          }
        });
  }
  if (!ok()) {
    return;
  }
  if (provider.type.empty()) {
    if (std::find(kProviderTypes.begin(), kProviderTypes.end(),
                  provider.name) != kProviderTypes.end()) {
      provider.type = provider.name;  // "electricitymaps: {...}".
    } else {
      fail(field,
           "expected a type (one of " + join(kProviderTypes) + "), found none");
      return;
    }
  }
  if (token_field && !provider.token_env.empty()) {
    fail(*token_field, "expected token or token_env, found both");
    return;
  }
  if (token_field && access_ == FileAccess::kShared) {
    fail_at(location_of(*token_field), token_field->path,
            "expected a file only its owner can read (mode 0600) to hold a "
            "literal token, found a file readable by others; run chmod 600 " +
                source_ + " or use token_env",
            ErrorCode::kPermissionDenied);
    return;
  }
  if (provider.type == "file" && provider.path.empty()) {
    fail(field, "expected a path for a provider of type file, found none");
    return;
  }
  if (provider.type == "carbon-aware-sdk" && provider.base_url.empty()) {
    fail(field,
         "expected a base_url (your Carbon Aware SDK WebAPI) for a provider "
         "of type carbon-aware-sdk, found none");
  }
}

void ConfigReader::read_planner(const Field& field, PlannerConfig& planner) {
  for_each_key(
      field,
      {"replan_period", "safety_margin", "resume_overhead", "max_forecast_age",
       "default_horizon", "comparison", "threshold", "min_confidence"},
      [&](const std::string& key, const Field& value) {
        if (key == "replan_period") {
          if (auto d = duration(value, true)) {
            planner.replan_period = *d;
          }
        } else if (key == "safety_margin") {
          if (auto d = duration(value, false)) {
            planner.safety_margin = *d;
          }
        } else if (key == "resume_overhead") {
          if (auto d = duration(value, false)) {
            planner.resume_overhead = *d;
          }
        } else if (key == "max_forecast_age") {
          if (auto d = duration(value, true)) {
            planner.max_forecast_age = *d;
          }
        } else if (key == "default_horizon") {
          if (auto d = duration(value, true)) {
            planner.default_horizon = *d;
          }
        } else if (key == "comparison") {
          for_each_key(
              value, {"basis", "scope"},
              [&](const std::string& k, const Field& v) {
                if (k == "basis") {
                  if (auto basis = choice(v, {"average", "marginal"})) {
                    planner.comparison.basis = *basis;
                  }
                } else if (auto scope = choice(v, {"direct", "lifecycle"})) {
                  planner.comparison.scope = *scope;
                }
              });
        } else if (key == "threshold") {
          if (auto threshold =
                  number(value, 0, "a non-negative number (g/kWh; 0 = none)")) {
            planner.threshold_gco2_per_kwh = *threshold;
          }
        } else if (key == "min_confidence") {
          if (auto z = number(value, 0,
                              "a non-negative number (multiples of the "
                              "measured forecast error; 0 = off)")) {
            planner.min_confidence = *z;
          }
        }
      });
}

void ConfigReader::read_hardware(const Field& field, HardwareConfig& hardware) {
  std::optional<Field> devices;
  for_each_key(
      field,
      {"pue", "cpu_model", "watts_per_core", "memory_watts_per_gb",
       "idle_watts", "devices"},
      [&](const std::string& key, const Field& value) {
        if (key == "pue") {
          if (auto pue = number(value, 1.0,
                                "a number >= 1.0 (power usage "
                                "effectiveness)")) {
            hardware.pue = *pue;
          }
        } else if (key == "cpu_model") {
          auto model = text(value);
          if (!model) {
            return;
          }
          const data::HardwareInfo* info = data::find_hardware(*model);
          if (!info || info->kind != "cpu") {
            std::vector<std::string> cpus;
            for (const auto& entry : data::hardware()) {
              if (entry.kind == "cpu") {
                cpus.push_back(entry.name);
              }
            }
            fail(value,
                 "expected a CPU model from the hardware table, found "
                 "\"" +
                     *model + "\"" + did_you_mean(*model, cpus));
            return;
          }
          hardware.cpu_model = info->name;
        } else if (key == "watts_per_core") {
          if (auto watts = number(value, 0, "a non-negative number (W)")) {
            hardware.watts_per_core = *watts;
          }
        } else if (key == "memory_watts_per_gb") {
          if (auto watts = number(value, 0, "a non-negative number (W/GB)")) {
            hardware.memory_watts_per_gb = *watts;
          }
        } else if (key == "idle_watts") {
          if (auto watts = number(value, 0, "a non-negative number (W)")) {
            hardware.idle_watts = *watts;
          }
        } else if (key == "devices") {
          devices = value;  // Read last: a spec may use cpu_model.
        }
      });
  if (!ok() || !devices) {
    return;
  }
  if (!devices->node.IsMap()) {
    expected(*devices, "a map of device name to spec like \"gpu: A100 x 4\"");
    return;
  }
  for (auto it = devices->node.begin(); it != devices->node.end() && ok();
       ++it) {
    Field key{it->first, devices->path, location_of(it->first)};
    auto name = text(key);
    if (!name) {
      return;
    }
    Field value{it->second, devices->path + "." + *name, key.key_at};
    auto spec = text(value);
    if (!spec) {
      return;
    }
    auto parsed = parse_device_spec(*spec, hardware.cpu_model);
    if (!parsed) {
      fail(value, parsed.error().message);
      return;
    }
    DeviceConfig device;
    device.name = *name;
    device.spec = *spec;
    device.watts = parsed->watts;
    device.kind = parsed->kind;
    device.model = parsed->model;
    device.count = parsed->count;
    hardware.devices.push_back(std::move(device));
  }
}

void ConfigReader::read_executors(const Field& field,
                                  ExecutorsConfig& executors) {
  for_each_key(
      field, {"local", "slurm"},
      [&](const std::string& key, const Field& value) {
        if (key == "local") {
          read_local(value, executors.local);
          return;
        }
        for_each_item(value, [&](const Field& item) {
          SlurmClusterConfig cluster;
          read_slurm(item, cluster);
          if (!ok()) {
            return;
          }
          for (const auto& other : executors.slurm) {
            if (other.name == cluster.name) {
              fail(Field{item.node["name"], item.path + ".name", item.key_at},
                   "expected each cluster name once, found \"" + cluster.name +
                       "\" again (first on line " + std::to_string(other.line) +
                       ")");
              return;
            }
          }
          executors.slurm.push_back(std::move(cluster));
        });
      });
}

void ConfigReader::read_local(const Field& field, LocalExecutorConfig& local) {
  for_each_key(
      field,
      {"pause_mode", "checkpoint_signal", "grace", "overrun_factor",
       "kill_on_overrun", "log_dir"},
      [&](const std::string& key, const Field& value) {
        if (key == "pause_mode") {
          if (auto mode = choice(value, {"stop", "checkpoint"})) {
            local.pause_mode = *mode;
          }
        } else if (key == "checkpoint_signal") {
          // "SIGUSR1" means "USR1".
          const bool prefixed =
              value.node.IsScalar() &&
              to_lower(value.node.Scalar()).rfind("sig", 0) == 0;
          const Field bare =
              prefixed ? Field{YAML::Node(value.node.Scalar().substr(3)),
                               value.path, location_of(value)}
                       : value;
          if (auto signal = choice(bare, {"TERM", "USR1", "USR2", "INT"})) {
            local.checkpoint_signal = *signal;
          }
        } else if (key == "grace") {
          if (auto grace = duration(value, false)) {
            local.grace = *grace;
          }
        } else if (key == "overrun_factor") {
          if (auto factor = number(value, 1.0, "a number >= 1.0")) {
            local.overrun_factor = *factor;
          }
        } else if (key == "kill_on_overrun") {
          if (auto kill = boolean(value)) {
            local.kill_on_overrun = *kill;
          }
        } else if (key == "log_dir") {
          if (auto dir = text(value)) {
            local.log_dir = *dir;
          }
        }
      });
}

void ConfigReader::read_slurm(const Field& field, SlurmClusterConfig& cluster) {
  cluster.line = location_of(field).line;
  std::optional<Field> zone_field;
  for_each_key(
      field,
      {"name", "zone", "slurm_conf", "partition", "account",
       "time_limit_factor", "pause_method", "bin_dir", "jobcomp_log",
       "checkpoint_signal", "checkpoint_warning"},
      [&](const std::string& key, const Field& value) {
        if (key == "name") {
          if (auto name = text(value)) {
            if (name->empty() ||
                name->find_first_of(" \t:/") != std::string::npos) {
              expected(value, "a cluster name without spaces, ':' or '/'");
            }
            cluster.name = *name;
          }
        } else if (key == "zone") {
          zone_field = value;
          if (auto zone = text(value)) {
            cluster.zone = *zone;
          }
        } else if (key == "slurm_conf") {
          if (auto path = text(value)) {
            cluster.slurm_conf = *path;
          }
        } else if (key == "partition") {
          if (auto partition = text(value)) {
            cluster.partition = *partition;
          }
        } else if (key == "account") {
          if (auto account = text(value)) {
            cluster.account = *account;
          }
        } else if (key == "time_limit_factor") {
          if (auto factor = number(value, 1.0, "a number >= 1.0")) {
            cluster.time_limit_factor = *factor;
          }
        } else if (key == "pause_method") {
          if (auto method =
                  choice(value, {"auto", "suspend", "requeuehold", "signal"})) {
            cluster.pause_method = *method;
          }
        } else if (key == "bin_dir") {
          if (auto dir = text(value)) {
            cluster.bin_dir = *dir;
          }
        } else if (key == "jobcomp_log") {
          if (auto path = text(value)) {
            cluster.jobcomp_log = *path;
          }
        } else if (key == "checkpoint_signal") {
          if (auto signal = choice(value, {"USR1", "USR2", "TERM", "INT"})) {
            cluster.checkpoint_signal = *signal;
          }
        } else if (key == "checkpoint_warning") {
          if (auto warning = duration(value, false)) {
            cluster.checkpoint_warning = *warning;
          }
        }
      });
  if (!ok()) {
    return;
  }
  if (cluster.name.empty()) {
    fail(field, "expected a cluster with a name, found none");
  } else if (!zone_field) {
    fail(field, "expected a cluster with a zone, found none");
  } else {
    cluster_zone_refs_.push_back(
        {location_of(*zone_field), zone_field->path, cluster.zone});
  }
}

void ConfigReader::read_daemon(const Field& field, DaemonConfig& daemon) {
  for_each_key(field,
               {"socket", "socket_group", "http_listen", "http_token_file",
                "http_tokens", "max_connections_per_user", "poll_period",
                "sample_period", "max_request_bytes"},
               [&](const std::string& key, const Field& value) {
                 if (key == "socket") {
                   if (auto path = text(value)) {
                     daemon.socket_path = *path;
                   }
                 } else if (key == "socket_group") {
                   if (auto group = text(value)) {
                     daemon.socket_group = *group;
                   }
                 } else if (key == "http_listen") {
                   auto listen = text(value);
                   if (!listen) {
                     return;
                   }
                   auto colon = listen->rfind(':');
                   auto port = colon == std::string::npos
                                   ? std::nullopt
                                   : parse_integer(listen->substr(colon + 1));
                   if (!listen->empty() &&
                       (!port || *port < 1 || *port > 65535 || colon == 0)) {
                     expected(value, "HOST:PORT like \"127.0.0.1:8787\"");
                     return;
                   }
                   daemon.http_listen = *listen;
                 } else if (key == "http_token_file") {
                   if (auto path = text(value)) {
                     daemon.http_token_file = *path;
                   }
                 } else if (key == "http_tokens") {
                   for_each_item(value, [&](const Field& item) {
                     HttpTokenConfig token;
                     for_each_key(item, {"file", "user"},
                                  [&](const std::string& k, const Field& v) {
                                    if (auto t = text(v)) {
                                      (k == "file" ? token.file : token.user) =
                                          *t;
                                    }
                                  });
                     if (ok() && (token.file.empty() || token.user.empty())) {
                       expected(item, "{file: PATH, user: NAME}");
                       return;
                     }
                     daemon.http_tokens.push_back(std::move(token));
                   });
                 } else if (key == "max_connections_per_user") {
                   if (auto n = integer(value, 0, 1 << 20,
                                        "a count >= 0 (0 = no own limit)")) {
                     daemon.max_connections_per_user = static_cast<size_t>(*n);
                   }
                 } else if (key == "poll_period") {
                   if (auto d = duration(value, true)) {
                     daemon.poll_period = *d;
                   }
                 } else if (key == "sample_period") {
                   if (auto d = duration(value, true)) {
                     daemon.sample_period = *d;
                   }
                 } else if (key == "max_request_bytes") {
                   if (auto bytes = integer(value, 1, 1LL << 30,
                                            "a positive integer (bytes)")) {
                     daemon.max_request_bytes = static_cast<size_t>(*bytes);
                   }
                 }
               });
}

std::optional<Error> ConfigReader::check_references(const Config& config) {
  std::vector<std::string> provider_names;
  for (const auto& [name, provider] : config.providers) {
    provider_names.push_back(name);
  }
  for (const auto& ref : provider_refs_) {
    if (!config.find_provider(ref.name)) {
      fail_at(ref.at, ref.path,
              "expected a provider defined under providers (" +
                  join(provider_names) + "), found \"" + ref.name + "\"" +
                  did_you_mean(ref.name, provider_names));
      return error_;
    }
  }
  std::vector<std::string> cluster_names;
  for (const auto& cluster : config.executors.slurm) {
    cluster_names.push_back(cluster.name);
  }
  for (const auto& ref : cluster_refs_) {
    if (std::find(cluster_names.begin(), cluster_names.end(), ref.name) ==
        cluster_names.end()) {
      fail_at(ref.at, ref.path,
              "expected a Slurm cluster defined under executors.slurm" +
                  (cluster_names.empty() ? std::string(" (none is)")
                                         : " (" + join(cluster_names) + ")") +
                  ", found \"slurm:" + ref.name + "\"" +
                  did_you_mean(ref.name, cluster_names));
      return error_;
    }
  }
  std::vector<std::string> zone_ids;
  for (const auto& zone : config.zones) {
    zone_ids.push_back(zone.id);
  }
  for (const auto& ref : cluster_zone_refs_) {
    bool found = false;
    const data::ZoneInfo* info = data::find_zone(ref.name);
    for (const auto& zone : config.zones) {
      found =
          found || iequals(zone.id, ref.name) || (info && zone.id == info->id);
    }
    if (!found) {
      fail_at(ref.at, ref.path,
              "expected a zone configured under zones (" + join(zone_ids) +
                  "), found \"" + ref.name + "\"");
      return error_;
    }
  }
  return error_;
}

// The defaults every document starts from, before its keys are read.
Config base_config(const std::string& source) {
  Config config;
  config.source = source;
  config.state_dir =
      default_state_dir(static_cast<unsigned>(::geteuid()),
                        std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
  for (const auto& name : kBuiltinProviders) {
    ProviderConfig provider;
    provider.name = name;
    provider.type = name;
    config.providers[name] = provider;
  }
  return config;
}

// Defaults that depend on other keys: the default zone, per-zone defaults,
// paths under state_dir, and cluster zones in canonical spelling.
void complete(Config& config) {
  if (config.zones.empty()) {
    const data::ZoneInfo* home = data::find_zone(kDefaultZone);
    ZoneConfig zone;
    zone.id = home ? home->id : kDefaultZone;
    zone.time_zone = home ? home->time_zone : "Europe/Berlin";
    config.zones.push_back(zone);
  }
  for (auto& zone : config.zones) {
    if (zone.providers.empty()) {
      zone.providers = kBuiltinProviders;
    }
    if (zone.provider_location.empty()) {
      zone.provider_location = zone.id;
    }
    if (zone.executor.empty()) {
      zone.executor = "local";
    }
  }
  for (auto& cluster : config.executors.slurm) {
    for (const auto& zone : config.zones) {
      const data::ZoneInfo* info = data::find_zone(cluster.zone);
      if (iequals(zone.id, cluster.zone) || (info && info->id == zone.id)) {
        cluster.zone = zone.id;
      }
    }
  }
  if (config.daemon.socket_path.empty()) {
    config.daemon.socket_path = config.state_dir + "/lowcarb.sock";
  }
  if (config.executors.local.log_dir.empty()) {
    config.executors.local.log_dir = config.state_dir + "/logs";
  }
}

Result<Config> parse_document(const std::string& yaml,
                              const std::string& source, FileAccess access) {
  Config config = base_config(source);
  ConfigReader reader(source, access);
  try {
    const YAML::Node root = YAML::Load(yaml);
    if (auto error = reader.read(root, config)) {
      return make_error(*error);
    }
    complete(config);
    if (auto error = reader.check_references(config)) {
      return make_error(*error);
    }
  } catch (const YAML::Exception& e) {
    std::string where = source;
    if (!e.mark.is_null()) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" +
               std::to_string(e.mark.column + 1);
    }
    return make_error(ErrorCode::kInvalidArgument,
                      where + ": invalid YAML: " + e.msg);
  }
  return config;
}

}  // namespace

std::string default_state_dir(unsigned euid, const char* xdg_state_home,
                              const char* home) {
  if (euid == 0) {
    return "/var/lib/lowcarb";
  }
  if (xdg_state_home && xdg_state_home[0] == '/') {
    return std::string(xdg_state_home) + "/lowcarb";
  }
  if (home && home[0] != '\0') {
    return std::string(home) + "/.local/state/lowcarb";
  }
  return ".lowcarb-state";
}

Config default_config() {
  Config config = base_config("<embedded defaults>");
  complete(config);
  return config;
}

Result<Config> load_config(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return make_error(ErrorCode::kNotFound,
                      path + ": cannot read the configuration: " +
                          (ec ? ec.message() : "no such file"));
  }
  if (std::filesystem::is_directory(status)) {
    return make_error(ErrorCode::kInvalidArgument,
                      path +
                          ": cannot read the configuration: it is a "
                          "directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kPermissionDenied,
                      path +
                          ": cannot read the configuration: permission "
                          "denied");
  }
  std::ostringstream text;
  text << in.rdbuf();
  using std::filesystem::perms;
  const bool shared = (status.permissions() &
                       (perms::group_all | perms::others_all)) != perms::none;
  return parse_document(text.str(), path,
                        shared ? FileAccess::kShared : FileAccess::kOwnerOnly);
}

Result<Config> parse_config(const std::string& yaml,
                            const std::string& source_name) {
  return parse_document(yaml, source_name, FileAccess::kOwnerOnly);
}

}  // namespace lowcarb::config
