// The webhook notifier and the dispatcher against a receiver on loopback
// (webhook_receiver.h): every opened / acknowledged / closed event arrives,
// exactly once per event after deduplication by event id, also while the
// receiver answers 503 or is not listening for a while, and across a restart
// of the notifier (the events wait in the SQLite outbox).
#include "notify/webhook_notifier.h"

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "notify/dispatcher.h"
#include "sink/sqlite/alarm_store.h"
#include "testing/fake_environment.h"
#include "testing/test_paths.h"
#include "webhook_receiver.h"

namespace mh::notify {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sink::AlarmEvent;
using sink::AlarmEventKind;
using sink::AlarmRecord;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kT0 = 1'790'000'000 * kSecond;
const char kToken[] = "s3cret-token-for-tests";

AlarmRecord Alarm(const std::string& id, const std::string& machine) {
  AlarmRecord a;
  a.alarm_id = id;
  a.machine_id = machine;
  a.start_ns = kT0;
  a.peak_score = -0.12;
  a.baseline_version = 2;
  a.explanation_json = R"({"iso_zone":"C"})";
  a.explanation_text = "rms_ax 6.1 sd above baseline; ISO zone C";
  return a;
}

Status Open(sink::AlarmStore& store, const AlarmRecord& a) {
  std::vector<AlarmEvent> e = {{AlarmEventKind::kOpened, a, a.start_ns}};
  return store.Record(e);
}

Status Close(sink::AlarmStore& store, AlarmRecord a, std::int64_t end_ns) {
  a.end_ns = end_ns;
  std::vector<AlarmEvent> e = {{AlarmEventKind::kClosed, a, end_ns}};
  return store.Record(e);
}

// Checks `pred` every 10 ms until it holds or 20 s passed (for state that
// changes without a notification, such as metrics).
bool PollUntil(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-webhook-test");
    ASSERT_FALSE(dir_.empty());
    auto store = sink::AlarmStore::Open({dir_ + "/m.db"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_GT(receiver_.Start(), 0);
    env_.vars["MH_WEBHOOK_TOKEN"] = kToken;
  }
  void TearDown() override {
    dispatcher_.reset();
    receiver_.Stop();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void StartDispatcher() {
    WebhookOptions options;
    options.url = receiver_.url();
    options.timeout = std::chrono::milliseconds(2000);
    auto notifier = NewWebhookNotifier(options, env_.Get());
    ASSERT_TRUE(notifier.ok()) << notifier.status().ToString();
    EXPECT_EQ((*notifier)->name().find(kToken), std::string::npos);
    std::vector<std::unique_ptr<Notifier>> notifiers;
    notifiers.push_back(std::move(notifier).value());
    DispatcherOptions dopts;
    dopts.retry.initial_backoff = std::chrono::milliseconds(10);
    dopts.retry.max_backoff = std::chrono::milliseconds(100);
    dopts.poll_interval = std::chrono::milliseconds(50);
    auto dispatcher = Dispatcher::Start(store_.get(), std::move(notifiers), dopts);
    ASSERT_TRUE(dispatcher.ok()) << dispatcher.status().ToString();
    dispatcher_ = std::move(dispatcher).value();
  }

  std::string dir_;
  mh::testing::FakeEnvironment env_;
  std::unique_ptr<sink::AlarmStore> store_;
  WebhookReceiver receiver_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(WebhookTest, EveryEventOnceThroughOutagesAndRestart) {
  StartDispatcher();
  ASSERT_NE(dispatcher_, nullptr);
  AlarmRecord a = Alarm("m3-a", "m3");

  // 1. Receiver up: the opened event arrives.
  ASSERT_TRUE(Open(*store_, a).ok());
  dispatcher_->Wake();
  ASSERT_TRUE(receiver_.WaitForEvent("m3-a:opened"));

  // 2. Receiver answers 503: ack and close wait and are retried.
  receiver_.SetMode(WebhookReceiver::Mode::kUnavailable);
  ASSERT_TRUE(store_->Acknowledge("m3-a", "ann", kT0 + 5 * kSecond).ok());
  ASSERT_TRUE(Close(*store_, a, kT0 + 60 * kSecond).ok());
  dispatcher_->Wake();
  ASSERT_TRUE(receiver_.WaitForRefused(3));
  EXPECT_EQ(receiver_.unique().count("m3-a:acknowledged"), 0u);
  receiver_.SetMode(WebhookReceiver::Mode::kAccept);
  ASSERT_TRUE(receiver_.WaitForEvent("m3-a:acknowledged"));
  ASSERT_TRUE(receiver_.WaitForEvent("m3-a:closed"));

  // 3. Receiver not listening, then the notifier restarts: the event waits
  // in the outbox and is delivered by the new dispatcher.
  const int port = receiver_.port();
  receiver_.Stop();
  AlarmRecord b = Alarm("m4-b", "m4");
  ASSERT_TRUE(Open(*store_, b).ok());
  dispatcher_->Wake();
  // The metrics change without a notification: poll them until a deadline.
  const std::int64_t retries_before = dispatcher_->metrics()[0].retries;
  const bool retried =
      PollUntil([&] { return dispatcher_->metrics()[0].retries >= retries_before + 2; });
  ASSERT_TRUE(retried) << dispatcher_->metrics()[0].last_error;
  EXPECT_NE(dispatcher_->metrics()[0].last_error.find("webhook: http://127.0.0.1"),
            std::string::npos);
  dispatcher_->Stop();
  dispatcher_.reset();
  auto waiting = store_->Pending("webhook:" + receiver_.url(), 10);
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].event_id, "m4-b:opened");

  ASSERT_EQ(receiver_.Start(port), port);
  StartDispatcher();
  ASSERT_TRUE(receiver_.WaitForEvent("m4-b:opened"));

  // Exactly the four events, after deduplication; each body is the event.
  auto unique = receiver_.unique();
  std::set<std::string> ids;
  for (const auto& [id, r] : unique) ids.insert(id);
  EXPECT_EQ(ids, (std::set<std::string>{"m3-a:opened", "m3-a:acknowledged", "m3-a:closed",
                                        "m4-b:opened"}));
  for (const auto& [id, r] : unique) {
    json j = json::parse(r.body);
    EXPECT_EQ(j["event_id"], id);
    EXPECT_EQ(id, j["alarm"]["id"].get<std::string>() + ":" + j["kind"].get<std::string>());
    EXPECT_EQ(r.authorization, std::string("Bearer ") + kToken);
  }
  json closed = json::parse(unique["m3-a:closed"].body);
  EXPECT_EQ(closed["alarm"]["end_ns"], kT0 + 60 * kSecond);
  EXPECT_EQ(closed["alarm"]["acked_by"], "ann");
  EXPECT_EQ(closed["alarm"]["explanation"]["iso_zone"], "C");
  EXPECT_EQ(closed["alarm"]["machine"], "m3");
  // The receiver accepted each event at most once more than needed: the
  // dispatcher never re-sends an accepted event unless a delivery could not
  // be recorded (not the case here).
  EXPECT_EQ(receiver_.all().size(), 4u);
  // Once every delivery is recorded (just after the receiver answered), the
  // outbox is empty.
  EXPECT_TRUE(PollUntil([&] {
    auto size = store_->OutboxSize();
    return size.ok() && *size == 0;
  }));
}

TEST_F(WebhookTest, PermanentRejectionIsGivenUpAndDoesNotBlock) {
  receiver_.SetMode(WebhookReceiver::Mode::kReject);
  StartDispatcher();
  ASSERT_NE(dispatcher_, nullptr);
  ASSERT_TRUE(Open(*store_, Alarm("x", "m1")).ok());
  dispatcher_->Wake();
  ASSERT_TRUE(receiver_.WaitForRefused(1));
  receiver_.SetMode(WebhookReceiver::Mode::kAccept);
  ASSERT_TRUE(Open(*store_, Alarm("y", "m1")).ok());
  dispatcher_->Wake();
  ASSERT_TRUE(receiver_.WaitForEvent("y:opened"));
  EXPECT_EQ(receiver_.unique().count("x:opened"), 0u);
  ASSERT_TRUE(PollUntil([&] { return dispatcher_->metrics()[0].delivered == 1; }));
  auto m = dispatcher_->metrics()[0];
  EXPECT_EQ(m.rejected, 1);
  EXPECT_EQ(m.delivered, 1);
  EXPECT_NE(m.last_error.find("HTTP 400"), std::string::npos) << m.last_error;
}

TEST(WebhookOptionsTest, BadUrlAndTokenSources) {
  mh::testing::FakeEnvironment env;
  WebhookOptions options;
  options.url = "ftp://host/x";
  EXPECT_TRUE(NewWebhookNotifier(options, env.Get()).status().IsInvalidArgument());
  options.url = "https://user:pw@hooks.example/path?key=abc";
  auto n = NewWebhookNotifier(options, env.Get());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  // Neither user info nor query (where people put secrets) reach the name.
  EXPECT_EQ((*n)->name(), "webhook:https://hooks.example/path");
  options.token_file = "/nonexistent/token";
  auto missing = NewWebhookNotifier(options, env.Get());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/token"), std::string::npos);
}

}  // namespace
}  // namespace mh::notify
