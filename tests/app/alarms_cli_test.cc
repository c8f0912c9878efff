// machine-health alarms list|ack in-process (app::RunMain): listing with
// filters as text and JSON, acknowledging (first ack kept), and the exit
// codes: 1 for a missing database or an unknown alarm, 2 for usage errors.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/builtin_plugins.h"
#include "app/command.h"
#include "core/uri.h"
#include "notify/dispatcher.h"
#include "sink/sqlite/alarm_store.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using mh::testing::RunCli;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::int64_t kT0 = 1'790'000'000'000'000'000;  // 2026-09-21T14:13:20Z

class AlarmsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-alarms-cli");
    ASSERT_FALSE(dir_.empty());
    db_ = dir_ + "/m.db";
    auto store = sink::AlarmStore::Open({db_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    sink::AlarmRecord a;
    a.alarm_id = "m3-1";
    a.machine_id = "m3";
    a.start_ns = kT0;
    a.peak_score = -0.25;
    a.baseline_version = 4;
    a.explanation_text = "bpfo 9.1 sd above baseline";
    sink::AlarmRecord b = a;
    b.alarm_id = "m4-1";
    b.machine_id = "m4";
    b.start_ns = kT0 + 60'000'000'000;
    b.end_ns = kT0 + 120'000'000'000;
    b.explanation_text = "";
    std::vector<sink::AlarmEvent> events = {{sink::AlarmEventKind::kOpened, a, a.start_ns},
                                            {sink::AlarmEventKind::kClosed, b, b.end_ns}};
    ASSERT_TRUE((*store)->Record(events).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string db_;
};

TEST_F(AlarmsCliTest, ListTextAndFilters) {
  auto run = RunCli({"alarms", "list", "--db", db_});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  // Newest first: m4-1 started a minute after m3-1.
  EXPECT_EQ(run.out,
            "m4-1  m4  closed  2026-09-21T14:14:20.000Z .. 2026-09-21T14:15:20.000Z  peak -0.2500"
            "  baseline v4  not acknowledged\n"
            "m3-1  m3  open  2026-09-21T14:13:20.000Z .. now  peak -0.2500  baseline v4  not "
            "acknowledged  bpfo 9.1 sd above baseline\n");
  run = RunCli({"alarms", "list", "--db", db_, "--open"});
  ASSERT_EQ(run.code, kExitOk);
  EXPECT_THAT(run.out, HasSubstr("m3-1"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("m4-1")));
  run = RunCli({"alarms", "list", "--db", db_, "--machine", "m4"});
  EXPECT_THAT(run.out, ::testing::StartsWith("m4-1  m4  closed"));
  run = RunCli({"alarms", "list", "--db", db_, "--machine", "m9"});
  EXPECT_EQ(run.out, "no alarms\n");
  // [14:15:30, ...) : m4-1 ended before, m3-1 is open.
  run = RunCli({"alarms", "list", "--db", db_, "--from", "2026-09-21T14:15:30Z"});
  EXPECT_THAT(run.out, ::testing::StartsWith("m3-1"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("m4-1")));
}

TEST_F(AlarmsCliTest, ListJson) {
  auto run = RunCli({"alarms", "list", "--db", db_, "--json"});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  json j = json::parse(run.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["id"], "m4-1");
  EXPECT_EQ(j[0]["end_ns"], kT0 + 120'000'000'000);
  EXPECT_EQ(j[1]["id"], "m3-1");
  EXPECT_EQ(j[1]["open"], true);
  EXPECT_EQ(j[1]["acked_by"], nullptr);
  run = RunCli({"alarms", "list", "--db", db_, "--json", "--machine", "m9"});
  EXPECT_EQ(json::parse(run.out), json::array());
}

TEST_F(AlarmsCliTest, AckOnceThenKept) {
  auto run = RunCli({"alarms", "ack", "m3-1", "--by", "ann", "--db", db_});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_THAT(run.out, ::testing::StartsWith("acknowledged m3-1 (m3) by ann at "));
  run = RunCli({"alarms", "ack", "m3-1", "--by", "bob", "--db", db_});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_THAT(run.out, ::testing::StartsWith("m3-1 was already acknowledged by ann at "));
  EXPECT_THAT(run.out, HasSubstr("(kept)"));
  run = RunCli({"alarms", "list", "--db", db_, "--json"});
  json j = json::parse(run.out);
  EXPECT_EQ(j[1]["acked_by"], "ann");
  // The acknowledgement is queued for the notifiers.
  auto store = sink::AlarmStore::Open({db_});
  ASSERT_TRUE(store.ok());
  auto pending = (*store)->Pending("test", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[2].event_id, "m3-1:acknowledged");
}

TEST_F(AlarmsCliTest, ExitCodes) {
  auto run = RunCli({"alarms", "ack", "nope", "--by", "ann", "--db", db_});
  EXPECT_EQ(run.code, kExitFailure);
  EXPECT_THAT(run.err, HasSubstr("machine-health alarms ack: "));
  EXPECT_THAT(run.err, HasSubstr("unknown alarm 'nope'"));
  const std::string missing = dir_ + "/missing.db";
  run = RunCli({"alarms", "ack", "m3-1", "--by", "ann", "--db", missing});
  EXPECT_EQ(run.code, kExitFailure);
  EXPECT_THAT(run.err, HasSubstr("no such database"));
  EXPECT_FALSE(std::filesystem::exists(missing));  // not created
  run = RunCli({"alarms", "list", "--db", missing});
  EXPECT_EQ(run.code, kExitFailure);
  EXPECT_THAT(run.err, HasSubstr("no such database"));
  EXPECT_EQ(RunCli({"alarms", "ack", "m3-1", "--db", db_}).code, kExitUsage);  // no --by
  EXPECT_EQ(RunCli({"alarms", "ack", "m3-1", "--by", "", "--db", db_}).code, kExitUsage);
  EXPECT_EQ(RunCli({"alarms", "list", "--db", db_, "--from", "yesterday"}).code, kExitUsage);
  EXPECT_EQ(RunCli({"alarms"}).code, kExitUsage);
}

// OpenNotifier (app/builtin_plugins.h): a jsonl: publisher address gets every
// event of the outbox through the dispatcher; webhook addresses lose our own
// parameters.
TEST_F(AlarmsCliTest, OpenNotifierJsonlAndWebhookAddresses) {
  const std::string out = dir_ + "/events.jsonl";
  auto uri = ParseUri("jsonl:" + out);
  ASSERT_TRUE(uri.ok());
  auto notifier = OpenNotifier(*uri);
  ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
  EXPECT_EQ((*notifier)->name(), "jsonl:" + out);
  auto store = sink::AlarmStore::Open({db_});
  ASSERT_TRUE(store.ok());
  std::vector<std::unique_ptr<notify::Notifier>> notifiers;
  notifiers.push_back(std::move(notifier).value());
  auto dispatcher = notify::Dispatcher::Start(store->get(), std::move(notifiers), {});
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status().ToString();
  // Both events of SetUp, then nothing pending: wait for the delivery count.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((*dispatcher)->metrics()[0].delivered < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*dispatcher)->Stop();
  ASSERT_EQ((*dispatcher)->metrics()[0].delivered, 2);
  std::ifstream in(out);
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);) {
    ids.push_back(json::parse(line)["event_id"]);  // one event JSON per line
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"m3-1:opened", "m4-1:closed"}));

  auto hook = ParseUri("https://hooks.example/x?team=ops&timeout_ms=2500");
  ASSERT_TRUE(hook.ok());
  auto webhook = OpenNotifier(*hook);
  ASSERT_TRUE(webhook.ok()) << webhook.status().ToString();
  EXPECT_EQ((*webhook)->name(), "webhook:https://hooks.example/x");
  auto bad = ParseUri("https://hooks.example/x?token_file=" + dir_ + "/no-token");
  ASSERT_TRUE(bad.ok());
  auto missing = OpenNotifier(*bad);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("no-token"));
  auto other = ParseUri("influxdb://h:8086/db");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(OpenNotifier(*other).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mh::app
