// SPDX-License-Identifier: Apache-2.0
// CurlHttpClient against the loopback provider server: timeouts, the size
// cap, response headers and Basic authentication.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/curl_http_client.h"
#include "tests/fakes/test_support.h"
#include "tests/forecast_http/provider_server.h"

namespace lowcarb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

TEST(CurlHttpClientLoopbackTest, SlowResponseIsTimeout) {
  LOWCARB_START_PROVIDER_SERVER(server);
  ASSERT_OK(server.fault("/v3/zones", "timeout", 1, "&delay=3"));
  CurlHttpClient client;
  HttpRequest request;
  request.url = server.url("/v3/zones?token=hide-me-please");
  request.total_timeout = 300ms;

  auto response = client.send(request);

  ASSERT_FALSE(response);
  EXPECT_EQ(ErrorCode::kTimeout, response.error().code);
  EXPECT_THAT(response.error().message, Not(HasSubstr("hide-me-please")));
}

TEST(CurlHttpClientLoopbackTest, BodyOverTheCapIsUnavailable) {
  LOWCARB_START_PROVIDER_SERVER(server);
  ASSERT_OK(server.fault("/v3/zones", "big", 1, "&size=200000"));
  CurlHttpClient client;
  HttpRequest request;
  request.url = server.url("/v3/zones");
  request.max_response_bytes = 10000;

  auto response = client.send(request);

  ASSERT_FALSE(response);
  EXPECT_EQ(ErrorCode::kUnavailable, response.error().code);
  EXPECT_THAT(response.error().message, HasSubstr("larger than 10000 bytes"));
}

TEST(CurlHttpClientLoopbackTest, BodyUnderTheCapIsReturnedWhole) {
  LOWCARB_START_PROVIDER_SERVER(server);
  CurlHttpClient client;
  HttpRequest request;
  request.url = server.url("/v3/zones");

  auto response = client.send(request);

  ASSERT_OK(response);
  EXPECT_EQ(200, response->status);
  EXPECT_EQ(testing::read_file(testing::shared_data(
                "api-responses/electricitymaps/v3-zones.aioelectricitymaps."
                "json")),
            response->body);
}

TEST(CurlHttpClientLoopbackTest, ResponseHeadersAreLowerCaseAndTrimmed) {
  LOWCARB_START_PROVIDER_SERVER(server);
  CurlHttpClient client;
  HttpRequest request;
  request.url = server.url("/__echo");

  auto response = client.send(request);

  ASSERT_OK(response);
  EXPECT_EQ("first value", response->header("x-test-one"));
  EXPECT_EQ("padded", response->header("x-test-two"));
  EXPECT_EQ("application/json", response->header("content-type"));
  EXPECT_EQ("", response->header("X-Test-One"));  // Names are lower case.
}

TEST(CurlHttpClientLoopbackTest, SendsBasicAuthAndCustomHeaders) {
  LOWCARB_START_PROVIDER_SERVER(server);
  CurlHttpClient client;
  HttpRequest request;
  request.url = server.url("/__echo");
  request.basic_user = "wt-user";
  request.basic_password = "wt-password-0123";
  request.headers.emplace_back("auth-token", "abc");

  auto response = client.send(request);

  ASSERT_OK(response);
  auto echoed = nlohmann::json::parse(response->body);
  // base64("wt-user:wt-password-0123")
  EXPECT_EQ("Basic d3QtdXNlcjp3dC1wYXNzd29yZC0wMTIz",
            echoed.value("authorization", ""));
  EXPECT_EQ("abc", echoed.value("auth-token", ""));
}

TEST(CurlHttpClientLoopbackTest, StatusCodesAreResponsesNotErrors) {
  LOWCARB_START_PROVIDER_SERVER(server);
  ASSERT_OK(server.fault("/v3/zones", "503", 1));
  CurlHttpClient client;
  HttpRequest request;
  request.url = server.url("/v3/zones");

  auto response = client.send(request);

  ASSERT_OK(response);
  EXPECT_EQ(503, response->status);
}

}  // namespace
}  // namespace lowcarb
