// End-to-end: `machine-health score --from ... --to ...` (the streaming
// scorer) with file transports, so that it runs without servers: a model
// trained by `train`, events written by `replay --to jsonl:`, bad events
// among them; scores must equal batch `score` bit for bit, bad events must be
// in the dead-letter file with their reasons, every target must hold every
// scored event. Kafka, MQTT and InfluxDB runs are in tests/integration.
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/time_util.h"
#include "testing/process.h"
#include "testing/test_paths.h"

namespace mh {
namespace {

using nlohmann::json;

std::string Bin() { return testing::BinaryPath(); }

int RunMh(const std::string& args, std::string* out = nullptr, const std::string& dir = "") {
  std::string captured;
  const std::string cmd = "cd '" + (dir.empty() ? std::string("/tmp") : dir) + "' && '" + Bin() +
                          "' " + args + " 2>stderr.txt";
  const int rc = testing::RunCommand(cmd, &captured);
  if (out) *out = captured;
  return rc;
}

std::vector<json> ReadJsonLines(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

class ScoreStreamE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Bin().empty()) << "MH_BINARY not set";
    dir_ = testing::MakeTempDir("score-stream");
    // Training data and a table to replay: 3 features, some outliers.
    std::mt19937_64 rng(3);
    std::normal_distribution<double> g(0, 1);
    std::ofstream train(dir_ + "/train.csv");
    train.precision(17);
    train << "a,b,c\n";
    for (int i = 0; i < 2000; ++i) train << g(rng) << "," << g(rng) << "," << g(rng) << "\n";
    train.close();
    std::ofstream table(dir_ + "/table.csv");
    table.precision(17);
    table << "sensor_id,timestamp,a,b,c\n";
    for (int i = 0; i < 3000; ++i) {
      const double scale = i % 50 == 0 ? 6 : 1;
      table << "s" << (i % 3) << "," << 1761519890 + i << "," << scale * g(rng) << "," << g(rng)
            << "," << g(rng) << "\n";
    }
    table.close();
    ASSERT_EQ(RunMh("train --input train.csv --features a,b,c --trees 50 --seed 7 --out model.mhm",
                    nullptr, dir_),
              0)
        << testing::ReadFileText(dir_ + "/stderr.txt");
  }
  std::string dir_;
};

TEST_F(ScoreStreamE2e, ReplayThenStreamScoreEqualsBatchScoreAndBadEventsAreDeadLettered) {
  // Events as the prototype's replayer sent them (feature_1..3).
  ASSERT_EQ(RunMh("replay --input table.csv --sensor-id-column sensor_id --timestamp-column "
                  "timestamp --timestamp-unit s --feature-keys a,b,c --batch 500 --delay 0 --to "
                  "jsonl:events.jsonl",
                  nullptr, dir_),
            0)
      << testing::ReadFileText(dir_ + "/stderr.txt");
  // Bad events appended.
  {
    std::ofstream ev(dir_ + "/events.jsonl", std::ios::app);
    ev << "{not json\n";
    ev << R"({"sensor_id":"s9","timestamp":1,"feature_1":1,"feature_2":"x","feature_3":2})"
       << "\n";
    ev << R"({"sensor_id":"s9","timestamp":2,"feature_1":1,"feature_3":2})"
       << "\n";
  }
  ASSERT_EQ(RunMh("score --model model.mhm --from jsonl:events.jsonl --to jsonl:scores.jsonl "
                  "--to sqlite:scores.db --dead-letter jsonl:dead.jsonl --batch 700",
                  nullptr, dir_),
            0)
      << testing::ReadFileText(dir_ + "/stderr.txt");
  const std::string log = testing::ReadFileText(dir_ + "/stderr.txt");
  EXPECT_NE(log.find("dead_letters=3"), std::string::npos) << log;
  EXPECT_NE(log.find("scored=3000"), std::string::npos) << log;

  // Batch scoring of the same rows is the reference.
  ASSERT_EQ(RunMh("score --model model.mhm --input table.csv --out batch.csv", nullptr, dir_), 0)
      << testing::ReadFileText(dir_ + "/stderr.txt");
  std::ifstream batch(dir_ + "/batch.csv");
  std::string header;
  std::getline(batch, header);
  std::vector<std::string> cols;
  {
    std::stringstream hs(header);
    std::string c;
    while (std::getline(hs, c, ',')) cols.push_back(c);
  }
  const auto col = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin());
  };
  std::map<std::pair<std::string, std::int64_t>, std::pair<double, int>> expected;
  std::string line;
  while (std::getline(batch, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string c;
    while (std::getline(ls, c, ',')) f.push_back(c);
    // Batch output carries the timestamp as an instant (RFC 3339); the
    // stream's events carry the epoch seconds they were replayed with.
    const Result<std::int64_t> ns = ParseInstant(f[col("timestamp")]);
    ASSERT_TRUE(ns.ok()) << line;
    expected[{f[col("sensor_id")], *ns / 1000000000}] = {std::stod(f[col("score")]),
                                                         std::stoi(f[col("anomaly")])};
  }
  ASSERT_EQ(expected.size(), 3000u);

  const auto scores = ReadJsonLines(dir_ + "/scores.jsonl");
  ASSERT_EQ(scores.size(), 3000u);
  int anomalies = 0;
  for (const json& s : scores) {
    const auto key =
        std::make_pair(s["sensor_id"].get<std::string>(), s["timestamp"].get<std::int64_t>());
    ASSERT_TRUE(expected.count(key)) << s.dump();
    EXPECT_EQ(s["score"].get<double>(), expected[key].first) << s.dump();
    EXPECT_EQ(s["anomaly"].get<bool>(), expected[key].second == 1) << s.dump();
    anomalies += s["anomaly"].get<bool>();
  }
  EXPECT_GT(anomalies, 30);

  const auto dead = ReadJsonLines(dir_ + "/dead.jsonl");
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_NE(dead[0]["reason"].get<std::string>().find("not valid JSON"), std::string::npos);
  EXPECT_EQ(dead[0]["payload"].get<std::string>(), "{not json");
  EXPECT_EQ(dead[0]["origin"].get<std::string>(), "events.jsonl:3001");
  EXPECT_NE(dead[1]["reason"].get<std::string>().find("feature 'feature_2' is string"),
            std::string::npos);
  EXPECT_NE(dead[2]["reason"].get<std::string>().find("missing feature"), std::string::npos);

  // The SQLite target got every scored event too.
  std::string count;
  ASSERT_EQ(
      testing::RunCommand("sqlite3 '" + dir_ + "/scores.db' 'SELECT COUNT(*) FROM scores'", &count),
      0);
  EXPECT_EQ(std::stoi(count), 3000);

  // Scoring the same events again overwrites in SQLite (idempotent points).
  ASSERT_EQ(RunMh("score --model model.mhm --from jsonl:events.jsonl --to sqlite:scores.db",
                  nullptr, dir_),
            0);
  ASSERT_EQ(
      testing::RunCommand("sqlite3 '" + dir_ + "/scores.db' 'SELECT COUNT(*) FROM scores'", &count),
      0);
  EXPECT_EQ(std::stoi(count), 3000);
}

