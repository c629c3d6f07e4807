// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "common/curl_http_client.h"

namespace lowcarb {
namespace {

TEST(UrlEncodeTest, EncodesReservedCharacters) {
  EXPECT_EQ("2026-11-23T14%3A00%3A00%2B01%3A00",
            url_encode("2026-11-23T14:00:00+01:00"));
  EXPECT_EQ("a%20b%26c", url_encode("a b&c"));
}

TEST(CurlHttpClientTest, RefusedConnectionIsUnavailable) {
  CurlHttpClient client;
  HttpRequest request;
  // Port 1 on loopback: nothing listens there.
  request.url = "http://127.0.0.1:1/x?token=should-not-leak";
  request.connect_timeout = std::chrono::milliseconds(2000);

  auto response = client.send(request);

  ASSERT_FALSE(response);
  EXPECT_EQ(ErrorCode::kUnavailable, response.error().code);
  EXPECT_EQ(std::string::npos,
            response.error().message.find("should-not-leak"));
}

}  // namespace
}  // namespace lowcarb
