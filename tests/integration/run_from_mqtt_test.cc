// `machine-health run --from mqtt://127.0.0.1:PORT/plant/+/vib` as a
// subprocess of the built binary against a real mosquitto started here: 20
// sensors publish waveform events (QoS 1) on plant/<sensor>/vib, half of
// them as JSON, half as the binary waveform payload; two develop an
// outer-race fault after a while. Checked: every window of every sensor is
// stored, exactly the two faulty machines have alarms and end anomalous,
// the 18 healthy ones have none and end normal; after kill -9 of run while
// sensors publish, and a restart, every window is stored exactly once. A
// broken event becomes a dead letter (--dead-letter jsonl:) with its topic.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "codec/waveform_binary.h"
#include "core/uri.h"
#include "replay/event_json.h"
#include "testing/mosquitto_service.h"
#include "testing/process.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"
#include "testing/vibration_signals.h"
#include "transport/mqtt/mqtt_transport.h"

namespace mh {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::ChildProcess;
using testing::QueryInt;
using testing::WaitUntil;

constexpr double kFs = 25600;
constexpr std::size_t kSamples = 2560;  // 0.1 s per event: 5 windows of 512
constexpr int kSensors = 20;
constexpr int kEvents = 30;         // per sensor: 10 learn (1 s), 20 watched
constexpr int kFaultFrom = 18;      // the faulty sensors' fault starts here
constexpr double kT0 = 1767225600;  // 2026-01-01T00:00:00Z

std::string SensorId(int s) {
  char id[16];
  std::snprintf(id, sizeof id, "s%02d", s + 1);
  return id;
}
bool Faulty(int s) { return s == 6 || s == 12; }  // s07 and s13

// Event e of sensor s: a shaft line of the sensor's own speed and noise;
// from kFaultFrom on the faulty sensors an impact train on both axes. Odd
// sensors send the binary payload (float32), even ones JSON.
std::string Event(int s, int e) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(s) * 1000 + static_cast<std::uint64_t>(e));
  std::normal_distribution<double> noise(0, 0.05);
  const double shaft_hz = 25 + s;
  std::vector<std::vector<double>> x(2, std::vector<double>(kSamples));
  for (std::size_t i = 0; i < kSamples; ++i) {
    const double t = static_cast<double>(static_cast<std::size_t>(e) * kSamples + i) / kFs;
    for (int c = 0; c < 2; ++c) x[c][i] = 0.3 * std::sin(2 * M_PI * shaft_hz * t + c) + noise(rng);
  }
  if (Faulty(s) && e >= kFaultFrom) {
    const std::vector<double> hits =
        testing::ImpactTrain(kSamples, kFs, 107, 4000, 0, static_cast<unsigned>(e));
    for (std::size_t i = 0; i < kSamples; ++i) {
      x[0][i] += 2 * hits[i];
      x[1][i] += 1.5 * hits[i];
    }
  }
  const std::vector<std::string> channels = {"ax", "ay"};
  const std::string id = SensorId(s);
  std::string payload;
  if (s % 2 == 0) {
    replay::AppendWaveformEventJson({id, kT0 + 0.1 * e, kFs, channels, x}, &payload);
  } else {
    codec::WaveformHeader h;
    h.sensor_id = id;
    h.has_timestamp = true;
    h.timestamp_ns = static_cast<std::int64_t>(kT0) * 1'000'000'000 + e * 100'000'000LL;
    h.fs_hz = kFs;
    h.type = codec::SampleType::kFloat32;
    EXPECT_TRUE(codec::AppendWaveformBinary(h, channels, x, kSamples, &payload).ok());
  }
  return payload;
}

// Starts `run --from mqtt://.../plant/+/vib` (persistent session, spool in
// `dir`) and waits until it prints its dashboard, which it does once the
// subscription is in place; null (with a failure) otherwise.
std::unique_ptr<ChildProcess> StartRun(const std::string& base, const std::string& dir,
                                       const std::string& log) {
  auto run = ChildProcess::Start(
      {testing::BinaryPath(), "run", "--from", base + "/plant/+/vib?qos=1&spool=" + dir + "/spool",
       "--http", "127.0.0.1:0", "--db", dir + "/live.db", "--learning", "1s", "--dead-letter",
       "jsonl:" + dir + "/dead.jsonl", "--quiet"},
      dir + "/" + log);
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  if (!run.ok()) return nullptr;
  if (testing::WaitForLogLine(**run, "dashboard: ", seconds(15)).empty()) {
    ADD_FAILURE() << testing::ReadFileText((*run)->log_path());
    return nullptr;
  }
  return std::move(run).value();
}

