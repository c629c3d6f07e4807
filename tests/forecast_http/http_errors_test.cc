// SPDX-License-Identifier: Apache-2.0
#include "forecast/http_errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"

namespace lowcarb::forecast {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *parse_time(text); }

HttpResponse response(int status, std::string body) {
  HttpResponse out;
  out.status = status;
  out.body = std::move(body);
  return out;
}

const RequestContext kContext{
    "electricitymaps", "forecast for DE", {"tok-SECRET-123"}};

TEST(RetryAfterTest, ParsesSecondsAndHttpDates) {
  TimePoint now = at("2015-10-21T07:27:00Z");

  EXPECT_EQ(Duration(120), parse_retry_after("120", now));
  EXPECT_EQ(Duration(60),
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now));
  EXPECT_EQ(Duration(0),
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
}

TEST(HttpStatusErrorTest, MapsStatusesToCodes) {
  TimePoint now = at("2026-01-01T00:00:00Z");

  EXPECT_EQ(ErrorCode::kPermissionDenied,
            http_status_error(kContext, response(401, ""), now).code);
  EXPECT_EQ(ErrorCode::kPermissionDenied,
            http_status_error(kContext, response(403, ""), now).code);
  EXPECT_EQ(ErrorCode::kNotFound,
            http_status_error(kContext, response(404, ""), now).code);
  EXPECT_EQ(ErrorCode::kInvalidArgument,
            http_status_error(kContext, response(422, ""), now).code);
  EXPECT_EQ(ErrorCode::kUnavailable,
            http_status_error(kContext, response(503, ""), now).code);
  EXPECT_EQ(ErrorCode::kUnavailable,
            http_status_error(kContext, response(429, ""), now).code);
}

TEST(HttpStatusErrorTest, NamesProviderAndQuotesTheApiMessage) {
  std::string body =
      R"({"error":"Forbidden","message":"zone DE is not in your plan"})";

  auto error = http_status_error(kContext, response(403, body),
                                 at("2026-01-01T00:00:00Z"));

  EXPECT_THAT(error.message, HasSubstr("electricitymaps: forecast for DE: "
                                       "HTTP 403 Forbidden: Forbidden: zone "
                                       "DE is not in your plan"));
  EXPECT_THAT(error.message, HasSubstr("credentials were rejected"));
}

TEST(HttpStatusErrorTest, EchoedSecretsAreMasked) {
  auto error = http_status_error(
      kContext, response(401, R"({"message":"bad token tok-SECRET-123"})"),
      at("2026-01-01T00:00:00Z"));

  EXPECT_THAT(error.message, Not(HasSubstr("tok-SECRET-123")));
  EXPECT_THAT(error.message, HasSubstr("***"));
}

TEST(HttpStatusErrorTest, TooManyRequestsCarriesTheRetryHint) {
  auto limited = response(429, "");
  limited.headers["retry-after"] = "30";

  auto error = http_status_error(kContext, limited, at("2026-01-01T00:00:00Z"));

  EXPECT_EQ(Duration(30), retry_after_hint(error));
  EXPECT_FALSE(retry_after_hint(http_status_error(kContext, response(503, ""),
                                                  at("2026-01-01T00:00:00Z"))));
}

TEST(BodyExcerptTest, FlattensCutsAndRedacts) {
  std::string html = "<html>\n  <body>\n" + std::string(500, 'x') +
                     " tok-SECRET-123</body></html>";

  auto excerpt = body_excerpt(html, {"tok-SECRET-123"}, 40);
  auto short_one =
      body_excerpt("token=abcdef123 and tok-SECRET-123", {"tok-SECRET-123"});

  EXPECT_EQ("<html> <body> xxxxxxxxxxxxxxxxxxxxxxxxxx...", excerpt);
  EXPECT_THAT(short_one, Not(HasSubstr("abcdef123")));
  EXPECT_THAT(short_one, Not(HasSubstr("tok-SECRET-123")));
  EXPECT_EQ("<empty body>", body_excerpt("", {}));
}

TEST(UnreadableBodyTest, IsUnavailableWithExcerpt) {
  auto error =
      unreadable_body_error(kContext, "<h1>Bad Gateway</h1>", "parse error");

  EXPECT_EQ(ErrorCode::kUnavailable, error.code);
  EXPECT_THAT(error.message, HasSubstr("not valid JSON"));
  EXPECT_THAT(error.message, HasSubstr("<h1>Bad Gateway</h1>"));
}

TEST(SeriesHelpersTest, PointsFromStartsSortsDedupesAndUsesSmallestStep) {
  std::vector<Sample> samples = {{at("2026-01-01T02:00:00Z"), 3.0},
                                 {at("2026-01-01T00:00:00Z"), 1.0},
                                 {at("2026-01-01T01:00:00Z"), 2.0},
                                 {at("2026-01-01T00:00:00Z"), 9.0}};

  auto points = points_from_starts(samples, 60min);

  ASSERT_EQ(3u, points.size());
  EXPECT_EQ(at("2026-01-01T00:00:00Z"), points[0].start);
  EXPECT_EQ(at("2026-01-01T01:00:00Z"), points[0].end);
  EXPECT_EQ(1.0, points[0].gco2_per_kwh);
  EXPECT_EQ(at("2026-01-01T03:00:00Z"), points[2].end);
}

TEST(SeriesHelpersTest, SplitRangeCoversTheRangeInChunks) {
  auto ranges = split_range(at("2026-01-01T00:00:00Z"),
                            at("2026-01-25T00:00:00Z"), std::chrono::days(10));

  ASSERT_EQ(3u, ranges.size());
  EXPECT_EQ(at("2026-01-11T00:00:00Z"), ranges[0].second);
  EXPECT_EQ(at("2026-01-11T00:00:00Z"), ranges[1].first);
  EXPECT_EQ(at("2026-01-25T00:00:00Z"), ranges[2].second);
}

TEST(SeriesHelpersTest, DropEndedKeepsTheRunningInterval) {
  IntensitySeries series;
  series.points = {{at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 1},
                   {at("2026-01-01T01:00:00Z"), at("2026-01-01T02:00:00Z"), 2}};

  drop_ended(series, at("2026-01-01T01:00:00Z"));

  ASSERT_EQ(1u, series.points.size());
  EXPECT_EQ(2.0, series.points[0].gco2_per_kwh);
}

}  // namespace
}  // namespace lowcarb::forecast
