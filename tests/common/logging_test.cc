// SPDX-License-Identifier: Apache-2.0
#include "common/logging.h"

#include <gtest/gtest.h>

namespace lowcarb {
namespace {

void expect_hidden(const std::string& text, const std::string& secret) {
  auto redacted = redact(text);
  EXPECT_EQ(std::string::npos, redacted.find(secret)) << redacted;
}

TEST(RedactTest, MasksCredentialsInUrlsHeadersAndParameters) {
  expect_hidden("GET https://user:hunter22@api.example/v3", "hunter22");
  expect_hidden("GET https://x/forecast?zone=DE&token=abc123secret",
                "abc123secret");
  expect_hidden("auth-token: em_live_4f9a8b7c", "em_live_4f9a8b7c");
  expect_hidden("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload",
                "eyJhbGciOiJIUzI1NiJ9");
  expect_hidden("{\"password\": \"x\"} password=s3cr3t!", "s3cr3t!");
}

TEST(RedactTest, KeepsOrdinaryText) {
  EXPECT_EQ("GET https://api.example/v3/forecast?zone=DE",
            redact("GET https://api.example/v3/forecast?zone=DE"));
}

TEST(RedactTest, MasksRegisteredSecrets) {
  auto out = redact("body echoed my key QWERTY-1234 back", {"QWERTY-1234"});

  EXPECT_EQ("body echoed my key *** back", out);
}

TEST(LoggingTest, ComponentLoggersAreShared) {
  auto a = get_logger("forecast");
  auto b = get_logger("forecast");

  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ("forecast", a->name());
}

}  // namespace
}  // namespace lowcarb
