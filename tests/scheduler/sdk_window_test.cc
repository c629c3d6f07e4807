// SPDX-License-Identifier: Apache-2.0
// The Carbon Aware SDK conformance table: every case in
// ../shared/data/sdk-conformance/optimal_window_vectors.json.
#include "scheduler/sdk_window.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::sdk {
namespace {

using namespace std::chrono_literals;

std::optional<TimePoint> optional_time(const nlohmann::json& value) {
  if (value.is_null()) {
    return std::nullopt;
  }
  return *parse_time(value.get<std::string>());
}

std::vector<EmissionsData> points(const nlohmann::json& list) {
  std::vector<EmissionsData> out;
  for (const auto& item : list) {
    out.push_back({*parse_time(item.at("timestamp").get<std::string>()),
                   std::chrono::minutes{item.at("duration").get<int>()},
                   item.at("value").get<double>()});
  }
  return out;
}

void expect_same(const nlohmann::json& want,
                 const std::vector<EmissionsData>& got,
                 const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const auto& w = want[i];
    EXPECT_EQ(w.at("timestamp").get<std::string>(), format_utc(got[i].time))
        << what << " [" << i << "]";
    EXPECT_EQ(w.at("duration").get<int>(),
              std::chrono::duration_cast<std::chrono::minutes>(got[i].duration)
                  .count())
        << what << " [" << i << "]";
    // Bit-exact: clients compare our numbers with the SDK's.
    EXPECT_EQ(w.at("value").get<double>(), got[i].rating)
        << what << " [" << i << "] want " << w.at("value_repr");
  }
}

TEST(SdkWindowTest, PassesEveryConformanceVector) {
  LOWCARB_REQUIRE_SHARED_DATA();
  const auto doc = nlohmann::json::parse(testing::read_file(
      testing::shared_data("sdk-conformance/optimal_window_vectors.json")));
  const auto& cases = doc.at("cases");
  ASSERT_EQ(23u, cases.size());

  int checked = 0;
  for (const auto& c : cases) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const auto& input = c.at("input");
    ForecastQuery query;
    query.forecast = points(input.at("forecast"));
    query.data_start_at =
        optional_time(input.value("dataStartAt", nlohmann::json()));
    query.data_end_at =
        optional_time(input.value("dataEndAt", nlohmann::json()));
    const auto window = input.value("windowSize", nlohmann::json());
    if (!window.is_null()) {
      query.window_size = std::chrono::minutes{window.get<int>()};
    }

    auto answer = process_forecast(query);

    const auto& expected = c.at("expected");
    if (expected.contains("error")) {
      ASSERT_FALSE(answer) << name;
      EXPECT_EQ(ErrorCode::kInvalidArgument, answer.error().code);
      for (const auto& message : expected.at("messages")) {
        EXPECT_THAT(answer.error().message,
                    ::testing::HasSubstr(message.get<std::string>()));
      }
    } else {
      ASSERT_TRUE(answer) << name << ": " << answer.error().message;
      expect_same(expected.at("forecastData"), answer->forecast_data,
                  name + " forecastData");
      expect_same(expected.at("optimalDataPoints"), answer->optimal_data_points,
                  name + " optimalDataPoints");
    }
    ++checked;
  }
  EXPECT_EQ(23, checked);
}

TEST(SdkWindowTest, WindowSizeIsTheFirstWindowsDuration) {
  const TimePoint t0 = *parse_time("2022-01-01T00:00:00Z");
  ForecastQuery query;
  query.forecast = {
      {t0, 5min, 10}, {t0 + 5min, 5min, 20}, {t0 + 10min, 5min, 30}};
  query.window_size = 10min;

  auto answer = process_forecast(query);

  ASSERT_OK(answer);
  EXPECT_EQ(10min, answer->window_size);
  EXPECT_EQ(t0, answer->data_start_at);
  EXPECT_EQ(t0 + 15min, answer->data_end_at);
}

TEST(SdkWindowTest, RejectsAnEmptyForecast) {
  auto answer = process_forecast({});

  ASSERT_FALSE(answer);
  EXPECT_EQ(ErrorCode::kInvalidArgument, answer.error().code);
}

}  // namespace
}  // namespace lowcarb::scheduler::sdk