TEST_F(ScoreStreamE2e, FeatureKeysFromTheEnvironmentAsThePrototype) {
  {
    std::ofstream ev(dir_ + "/named.jsonl");
    ev << R"({"sensor_id":"s1","timestamp":5,"x":0.1,"y":0.2,"z":0.3})"
       << "\n";
  }
  std::string out;
  ASSERT_EQ(RunMh("score --model model.mhm --from jsonl:named.jsonl --to -", &out, dir_), 0);
  EXPECT_EQ(out, "") << "without keys the event has none of a,b,c nor feature_N";
  const std::string cmd = "cd '" + dir_ + "' && FEATURE_KEYS=x,y,z '" + Bin() +
                          "' score --model model.mhm --from jsonl:named.jsonl --to - 2>/dev/null";
  ASSERT_EQ(testing::RunCommand(cmd, &out), 0);
  const json s = json::parse(out);
  EXPECT_EQ(s["sensor_id"], "s1");
  EXPECT_EQ(s["timestamp"], 5);
  EXPECT_TRUE(s.contains("score"));
}

TEST_F(ScoreStreamE2e, UsageErrorsNameTheOption) {
  std::string out;
  EXPECT_EQ(RunMh("score --model model.mhm --from jsonl:x.jsonl", &out, dir_), 2);
  EXPECT_NE(testing::ReadFileText(dir_ + "/stderr.txt").find("--to"), std::string::npos);
  EXPECT_EQ(RunMh("score --model model.mhm --from nowhere --to -", &out, dir_), 2);
  EXPECT_NE(testing::ReadFileText(dir_ + "/stderr.txt").find("--from"), std::string::npos);
  EXPECT_EQ(RunMh("score --model model.mhm --from jsonl:x.jsonl --to ftp://h/x", &out, dir_), 2);
  EXPECT_NE(testing::ReadFileText(dir_ + "/stderr.txt").find("unknown target"), std::string::npos);
  EXPECT_EQ(RunMh("score --model model.mhm --from mqtt://u:secret@h:1/t --to -", &out, dir_), 2);
  const std::string err = testing::ReadFileText(dir_ + "/stderr.txt");
  EXPECT_NE(err.find("password"), std::string::npos) << err;
  EXPECT_EQ(err.find("secret"), std::string::npos) << err;
  EXPECT_EQ(RunMh("score --model model.mhm --from jsonl:x.jsonl --input a.csv --to -", &out, dir_),
            2);
  EXPECT_EQ(RunMh("score --model model.mhm --from jsonl:missing.jsonl --to -", &out, dir_), 1);
  EXPECT_NE(testing::ReadFileText(dir_ + "/stderr.txt").find("missing.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace mh
