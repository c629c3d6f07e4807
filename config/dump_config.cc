// SPDX-License-Identifier: Apache-2.0
// dump_config(): the effective configuration as YAML, in the shape
// load_config() reads, with secrets redacted. YAML::Emitter reports problems
// through its state rather than by throwing, so nothing here can throw.
#include <chrono>
#include <sstream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "common/logging.h"
#include "common/time_format.h"
#include "config/load_config.h"
#include "config/value_parsers.h"

namespace lowcarb::config {
namespace {

std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string format_timeout(std::chrono::milliseconds timeout) {
  // parse_duration() has whole seconds; round up so a dump parses back.
  auto seconds = std::chrono::ceil<std::chrono::seconds>(timeout);
  return format_duration(seconds);
}

}  // namespace

std::string dump_config(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "state_dir" << YAML::Value << config.state_dir;

  out << YAML::Key << "logging" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << config.logging.level;
  out << YAML::Key << "format" << YAML::Value << config.logging.format;
  out << YAML::Key << "file" << YAML::Value << config.logging.file;
  out << YAML::EndMap;

  out << YAML::Key << "zones" << YAML::Value << YAML::BeginSeq;
  for (const auto& zone : config.zones) {
    out << YAML::BeginMap;
    out << YAML::Key << "id" << YAML::Value << zone.id;
    out << YAML::Key << "time_zone" << YAML::Value << zone.time_zone;
    out << YAML::Key << "priority" << YAML::Value << zone.priority;
    out << YAML::Key << "penalty" << YAML::Value
        << (zone.penalty_percent > 0
                ? format_number(zone.penalty_percent) + "%"
                : format_number(zone.penalty_gco2_per_kwh));
    out << YAML::Key << "allowed_hours" << YAML::Value << YAML::Flow
        << YAML::BeginSeq;
    for (const auto& range : zone.allowed_hours) {
      out << format_hour_range(range);
    }
    out << YAML::EndSeq;
    if (zone.max_delay) {
      out << YAML::Key << "max_delay" << YAML::Value
          << format_duration(*zone.max_delay);
    }
    out << YAML::Key << "providers" << YAML::Value << YAML::Flow
        << zone.providers;
    out << YAML::Key << "location" << YAML::Value << zone.provider_location;
    out << YAML::Key << "capacity" << YAML::Value << zone.capacity;
    out << YAML::Key << "executor" << YAML::Value << zone.executor;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "providers" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, provider] : config.providers) {
    out << YAML::Key << name << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "type" << YAML::Value << provider.type;
    if (!provider.base_url.empty()) {
      out << YAML::Key << "base_url" << YAML::Value
          << redact(provider.base_url);
    }
    if (!provider.token_env.empty()) {
      out << YAML::Key << "token_env" << YAML::Value << provider.token_env;
    }
    if (!provider.token.empty()) {
      out << YAML::Key << "token" << YAML::Value << "***";
    }
    if (!provider.username_env.empty()) {
      out << YAML::Key << "username_env" << YAML::Value
          << provider.username_env;
    }
    if (!provider.password_env.empty()) {
      out << YAML::Key << "password_env" << YAML::Value
          << provider.password_env;
    }
    if (!provider.path.empty()) {
      out << YAML::Key << "path" << YAML::Value << provider.path;
    }
    out << YAML::Key << "scope" << YAML::Value << provider.scope;
    out << YAML::Key << "ttl" << YAML::Value << format_duration(provider.ttl);
    out << YAML::Key << "horizon" << YAML::Value
        << format_duration(provider.horizon);
    out << YAML::Key << "timeout" << YAML::Value
        << format_timeout(provider.timeout);
    out << YAML::Key << "retries" << YAML::Value << provider.retries;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;

  const auto& planner = config.planner;
  out << YAML::Key << "planner" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "replan_period" << YAML::Value
      << format_duration(planner.replan_period);
  out << YAML::Key << "safety_margin" << YAML::Value
      << format_duration(planner.safety_margin);
  out << YAML::Key << "resume_overhead" << YAML::Value
      << format_duration(planner.resume_overhead);
  out << YAML::Key << "max_forecast_age" << YAML::Value
      << format_duration(planner.max_forecast_age);
  out << YAML::Key << "default_horizon" << YAML::Value
      << format_duration(planner.default_horizon);
  out << YAML::Key << "comparison" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "basis" << YAML::Value << planner.comparison.basis;
  out << YAML::Key << "scope" << YAML::Value << planner.comparison.scope;
  out << YAML::EndMap;
  out << YAML::Key << "threshold" << YAML::Value
      << format_number(planner.threshold_gco2_per_kwh);
  out << YAML::Key << "min_confidence" << YAML::Value
      << format_number(planner.min_confidence);
  out << YAML::EndMap;

  const auto& hardware = config.hardware;
  out << YAML::Key << "hardware" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "pue" << YAML::Value << format_number(hardware.pue);
  if (!hardware.cpu_model.empty()) {
    out << YAML::Key << "cpu_model" << YAML::Value << hardware.cpu_model;
  }
  out << YAML::Key << "watts_per_core" << YAML::Value
      << format_number(hardware.watts_per_core);
  out << YAML::Key << "memory_watts_per_gb" << YAML::Value
      << format_number(hardware.memory_watts_per_gb);
  out << YAML::Key << "idle_watts" << YAML::Value
      << format_number(hardware.idle_watts);
  out << YAML::Key << "devices" << YAML::Value << YAML::BeginMap;
  for (const auto& device : hardware.devices) {
    out << YAML::Key << device.name << YAML::Value << device.spec
        << YAML::Comment(format_number(device.watts) + " W");
  }
  out << YAML::EndMap;
  out << YAML::EndMap;

  const auto& local = config.executors.local;
  out << YAML::Key << "executors" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "local" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "pause_mode" << YAML::Value << local.pause_mode;
  out << YAML::Key << "checkpoint_signal" << YAML::Value
      << local.checkpoint_signal;
  out << YAML::Key << "grace" << YAML::Value << format_duration(local.grace);
  out << YAML::Key << "overrun_factor" << YAML::Value
      << format_number(local.overrun_factor);
  out << YAML::Key << "kill_on_overrun" << YAML::Value << local.kill_on_overrun;
  out << YAML::Key << "log_dir" << YAML::Value << local.log_dir;
  out << YAML::EndMap;
  out << YAML::Key << "slurm" << YAML::Value << YAML::BeginSeq;
  for (const auto& cluster : config.executors.slurm) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << cluster.name;
    out << YAML::Key << "zone" << YAML::Value << cluster.zone;
    out << YAML::Key << "slurm_conf" << YAML::Value << cluster.slurm_conf;
    out << YAML::Key << "partition" << YAML::Value << cluster.partition;
    out << YAML::Key << "account" << YAML::Value << cluster.account;
    out << YAML::Key << "time_limit_factor" << YAML::Value
        << format_number(cluster.time_limit_factor);
    out << YAML::Key << "pause_method" << YAML::Value << cluster.pause_method;
    out << YAML::Key << "bin_dir" << YAML::Value << cluster.bin_dir;
    out << YAML::Key << "jobcomp_log" << YAML::Value << cluster.jobcomp_log;
    out << YAML::Key << "checkpoint_signal" << YAML::Value
        << cluster.checkpoint_signal;
    out << YAML::Key << "checkpoint_warning" << YAML::Value
        << format_duration(cluster.checkpoint_warning);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;

  const auto& daemon = config.daemon;
  out << YAML::Key << "daemon" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "socket" << YAML::Value << daemon.socket_path;
  out << YAML::Key << "socket_group" << YAML::Value << daemon.socket_group;
  out << YAML::Key << "http_listen" << YAML::Value << daemon.http_listen;
  out << YAML::Key << "http_token_file" << YAML::Value
      << daemon.http_token_file;
  out << YAML::Key << "http_tokens" << YAML::Value << YAML::BeginSeq;
  for (const auto& token : daemon.http_tokens) {
    out << YAML::BeginMap << YAML::Key << "file" << YAML::Value << token.file
        << YAML::Key << "user" << YAML::Value << token.user << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "max_connections_per_user" << YAML::Value
      << static_cast<unsigned long long>(daemon.max_connections_per_user);
  out << YAML::Key << "poll_period" << YAML::Value
      << format_duration(daemon.poll_period);
  out << YAML::Key << "sample_period" << YAML::Value
      << format_duration(daemon.sample_period);
  out << YAML::Key << "max_request_bytes" << YAML::Value
      << static_cast<unsigned long long>(daemon.max_request_bytes);
  out << YAML::EndMap;

  out << YAML::EndMap;
  return "# lowcarb effective configuration from " + config.source + "\n" +
         out.c_str() + "\n";
}

}  // namespace lowcarb::config
