// SPDX-License-Identifier: Apache-2.0
// Real Unix users for the security tests: created with useradd when missing
// (named with the prefix lcsec_ so they never collide with other suites),
// removed again by remove_created_test_users() if this process created them.
// Needs root; callers skip otherwise. Helpers run code or the real `lowcarb`
// binary as such a user (initgroups, setgid, setuid in a forked child).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "tests/daemon/daemon_process.h"

namespace lowcarb::testing {

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user `name`, created (useradd, no home directory, own group) when it
// does not exist; an existing one is used as it is.
Result<TestUser> ensure_test_user(const std::string& name);

// userdel for every user ensure_test_user() created in this process.
void remove_created_test_users();

// Forks, drops to `user` and returns body()'s return value as the exit
// status (97 when the child died, 98 when the drop failed).
int run_as_user(const TestUser& user, const std::function<int()>& body);

// Runs `lowcarb ARGS...` as `user` in `cwd` with exactly `env` (plus
// PATH when absent) as its environment.
CliRun run_lowcarb_as(const TestUser& user, const std::string& cwd,
                      const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env);

}  // namespace lowcarb::testing
