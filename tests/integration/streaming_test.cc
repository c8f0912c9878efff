// Streaming end to end with real servers started here on loopback:
// librdkafka's mock Kafka cluster (3 brokers, 6 partitions), InfluxDB 1.6
// and mosquitto. The real binary replays feature events, two scorer
// processes share the partitions in one consumer group and write to
// InfluxDB. Checked: every event's score is in InfluxDB exactly once (by
// sensor and timestamp) and equals batch `score` of the same rows bit for
// bit, also when a scorer is killed with SIGKILL mid-stream and when
// InfluxDB is down for 10 s mid-stream; malformed events end in the
// dead-letter topic with their reasons; MQTT -> scorer -> InfluxDB and an
// MQTT scores topic survive broker restarts.
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "core/time_util.h"
#include "core/uri.h"
#include "testing/influxdb_service.h"
#include "testing/kafka_mock.h"
#include "testing/mosquitto_service.h"
#include "testing/process.h"
#include "testing/test_paths.h"
#include "transport/kafka/kafka_transport.h"
#include "transport/mqtt/mqtt_transport.h"

namespace mh {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ChildProcess;
using Key = std::pair<std::string, std::int64_t>;  // sensor id, event time (ns)

constexpr int kSensors = 10;

std::string Bin() { return testing::BinaryPath(); }

// Model, feature table and the batch scores of the table (the reference).
class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Bin().empty()) << "MH_BINARY not set";
    dir_ = testing::MakeTempDir("streaming");
  }

  // Rows [first, first + n): sensor s(i % 10), timestamp 1761519890 + i s;
  // row i's values depend only on i, so tables of overlapping ranges agree.
  void WriteTable(const std::string& name, int first, int n) {
    std::ofstream t(dir_ + "/" + name);
    t.precision(17);
    t << "sensor_id,timestamp,a,b,c\n";
    for (int i = first; i < first + n; ++i) {
      std::mt19937_64 rng(static_cast<std::uint64_t>(i));
      std::normal_distribution<double> g(0, 1);
      const double scale = i % 97 == 0 ? 5 : 1;
      const double a = scale * g(rng), b = g(rng), c = g(rng);
      t << "s" << (i % kSensors) << "," << 1761519890 + i << "," << a << "," << b << "," << c
        << "\n";
    }
  }

  void TrainModel() {
    std::mt19937_64 rng(5);
    std::normal_distribution<double> g(0, 1);
    std::ofstream t(dir_ + "/train.csv");
    t.precision(17);
    t << "a,b,c\n";
    for (int i = 0; i < 3000; ++i) t << g(rng) << "," << g(rng) << "," << g(rng) << "\n";
    t.close();
    ASSERT_EQ(Sh("train --input train.csv --features a,b,c --trees 100 --seed 3 --out model.mhm"),
              0)
        << testing::ReadFileText(dir_ + "/cmd.log");
  }

  // Batch scores of a table: (sensor, ns) -> decision_function.
  std::map<Key, double> BatchScores(const std::string& table) {
    std::map<Key, double> out;
    EXPECT_EQ(
        Sh("score --model model.mhm --input " + table + " --out " + table + ".scores --format csv"),
        0);
    std::ifstream in(dir_ + "/" + table + ".scores");
    std::string line;
    std::getline(in, line);  // sensor_id,timestamp,score,score_samples,anomaly
    EXPECT_EQ(line.rfind("sensor_id,timestamp,score,", 0), 0u) << line;
    while (std::getline(in, line)) {
      std::stringstream ls(line);
      std::string id, ts, score;
      std::getline(ls, id, ',');
      std::getline(ls, ts, ',');
      std::getline(ls, score, ',');
      // Batch `score` writes the timestamp key as RFC 3339.
      const Result<std::int64_t> ns = ParseInstant(ts);
      EXPECT_TRUE(ns.ok()) << ts;
      out[{id, ns.ok() ? *ns : 0}] = std::stod(score);
    }
    return out;
  }

  // Runs the binary synchronously in dir_ (output in cmd.log).
  int Sh(const std::string& args) {
    std::string ignored;
    return testing::RunCommand("cd '" + dir_ + "' && '" + Bin() + "' " + args + " >cmd.log 2>&1",
                               &ignored);
  }

  std::unique_ptr<ChildProcess> Spawn(const std::vector<std::string>& args,
                                      const std::string& log) {
    std::vector<std::string> argv = {Bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = ChildProcess::Start(argv, dir_ + "/" + log);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  std::unique_ptr<ChildProcess> Scorer(const std::string& from, const std::vector<std::string>& to,
                                       const std::string& log,
                                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"score",   "--model", dir_ + "/model.mhm", "--from", from,
                                     "--batch", "5000",    "--stats-interval",  "1"};
    for (const std::string& t : to) {
      args.push_back("--to");
      args.push_back(t);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return Spawn(args, log);
  }

  void StartInflux() {
    auto influx = testing::InfluxdbService::Launch();
    ASSERT_TRUE(influx.ok()) << influx.status().ToString();
    influx_ = std::move(influx).value();
    ASSERT_TRUE(influx_->CreateDatabase("iiot").ok());
  }
  std::string InfluxAddress() const {
    return "influxdb://127.0.0.1:" + std::to_string(influx_->port()) + "/iiot";
  }

  // Points of measurement anomaly_score: (sensor, ns) -> score; -1 count on error.
  std::map<Key, double> InfluxScores() {
    std::map<Key, double> out;
    auto q = influx_->Query("iiot", "SELECT score FROM anomaly_score GROUP BY sensor_id");
    if (!q.ok()) return out;
    const json j = json::parse(q.value(), nullptr, false);
    if (j.is_discarded() || !j.contains("results")) return out;
    for (const json& series : j["results"][0].value("series", json::array())) {
      const std::string id = series["tags"]["sensor_id"];
      for (const json& v : series["values"]) out[{id, v[0].get<std::int64_t>()}] = v[1];
    }
    return out;
  }
  std::int64_t InfluxCount(const std::string& measurement = "anomaly_score",
                           const std::string& field = "score") {
    auto q = influx_->Query("iiot", "SELECT COUNT(" + field + ") FROM " + measurement);
    if (!q.ok()) return -1;
    const json j = json::parse(q.value(), nullptr, false);
    if (j.is_discarded()) return -1;
    try {
      return j["results"][0]["series"][0]["values"][0][1].get<std::int64_t>();
    } catch (...) {
      return 0;
    }
  }
  bool WaitForCount(std::int64_t n, seconds timeout) {
    return testing::WaitUntil([&] { return InfluxCount() >= n; }, timeout);
  }

  void ExpectExactlyTheBatchScores(const std::map<Key, double>& expected) {
    const auto got = InfluxScores();
    ASSERT_EQ(got.size(), expected.size());
    std::size_t mismatches = 0;
    for (const auto& [key, score] : expected) {
      auto it = got.find(key);
      if (it == got.end() || it->second != score) {
        if (++mismatches < 5) {
          ADD_FAILURE() << key.first << " @" << key.second << ": want " << score << " got "
                        << (it == got.end() ? std::string("nothing") : std::to_string(it->second));
        }
      }
    }
    EXPECT_EQ(mismatches, 0u);
  }

  // Sum of records=N in a scorer log's last "stopped:" or progress line.
  static std::int64_t LoggedRecords(const std::string& log) {
    const std::size_t at = log.rfind("records=");
    if (at == std::string::npos) return 0;
    return std::stoll(log.substr(at + 8));
  }

  std::string dir_;
  std::unique_ptr<testing::InfluxdbService> influx_;
};

// --- Kafka ----------------------------------------------------------------

class KafkaStreamingTest : public StreamingTest {
 protected:
  void SetUp() override {
    StreamingTest::SetUp();
    testing::KafkaMockCluster::Options o;
    o.brokers = 3;
    o.topics = {{"telemetry", 6}, {"dead", 1}};
    auto kafka = testing::KafkaMockCluster::Start(o);
    ASSERT_TRUE(kafka.ok()) << kafka.status().ToString();
    kafka_ = std::move(kafka).value();
    StartInflux();
    TrainModel();
  }
  std::string Source() const {
    return kafka_->Address("telemetry") + "?group=scorers&session_timeout_ms=6000";
  }
  std::unique_ptr<ChildProcess> Replay(const std::string& table, int rate) {
    return Spawn(
        {"replay", "--input", dir_ + "/" + table, "--sensor-id-column", "sensor_id",
         "--timestamp-column", "timestamp", "--timestamp-unit", "s", "--feature-keys", "a,b,c",
         "--batch", "1000", "--rate", std::to_string(rate), "--to", kafka_->Address("telemetry")},
        "replay.log");
  }
  std::unique_ptr<testing::KafkaMockCluster> kafka_;
};

TEST_F(KafkaStreamingTest, TwoScorersInOneGroupStoreEveryScoreExactlyOnce) {
  constexpr int kEvents = 100000;
  WriteTable("table.csv", 0, kEvents);
  const auto expected = BatchScores("table.csv");
  auto a = Scorer(Source(), {InfluxAddress()}, "scorer-a.log");
  auto b = Scorer(Source(), {InfluxAddress()}, "scorer-b.log");
  auto replay = Replay("table.csv", 25000);
  ASSERT_EQ(replay->Wait(seconds(120)), 0) << testing::ReadFileText(dir_ + "/replay.log");
  ASSERT_TRUE(WaitForCount(kEvents, seconds(120))) << InfluxCount() << "\n"
                                                   << testing::ReadFileText(dir_ + "/scorer-a.log");
  EXPECT_EQ(a->Stop(), 0);
  EXPECT_EQ(b->Stop(), 0);
  ExpectExactlyTheBatchScores(expected);
  // Both members of the group did part of the work.
  const auto ra = LoggedRecords(testing::ReadFileText(dir_ + "/scorer-a.log"));
  const auto rb = LoggedRecords(testing::ReadFileText(dir_ + "/scorer-b.log"));
  EXPECT_GT(ra, 0);
  EXPECT_GT(rb, 0);
  EXPECT_GE(ra + rb, kEvents);
  // The feature fields are stored too (measurement signal_features).
  EXPECT_EQ(InfluxCount("signal_features", "a"), kEvents);
}

TEST_F(KafkaStreamingTest, KillNineOfOneScorerMidStreamLosesNothing) {
  constexpr int kEvents = 100000;
  WriteTable("table.csv", 0, kEvents);
  const auto expected = BatchScores("table.csv");
  auto a = Scorer(Source(), {InfluxAddress()}, "scorer-a.log");
  auto b = Scorer(Source(), {InfluxAddress()}, "scorer-b.log");
  auto replay = Replay("table.csv", 4000);
  // Kill A once it has stored part of the stream (but not all of it).
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return LoggedRecords(testing::ReadFileText(dir_ + "/scorer-a.log")) > 0; },
      seconds(60)))
      << testing::ReadFileText(dir_ + "/scorer-a.log");
  a->Signal(SIGKILL);
  EXPECT_EQ(a->Wait(seconds(10)), 128 + SIGKILL);
  // The replay (4,000 events/s, 25 s) must still be running: the kill was
  // mid-stream.
  EXPECT_TRUE(replay->Running()) << "the kill was not mid-stream";
  ASSERT_EQ(replay->Wait(seconds(120)), 0) << testing::ReadFileText(dir_ + "/replay.log");
  ASSERT_TRUE(WaitForCount(kEvents, seconds(120))) << InfluxCount() << "\n"
                                                   << testing::ReadFileText(dir_ + "/scorer-b.log");
  EXPECT_EQ(b->Stop(), 0);
  ExpectExactlyTheBatchScores(expected);
}

