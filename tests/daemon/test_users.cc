// SPDX-License-Identifier: Apache-2.0
#include "tests/daemon/test_users.h"

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "tests/fakes/test_support.h"

namespace lowcarb::testing {
namespace {

std::mutex created_mutex;
std::vector<std::string>& created() {
  static std::vector<std::string> names;
  return names;
}

int run_command(const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool drop_to(const TestUser& user) {
  return ::initgroups(user.name.c_str(), user.gid) == 0 &&
         ::setgid(user.gid) == 0 && ::setuid(user.uid) == 0;
}

}  // namespace

Result<TestUser> ensure_test_user(const std::string& name) {
  if (::getpwnam(name.c_str()) == nullptr) {
    const int rc = run_command({"/usr/sbin/useradd", "--no-create-home",
                                "--user-group", "--shell", "/bin/sh", name});
    // 9: created meanwhile by someone else; fine.
    if (rc == 0) {
      std::lock_guard<std::mutex> lock(created_mutex);
      created().push_back(name);
    } else if (rc != 9) {
      return make_error(ErrorCode::kUnavailable,
                        fmt::format("useradd {} failed with {}", name, rc));
    }
  }
  const passwd* pw = ::getpwnam(name.c_str());
  if (pw == nullptr) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("user {} does not exist after useradd", name));
  }
  return TestUser{pw->pw_name, pw->pw_uid, pw->pw_gid};
}

void remove_created_test_users() {
  std::lock_guard<std::mutex> lock(created_mutex);
  for (const auto& name : created()) {
    run_command({"/usr/sbin/userdel", name});
  }
  created().clear();
}

int run_as_user(const TestUser& user, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!drop_to(user)) {
      ::_exit(98);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 97;
}

CliRun run_lowcarb_as(const TestUser& user, const std::string& cwd,
                      const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env) {
  std::vector<std::string> all = {lowcarb_binary()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env) {
    env_strings.push_back(key + "=" + value);
  }
  if (env.count("PATH") == 0) {
    env_strings.push_back("PATH=/usr/bin:/bin");
  }
  return capture_child([&] {
    if (!drop_to(user) || ::chdir(cwd.c_str()) != 0) {
      ::_exit(98);
    }
    auto argv = exec_argv(all);
    auto envp = exec_argv(env_strings);
    ::execve(argv[0], argv.data(), envp.data());
  });
}

}  // namespace lowcarb::testing
