// SPDX-License-Identifier: Apache-2.0
#include "scheduler/api/api_service.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "tests/daemon/daemon_fakes.h"
#include "tests/fakes/log_capture.h"
#include "tests/fakes/test_support.h"

namespace lowcarb::scheduler::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const TimePoint kNow = *parse_time("2026-11-23T12:00:00Z");
const Peer kAlice{1000, 1000, "alice"};
const Peer kBob{1001, 1001, "bob"};
const Peer kRoot{0, 0, "root"};

class ApiServiceTest : public ::testing::Test {
 protected:
  ApiServiceTest()
      : service_(
            *rig_.scheduler, rig_.store,
            [this](const std::string& id, LogStream stream) {
              return dir_.file(
                  id + (stream == LogStream::kStderr ? ".err" : ".out"));
            },
            ApiServiceOptions{ProtocolLimits{}, 0, kNow}) {}

  // Sends `request` as `peer`; returns the parsed response.
  Result<json> call(const Peer& peer, const json& request) {
    return parse_response(service_.handle(request.dump(), peer, kNow));
  }

  std::string submit(const Peer& peer, const std::string& name = "job") {
    auto job = call(peer, {{"op", "submit"},
                           {"name", name},
                           {"argv", {"sleep", "1"}},
                           {"duration", 3600},
                           {"deadline", "+12h"}});
    EXPECT_TRUE(job.has_value()) << job.error().message;
    return job ? (*job)["id"].get<std::string>() : "";
  }

  testing::ScopedTempDir dir_;
  testing::SchedulerRig rig_;
  ApiService service_;
};

TEST_F(ApiServiceTest, SubmittedJobRunsAsThePeersUidAndGid) {
  std::string id = submit(kAlice);

  auto stored = rig_.store.get(id);

  ASSERT_OK(stored);
  EXPECT_EQ(1000u, stored->spec.uid);
  EXPECT_EQ(1000u, stored->spec.gid);
  EXPECT_EQ("alice", stored->spec.user);
}

TEST_F(ApiServiceTest, SubmitAnswersWithThePlan) {
  auto job = call(kAlice, {{"op", "submit"},
                           {"argv", {"true"}},
                           {"duration", 3600},
                           {"zones", {"DE"}},
                           {"deadline", "+12h"}});

  ASSERT_OK(job);
  EXPECT_EQ("queued", (*job)["state"]);
  EXPECT_EQ("DE", (*job)["zone"]);
  // The profile is dirty for three hours, so the plan waits for hour 3.
  EXPECT_EQ("2026-11-23T15:00:00Z", (*job)["planned_start"]);
  EXPECT_GT((*job)["plan"]["savings_percent"].get<double>(), 0);
}

TEST_F(ApiServiceTest, UnknownZoneIsAnErrorNamingTheZone) {
  auto job = call(kAlice, {{"op", "submit"},
                           {"argv", {"true"}},
                           {"duration", 60},
                           {"zones", {"XX"}},
                           {"deadline", "+1h"}});

  ASSERT_FALSE(job.has_value());
  EXPECT_EQ(ErrorCode::kInvalidArgument, job.error().code);
  EXPECT_THAT(job.error().message, HasSubstr("unknown zone 'XX'"));
}

TEST_F(ApiServiceTest, ARetriedSubmitWithTheSameRequestIdReturnsTheSameJob) {
  const json request{{"op", "submit"},
                     {"argv", {"true"}},
                     {"duration", 3600},
                     {"deadline", "+12h"},
                     {"request_id", "cli-abc"}};
  auto first = call(kAlice, request);
  auto retry = call(kAlice, request);
  // Request ids are per user: Bob's "cli-abc" is another submission.
  auto bobs = call(kBob, request);

  ASSERT_OK(first);
  ASSERT_OK(retry);
  ASSERT_OK(bobs);
  EXPECT_EQ((*first)["id"], (*retry)["id"]);
  EXPECT_TRUE((*retry).value("duplicate", false));
  EXPECT_FALSE((*first).value("duplicate", false));
  EXPECT_NE((*first)["id"], (*bobs)["id"]);
  EXPECT_EQ(2u, rig_.scheduler->active_jobs().size());
  auto stored = rig_.store.find_by_request(1000, "cli-abc");
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*first)["id"], (*stored)->id);
}