TEST_F(KafkaStreamingTest, InfluxdbDownForTenSecondsMidStreamLosesNothing) {
  constexpr int kEvents = 100000;
  WriteTable("table.csv", 0, kEvents);
  const auto expected = BatchScores("table.csv");
  auto a = Scorer(Source(), {InfluxAddress()}, "scorer-a.log");
  auto b = Scorer(Source(), {InfluxAddress()}, "scorer-b.log");
  auto replay = Replay("table.csv", 10000);
  ASSERT_TRUE(WaitForCount(1, seconds(60)));
  ASSERT_TRUE(influx_->Stop().ok());
  std::this_thread::sleep_for(seconds(10));  // the outage itself, not a wait for a condition
  ASSERT_TRUE(influx_->Start().ok());
  ASSERT_EQ(replay->Wait(seconds(120)), 0) << testing::ReadFileText(dir_ + "/replay.log");
  ASSERT_TRUE(WaitForCount(kEvents, seconds(180))) << InfluxCount() << "\n"
                                                   << testing::ReadFileText(dir_ + "/scorer-a.log");
  EXPECT_EQ(a->Stop(), 0);
  EXPECT_EQ(b->Stop(), 0);
  ExpectExactlyTheBatchScores(expected);
  const std::string logs =
      testing::ReadFileText(dir_ + "/scorer-a.log") + testing::ReadFileText(dir_ + "/scorer-b.log");
  EXPECT_NE(logs.find("retrying with backoff"), std::string::npos) << logs;
}

