// SPDX-License-Identifier: Apache-2.0
#include "executors/slurm_commands.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "executors/slurm_output.h"
#include "executors/slurm_time.h"

namespace lowcarb::executors {
namespace {

// A command for program `name` of `cluster`, with SLURM_CONF and TZ=UTC.
Command slurm(const config::SlurmClusterConfig& cluster,
              const std::string& name, std::vector<std::string> args) {
  Command command;
  command.argv.push_back(
      cluster.bin_dir.empty() ? name : cluster.bin_dir + "/" + name);
  for (auto& arg : args) {
    command.argv.push_back(std::move(arg));
  }
  if (!cluster.slurm_conf.empty()) {
    command.env["SLURM_CONF"] = cluster.slurm_conf;
  }
  command.env[kSlurmTimeZoneEnv.first] = kSlurmTimeZoneEnv.second;
  return command;
}

}  // namespace

std::string slurm_comment_tag(const std::string& job_id) {
  return "lowcarb:" + job_id;
}

std::string shell_quote(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

std::optional<long long> slurm_time_limit_minutes(Duration expected,
                                                  double factor) {
  if (expected.count() <= 0) {
    return std::nullopt;
  }
  const double seconds =
      static_cast<double>(expected.count()) * std::max(factor, 1.0);
  return std::max<long long>(1,
                             static_cast<long long>(std::ceil(seconds / 60.0)));
}

Result<std::string> sbatch_export_file(
    const LaunchSpec& spec, const std::optional<std::string>& inherited_tz) {
  std::map<std::string, std::string> env = spec.env;
  for (const auto& [name, value] : env) {
    if (name.empty() ||
        name.find_first_of(std::string("=\0", 2)) != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("sbatch for job {}: environment variable '{}' cannot be "
                      "passed to Slurm (an empty name, or '=' or a NUL byte "
                      "in it)",
                      spec.job_id, name.substr(0, name.find('\0'))));
    }
  }
  env["LOWCARB_JOB_ID"] = spec.job_id;
  // sbatch's own copy is lost with --export-file, and slurmstepd expands
  // %x in --output from it (measured on 22.05: "(null)" without it).
  env["SLURM_JOB_NAME"] = spec.name.empty() ? spec.job_id : spec.name;
  if (spec.segment > 0) {
    env["LOWCARB_RESUME"] = "1";
  } else {
    env.erase("LOWCARB_RESUME");
  }
  if (inherited_tz && !spec.env.contains("TZ")) {
    env["TZ"] = *inherited_tz;
  }
  std::string text;
  for (const auto& [name, value] : env) {
    text += name;
    text += '=';
    text += value;
    text += '\0';
  }
  return text;
}

Result<Command> sbatch_command(const config::SlurmClusterConfig& cluster,
                               const LaunchSpec& spec, TimePoint begin,
                               const SbatchPlan& plan) {
  if (spec.job_id.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sbatch: the launch spec has no job id");
  }
  if (spec.sbatch_script.empty() && spec.argv.empty() &&
      spec.shell_command.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("sbatch for job {}: nothing to run (no "
                                  "sbatch_script, argv or shell_command)",
                                  spec.job_id));
  }
  if (plan.export_file.empty()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("sbatch for job {}: no environment file", spec.job_id));
  }

  std::vector<std::string> args = {
      "--parsable",
      "--job-name=" + (spec.name.empty() ? spec.job_id : spec.name),
      "--comment=" + slurm_comment_tag(spec.job_id),
      "--begin=" + to_slurm_time(begin),
      "--open-mode=append",
      "--export=ALL",
      "--export-file=" + plan.export_file,
  };
  if (!plan.user_sets_time) {
    if (auto minutes = slurm_time_limit_minutes(spec.expected_duration,
                                                cluster.time_limit_factor)) {
      args.push_back(fmt::format("--time={}", *minutes));
    }
  }
  if (!cluster.partition.empty()) {
    args.push_back("--partition=" + cluster.partition);
  }
  if (!cluster.account.empty()) {
    args.push_back("--account=" + cluster.account);
  }
  if (!spec.working_dir.empty()) {
    args.push_back("--chdir=" + spec.working_dir);
  }
  if (!plan.stdout_path.empty()) {
    args.push_back("--output=" + plan.stdout_path);
  }
  if (!plan.stderr_path.empty()) {
    args.push_back("--error=" + plan.stderr_path);
  }
  if (spec.interruptible && spec.pause_mode == PauseMode::kCheckpoint) {
    args.push_back("--requeue");
    args.push_back(fmt::format("--signal=B:{}@{}", cluster.checkpoint_signal,
                               cluster.checkpoint_warning.count()));
  }
  if (!spec.sbatch_script.empty()) {
    for (const auto& option : spec.sbatch_options) {
      args.push_back(option);
    }
    args.push_back(spec.sbatch_script);
  } else if (!spec.argv.empty()) {
    args.push_back("--wrap=" + shell_quote(spec.argv));
  } else {
    args.push_back("--wrap=" + spec.shell_command);
  }
  Command command = slurm(cluster, "sbatch", std::move(args));
  command.inherit_environment = false;
  command.env["PATH"] = plan.path;
  if (plan.run_as_uid) {
    const unsigned gid = plan.run_as_gid.value_or(*plan.run_as_uid);
    std::vector<std::string> argv = {
        "setpriv", fmt::format("--reuid={}", *plan.run_as_uid),
        fmt::format("--regid={}", gid), "--init-groups", "--"};
    argv.insert(argv.end(), command.argv.begin(), command.argv.end());
    command.argv = std::move(argv);
  }
  return command;
}

