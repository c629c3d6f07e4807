// SPDX-License-Identifier: Apache-2.0
// Splitting a node-level energy figure (RAPL, a node's declared power) among
// the jobs that ran on the node during the interval, in proportion to the
// CPU time each used. Pure functions.
#pragma once

#include <string>
#include <vector>

namespace lowcarb::executors {

struct JobCpuUse {
  std::string job_id;
  double cpu_seconds = 0;  // CPU time used during the interval (>= 0).
};

struct JobEnergyShare {
  std::string job_id;
  double joules = 0;
};

// Gives job j `node_joules` x cpu_j / max(node_cpu_seconds, sum of cpu_j).
// `node_cpu_seconds` is the CPU time of the whole node in the interval
// (0 = unknown, use the jobs' sum); the part used by other processes is not
// attributed to any job. When no job used CPU, the energy is split equally
// (the jobs held the node). Empty `jobs` gives an empty result.
std::vector<JobEnergyShare> split_node_energy(
    double node_joules, const std::vector<JobCpuUse>& jobs,
    double node_cpu_seconds = 0);

}  // namespace lowcarb::executors