TEST_F(KafkaStreamingTest, MalformedEventsGoToTheDeadLetterTopicWithReasons) {
  auto publisher =
      transport::kafka::NewKafkaPublisher(ParseUri(kafka_->Address("telemetry")).value());
  ASSERT_TRUE(publisher.ok()) << publisher.status().ToString();
  std::vector<transport::OutgoingMessage> batch;
  std::map<std::string, std::string> bad;  // payload -> expected reason fragment
  bad["{oops"] = "not valid JSON";
  bad[R"({"sensor_id":"s1","timestamp":5,"feature_1":1,"feature_2":"NaN","feature_3":1})"] =
      "feature 'feature_2' is string";
  bad[R"({"sensor_id":"s1","timestamp":6,"feature_1":1,"feature_3":1})"] =
      "missing feature 'feature_2'";
  bad[R"({"timestamp":7,"feature_1":1,"feature_2":1,"feature_3":1})"] = "no sensor id";
  bad[R"({"sensor_id":"s1","fs":100,"ax":[1,"x"]})"] = "sample 1 is string";
  int valid = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string p = R"({"sensor_id":"s)" + std::to_string(i % 3) + R"(","timestamp":)" +
                    std::to_string(1761519890 + i) +
                    R"(,"feature_1":0.1,"feature_2":-0.2,"feature_3":0.3})";
    batch.push_back({"s" + std::to_string(i % 3), p});
    ++valid;
    if (i % 200 == 0) {
      for (const auto& [payload, reason] : bad) batch.push_back({"s1", payload});
    }
  }
  ASSERT_TRUE(publisher.value()->Publish(batch).ok());
  ASSERT_TRUE(publisher.value()->Close().ok());
  auto a = Scorer(Source(), {InfluxAddress()}, "scorer-a.log",
                  {"--dead-letter", kafka_->Address("dead")});
  ASSERT_TRUE(WaitForCount(valid, seconds(60))) << testing::ReadFileText(dir_ + "/scorer-a.log");
  auto dead_sub = transport::kafka::NewKafkaSubscriber(
      ParseUri(kafka_->Address("dead") + "?group=checker").value());
  ASSERT_TRUE(dead_sub.ok());
  std::vector<json> dead;
  testing::WaitUntil(
      [&] {
        auto got = dead_sub.value()->Poll(1000, milliseconds(200));
        if (got.ok()) {
          for (const auto& m : got.value()) dead.push_back(json::parse(m.payload));
        }
        return dead.size() >= 5 * bad.size();
      },
      seconds(60));
  ASSERT_EQ(dead.size(), 5 * bad.size());
  for (const json& d : dead) {
    const std::string payload = d["payload"];
    ASSERT_TRUE(bad.count(payload)) << d.dump();
    EXPECT_NE(d["reason"].get<std::string>().find(bad[payload]), std::string::npos) << d.dump();
    EXPECT_EQ(d["origin"].get<std::string>().rfind("telemetry/", 0), 0u) << d.dump();
  }
  EXPECT_EQ(a->Stop(), 0);
  const std::string log = testing::ReadFileText(dir_ + "/scorer-a.log");
  EXPECT_NE(log.find("dead_letters=" + std::to_string(5 * bad.size())), std::string::npos) << log;
  EXPECT_EQ(InfluxCount(), valid);
}

