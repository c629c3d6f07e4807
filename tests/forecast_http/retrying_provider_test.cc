// SPDX-License-Identifier: Apache-2.0
#include "forecast/retrying_provider.h"

#include <deque>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "forecast/http_errors.h"

namespace lowcarb::forecast {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

TimePoint at(const char* text) { return *parse_time(text); }

// Answers from a queue of results; counts calls.
class ScriptedProvider final : public ForecastProvider {
 public:
  explicit ScriptedProvider(std::deque<Result<IntensitySeries>> script)
      : script_(std::move(script)) {}
  std::string name() const override { return "scripted"; }
  Result<IntensitySeries> forecast(const std::string&, TimePoint,
                                   Duration) override {
    return next();
  }
  Result<IntensitySeries> history(const std::string&, TimePoint,
                                  TimePoint) override {
    return next();
  }
  int calls = 0;

 private:
  Result<IntensitySeries> next() {
    ++calls;
    auto result = script_.front();
    if (script_.size() > 1) {
      script_.pop_front();
    }
    return result;
  }
  std::deque<Result<IntensitySeries>> script_;
};

IntensitySeries a_series() {
  IntensitySeries series;
  series.zone = "DE";
  series.points = {{at("2026-01-01T00:00:00Z"), at("2026-01-01T01:00:00Z"), 1}};
  return series;
}

Result<IntensitySeries> failure(ErrorCode code, std::string message = "boom") {
  return make_error(code, std::move(message));
}

class RetryingProviderTest : public ::testing::Test {
 protected:
  RetryingProvider make(std::deque<Result<IntensitySeries>> script,
                        int retries = 3) {
    auto inner = std::make_unique<ScriptedProvider>(std::move(script));
    inner_ = inner.get();
    RetryPolicy policy;
    policy.retries = retries;
    policy.base_delay = 1000ms;
    policy.max_delay = 3000ms;
    policy.max_retry_after = 60000ms;
    return RetryingProvider(
        std::move(inner), policy,
        [this](std::chrono::milliseconds d) { sleeps_.push_back(d); },
        [] { return 1.0; });
  }

  ScriptedProvider* inner_ = nullptr;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(RetryingProviderTest, RetriesUnavailableAndTimeoutWithGrowingBackoff) {
  auto provider =
      make({failure(ErrorCode::kUnavailable), failure(ErrorCode::kTimeout),
            failure(ErrorCode::kUnavailable), a_series()});

  auto series = provider.forecast("DE", at("2026-01-01T00:00:00Z"), 24h);

  ASSERT_TRUE(series) << series.error().message;
  EXPECT_EQ(4, inner_->calls);
  // Jitter 1.0 = the full ceiling: 1 s, 2 s, then capped at 3 s.
  EXPECT_THAT(sleeps_, ElementsAre(1000ms, 2000ms, 3000ms));
}

TEST_F(RetryingProviderTest, GivesUpAfterTheConfiguredRetries) {
  auto provider = make({failure(ErrorCode::kUnavailable, "HTTP 503")}, 2);

  auto series = provider.history("DE", at("2026-01-01T00:00:00Z"),
                                 at("2026-01-02T00:00:00Z"));

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("gave up after 3 attempts"));
  EXPECT_THAT(series.error().message, HasSubstr("HTTP 503"));
  EXPECT_EQ(3, inner_->calls);
  EXPECT_EQ(2u, sleeps_.size());
}

TEST_F(RetryingProviderTest, NeverRetriesPermissionOrBadInputOrNotFound) {
  for (auto code : {ErrorCode::kPermissionDenied, ErrorCode::kInvalidArgument,
                    ErrorCode::kNotFound}) {
    sleeps_.clear();
    auto provider = make({failure(code)});

    auto series = provider.forecast("DE", at("2026-01-01T00:00:00Z"), 24h);

    ASSERT_FALSE(series);
    EXPECT_EQ(code, series.error().code);
    EXPECT_EQ(1, inner_->calls);
    EXPECT_TRUE(sleeps_.empty());
  }
}

TEST_F(RetryingProviderTest, HonoursRetryAfterButFailsOverOnALongOne) {
  HttpResponse limited;
  limited.status = 429;
  limited.headers["retry-after"] = "7";
  HttpResponse greedy = limited;
  greedy.headers["retry-after"] = "3600";
  RequestContext context{"p", "forecast", {}};
  auto provider = make({make_error(http_status_error(
                            context, limited, at("2026-01-01T00:00:00Z"))),
                        make_error(http_status_error(
                            context, greedy, at("2026-01-01T00:00:00Z"))),
                        a_series()});

  auto series = provider.forecast("DE", at("2026-01-01T00:00:00Z"), 24h);

  // 7 s is waited for; an hour is not: the call fails so the chain can
  // fall back, and the third answer is never asked for.
  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kUnavailable, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("retry after 3600000 ms"));
  EXPECT_THAT(sleeps_, ElementsAre(7000ms));
  EXPECT_EQ(2, inner_->calls);
}