TEST_F(ApiServiceTest, ABadRequestIdIsRefusedNamingTheField) {
  auto bad = call(kAlice, {{"op", "submit"},
                           {"argv", {"true"}},
                           {"duration", 3600},
                           {"deadline", "+12h"},
                           {"request_id", "no spaces/slashes"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(ErrorCode::kInvalidArgument, bad.error().code);
  EXPECT_NE(std::string::npos, bad.error().message.find("request_id"));
  EXPECT_TRUE(rig_.scheduler->active_jobs().empty());
}

// A bearer token sent back inside a request (here as a job id and as an
// op) is masked in the error the service answers and in its log lines.
TEST_F(ApiServiceTest, ErrorsAndLogLinesNeverQuoteAConfiguredSecret) {
  const std::string token = "tok-9f8e7d6c5b4a39281706";
  service_.set_secrets({token});
  testing::LogCapture log("api", spdlog::level::debug);

  const std::string missing =
      service_.handle(json{{"op", "show"}, {"id", token}}.dump(), kAlice, kNow);
  const std::string refused =
      service_.handle(json{{"op", token}}.dump(), kAlice, kNow);

  EXPECT_THAT(missing, HasSubstr("error"));
  EXPECT_THAT(refused, HasSubstr("error"));
  EXPECT_THAT(missing + refused, Not(HasSubstr(token)));
  EXPECT_THAT(log.text(), HasSubstr("failed"));
  EXPECT_THAT(log.text(), HasSubstr("rejected"));
  EXPECT_THAT(log.text(), Not(HasSubstr(token)));
}

TEST_F(ApiServiceTest, ListReturnsTheNewestLimitJobs) {
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    ids.push_back(submit(kAlice, fmt::format("j{}", i)));
  }
  auto listed = call(kAlice, {{"op", "list"}, {"limit", 3}});
  ASSERT_OK(listed);
  ASSERT_EQ(3u, (*listed)["jobs"].size());
  EXPECT_EQ(ids[11], (*listed)["jobs"][0]["id"]);  // "12" sorts after "9".
  EXPECT_EQ(ids[10], (*listed)["jobs"][1]["id"]);
  EXPECT_EQ(ids[9], (*listed)["jobs"][2]["id"]);
}

TEST_F(ApiServiceTest, UsersListOnlyTheirOwnJobs) {
  std::string alices = submit(kAlice, "a");
  std::string bobs = submit(kBob, "b");

  auto listed = call(kBob, {{"op", "list"}});

  ASSERT_OK(listed);
  ASSERT_EQ(1u, (*listed)["jobs"].size());
  EXPECT_EQ(bobs, (*listed)["jobs"][0]["id"]);
}

TEST_F(ApiServiceTest, RootListsEveryonesJobs) {
  submit(kAlice, "a");
  submit(kBob, "b");

  auto listed = call(kRoot, {{"op", "list"}});
  auto all = call(kRoot, {{"op", "list"}, {"all", true}});

  ASSERT_OK(listed);
  EXPECT_EQ(2u, (*listed)["jobs"].size());
  ASSERT_OK(all);
  EXPECT_EQ(2u, (*all)["jobs"].size());
}

TEST_F(ApiServiceTest, OthersJobsLookMissing) {
  std::string id = submit(kAlice);

  auto shown = call(kBob, {{"op", "show"}, {"id", id}});
  auto logs = call(kBob, {{"op", "logs"}, {"id", id}});
  auto missing = call(kBob, {{"op", "show"}, {"id", "999"}});

  ASSERT_FALSE(shown.has_value());
  EXPECT_EQ(ErrorCode::kNotFound, shown.error().code);
  ASSERT_FALSE(logs.has_value());
  EXPECT_EQ(ErrorCode::kNotFound, logs.error().code);
  // Same answer as for a job that does not exist: ids are not leaked.
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(shown.error().message, "no job " + id);
  EXPECT_EQ(missing.error().message, "no job 999");
}

TEST_F(ApiServiceTest, UsersCannotCancelPauseOrResumeOthersJobs) {
  std::string id = submit(kAlice);

  for (const char* op : {"cancel", "pause", "resume"}) {
    auto answer = call(kBob, {{"op", op}, {"id", id}});
    ASSERT_FALSE(answer.has_value()) << op;
    EXPECT_EQ(ErrorCode::kNotFound, answer.error().code) << op;
  }

  EXPECT_EQ(JobState::kQueued, rig_.scheduler->active_jobs().at(id).state);
  EXPECT_FALSE(rig_.scheduler->active_jobs().at(id).held);
}

TEST_F(ApiServiceTest, OwnerCanHoldAndReleaseAQueuedJob) {
  std::string id = submit(kAlice);

  auto paused = call(kAlice, {{"op", "pause"}, {"id", id}});
  auto again = call(kAlice, {{"op", "pause"}, {"id", id}});
  auto resumed = call(kAlice, {{"op", "resume"}, {"id", id}});

  ASSERT_OK(paused);
  EXPECT_TRUE((*paused)["held"].get<bool>());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(ErrorCode::kConflict, again.error().code);
  ASSERT_OK(resumed);
  EXPECT_FALSE((*resumed)["held"].get<bool>());
}

TEST_F(ApiServiceTest, RootCanCancelAnyonesJob) {
  std::string id = submit(kAlice);

  auto cancelled = call(kRoot, {{"op", "cancel"}, {"id", id}});
  auto twice = call(kAlice, {{"op", "cancel"}, {"id", id}});

  ASSERT_OK(cancelled);
  EXPECT_EQ("cancelled", (*cancelled)["state"]);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(ErrorCode::kConflict, twice.error().code);
}

TEST_F(ApiServiceTest, ShowIncludesHistoryAndLogPaths) {
  std::string id = submit(kAlice);

  auto shown = call(kAlice, {{"op", "show"}, {"id", id}});

  ASSERT_OK(shown);
  EXPECT_GE((*shown)["history"].size(), 1u);
  EXPECT_EQ(dir_.file(id + ".out"), (*shown)["logs"]["stdout"]);
  EXPECT_FALSE(shown->contains("env"));  // The environment stays private.
}

TEST_F(ApiServiceTest, LogsAreReadFromTheGivenOffset) {
  std::string id = submit(kAlice);
  testing::write_file(dir_.file(id + ".out"), "hello world\n");

  auto first = call(kAlice, {{"op", "logs"}, {"id", id}, {"max_bytes", 5}});
  auto rest = call(kAlice, {{"op", "logs"}, {"id", id}, {"offset", 5}});

  ASSERT_OK(first);
  EXPECT_EQ("hello", (*first)["data"]);
  EXPECT_EQ(5, (*first)["next_offset"]);
  ASSERT_OK(rest);
  EXPECT_EQ(" world\n", (*rest)["data"]);
  EXPECT_FALSE((*rest)["finished"].get<bool>());
}

TEST_F(ApiServiceTest, ReportSumsOnlyThePeersLedger) {
  std::string alices = submit(kAlice);
  std::string bobs = submit(kBob);
  LedgerRecord record;
  record.start = kNow;
  record.end = kNow + std::chrono::hours(1);
  record.other_joules = 3.6e6;
  record.job_id = alices;
  record.grams = 100;
  record.counterfactual_grams = 300;
  ASSERT_OK(rig_.store.append_ledger(record));
  record.job_id = bobs;
  record.grams = 5000;
  record.counterfactual_grams = 5000;
  ASSERT_OK(rig_.store.append_ledger(record));

  auto alice = call(kAlice, {{"op", "report"}});
  auto root = call(kRoot, {{"op", "report"}});

  ASSERT_OK(alice);
  EXPECT_EQ(1u, (*alice)["job_count"].get<size_t>());
  EXPECT_DOUBLE_EQ(0.1, (*alice)["realized_kg"].get<double>());
  EXPECT_DOUBLE_EQ(0.2, (*alice)["saved_kg"].get<double>());
  EXPECT_DOUBLE_EQ(1.0, (*alice)["kwh"].get<double>());
  ASSERT_OK(root);
  EXPECT_EQ(2u, (*root)["job_count"].get<size_t>());
  EXPECT_DOUBLE_EQ(5.1, (*root)["realized_kg"].get<double>());
}

TEST_F(ApiServiceTest, NonRootDaemonRefusesOtherUsersSubmissions) {
  ApiService own(
      *rig_.scheduler, rig_.store,
      [](const std::string&, LogStream) { return std::string(); },
      ApiServiceOptions{ProtocolLimits{}, 1000, kNow});

  auto answer = parse_response(own.handle(
      R"({"op":"submit","argv":["x"],"duration":60,"deadline":"+1h"})", kBob,
      kNow));

  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(ErrorCode::kPermissionDenied, answer.error().code);
  EXPECT_TRUE(rig_.scheduler->active_jobs().empty());
}

TEST_F(ApiServiceTest, BadRequestsGetErrorsAndLaterRequestsStillWork) {
  auto bad = parse_response(service_.handle("{\"op\":", kAlice, kNow));
  auto good = call(kAlice, {{"op", "ping"}});

  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(ErrorCode::kInvalidArgument, bad.error().code);
  ASSERT_OK(good);
  EXPECT_TRUE((*good)["pong"].get<bool>());
  EXPECT_EQ(1000u, (*good)["uid"].get<unsigned>());
}

TEST_F(ApiServiceTest, MetricsCountRequestsAndJobs) {
  submit(kAlice);
  service_.handle("garbage", kAlice, kNow);

  auto metrics = call(kAlice, {{"op", "metrics"}});

  ASSERT_OK(metrics);
  std::string text = (*metrics)["text"];
  EXPECT_THAT(text, HasSubstr("lowcarb_jobs{state=\"queued\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_api_requests_total{op=\"submit\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_api_request_errors_total 1\n"));
  EXPECT_THAT(text, HasSubstr("lowcarb_forecast_age_seconds{zone=\"DE\"} 0\n"));
}

TEST_F(ApiServiceTest, NonRootMetricsShowOnlyThePeersOwnFigures) {
  submit(kAlice);
  submit(kAlice);
  submit(kBob);
  service_.handle("garbage", kAlice, kNow);

  auto bob = call(kBob, {{"op", "metrics"}});
  auto root = call(kRoot, {{"op", "metrics"}});

  ASSERT_OK(bob);
  ASSERT_OK(root);
  const std::string bobs = (*bob)["text"];
  const std::string roots = (*root)["text"];
  EXPECT_THAT(bobs, HasSubstr("lowcarb_jobs{state=\"queued\"} 1\n"));
  EXPECT_THAT(bobs, HasSubstr("lowcarb_api_requests_total{op=\"submit\"} 1\n"));
  EXPECT_THAT(bobs, HasSubstr("lowcarb_api_request_errors_total 0\n"));
  EXPECT_THAT(roots, HasSubstr("lowcarb_jobs{state=\"queued\"} 3\n"));
  EXPECT_THAT(roots,
              HasSubstr("lowcarb_api_requests_total{op=\"submit\"} 3\n"));
  EXPECT_THAT(roots, HasSubstr("lowcarb_api_request_errors_total 1\n"));
}

TEST_F(ApiServiceTest, DeeplyNestedJsonIsRefusedUnparsed) {
  const std::string deep =
      "{\"op\":\"ping\",\"x\":" + std::string(100000, '[') +
      std::string(100000, ']') + "}";
  auto refused = parse_response(service_.handle(deep, kAlice, kNow));
  auto good = call(kAlice, {{"op", "ping"}});

  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(ErrorCode::kInvalidArgument, refused.error().code);
  EXPECT_THAT(refused.error().message, HasSubstr("deeper than 64 levels"));
  EXPECT_OK(good);
}

TEST(ReadLogChunkTest, MissingFileReadsAsEmpty) {
  testing::ScopedTempDir dir;

  auto chunk = read_log_chunk(dir.file("none.out"), 0, 100);

  ASSERT_OK(chunk);
  EXPECT_EQ("", chunk->data);
  EXPECT_EQ(0, chunk->size);
}

TEST(ReadLogChunkTest, RefusesToFollowASymlink) {
  testing::ScopedTempDir dir;
  testing::write_file(dir.file("secret"), "secret");
  std::filesystem::create_symlink(dir.file("secret"), dir.file("job.out"));

  auto chunk = read_log_chunk(dir.file("job.out"), 0, 100);

  EXPECT_FALSE(chunk.has_value());
}

}  // namespace
}  // namespace lowcarb::scheduler::api
