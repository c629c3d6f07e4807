// SPDX-License-Identifier: Apache-2.0
#include "executors/meters/node_energy_split.h"

#include <algorithm>

namespace lowcarb::executors {

std::vector<JobEnergyShare> split_node_energy(
    double node_joules, const std::vector<JobCpuUse>& jobs,
    double node_cpu_seconds) {
  std::vector<JobEnergyShare> shares;
  if (jobs.empty()) {
    return shares;
  }
  double total = 0;
  for (const auto& job : jobs) {
    total += std::max(0.0, job.cpu_seconds);
  }
  const double denominator = std::max(total, node_cpu_seconds);
  for (const auto& job : jobs) {
    double joules = 0;
    if (total <= 0) {
      joules = node_joules / static_cast<double>(jobs.size());
    } else {
      joules = node_joules * std::max(0.0, job.cpu_seconds) / denominator;
    }
    shares.push_back({job.job_id, joules});
  }
  return shares;
}

}  // namespace lowcarb::executors