// Publishes rounds [first, last) of every sensor's events (QoS 1).
void Publish(const std::string& base, int first, int last) {
  auto address = ParseUri(base + "/plant/{key}/vib?qos=1");
  ASSERT_TRUE(address.ok());
  auto publisher = transport::mqtt::NewMqttPublisher(*address);
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
  for (int e = first; e < last; ++e) {
    std::vector<transport::OutgoingMessage> batch;
    for (int s = 0; s < kSensors; ++s) batch.push_back({SensorId(s), Event(s, e)});
    ASSERT_TRUE((*publisher)->Publish(batch).ok()) << "round " << e;
  }
  ASSERT_TRUE((*publisher)->Close().ok());
}

TEST(RunFromMqttTest, TwentySensorsTwoFaultyReachTheRightAlarmStates) {
  ASSERT_FALSE(testing::BinaryPath().empty()) << "MH_BINARY not set";
  auto broker = testing::MosquittoService::Create();
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  const std::string dir = testing::MakeTempDir("mh-run-mqtt");
  const std::string db = dir + "/live.db";
  const std::string base = "mqtt://127.0.0.1:" + std::to_string((*broker)->plain_port());

  auto run = StartRun(base, dir, "run.log");
  ASSERT_NE(run, nullptr);
  std::string url = testing::WaitForLogLine(*run, "dashboard: ", seconds(1));
  while (!url.empty() && url.back() == '/') url.pop_back();
  Publish(base, 0, kEvents);
  {  // and one event that is not one: a dead letter with its reason
    auto address = ParseUri(base + "/plant/s99/vib?qos=1");
    ASSERT_TRUE(address.ok());
    auto bad = transport::mqtt::NewMqttPublisher(*address);
    ASSERT_TRUE(bad.ok()) << bad.status().ToString();
    const std::vector<transport::OutgoingMessage> truncated = {
        {"", R"({"sensor_id":"s99","fs":25600,"ax":[1,2)"}};
    ASSERT_TRUE((*bad)->Publish(truncated).ok());
    ASSERT_TRUE((*bad)->Close().ok());
  }

  // Every window of every sensor is stored.
  const std::int64_t all = std::int64_t{kSensors} * kEvents * 5;
  WaitUntil([&] { return QueryInt(db, "SELECT count(*) FROM scores") >= all; }, seconds(15));
  ASSERT_EQ(QueryInt(db, "SELECT count(*) FROM scores"), all)
      << testing::ReadFileText(run->log_path());
  for (int s = 0; s < kSensors; ++s) {
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM scores WHERE machine_id = '" + SensorId(s) + "'"),
              kEvents * 5)
        << SensorId(s);
  }

  // The dashboard: the two faulty machines anomalous, the others normal,
  // and alarms (stored after the batch's windows) for the faulty two only.
  httplib::Client client(url);
  client.set_read_timeout(5, 0);
  const auto get = [&](const char* path) {
    auto res = client.Get(path);
    return res && res->status == 200 ? json::parse(res->body, nullptr, false) : json();
  };
  json machines, alarms;
  WaitUntil(
      [&] {
        alarms = get("/api/alarms");
        return alarms.is_array() && alarms.size() >= 2;
      },
      seconds(10));
  machines = get("/api/machines");
  ASSERT_TRUE(machines.is_array()) << machines.dump();
  ASSERT_EQ(machines.size(), static_cast<std::size_t>(kSensors)) << machines.dump();
  for (const json& m : machines) {
    const std::string id = m["id"];
    const bool faulty = id == "s07" || id == "s13";
    EXPECT_EQ(m["state"], faulty ? "anomalous" : "normal") << m.dump();
  }
  // One alarm per faulty machine, opened within its fault and still open
  // (the fault lasts to the end).
  ASSERT_TRUE(alarms.is_array()) << alarms.dump();
  std::set<std::string> alarmed;
  for (const json& a : alarms) {
    alarmed.insert(a["machine"].get<std::string>());
    EXPECT_GE(a["start_ns"].get<std::int64_t>(),
              static_cast<std::int64_t>(kT0) * 1'000'000'000 + kFaultFrom * 100'000'000LL)
        << a.dump();
    EXPECT_EQ(a["open"], true) << a.dump();
    EXPECT_FALSE(a["explanation_text"].get<std::string>().empty()) << a.dump();
  }
  EXPECT_EQ(alarmed, (std::set<std::string>{"s07", "s13"})) << alarms.dump();
  EXPECT_EQ(alarms.size(), 2u) << alarms.dump();
  // The same through the command line.
  std::string listed;
  ASSERT_EQ(testing::RunCommand(testing::BinaryPath() + " alarms list --json --db " + db, &listed),
            0);
  const json cli = json::parse(listed, nullptr, false);
  ASSERT_TRUE(cli.is_array()) << listed;
  EXPECT_EQ(cli.size(), 2u) << listed;

  ASSERT_TRUE(
      WaitUntil([&] { return !testing::ReadFileText(dir + "/dead.jsonl").empty(); }, seconds(10)));
  run->Signal(SIGTERM);
  EXPECT_EQ(run->Wait(seconds(15)), 0) << testing::ReadFileText(run->log_path());
  const std::string log = testing::ReadFileText(run->log_path());
  EXPECT_NE(log.find(std::to_string(kSensors * kEvents + 1) + " events, " + std::to_string(all) +
                     " windows stored, 20 machines, 2 alarms opened, 1 dead letters"),
            std::string::npos)
      << log;
  const json dead = json::parse(testing::ReadFileText(dir + "/dead.jsonl"), nullptr, false);
  ASSERT_TRUE(dead.is_object()) << testing::ReadFileText(dir + "/dead.jsonl");
  EXPECT_EQ(dead["origin"], "plant/s99/vib");
  EXPECT_FALSE(dead["reason"].get<std::string>().empty());
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh

namespace mh {
namespace {

// kill -9 of run while sensors publish, more events while it is down (the
// broker keeps them for its persistent session), a restart with the same
// address and spool: every window of every sensor is stored exactly once.
TEST(RunFromMqttTest, KillNineWhilePublishingLosesNoWindow) {
  ASSERT_FALSE(testing::BinaryPath().empty()) << "MH_BINARY not set";
  auto broker = testing::MosquittoService::Create();
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  const std::string dir = testing::MakeTempDir("mh-run-mqtt");
  const std::string db = dir + "/live.db";
  const std::string base = "mqtt://127.0.0.1:" + std::to_string((*broker)->plain_port());
  auto run = StartRun(base, dir, "run1.log");
  ASSERT_NE(run, nullptr);
  Publish(base, 0, 12);
  ASSERT_TRUE(
      WaitUntil([&] { return QueryInt(db, "SELECT count(*) FROM scores") > 0; }, seconds(10)));
  run->Signal(SIGKILL);
  ASSERT_EQ(run->Wait(seconds(10)), 128 + SIGKILL);
  Publish(base, 12, kEvents);  // while run is down

  auto again = StartRun(base, dir, "run2.log");
  ASSERT_NE(again, nullptr);
  const std::int64_t all = std::int64_t{kSensors} * kEvents * 5;
  WaitUntil([&] { return QueryInt(db, "SELECT count(*) FROM scores") >= all; }, seconds(15));
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(seconds(15)), 0) << testing::ReadFileText(again->log_path());
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM scores"), all)
      << testing::ReadFileText(again->log_path());
  const std::int64_t t0_ns = static_cast<std::int64_t>(kT0) * 1'000'000'000;
  for (int s = 0; s < kSensors; ++s) {
    const std::string where = " FROM scores WHERE machine_id = '" + SensorId(s) + "'";
    EXPECT_EQ(QueryInt(db, "SELECT count(*)" + where), kEvents * 5) << SensorId(s);
    EXPECT_EQ(QueryInt(db, "SELECT min(t_ns)" + where), t0_ns) << SensorId(s);
    EXPECT_EQ(QueryInt(db, "SELECT max(t_ns)" + where), t0_ns + (kEvents * 5 - 1) * 20'000'000LL)
        << SensorId(s);
  }
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh
