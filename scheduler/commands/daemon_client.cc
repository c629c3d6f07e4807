// SPDX-License-Identifier: Apache-2.0
#include "scheduler/commands/daemon_client.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "scheduler/api/api_client.h"

namespace lowcarb::scheduler {

void add_client_options(CLI::App& command, ClientOptions& options) {
  command.add_option("--socket", options.socket,
                     "The daemon's socket (default: $LOWCARB_SOCKET, else "
                     "daemon.socket_path, else <state_dir>/lowcarb.sock)");
  command.add_flag("--json", options.json, "Print the answer as JSON");
}

std::optional<std::string> resolve_socket_path(const std::string& flag,
                                               CliContext& context) {
  if (!flag.empty()) {
    return flag;
  }
  if (const char* env = std::getenv("LOWCARB_SOCKET"); env && *env) {
    return std::string(env);
  }
  const config::Config* config = context.config();
  if (config == nullptr) {
    return std::nullopt;
  }
  if (!config->daemon.socket_path.empty()) {
    return config->daemon.socket_path;
  }
  return (std::filesystem::path(config->state_dir) / "lowcarb.sock").string();
}

std::optional<nlohmann::json> call_daemon(CliContext& context,
                                          const std::string& command,
                                          const ClientOptions& options,
                                          const nlohmann::json& request) {
  auto path = resolve_socket_path(options.socket, context);
  if (!path) {
    return std::nullopt;
  }
  auto client = api::ApiClient::connect(*path);
  if (!client) {
    context.fail(command, client.error().message, kExitDaemonUnreachable);
    return std::nullopt;
  }
  auto result = (*client)->call(request);
  if (!result) {
    const ErrorCode code = result.error().code;
    int exit = code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
    if (code == ErrorCode::kUnavailable &&
        result.error().message.find(*path) != std::string::npos) {
      exit = kExitDaemonUnreachable;  // The connection broke.
    }
    context.fail(command, result.error().message, exit);
    return std::nullopt;
  }
  return *result;
}

std::optional<nlohmann::json> call_daemon_retrying(
    CliContext& context, const std::string& command,
    const ClientOptions& options, const nlohmann::json& request) {
  auto path = resolve_socket_path(options.socket, context);
  if (!path) {
    return std::nullopt;
  }
  constexpr int kAttempts = 6;
  std::chrono::milliseconds wait(500);
  for (int attempt = 1;; ++attempt) {
    Error failure;
    auto client = api::ApiClient::connect(*path);
    if (client) {
      auto result = (*client)->call(request);
      if (result) {
        return *result;
      }
      failure = result.error();
    } else {
      failure = client.error();
    }
    const bool transient = failure.code == ErrorCode::kUnavailable ||
                           failure.code == ErrorCode::kTimeout;
    if (!transient || attempt == kAttempts) {
      int exit = failure.code == ErrorCode::kInvalidArgument ? kExitUsage
                                                             : kExitFailure;
      if (failure.code == ErrorCode::kUnavailable &&
          failure.message.find(*path) != std::string::npos) {
        exit = kExitDaemonUnreachable;
      }
      context.fail(command, failure.message, exit);
      return std::nullopt;
    }
    context.err << "lowcarb " << command << ": " << failure.message
                << "; trying again in " << wait.count() << " ms\n";
    std::this_thread::sleep_for(wait);
    wait *= 2;
  }
}

std::string new_request_id() {
  std::random_device random;
  std::string id = "cli-";
  for (int i = 0; i < 4; ++i) {
    id += fmt::format("{:08x}", random());
  }
  return id;
}

std::string format_kg(double kg) {
  if (std::fabs(kg) < 1.0) {
    return fmt::format("{:.1f} g", kg * 1000);
  }
  return fmt::format("{:.2f} kg", kg);
}

std::string plan_summary(const nlohmann::json& job) {
  if (!job.contains("plan")) {
    return "no plan yet";
  }
  const auto& plan = job["plan"];
  std::string text = fmt::format(
      "start {} in {}, expected {:.0f} g/kWh vs {:.0f} run-now ({:.1f}% "
      "saved, {} -> {})",
      job.value("planned_start", "?"), plan.value("zone", "?"),
      plan.value("expected_gco2_per_kwh", 0.0),
      plan.value("run_now_gco2_per_kwh", 0.0),
      plan.value("savings_percent", 0.0),
      format_kg(job.value("run_now_kg", 0.0)),
      format_kg(job.value("expected_kg", 0.0)));
  const auto& segments = plan["segments"];
  if (segments.is_array() && segments.size() > 1) {
    text += fmt::format(", {} segments", segments.size());
  }
  return text;
}

}  // namespace lowcarb::scheduler