// --- MQTT -----------------------------------------------------------------

TEST_F(StreamingTest, MqttToInfluxdbAndScoresTopicSurviveBrokerRestarts) {
  auto broker = testing::MosquittoService::Create();
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  auto& mqtt = *broker.value();
  StartInflux();
  TrainModel();
  const std::string base = "mqtt://127.0.0.1:" + std::to_string(mqtt.plain_port());
  const std::string telemetry = base + "/plant/telemetry?qos=1";
  const std::string source =
      telemetry + "&client_id=scorer-1&clean_session=false&spool=" + dir_ + "/spool";
  const std::string scores = base + "/plant/{key}/scores?qos=1";
  // A persistent checker on the scores topic.
  auto checker = transport::mqtt::NewMqttSubscriber(
      ParseUri(base + "/plant/+/scores?qos=1&client_id=checker&clean_session=false&spool=" + dir_ +
               "/checker-spool")
          .value());
  ASSERT_TRUE(checker.ok()) << checker.status().ToString();
  std::set<Key> seen_scores;
  auto drain = [&] {
    auto got = checker.value()->Poll(10000, milliseconds(100));
    if (!got.ok()) return;
    for (const auto& m : got.value()) {
      const json j = json::parse(m.payload);
      seen_scores.insert({j["sensor_id"], static_cast<std::int64_t>(j["timestamp"].get<double>())});
    }
  };
  auto replay = [&](const std::string& table) {
    return Sh("replay --input " + table +
              " --sensor-id-column sensor_id --timestamp-column timestamp --timestamp-unit s "
              "--feature-keys a,b,c --batch 500 --delay 0 --to '" +
              telemetry + "'");
  };
  WriteTable("t1.csv", 0, 2000);
  WriteTable("t2.csv", 2000, 2000);
  WriteTable("t3.csv", 4000, 1000);

  auto scorer = Scorer(source, {InfluxAddress(), scores}, "scorer.log");
  // The scorer's session must exist before events are published.
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return testing::ReadFileText(mqtt.log_path()).find("scorer-1") != std::string::npos; },
      seconds(20)));
  ASSERT_EQ(replay("t1.csv"), 0) << testing::ReadFileText(dir_ + "/cmd.log");
  ASSERT_TRUE(WaitForCount(2000, seconds(60))) << testing::ReadFileText(dir_ + "/scorer.log");

  // Broker restart while the scorer is connected: it reconnects, session kept.
  ASSERT_TRUE(mqtt.Stop().ok());
  ASSERT_TRUE(mqtt.Start().ok());
  ASSERT_EQ(replay("t2.csv"), 0) << testing::ReadFileText(dir_ + "/cmd.log");
  ASSERT_TRUE(WaitForCount(4000, seconds(60))) << testing::ReadFileText(dir_ + "/scorer.log");

  // Scorer down, events queued in its persistent session, broker restarted,
  // scorer back: the queued events are delivered.
  EXPECT_EQ(scorer->Stop(), 0);
  ASSERT_EQ(replay("t3.csv"), 0) << testing::ReadFileText(dir_ + "/cmd.log");
  ASSERT_TRUE(mqtt.Stop().ok());
  ASSERT_TRUE(mqtt.Start().ok());
  scorer = Scorer(source, {InfluxAddress(), scores}, "scorer2.log");
  ASSERT_TRUE(WaitForCount(5000, seconds(60))) << testing::ReadFileText(dir_ + "/scorer2.log");
  EXPECT_EQ(scorer->Stop(), 0);

  WriteTable("all.csv", 0, 5000);
  ExpectExactlyTheBatchScores(BatchScores("all.csv"));
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        drain();
        return seen_scores.size() >= 5000;
      },
      seconds(60)));
  EXPECT_EQ(seen_scores.size(), 5000u);
}

