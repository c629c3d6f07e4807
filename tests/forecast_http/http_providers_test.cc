// SPDX-License-Identifier: Apache-2.0
#include "forecast/http_providers.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "forecast/retrying_provider.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_http_client.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::forecast {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

EnvLookup env_from(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

config::ProviderConfig provider_config(std::string type) {
  config::ProviderConfig config;
  config.name = "main";
  config.type = std::move(type);
  config.line = 12;
  return config;
}

class MakeHttpProviderTest : public ::testing::Test {
 protected:
  fakes::FakeClock clock_{*parse_time("2023-05-02T20:00:00Z")};
  fakes::FakeHttpClient http_;
};

TEST_F(MakeHttpProviderTest, BuildsEveryTypeWrappedInRetries) {
  auto env = env_from({{"EM_TOKEN", "em-secret"},
                       {"WATTTIME_USERNAME", "u"},
                       {"WATTTIME_PASSWORD", "p-secret"}});
  for (const char* type : {"electricitymaps", "watttime", "ukcarbonintensity",
                           "carbon-aware-sdk"}) {
    auto config = provider_config(type);
    config.token_env = std::string(type) == "electricitymaps" ? "EM_TOKEN" : "";

    auto provider = make_http_provider(config, http_, clock_, env);

    ASSERT_OK(provider);
    EXPECT_EQ("main", (*provider)->name()) << type;
    EXPECT_NE(nullptr, dynamic_cast<RetryingProvider*>(provider->get()))
        << type;
  }
}

TEST_F(MakeHttpProviderTest, MissingTokenNamesTheVariableNotAValue) {
  auto config = provider_config("electricitymaps");
  config.token_env = "LOWCARB_EM_TOKEN";

  auto provider =
      make_http_provider(config, http_, clock_, env_from({{"OTHER", "x"}}));

  ASSERT_FALSE(provider);
  EXPECT_EQ(ErrorCode::kPermissionDenied, provider.error().code);
  EXPECT_THAT(provider.error().message, HasSubstr("LOWCARB_EM_TOKEN"));
  EXPECT_THAT(provider.error().message, HasSubstr("not set"));
  EXPECT_THAT(provider.error().message, HasSubstr("provider 'main'"));
  EXPECT_THAT(provider.error().message, HasSubstr("line 12"));
}

TEST_F(MakeHttpProviderTest, WattTimeNeedsBothCredentials) {
  auto config = provider_config("watttime");
  config.username_env = "WT_USER";
  config.password_env = "WT_PASS";

  auto provider = make_http_provider(config, http_, clock_,
                                     env_from({{"WT_USER", "freddo"}}));

  ASSERT_FALSE(provider);
  EXPECT_EQ(ErrorCode::kPermissionDenied, provider.error().code);
  EXPECT_THAT(provider.error().message, HasSubstr("WT_PASS"));
}

TEST_F(MakeHttpProviderTest, UnknownTypeListsKnownTypesWithSuggestion) {
  auto provider = make_http_provider(provider_config("watttme"), http_, clock_,
                                     env_from({}));

  ASSERT_FALSE(provider);
  EXPECT_EQ(ErrorCode::kInvalidArgument, provider.error().code);
  EXPECT_THAT(provider.error().message, HasSubstr("ukcarbonintensity"));
  EXPECT_THAT(provider.error().message, HasSubstr("did you mean 'watttime'"));
}

TEST_F(MakeHttpProviderTest, BadScopeIsRejected) {
  auto config = provider_config("electricitymaps");
  config.token = "literal-token";
  config.scope = "indirect";

  auto provider = make_http_provider(config, http_, clock_, env_from({}));

  ASSERT_FALSE(provider);
  EXPECT_EQ(ErrorCode::kInvalidArgument, provider.error().code);
  EXPECT_THAT(provider.error().message, HasSubstr("indirect"));
}

TEST_F(MakeHttpProviderTest, ConfiguredBaseUrlScopeAndTokenAreUsed) {
  auto config = provider_config("electricitymaps");
  config.base_url = "https://api.electricitymaps.com/v3";
  config.token_env = "EM_TOKEN";
  config.scope = "lifecycle";
  config.retries = 0;
  http_.push_body("https://api.electricitymaps.com/v3/", 500, "oops");
  auto provider = make_http_provider(config, http_, clock_,
                                     env_from({{"EM_TOKEN", "em-secret-42"}}));
  ASSERT_OK(provider);

  auto series = (*provider)->forecast("DE", clock_.now(), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
  ASSERT_EQ(1u, http_.request_count());  // retries: 0.
  auto all_requests = http_.requests();
  const auto& request = all_requests[0];
  EXPECT_THAT(request.url, HasSubstr("emissionFactorType=lifecycle"));
  EXPECT_THAT(request.headers,
              ::testing::Contains(std::pair<std::string, std::string>(
                  "auth-token", "em-secret-42")));
  EXPECT_EQ(std::chrono::milliseconds(10000), request.total_timeout);
  EXPECT_THAT(series.error().message, Not(HasSubstr("em-secret-42")));
}

TEST(ProcessEnvTest, ReadsTheEnvironment) {
  ::setenv("LOWCARB_TEST_PROCESS_ENV", "value-1", 1);

  EXPECT_EQ("value-1", process_env("LOWCARB_TEST_PROCESS_ENV"));
  EXPECT_FALSE(process_env("LOWCARB_TEST_SURELY_UNSET_VARIABLE"));
}

}  // namespace
}  // namespace lowcarb::forecast
