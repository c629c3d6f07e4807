// SPDX-License-Identifier: Apache-2.0
// Helpers every test binary shares: result assertions, temporary
// directories, and the paths of test data.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/result.h"

#define EXPECT_OK(expr)                                      \
  do {                                                       \
    const auto& lowcarb_result_ = (expr);                    \
    EXPECT_TRUE(lowcarb_result_.has_value())                 \
        << #expr << ": " << lowcarb_result_.error().message; \
  } while (false)

#define ASSERT_OK(expr)                                      \
  do {                                                       \
    const auto& lowcarb_result_ = (expr);                    \
    ASSERT_TRUE(lowcarb_result_.has_value())                 \
        << #expr << ": " << lowcarb_result_.error().message; \
  } while (false)

// Skips the current test when ../shared/data is absent (a user's clone);
// CI always has it.
#define LOWCARB_REQUIRE_SHARED_DATA()                                     \
  do {                                                                    \
    if (!::lowcarb::testing::shared_data_available()) {                   \
      GTEST_SKIP() << "reference data not found at "                      \
                   << ::lowcarb::testing::shared_data_dir()               \
                   << " (it sits beside the checkout as ../shared/data)"; \
    }                                                                     \
  } while (false)

namespace lowcarb::testing {

// A fresh directory under $TMPDIR, removed on destruction unless the test
// failed (kept for inspection) or LOWCARB_KEEP_TEST_DIRS is set.
class ScopedTempDir {
 public:
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

std::string shared_data_dir();
bool shared_data_available();
// `relative` under ../shared/data.
std::string shared_data(const std::string& relative);
// `relative` under tests/testdata.
std::string testdata(const std::string& relative);

// The checkout the tests were built from, and the built `lowcarb` binary.
// Functions rather than compile definitions on every test source: a
// definition holding the clone's absolute path made every test file a
// ccache miss in another clone of the same tree (BENCHMARKS.md, CI).
std::string source_dir();
std::string lowcarb_binary();
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// Polls `done` every 20 ms until it holds (true) or `limit` passes (false).
template <typename Predicate>
bool eventually(Predicate done,
                std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace lowcarb::testing