TEST(RetryingProviderDeadlineTest, BoundsTheWholeCallNotEachRetry) {
  // Every attempt takes 4 s of the steady clock and fails; the backoff is
  // 1 s. With a 10 s deadline the third wait would end past it.
  auto steady = std::make_shared<std::chrono::steady_clock::time_point>();
  class Slow final : public ForecastProvider {
   public:
    explicit Slow(std::shared_ptr<std::chrono::steady_clock::time_point> t)
        : t_(std::move(t)) {}
    std::string name() const override { return "slow"; }
    Result<IntensitySeries> forecast(const std::string&, TimePoint,
                                     Duration) override {
      ++calls;
      *t_ += 4s;
      return make_error(ErrorCode::kTimeout, "request timed out");
    }
    Result<IntensitySeries> history(const std::string&, TimePoint,
                                    TimePoint) override {
      return make_error(ErrorCode::kNotFound, "none");
    }
    int calls = 0;

   private:
    std::shared_ptr<std::chrono::steady_clock::time_point> t_;
  };
  auto inner = std::make_unique<Slow>(steady);
  auto* slow = inner.get();
  RetryPolicy policy;
  policy.retries = 100;
  policy.base_delay = 1000ms;
  policy.max_delay = 1000ms;
  policy.deadline = 10000ms;
  std::vector<std::chrono::milliseconds> sleeps;
  RetryingProvider provider(
      std::move(inner), policy,
      [&](std::chrono::milliseconds d) {
        sleeps.push_back(d);
        *steady += d;
      },
      [] { return 1.0; }, [steady] { return *steady; });

  auto series = provider.forecast("DE", at("2026-01-01T00:00:00Z"), 24h);

  ASSERT_FALSE(series);
  EXPECT_EQ(ErrorCode::kTimeout, series.error().code);
  EXPECT_THAT(series.error().message, HasSubstr("deadline 10000 ms"));
  // 4 s, wait 1 s, 4 s (9 s spent), then a 1 s wait would reach 10 s.
  EXPECT_EQ(2, slow->calls);
  EXPECT_THAT(sleeps, ElementsAre(1000ms));
}

TEST(BackoffDelayTest, JitterSpreadsWithinTheUpperHalf) {
  RetryPolicy policy;
  policy.base_delay = 1000ms;
  policy.max_delay = 30000ms;

  EXPECT_EQ(500ms, backoff_delay(policy, 0, 0.0));
  EXPECT_EQ(750ms, backoff_delay(policy, 0, 0.5));
  EXPECT_EQ(4000ms, backoff_delay(policy, 3, 0.0));
  EXPECT_EQ(30000ms, backoff_delay(policy, 20, 1.0));
}

TEST(RandomJitterTest, StaysInTheUnitInterval) {
  auto jitter = random_jitter();
  for (int i = 0; i < 1000; ++i) {
    double value = jitter();
    ASSERT_GE(value, 0.0);
    ASSERT_LT(value, 1.0);
  }
}

}  // namespace
}  // namespace lowcarb::forecast
