// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/protocol.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::api {
namespace {

using ::testing::HasSubstr;

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");

Result<Request> parse(const std::string& text, ProtocolLimits limits = {}) {
  return parse_request(text, kNow, limits);
}

// The error message of a request that must be refused as invalid.
std::string refusal(const std::string& text, ProtocolLimits limits = {}) {
  auto request = parse(text, limits);
  EXPECT_FALSE(request.has_value()) << "accepted: " << text;
  if (request) {
    return "";
  }
  EXPECT_EQ(ErrorCode::kInvalidArgument, request.error().code);
  return request.error().message;
}

const std::string kGoodSubmit =
    R"({"op":"submit","argv":["echo","hi"],"duration":3600,)"
    R"("deadline":"2026-11-24T00:00:00Z"})";

std::string submit_with(const std::string& extra) {
  return R"({"op":"submit","argv":["echo","hi"],"duration":3600,)"
         R"("deadline":"2026-11-24T00:00:00Z",)" +
         extra + "}";
}

TEST(ProtocolTest, ParsesAMinimalSubmit) {
  auto request = parse(kGoodSubmit);

  ASSERT_OK(request);
  EXPECT_EQ(Op::kSubmit, request->op);
  EXPECT_THAT(request->spec.argv, ::testing::ElementsAre("echo", "hi"));
  EXPECT_EQ(Duration(3600), request->spec.duration);
  EXPECT_EQ(kNow, request->spec.earliest);
  EXPECT_EQ(*parse_time("2026-11-24T00:00:00Z"), request->spec.deadline);
}

TEST(ProtocolTest, SubmitRoundTripsThroughRequestToJson) {
  auto original = parse(submit_with(
      R"("name":"train","zones":["DE","FR"],"interruptible":true,)"
      R"("pause_mode":"checkpoint","earliest":"2026-11-23T13:00:00Z",)"
      R"("threshold_gco2_per_kwh":120.5,"power_watts":250,)"
      R"("env":{"A":"1"},"working_dir":"/tmp","min_chunk":"30m")"));
  ASSERT_OK(original);

  auto again = parse(request_to_json(*original).dump());

  ASSERT_OK(again);
  EXPECT_EQ(original->spec.name, again->spec.name);
  EXPECT_EQ(original->spec.zones, again->spec.zones);
  EXPECT_EQ(original->spec.earliest, again->spec.earliest);
  EXPECT_EQ(original->spec.deadline, again->spec.deadline);
  EXPECT_EQ(executors::PauseMode::kCheckpoint, again->spec.pause_mode);
  EXPECT_EQ(std::optional<double>(120.5), again->spec.threshold_gco2_per_kwh);
  EXPECT_EQ(250, again->spec.power_watts);
  EXPECT_EQ("1", again->spec.env.at("A"));
  EXPECT_EQ(Duration(1800), again->spec.min_chunk);
}

TEST(ProtocolTest, AllowLateIsParsedAndRoundTrips) {
  auto plain = parse(kGoodSubmit);
  auto late = parse(submit_with(R"("allow_late":true)"));

  ASSERT_OK(plain);
  ASSERT_OK(late);
  EXPECT_FALSE(plain->spec.allow_late);
  EXPECT_TRUE(late->spec.allow_late);
  auto again = parse(request_to_json(*late).dump());
  ASSERT_OK(again);
  EXPECT_TRUE(again->spec.allow_late);
  EXPECT_THAT(refusal(submit_with(R"("allow_late":"yes")")),
              HasSubstr("'allow_late': expected true or false"));
}

TEST(ProtocolTest, AcceptsDurationTextAndRelativeDeadline) {
  auto request = parse(
      R"({"op":"submit","argv":["x"],"duration":"1h30m","deadline":"+12h"})");

  ASSERT_OK(request);
  EXPECT_EQ(Duration(5400), request->spec.duration);
  EXPECT_EQ(kNow + std::chrono::hours(12), request->spec.deadline);
}

TEST(ProtocolTest, RejectsMalformedJson) {
  EXPECT_THAT(refusal(R"({"op":"ping")"), HasSubstr("malformed JSON"));
  EXPECT_THAT(refusal("not json at all"), HasSubstr("malformed JSON"));
}

TEST(ProtocolTest, RejectsNonObjectRequests) {
  EXPECT_THAT(refusal("[1,2,3]"), HasSubstr("must be a JSON object"));
}

TEST(ProtocolTest, RejectsMissingAndUnknownOp) {
  EXPECT_THAT(refusal(R"({"id":"1"})"), HasSubstr("missing field 'op'"));
  EXPECT_THAT(refusal(R"({"op":"sumbit"})"),
              HasSubstr("unknown op 'sumbit', did you mean 'submit'"));
  EXPECT_THAT(refusal(R"({"op":7})"),
              HasSubstr("field 'op': expected a string"));
}

TEST(ProtocolTest, UnknownFieldIsAnErrorNamingTheField) {
  EXPECT_THAT(refusal(submit_with(R"("deadlin":"+1h")")),
              HasSubstr("unknown field 'deadlin'"));
  EXPECT_THAT(refusal(R"({"op":"ping","verbose":true})"),
              HasSubstr("unknown field 'verbose' in a ping request"));
}

TEST(ProtocolTest, RequestCannotChooseTheUidItRunsAs) {
  EXPECT_THAT(refusal(submit_with(R"("uid":0)")),
              HasSubstr("unknown field 'uid'"));
  EXPECT_THAT(refusal(submit_with(R"("gid":0)")),
              HasSubstr("unknown field 'gid'"));
}

TEST(ProtocolTest, RejectsRequestsLargerThanTheLimit) {
  ProtocolLimits limits;
  limits.max_request_bytes = 100;
  std::string huge = submit_with("\"name\":\"" + std::string(200, 'x') + "\"");

  EXPECT_THAT(refusal(huge, limits), HasSubstr("larger than the limit of 100"));
}

TEST(ProtocolTest, RejectsDurationsOutOfRange) {
  auto with_duration = [](const std::string& d) {
    return R"({"op":"submit","argv":["x"],"deadline":"+400d","duration":)" + d +
           "}";
  };
  EXPECT_THAT(refusal(with_duration("0")),
              HasSubstr("'duration': must be positive"));
  EXPECT_THAT(refusal(with_duration("-5")), HasSubstr("'duration'"));
  EXPECT_THAT(refusal(with_duration("\"soon\"")), HasSubstr("'duration'"));
  EXPECT_THAT(refusal(with_duration("1e30")), HasSubstr("'duration'"));
  EXPECT_THAT(refusal(with_duration("99999999999")), HasSubstr("out of range"));
  EXPECT_THAT(refusal(with_duration("18446744073709551615")),
              HasSubstr("'duration'"));
}

TEST(ProtocolTest, RejectsDeadlinesOutOfRange) {
  auto with_deadline = [](const std::string& d) {
    return R"({"op":"submit","argv":["x"],"duration":60,"deadline":)" + d + "}";
  };
  EXPECT_THAT(refusal(with_deadline("\"2026-11-23T11:00:00Z\"")),
              HasSubstr("in the past"));
  EXPECT_THAT(refusal(with_deadline("\"2030-01-01T00:00:00Z\"")),
              HasSubstr("more than"));
  EXPECT_THAT(refusal(with_deadline("\"tomorrow\"")), HasSubstr("'deadline'"));
  EXPECT_THAT(refusal(with_deadline("\"2026-11-24T00:00:00\"")),
              HasSubstr("'deadline'"));  // No offset: ambiguous.
  EXPECT_THAT(refusal(with_deadline("12345")),
              HasSubstr("field 'deadline': expected a string"));
}

TEST(ProtocolTest, RejectsDeadlineBeforeEarliest) {
  EXPECT_THAT(refusal(submit_with(R"("earliest":"2026-11-24T06:00:00Z")")),
              HasSubstr("after the deadline"));
  EXPECT_THAT(
      refusal(
          R"({"op":"submit","argv":["x"],"duration":"2h",)"
          R"("earliest":"2026-11-23T23:00:00Z","deadline":"2026-11-24T00:00:00Z"})"),
      HasSubstr("infeasible"));
}

TEST(ProtocolTest, RejectsMissingDurationDeadlineAndCommand) {
  EXPECT_THAT(refusal(R"({"op":"submit","argv":["x"],"deadline":"+1h"})"),
              HasSubstr("missing field 'duration'"));
  EXPECT_THAT(refusal(R"({"op":"submit","argv":["x"],"duration":60})"),
              HasSubstr("missing field 'deadline'"));
  EXPECT_THAT(refusal(R"({"op":"submit","duration":60,"deadline":"+1h"})"),
              HasSubstr("missing command"));
  EXPECT_THAT(
      refusal(R"({"op":"submit","argv":[],"duration":60,"deadline":"+1h"})"),
      HasSubstr("missing command"));
}

TEST(ProtocolTest, RejectsBadCommandAndEnvironmentValues) {
  EXPECT_THAT(
      refusal(
          R"({"op":"submit","argv":["a\u0000b"],"duration":60,"deadline":"+1h"})"),
      HasSubstr("'argv[0]': contains a NUL"));
  EXPECT_THAT(
      refusal(
          R"({"op":"submit","argv":["x",3],"duration":60,"deadline":"+1h"})"),
      HasSubstr("'argv[1]': expected a string"));
  EXPECT_THAT(refusal(submit_with(R"("env":{"A=B":"1"})")),
              HasSubstr("not a variable name"));
  EXPECT_THAT(refusal(submit_with(R"("env":{"A":1})")),
              HasSubstr("'env.A': expected a string"));
  EXPECT_THAT(refusal(submit_with(R"("working_dir":"relative/dir")")),
              HasSubstr("not an absolute path"));
  EXPECT_THAT(refusal(submit_with(R"("shell_command":"echo")")),
              HasSubstr("only one of"));
}

TEST(ProtocolTest, RejectsBadOptionValues) {
  EXPECT_THAT(refusal(submit_with(R"("pause_mode":"freeze")")),
              HasSubstr("'pause_mode'"));
  EXPECT_THAT(refusal(submit_with(R"("interruptible":"yes")")),
              HasSubstr("'interruptible': expected true or false"));
  EXPECT_THAT(refusal(submit_with(R"("power_watts":-1)")),
              HasSubstr("'power_watts'"));
  EXPECT_THAT(refusal(submit_with(R"("threshold_gco2_per_kwh":1e9)")),
              HasSubstr("'threshold_gco2_per_kwh'"));
  EXPECT_THAT(refusal(submit_with(R"("executor":"kubernetes")")),
              HasSubstr("'executor'"));
  EXPECT_THAT(refusal(submit_with(R"("zones":[""])")), HasSubstr("'zones'"));
  EXPECT_THAT(refusal(submit_with(R"("policy":"greenest")")),
              HasSubstr("'policy'"));
}

TEST(ProtocolTest, RejectsBadJobIdsAndListLimits) {
  EXPECT_THAT(refusal(R"({"op":"show"})"), HasSubstr("missing field 'id'"));
  EXPECT_THAT(refusal(R"({"op":"cancel","id":"../etc/passwd"})"),
              HasSubstr("not a job id"));
  EXPECT_THAT(refusal(R"({"op":"list","limit":0})"), HasSubstr("'limit'"));
  EXPECT_THAT(refusal(R"({"op":"logs","id":"1","stream":"stdin"})"),
              HasSubstr("'stream'"));
  EXPECT_THAT(refusal(R"({"op":"logs","id":"1","offset":-1})"),
              HasSubstr("'offset'"));
}

TEST(ProtocolTest, AcceptsNumericJobIds) {
  auto request = parse(R"({"op":"pause","id":42})");

  ASSERT_OK(request);
  EXPECT_EQ(Op::kPause, request->op);
  EXPECT_EQ("42", request->id);
}

TEST(ProtocolTest, ErrorResponsesCarryCodeAndMessage) {
  std::string line = error_response(Error{ErrorCode::kNotFound, "no job 7"});

  auto parsed = parse_response(line);

  EXPECT_EQ(R"({"error":{"code":"not_found","message":"no job 7"}})", line);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(ErrorCode::kNotFound, parsed.error().code);
  EXPECT_EQ("no job 7", parsed.error().message);
}

TEST(ProtocolTest, ResultResponsesRoundTrip) {
  auto parsed = parse_response(result_response({{"pong", true}}));

  ASSERT_OK(parsed);
  EXPECT_TRUE((*parsed)["pong"].get<bool>());
}

TEST(ProtocolTest, ResponsesWithInvalidUtf8AreStillValidJson) {
  std::string line = result_response({{"data", std::string("a\xff\xfe"
                                                           "b")}});

  EXPECT_OK(parse_response(line));
}

TEST(ProtocolTest, MalformedResponseIsAnInternalError) {
  auto parsed = parse_response("{\"neither\":1}");

  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(ErrorCode::kInternal, parsed.error().code);
}

}  // namespace
}  // namespace lowcarb::scheduler::api
