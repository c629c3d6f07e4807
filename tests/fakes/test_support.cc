// SPDX-License-Identifier: Apache-2.0
#include "tests/fakes/test_support.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace lowcarb::testing {

ScopedTempDir::ScopedTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path base = tmp ? tmp : "/tmp";
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("lowcarb-test-" + std::to_string(::getpid()) +
                             "-" + std::to_string(random()));
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec)) {
      path_ = candidate;
      return;
    }
  }
  std::abort();
}

ScopedTempDir::~ScopedTempDir() {
  bool failed = ::testing::Test::HasFailure();
  if (failed || std::getenv("LOWCARB_KEEP_TEST_DIRS")) {
    std::fprintf(stderr, "kept test directory %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string shared_data_dir() {
  if (const char* env = std::getenv("LOWCARB_SHARED_DATA_DIR")) {
    return env;
  }
  return LOWCARB_SHARED_DATA_DIR;
}

bool shared_data_available() {
  return std::filesystem::exists(shared_data_dir() + "/README.md");
}

std::string shared_data(const std::string& relative) {
  return shared_data_dir() + "/" + relative;
}

std::string source_dir() { return LOWCARB_SOURCE_DIR; }

std::string lowcarb_binary() { return LOWCARB_BINARY; }

std::string testdata(const std::string& relative) {
  return std::string(LOWCARB_TESTDATA_DIR) + "/" + relative;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace lowcarb::testing
