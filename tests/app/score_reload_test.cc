// Hot model reload end to end, in-process: `score --from inproc:...` with
// --model-poll, 10,000 feature events, the model file replaced after the
// first 5,000 were written. Every event is scored exactly once; the records
// of the first half carry model A's version and A's scores, those of the
// second half B's (compared with the iforest library in this process), in
// the JSON lines output and in the SQLite store (scores.model_version). The
// metrics count one accepted reload.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "blob/blob_client.h"
#include "core/file_util.h"
#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "testing/cli_run.h"
#include "testing/gaussian_model.h"
#include "testing/influxdb_service.h"
#include "testing/process.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"
#include "transport/inproc_transport.h"

namespace mh::app {
namespace {

const std::vector<std::string> kNames = {"rms", "kurtosis", "crest"};

iforest::Model Train(std::uint64_t seed, double shift) {
  return testing::GaussianModel(kNames, {.rows = 400, .trees = 30, .seed = seed, .mean = shift});
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The value of the sample `name{labels}` in a metrics text; -1 if absent.
double Metric(const std::string& text, const std::string& sample) {
  const std::size_t at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + sample.size() + 2));
}

TEST(ScoreReload, ModelReplacedMidStreamScoresEachEventOnceWithItsVersion) {
  const std::string dir = mh::testing::MakeTempDir("mh-score-reload");
  const std::string model_path = dir + "/model.mhm";
  const iforest::Model a = Train(1, 0);
  const iforest::Model b = Train(2, 3);  // another model: other scores
  const std::string a_bytes = iforest::SerializeModel(a);
  const std::string b_bytes = iforest::SerializeModel(b);
  const std::string va = blob::Sha256Hex(a_bytes).substr(0, 12);
  const std::string vb = blob::Sha256Hex(b_bytes).substr(0, 12);
  ASSERT_NE(va, vb);
  ASSERT_TRUE(WriteFileAtomic(model_path, a_bytes).ok());

  // 10,000 events: 50 machines, 200 windows each, distinct times.
  constexpr int kEvents = 10000;
  std::vector<std::string> events;
  std::map<std::string, std::vector<double>> rows;  // "machine@ns" -> features
  std::mt19937_64 rng(9);
  std::normal_distribution<double> g(0.5, 1.2);
  for (int i = 0; i < kEvents; ++i) {
    const std::string id = "m" + std::to_string(i % 50);
    const std::int64_t t_s = 1767225600 + i;
    std::vector<double> row = {g(rng), g(rng), g(rng)};
    nlohmann::json e = {{"sensor_id", id}, {"timestamp", t_s}};
    for (std::size_t k = 0; k < kNames.size(); ++k) e[kNames[k]] = row[k];
    events.push_back(e.dump());
    rows[id + "@" + std::to_string(t_s * 1000000000)] = row;
  }

  const std::string queue = "score-reload";
  auto publisher = transport::NewInprocPublisher(queue);
  const std::string out = dir + "/out.jsonl";
  const std::string db = dir + "/scores.db";
  const int port = mh::testing::FreeTcpPort();
  const std::string metrics = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  mh::testing::CliRun run;
  std::thread runner([&] {
    run = mh::testing::RunCli({"score", "--from", "inproc:" + queue, "--to", "jsonl:" + out, "--to",
                               "sqlite:" + db, "--model", model_path, "--model-poll", "20ms",
                               "--batch", "500", "--linger-ms", "20", "--stats-interval", "0",
                               "--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  });
  auto publish = [&](int from, int to) {
    std::vector<transport::OutgoingMessage> batch;
    for (int i = from; i < to; ++i) batch.push_back({"", events[i]});
    ASSERT_TRUE(publisher->Publish(batch).ok());
  };
  publish(0, kEvents / 2);
  ASSERT_TRUE(mh::testing::WaitUntil([&] { return Lines(out).size() >= kEvents / 2; },
                                     std::chrono::seconds(60)));
  // Model B replaces A; the scorer takes it before its next batch.
  ASSERT_TRUE(WriteFileAtomic(model_path, b_bytes).ok());
  std::string text;
  EXPECT_TRUE(mh::testing::WaitUntil(
      [&] {
        auto got = mh::testing::CurlGet(metrics);
        if (!got.ok() || got->status != 200) return false;
        text = got->body;
        return Metric(text, "machine_health_model_reloads_total{result=\"ok\"}") == 1;
      },
      std::chrono::seconds(60)))
      << text;
  publish(kEvents / 2, kEvents);
  EXPECT_TRUE(mh::testing::WaitUntil([&] { return Lines(out).size() >= kEvents; },
                                     std::chrono::seconds(60)));
  auto scraped = mh::testing::CurlGet(metrics);
  ASSERT_TRUE(scraped.ok());
  EXPECT_EQ(Metric(scraped->body, "machine_health_model_info{version=\"" + vb + "\",source=\"" +
                                      model_path + "\"}"),
            1)
      << scraped->body;
  EXPECT_EQ(Metric(scraped->body, "machine_health_model_reloads_total{result=\"refused\"}"), 0);
  EXPECT_GT(Metric(scraped->body, "machine_health_model_polls_total"), 0);
  std::raise(SIGINT);
  runner.join();
  ASSERT_EQ(run.code, 0) << run.err;

  iforest::Scorer score_a(a), score_b(b);
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kEvents));
  std::set<std::string> seen;
  int n_a = 0, n_b = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto r = nlohmann::json::parse(lines[i]);
    const std::string id = r["sensor_id"];
    const std::int64_t t_ns = static_cast<std::int64_t>(r["timestamp"].get<double>()) * 1000000000;
    const std::string key = id + "@" + std::to_string(t_ns);
    ASSERT_TRUE(rows.count(key)) << lines[i];
    EXPECT_TRUE(seen.insert(key).second) << "scored twice: " << key;
    const std::string version = r["model_version"];
    // Output order is event order: the first half was written before the
    // swap, the second after.
    EXPECT_EQ(version, i < kEvents / 2 ? va : vb) << "record " << i;
    iforest::Scorer& s = version == va ? score_a : score_b;
    EXPECT_EQ(r["score_samples"].get<double>(), s.ScoreSamples(rows[key])) << lines[i];
    ++(version == va ? n_a : n_b);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(n_a, kEvents / 2);
  EXPECT_EQ(n_b, kEvents / 2);

  // The store: each window once, with its model's version and full hash.
  EXPECT_EQ(mh::testing::QueryInt(db, "SELECT count(*) FROM scores"), kEvents);
  EXPECT_EQ(
      mh::testing::QueryInt(db, "SELECT count(*) FROM scores WHERE model_version = '" + va + "'"),
      kEvents / 2);
  EXPECT_EQ(
      mh::testing::QueryInt(db, "SELECT count(*) FROM scores WHERE model_version = '" + vb + "'"),
      kEvents / 2);
  EXPECT_EQ(mh::testing::QueryText(db,
                                   "SELECT group_concat(sha256 || ' ' || source, ';') FROM "
                                   "(SELECT * FROM models ORDER BY id)"),
            blob::Sha256Hex(a_bytes) + " " + model_path + ";" + blob::Sha256Hex(b_bytes) + " " +
                model_path);
  std::filesystem::remove_all(dir);
}

// --model-sha256 at start: a mismatch is a runtime error (exit 1) naming
// both hash prefixes; a malformed value is a usage error (exit 2).
TEST(ScoreReload, PinnedSha256MismatchAtStart) {
  const std::string dir = mh::testing::MakeTempDir("mh-score-pin");
  const std::string model_path = dir + "/model.mhm";
  const std::string bytes = iforest::SerializeModel(Train(1, 0));
  ASSERT_TRUE(WriteFileAtomic(model_path, bytes).ok());
  const std::string other(64, 'a');
  auto run = mh::testing::RunCli({"score", "--from", "inproc:score-pin", "--to",
                                  "jsonl:" + dir + "/o.jsonl", "--model", model_path,
                                  "--model-sha256", other});
  EXPECT_EQ(run.code, 1) << run.err;
  EXPECT_NE(run.err.find(blob::Sha256Hex(bytes).substr(0, 12)), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(other.substr(0, 12)), std::string::npos) << run.err;
  auto bad = mh::testing::RunCli({"score", "--from", "inproc:score-pin", "--to",
                                  "jsonl:" + dir + "/o.jsonl", "--model", model_path,
                                  "--model-sha256", "xyz"});
  EXPECT_EQ(bad.code, 2) << bad.err;
  auto poll = mh::testing::RunCli({"score", "--from", "inproc:score-pin", "--to",
                                   "jsonl:" + dir + "/o.jsonl", "--model", model_path,
                                   "--model-poll", "soon"});
  EXPECT_EQ(poll.code, 2) << poll.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::app