Command update_start_command(const config::SlurmClusterConfig& cluster,
                             const std::string& job_id, TimePoint begin) {
  return slurm(
      cluster, "scontrol",
      {"update", "JobId=" + job_id, "StartTime=" + to_slurm_time(begin)});
}

Command squeue_job_command(const config::SlurmClusterConfig& cluster,
                           const std::string& job_id) {
  auto command = slurm(cluster, "squeue",
                       {"-h", "-t", "all", "-j", job_id, "-o", kSqueueFormat});
  command.env["SLURM_TIME_FORMAT"] = "%s";
  return command;
}

Command squeue_all_command(const config::SlurmClusterConfig& cluster) {
  auto command =
      slurm(cluster, "squeue", {"-h", "-t", "all", "-o", kSqueueFormat});
  command.env["SLURM_TIME_FORMAT"] = "%s";
  return command;
}

Command show_job_command(const config::SlurmClusterConfig& cluster,
                         const std::string& job_id) {
  auto command = slurm(cluster, "scontrol", {"show", "job", "-o", job_id});
  command.env["SLURM_TIME_FORMAT"] = "%s";
  return command;
}

Command show_config_command(const config::SlurmClusterConfig& cluster) {
  return slurm(cluster, "scontrol", {"show", "config"});
}

Command jobcomp_grep_command(const config::SlurmClusterConfig& cluster,
                             const std::string& log_path,
                             const std::string& job_id) {
  Command command;
  command.argv = {"grep", "-a", "^JobId=" + job_id + " ", log_path};
  if (!cluster.slurm_conf.empty()) {
    command.env["SLURM_CONF"] = cluster.slurm_conf;
  }
  return command;
}

std::string slurm_default_job_name(const std::string& job_id) {
  return "lowcarb-" + job_id;
}

Command jobcomp_name_grep_command(const config::SlurmClusterConfig& cluster,
                                  const std::string& log_path,
                                  const std::string& name) {
  Command command;
  command.argv = {"grep", "-a", "-F", " Name=" + name + " ", log_path};
  if (!cluster.slurm_conf.empty()) {
    command.env["SLURM_CONF"] = cluster.slurm_conf;
  }
  return command;
}

Command sacct_find_command(const config::SlurmClusterConfig& cluster,
                           int days) {
  return slurm(cluster, "sacct",
               {"--allusers", "--allocations",
                fmt::format("--starttime=now-{}days", days), "--noheader",
                "--parsable2", "--format=JobIDRaw,JobName,Comment"});
}

const std::vector<std::string>& sacct_fields() {
  static const std::vector<std::string> kFields = {
      "JobIDRaw", "State",    "ExitCode",   "Start",
      "End",      "TotalCPU", "CPUTimeRAW", "ConsumedEnergyRaw"};
  return kFields;
}

Command sacct_command(const config::SlurmClusterConfig& cluster,
                      const std::string& job_id) {
  std::string format;
  for (const auto& field : sacct_fields()) {
    format += (format.empty() ? "" : ",") + field;
  }
  auto command =
      slurm(cluster, "sacct",
            {"-j", job_id, "--noheader", "--parsable2", "--format=" + format});
  command.env["SLURM_TIME_FORMAT"] = "%s";
  return command;
}

const std::vector<std::string>& sstat_fields() {
  static const std::vector<std::string> kFields = {
      "JobID", "NTasks", "AveCPU", "TRESUsageInTot", "ConsumedEnergyRaw"};
  return kFields;
}

Command sstat_command(const config::SlurmClusterConfig& cluster,
                      const std::string& job_id) {
  std::string format;
  for (const auto& field : sstat_fields()) {
    format += (format.empty() ? "" : ",") + field;
  }
  return slurm(
      cluster, "sstat",
      {"-a", "-j", job_id, "--noheader", "--parsable2", "--format=" + format});
}

Command scontrol_job_command(const config::SlurmClusterConfig& cluster,
                             const std::string& verb,
                             const std::string& job_id) {
  return slurm(cluster, "scontrol", {verb, job_id});
}

Command scancel_signal_command(const config::SlurmClusterConfig& cluster,
                               const std::string& job_id,
                               const std::string& signal, SignalTarget target) {
  return slurm(
      cluster, "scancel",
      {"--signal=" + signal,
       target == SignalTarget::kBatchShell ? "--batch" : "--full", job_id});
}

Command scancel_command(const config::SlurmClusterConfig& cluster,
                        const std::string& job_id) {
  return slurm(cluster, "scancel", {job_id});
}

}  // namespace lowcarb::executors