// The scorer acknowledges MQTT messages to the broker when it has them in its
// spool (transport/mqtt/mqtt_spool.h), not when it has processed them: a
// kill -9 mid-stream loses nothing, the restarted scorer hands out the
// uncommitted spooled events first. Env MH_TEST_MQTT_SPOOL=off runs the same
// test without the spool (the old behaviour: it loses the events that were
// received but not yet stored).
TEST_F(StreamingTest, MqttScorerKilledWithSigkillMidStreamLosesNothing) {
  constexpr int kEvents = 20000;
  auto broker = testing::MosquittoService::Create();
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
  auto& mqtt = *broker.value();
  StartInflux();
  TrainModel();
  const char* spool_env = std::getenv("MH_TEST_MQTT_SPOOL");
  const std::string spool =
      spool_env != nullptr && std::string(spool_env) == "off" ? "off" : dir_ + "/spool";
  const std::string telemetry =
      "mqtt://127.0.0.1:" + std::to_string(mqtt.plain_port()) + "/plant/telemetry?qos=1";
  const std::string source =
      telemetry + "&client_id=scorer-k9&clean_session=false&queue_size=2000&spool=" + spool;
  WriteTable("table.csv", 0, kEvents);
  const auto expected = BatchScores("table.csv");

  // An observer of the stream (clean session, no spool): tells how far the
  // replay has got.
  auto observer = transport::mqtt::NewMqttSubscriber(
      ParseUri(telemetry + "&clean_session=true&queue_size=100000").value());
  ASSERT_TRUE(observer.ok()) << observer.status().ToString();
  std::size_t observed = 0;
  auto observe = [&] {
    auto got = observer.value()->Poll(100000, milliseconds(10));
    if (got.ok()) observed += got->size();
  };
  // The first scorer writes and commits every 5,000 events (a long linger
  // never ends a batch early), so when the stream is at 7,500 it holds about
  // 2,500 events received (and acknowledged to the broker) but not stored.
  auto scorer = Scorer(source, {InfluxAddress()}, "scorer.log", {"--linger-ms", "60000"});
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return testing::ReadFileText(mqtt.log_path()).find("scorer-k9") != std::string::npos; },
      seconds(20)));
  auto replay = Spawn({"replay", "--input", dir_ + "/table.csv", "--sensor-id-column", "sensor_id",
                       "--timestamp-column", "timestamp", "--timestamp-unit", "s", "--feature-keys",
                       "a,b,c", "--batch", "200", "--rate", "2000", "--to", telemetry},
                      "replay.log");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        observe();
        return observed >= 7500;
      },
      seconds(60)))
      << observed;
  ASSERT_TRUE(WaitForCount(5000, seconds(30))) << testing::ReadFileText(dir_ + "/scorer.log");
  scorer->Signal(SIGKILL);
  EXPECT_EQ(scorer->Wait(seconds(10)), 128 + SIGKILL);
  const std::int64_t stored_at_kill = InfluxCount();
  RecordProperty("stored_at_kill", static_cast<int>(stored_at_kill));
  EXPECT_LT(stored_at_kill, kEvents);
  EXPECT_TRUE(replay->Running()) << "the kill was not mid-stream";

  scorer = Scorer(source, {InfluxAddress()}, "scorer2.log");
  ASSERT_EQ(replay->Wait(seconds(120)), 0) << testing::ReadFileText(dir_ + "/replay.log");
  const bool all = WaitForCount(kEvents, seconds(60));
  EXPECT_EQ(scorer->Stop(), 0);
  EXPECT_TRUE(observer.value()->Close().ok());
  const std::string log2 = testing::ReadFileText(dir_ + "/scorer2.log");
  EXPECT_TRUE(all) << InfluxCount() << " of " << kEvents << " stored (spool=" << spool << ")\n"
                   << log2;
  // Whether the restarted scorer found spooled, uncommitted events (almost
  // always: the killed one was mid-batch).
  RecordProperty("recovered_from_spool", log2.find("handed out first") != std::string::npos);
  ExpectExactlyTheBatchScores(expected);
}

}  // namespace
}  // namespace mh
