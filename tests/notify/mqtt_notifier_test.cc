// The publisher notifier over the MQTT transport (QoS 1) and the dispatcher
// against a real mosquitto broker started by the test: opened, acknowledged
// and closed events arrive on the topic in order, also when the broker is
// down for a while (the event waits in the outbox and is retried).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/uri.h"
#include "notify/dispatcher.h"
#include "notify/publisher_notifier.h"
#include "sink/sqlite/alarm_store.h"
#include "testing/mosquitto_service.h"
#include "testing/test_paths.h"
#include "transport/mqtt/mqtt_transport.h"

namespace mh::notify {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sink::AlarmEvent;
using sink::AlarmEventKind;
using sink::AlarmRecord;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kT0 = 1'790'000'000 * kSecond;

Uri U(const std::string& text) {
  auto uri = ParseUri(text);
  EXPECT_TRUE(uri.ok()) << text << ": " << uri.status().ToString();
  return uri.ok() ? *uri : Uri{};
}

AlarmRecord Alarm(const std::string& id, const std::string& machine) {
  AlarmRecord a;
  a.alarm_id = id;
  a.machine_id = machine;
  a.start_ns = kT0;
  a.peak_score = -0.2;
  a.explanation_text = "bpfo stands out";
  return a;
}

class MqttNotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = mh::testing::MosquittoService::Create();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    ::setenv("STATE_DIRECTORY", (broker_->dir() + "/state").c_str(), 1);
    auto store = sink::AlarmStore::Open({broker_->dir() + "/m.db"});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    ::unsetenv("STATE_DIRECTORY");
    if (HasFailure() && broker_) std::cerr << "mosquitto log tail:\n" << broker_->LogTail() << "\n";
  }
  std::string Plain(const std::string& topic, const std::string& params) const {
    return "mqtt://127.0.0.1:" + std::to_string(broker_->plain_port()) + "/" + topic + "?" + params;
  }

  // Polls the subscriber until `count` messages arrived, or until one has
  // event id `until` (when given), or 30 s passed.
  std::vector<transport::Message> Receive(transport::Subscriber& sub, std::size_t count,
                                          const std::string& until = "") {
    std::vector<transport::Message> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto done = [&] {
      if (until.empty()) return got.size() >= count;
      for (const auto& m : got) {
        if (json::parse(m.payload)["event_id"] == until) return true;
      }
      return false;
    };
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      auto polled = sub.Poll(count, std::chrono::milliseconds(200));
      if (!polled.ok()) continue;  // broker restarting
      for (auto& m : *polled) got.push_back(std::move(m));
    }
    EXPECT_TRUE(sub.Commit().ok());
    return got;
  }

  std::unique_ptr<mh::testing::MosquittoService> broker_;
  std::unique_ptr<sink::AlarmStore> store_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(MqttNotifierTest, EventsArriveInOrderAndSurviveABrokerOutage) {
  auto sub = transport::mqtt::NewMqttSubscriber(
      U(Plain("plant/alarms/+", "qos=1&client_id=alarm-sub&clean_session=false")));
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  auto pub = transport::mqtt::NewMqttPublisher(
      U(Plain("plant/alarms/{key}", "qos=1&client_id=alarm-pub&timeout_ms=2000")));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  std::vector<std::unique_ptr<Notifier>> notifiers;
  notifiers.push_back(NewPublisherNotifier("mqtt:plant/alarms", std::move(pub).value()));
  DispatcherOptions options;
  options.retry.initial_backoff = std::chrono::milliseconds(20);
  options.retry.max_backoff = std::chrono::milliseconds(200);
  options.poll_interval = std::chrono::milliseconds(50);
  auto dispatcher = Dispatcher::Start(store_.get(), std::move(notifiers), options);
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status().ToString();
  dispatcher_ = std::move(dispatcher).value();

  AlarmRecord a = Alarm("m3-a", "m3");
  std::vector<AlarmEvent> open = {{AlarmEventKind::kOpened, a, a.start_ns}};
  ASSERT_TRUE(store_->Record(open).ok());
  ASSERT_TRUE(store_->Acknowledge("m3-a", "ann", kT0 + kSecond).ok());
  a.end_ns = kT0 + 9 * kSecond;
  std::vector<AlarmEvent> close = {{AlarmEventKind::kClosed, a, a.end_ns}};
  ASSERT_TRUE(store_->Record(close).ok());
  dispatcher_->Wake();
  auto got = Receive(**sub, 3);
  ASSERT_EQ(got.size(), 3u);
  std::vector<std::string> ids;
  for (const auto& m : got) {
    EXPECT_EQ(m.origin, "plant/alarms/m3");
    ids.push_back(json::parse(m.payload)["event_id"]);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"m3-a:opened", "m3-a:acknowledged", "m3-a:closed"}));
  EXPECT_EQ(json::parse(got[2].payload)["alarm"]["acked_by"], "ann");

  // Broker down: the next event waits; after the restart it arrives (the
  // subscriber's persistent session keeps it if it came before the
  // subscriber reconnected).
  ASSERT_TRUE(broker_->Stop().ok());
  AlarmRecord b = Alarm("m7-b", "m7");
  std::vector<AlarmEvent> open_b = {{AlarmEventKind::kOpened, b, b.start_ns}};
  ASSERT_TRUE(store_->Record(open_b).ok());
  dispatcher_->Wake();
  ASSERT_TRUE(broker_->Start().ok());
  auto later = Receive(**sub, 10, "m7-b:opened");
  // At least once: the broker may deliver again messages whose PUBACK the
  // restart interrupted; after deduplication by event id every event is
  // there exactly once and nothing else.
  std::set<std::string> unique(ids.begin(), ids.end());
  for (const auto& m : later) unique.insert(json::parse(m.payload)["event_id"].get<std::string>());
  EXPECT_EQ(unique, (std::set<std::string>{"m3-a:opened", "m3-a:acknowledged", "m3-a:closed",
                                           "m7-b:opened"}));
  dispatcher_->Stop();
  auto m = dispatcher_->metrics()[0];
  EXPECT_GE(m.delivered, 4);
  EXPECT_EQ(m.rejected, 0);
}

}  // namespace
}  // namespace mh::notify
