// SPDX-License-Identifier: Apache-2.0
#include "forecast/background_forecasts.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/log_capture.h"
#include "tests/fakes/test_support.h"
#include "tests/forecast/scripted_provider.h"

namespace lowcarb::forecast {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::ScriptedProvider;

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");

// A remote provider that answers only when the test opens its gate: it
// stands for a provider that hangs. Records the horizons asked.
class GatedProvider final : public ForecastProvider {
 public:
  std::string name() const override { return "gated"; }
  Result<IntensitySeries> forecast(const std::string& zone, TimePoint now,
                                   Duration horizon) override {
    std::unique_lock lock(mutex_);
    horizons_.push_back(horizon);
    ++calls_;
    asked_.notify_all();
    opened_.wait(lock, [this] { return open_ > 0; });
    --open_;
    if (fail_) {
      return make_error(ErrorCode::kTimeout, "gated: timed out");
    }
    return ScriptedProvider("gated", value_).forecast(zone, now, horizon);
  }
  Result<IntensitySeries> history(const std::string&, TimePoint,
                                  TimePoint) override {
    return make_error(ErrorCode::kNotFound, "none");
  }
  // Lets `n` more calls answer.
  void open(int n = 1) {
    std::lock_guard lock(mutex_);
    open_ += n;
    opened_.notify_all();
  }
  void set_value(double v) {
    std::lock_guard lock(mutex_);
    value_ = v;
  }
  void set_fail(bool fail) {
    std::lock_guard lock(mutex_);
    fail_ = fail;
  }
  // Waits until `n` calls have started.
  bool wait_calls(int n) {
    std::unique_lock lock(mutex_);
    return asked_.wait_for(lock, 10s, [&] { return calls_ >= n; });
  }
  std::vector<Duration> horizons() {
    std::lock_guard lock(mutex_);
    return horizons_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  std::condition_variable asked_;
  int open_ = 0;
  int calls_ = 0;
  double value_ = 300;
  bool fail_ = false;
  std::vector<Duration> horizons_;
};

class BackgroundForecastsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BackgroundOptions options;
    options.refresh = minutes(15);
    options.max_age = hours(6);
    options.retry_after_failure = minutes(1);
    background_ =
        std::make_unique<BackgroundForecasts>(remote_, local_, options);
    background_->set_on_update([this] { ++updates_; });
  }
  void TearDown() override {
    background_.reset();
    remote_->open(100);  // Let a worker still waiting finish and exit.
  }

  std::shared_ptr<GatedProvider> remote_ = std::make_shared<GatedProvider>();
  ScriptedProvider local_{"profile", 150};
  std::unique_ptr<BackgroundForecasts> background_;
  std::atomic<int> updates_{0};
};

TEST_F(BackgroundForecastsTest, AnswersFromTheLocalChainWhileTheRemoteHangs) {
  auto first = background_->forecast("DE", kNow, hours(24));

  // The remote was asked and has not answered; the caller did not wait.
  ASSERT_TRUE(remote_->wait_calls(1));
  ASSERT_OK(first);
  EXPECT_EQ("profile", first->provider);
  EXPECT_EQ(150, first->points[0].gco2_per_kwh);
  // Asking again does not queue a second fetch of the same zone.
  ASSERT_OK(background_->forecast("DE", kNow + 1min, hours(24)));
  EXPECT_EQ(1u, remote_->horizons().size());
  EXPECT_EQ(0, updates_.load());

  remote_->open();
  ASSERT_TRUE(background_->wait_idle(10s));

  EXPECT_EQ(1, updates_.load());
  auto later = background_->forecast("DE", kNow + 2min, hours(24));
  ASSERT_OK(later);
  EXPECT_EQ("gated", later->provider);
  EXPECT_EQ(300, later->points[0].gco2_per_kwh);
  EXPECT_EQ(1u, remote_->horizons().size());  // Fresh: not asked again.
}

