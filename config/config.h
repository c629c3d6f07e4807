// SPDX-License-Identifier: Apache-2.0
// The typed configuration: plain structs with defaults, one per YAML section.
// config/README.md documents every key. load_config() fills these from YAML;
// a missing file means every default below plus the embedded zone catalogue.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"

namespace lowcarb::config {

// A local-time range of hours [start_hour, end_hour) in the zone's time zone,
// e.g. {22, 6} means 22:00-06:00 across midnight.
struct HourRange {
  int start_hour = 0;  // 0..23
  int end_hour = 24;   // 1..24; may be <= start_hour to wrap past midnight
};

// Which grid signal a value is. Zones are compared on one kind only.
struct SignalKindConfig {
  std::string basis = "average";  // "average" | "marginal"
  std::string scope = "direct";   // "direct" | "lifecycle"
};

struct ZoneConfig {
  std::string id;         // Electricity Maps zone id, e.g. "DE", "US-CAL-CISO".
  std::string time_zone;  // IANA; default: the catalogue's zone time zone.
  int priority = 0;       // Lower is preferred when emissions tie.
  double penalty_gco2_per_kwh = 0;       // Added to this zone's intensity.
  double penalty_percent = 0;            // Multiplies this zone's intensity.
  std::vector<HourRange> allowed_hours;  // Empty = any hour.
  std::optional<Duration> max_delay;     // Cap on waiting in this zone.
  // Providers to ask, in fallback order. Default: ["history", "profile",
  // "static"].
  std::vector<std::string> providers;
  // Provider-specific location for this zone (WattTime region, UK region id
  // or postcode, SDK location). Default: the zone id.
  std::string provider_location;
  int capacity = 0;      // Concurrent job slots; 0 = unlimited.
  std::string executor;  // "local" or "slurm:<cluster>"; default "local".
  int line = 0;          // Where it was defined, for later messages.
};

struct ProviderConfig {
  std::string name;  // The key under `providers:`.
  // electricitymaps | watttime | ukcarbonintensity | carbon-aware-sdk |
  // file | static | history | profile
  std::string type;
  std::string base_url;          // Default per type.
  std::string token_env;         // Environment variable holding the API token.
  std::string token;             // Literal token; only accepted in a 0600 file.
  std::string username_env;      // WattTime.
  std::string password_env;      // WattTime.
  std::string path;              // type: file.
  std::string scope = "direct";  // Electricity Maps: direct | lifecycle.
  Duration ttl{std::chrono::minutes(30)};
  Duration horizon{std::chrono::hours(48)};
  std::chrono::milliseconds timeout{10000};
  int retries = 3;
  int line = 0;
};

struct PlannerConfig {
  Duration replan_period{std::chrono::minutes(15)};
  Duration safety_margin{std::chrono::minutes(10)};  // Before latest start.
  // Running time each resume of a paused job costs on these backends
  // (checkpoint restart, Slurm requeue); the latest safe resume counts it.
  Duration resume_overhead{0};
  Duration max_forecast_age{std::chrono::hours(6)};  // Older = stale.
  Duration default_horizon{std::chrono::hours(48)};
  SignalKindConfig comparison;        // The kind used to compare zones.
  double threshold_gco2_per_kwh = 0;  // 0 = no threshold start.
  // z: defer only for a predicted saving above z x the measured forecast
  // MAE (scheduler/optimizer.h PlanRequest::min_confidence); 0 = off.
  double min_confidence = 0;
};

// A named piece of hardware: "cpu", "gpu: A100 x 4", or plain watts.
struct DeviceConfig {
  std::string name;   // Key, e.g. "a100-node".
  std::string spec;   // As written, e.g. "gpu: A100 x 4" or "350W".
  double watts = 0;   // Resolved power in watts.
  std::string kind;   // "gpu" | "cpu" | "watts" (a plain power figure).
  std::string model;  // The hardware table's name; empty for "watts".
  int count = 1;      // How many of `model`.
};

struct HardwareConfig {
  double pue = 1.0;
  std::string cpu_model;  // From the hardware table; empty = per-core default.
  double watts_per_core = 0;            // 0 = from the table / default.
  double memory_watts_per_gb = 0.3725;  // Green Algorithms RAM figure (W/GB).
  double idle_watts = 0;
  std::vector<DeviceConfig> devices;
};

struct LocalExecutorConfig {
  std::string pause_mode = "stop";         // stop | checkpoint
  std::string checkpoint_signal = "TERM";  // TERM | USR1 | USR2 | INT
  Duration grace{std::chrono::seconds(30)};
  double overrun_factor = 2.0;  // Report jobs running longer than this x.
  bool kill_on_overrun = false;
  std::string log_dir;  // Default: <state_dir>/logs.
};

struct SlurmClusterConfig {
  std::string name;
  std::string zone;
  std::string slurm_conf;  // Path of this cluster's slurm.conf.
  std::string partition;
  std::string account;
  double time_limit_factor = 1.5;  // --time = duration x this.
  // auto | suspend | requeuehold | signal
  std::string pause_method = "auto";
  std::string bin_dir;  // Where sbatch & co live; default: PATH.
  // The jobcomp/filetxt log (JobCompLoc), read for jobs that left squeue
  // when there is no slurmdbd. Default: asked from `scontrol show config`.
  std::string jobcomp_log;
  // Checkpointable jobs get --signal=B:<checkpoint_signal>@<warning>.
  std::string checkpoint_signal = "USR1";
  Duration checkpoint_warning{std::chrono::seconds(60)};
  int line = 0;
};

struct ExecutorsConfig {
  LocalExecutorConfig local;
  std::vector<SlurmClusterConfig> slurm;
};

// One HTTP API bearer token and the local user its requests act as.
struct HttpTokenConfig {
  std::string file;  // Holds the token; must not be group/other readable.
  std::string user;  // Local user name (or numeric uid).
  bool operator==(const HttpTokenConfig&) const = default;
};

struct DaemonConfig {
  std::string socket_path;   // Default: <state_dir>/lowcarb.sock.
  std::string socket_group;  // Group given rw on the socket; "" = none.
  std::string http_listen;   // "127.0.0.1:8787"; "" = no HTTP API.
  // Legacy single token: acts as the daemon's own user (an admin token).
  std::string http_token_file;
  std::vector<HttpTokenConfig> http_tokens;  // Per-user tokens.
  // Open socket connections one uid may hold (root too); 0 = no own limit.
  size_t max_connections_per_user = 64;
  Duration poll_period{std::chrono::seconds(5)};
  Duration sample_period{std::chrono::seconds(10)};
  size_t max_request_bytes = 1 << 20;
};

struct Config {
  std::string source;     // The file it came from, or "<embedded defaults>".
  std::string state_dir;  // Default: /var/lib/lowcarb as root, else
                          // $XDG_STATE_HOME/lowcarb or ~/.local/state/lowcarb.
  LoggingOptions logging;
  std::vector<ZoneConfig> zones;  // In preference order; the first is the
                                  // "home" zone used for run-now baselines.
  std::map<std::string, ProviderConfig> providers;
  PlannerConfig planner;
  HardwareConfig hardware;
  ExecutorsConfig executors;
  DaemonConfig daemon;

  const ZoneConfig* find_zone(const std::string& id) const;
  const ProviderConfig* find_provider(const std::string& name) const;
};

}  // namespace lowcarb::config