TEST_F(BackgroundForecastsTest, ServesTheLastGoodForecastWhileARefreshRuns) {
  remote_->open();
  ASSERT_OK(background_->forecast("DE", kNow, hours(24)));
  ASSERT_TRUE(background_->wait_idle(10s));
  remote_->set_value(999);

  // Past the refresh period: a refresh is queued (and hangs), the last good
  // forecast is served meanwhile.
  auto during = background_->forecast("DE", kNow + minutes(20), hours(24));

  ASSERT_TRUE(remote_->wait_calls(2));
  ASSERT_OK(during);
  EXPECT_EQ("gated", during->provider);
  EXPECT_EQ(300, during->points[0].gco2_per_kwh);
  // Cut to what is still ahead.
  EXPECT_LE(during->points.front().start, kNow + minutes(20));
  EXPECT_GT(during->points.front().end, kNow + minutes(20));
}

// The tracker meters a job's run-now counterfactual over times around its
// submission: the forecast then in force must still answer for them after
// newer refreshes, which begin later.
TEST_F(BackgroundForecastsTest, EarlierTimesAreAnsweredByTheEarlierForecast) {
  remote_->open();
  ASSERT_OK(background_->forecast("DE", kNow, hours(24)));
  ASSERT_TRUE(background_->wait_idle(10s));
  remote_->set_value(999);
  remote_->open();
  ASSERT_OK(background_->forecast("DE", kNow + hours(2), hours(24)));
  ASSERT_TRUE(background_->wait_idle(10s));

  auto latest = background_->forecast("DE", kNow + hours(2), hours(1));
  auto earlier = background_->forecast("DE", kNow + minutes(30), hours(1));

  ASSERT_OK(latest);
  EXPECT_EQ(999, latest->points.front().gco2_per_kwh);
  ASSERT_OK(earlier);
  ASSERT_FALSE(earlier->points.empty());
  EXPECT_LE(earlier->points.front().start, kNow + minutes(30));
  EXPECT_EQ(300, earlier->points.front().gco2_per_kwh);
  EXPECT_EQ("gated", earlier->provider);
}

TEST_F(BackgroundForecastsTest,
       AForecastOlderThanTheMaximumAgeIsReplacedAndLogged) {
  remote_->open();
  ASSERT_OK(background_->forecast("DE", kNow, hours(48)));
  ASSERT_TRUE(background_->wait_idle(10s));
  lowcarb::testing::LogCapture log("forecast");

  // Seven hours on the refresh hangs: the six-hour-old forecast is not
  // planned on; the local chain is, with a warning naming the zone.
  auto old = background_->forecast("DE", kNow + hours(7), hours(24));
  (void)background_->forecast("DE", kNow + hours(7) + 1min, hours(24));

  ASSERT_OK(old);
  EXPECT_EQ("profile", old->provider);
  EXPECT_EQ(1u, log.count("forecast for DE: the last good forecast"));
}

TEST_F(BackgroundForecastsTest, ALongerHorizonIsFetchedAndAFailureBacksOff) {
  remote_->open();
  ASSERT_OK(background_->forecast("DE", kNow, hours(6)));
  ASSERT_TRUE(background_->wait_idle(10s));

  // 72 h after 6 h: the 6-hour answer does not cover it.
  remote_->set_fail(true);
  remote_->open();
  auto longer = background_->forecast("DE", kNow + 1min, hours(72));
  ASSERT_TRUE(background_->wait_idle(10s));
  // The refresh failed: not retried within a minute, then retried.
  (void)background_->forecast("DE", kNow + 90s, hours(72));
  EXPECT_EQ(2u, remote_->horizons().size());
  (void)background_->forecast("DE", kNow + 3min, hours(72));

  ASSERT_TRUE(remote_->wait_calls(3));
  EXPECT_EQ(hours(6), remote_->horizons()[0]);
  EXPECT_EQ(hours(72), remote_->horizons()[1]);
  EXPECT_EQ(hours(72), remote_->horizons()[2]);
  ASSERT_OK(longer);  // Meanwhile: the 6 h it has.
  EXPECT_EQ("gated", longer->provider);
}

}  // namespace
}  // namespace lowcarb::forecast
