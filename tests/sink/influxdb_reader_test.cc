// The dashboard over InfluxDB (`serve --influx`): sink::influxdb::InfluxdbReader
// against a real influxd 1.x started by the test, holding windows written by
// this project's InfluxDB sink (the prototype's schema), and the dashboard's
// API served from it in-process. Compared with the records written.
#include "sink/influxdb/influxdb_reader.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/api.h"
#include "http/dashboard_server.h"
#include "sink/influxdb/influxdb_sink.h"
#include "testing/cli_run.h"
#include "testing/influxdb_service.h"

namespace mh::sink::influxdb {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kT0 = 1761559200000000000;  // 2025-10-27T10:00:00Z
constexpr std::int64_t kStep = 100'000'000;        // 10 windows a second
constexpr int kWindows = 3000;                     // per machine: 5 minutes
constexpr int kLearning = 100;                     // m1's first windows: no score

class InfluxdbReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto influx = mh::testing::InfluxdbService::Launch();
    ASSERT_TRUE(influx.ok()) << influx.status().ToString();
    influx_ = std::move(influx).value();
    ASSERT_TRUE(influx_->CreateDatabase("iiot").ok());
    config_.api = ApiVersion::kV1;
    config_.host = "127.0.0.1";
    config_.port = influx_->port();
    config_.database = "iiot";
    config_.timeout = std::chrono::milliseconds(5000);
    auto sink = OpenInfluxdbSink(config_);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    auto names = std::make_shared<const std::vector<std::string>>(
        std::vector<std::string>{"rms_ax", "kurtosis_ax"});
    std::mt19937_64 rng(5);
    std::normal_distribution<double> normal(0, 1);
    std::vector<WindowRecord> batch;
    // m1: learning, then scored, anomalous at the end; m2: still learning.
    for (int i = 0; i < kWindows; ++i) {
      for (const char* id : {"m1", "m2"}) {
        WindowRecord r;
        r.machine_id = id;
        r.window_start_ns = kT0 + i * kStep;
        r.feature_names = names;
        r.features = {1 + 0.1 * normal(rng), 3 + normal(rng) + (i == 1234 ? 50 : 0)};
        if (std::string(id) == "m1" && i >= kLearning) {
          r.score =
              0.05 + 0.01 * normal(rng) - (i == 2222 ? 0.9 : 0) - (i == kWindows - 1 ? 0.5 : 0);
          r.score_samples = r.score - 0.5;
          r.threshold = -0.05;
          r.anomaly = r.score < r.threshold;
          scores_.push_back({r.window_start_ns, r.score});
        }
        if (std::string(id) == "m1") kurtosis_.push_back({r.window_start_ns, r.features[1]});
        batch.push_back(std::move(r));
      }
      if (batch.size() >= 1000) {
        ASSERT_TRUE((*sink)->Write(batch).ok());
        batch.clear();
      }
    }
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
    auto reader = InfluxdbReader::Open(config_);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_ = std::move(*reader);
  }

  std::unique_ptr<mh::testing::InfluxdbService> influx_;
  InfluxdbConfig config_;
  std::unique_ptr<InfluxdbReader> reader_;
  std::vector<std::pair<std::int64_t, double>> scores_;    // m1's
  std::vector<std::pair<std::int64_t, double>> kurtosis_;  // m1's
};

TEST_F(InfluxdbReaderTest, MachinesAreTheWrittenOnesWithTheirLatestState) {
  auto machines = reader_->Machines();
  ASSERT_TRUE(machines.ok()) << machines.status().ToString();
  ASSERT_EQ(machines->size(), 2u);
  const MachineSummary& m1 = (*machines)[0];
  EXPECT_EQ(m1.id, "m1");
  EXPECT_EQ(m1.state, "anomalous");  // its last window scored -0.45
  EXPECT_EQ(m1.updated_ns, kT0 + (kWindows - 1) * kStep);
  EXPECT_EQ(m1.windows, kWindows - kLearning);
  EXPECT_DOUBLE_EQ(m1.score, scores_.back().second);
  EXPECT_DOUBLE_EQ(m1.threshold, -0.05);
  const MachineSummary& m2 = (*machines)[1];
  EXPECT_EQ(m2.id, "m2");
  EXPECT_EQ(m2.state, "learning");
  EXPECT_TRUE(std::isnan(m2.score));
  EXPECT_EQ(m2.updated_ns, kT0 + (kWindows - 1) * kStep);
  EXPECT_EQ(m2.windows, kWindows);
  EXPECT_TRUE(reader_->Machine("nope").status().IsNotFound());
}

TEST_F(InfluxdbReaderTest, SeriesAsStoredOrTheTrueExtremesPerStretch) {
  // A short range: every point as written.
  const std::int64_t from = kT0 + 200 * kStep, to = kT0 + 300 * kStep;
  auto raw = reader_->GetSeries("m1", "score", from, to, 1000);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  ASSERT_EQ(raw->t_ns.size(), 100u);
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(raw->t_ns[i], scores_[100 + i].first);
    EXPECT_DOUBLE_EQ(raw->v[i], scores_[100 + i].second);
  }
  // Everything on 100 points: the dip and the spike survive, every value
  // lies between the true extremes, at most 100 points, in time order.
  for (const char* metric : {"score", "kurtosis_ax"}) {
    const auto& truth = std::string(metric) == "score" ? scores_ : kurtosis_;
    auto s = reader_->GetSeries("m1", metric, INT64_MIN, INT64_MAX, 100);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    SCOPED_TRACE(metric);
    EXPECT_LE(s->t_ns.size(), 100u);
    EXPECT_GE(s->t_ns.size(), 90u);
    EXPECT_TRUE(std::is_sorted(s->t_ns.begin(), s->t_ns.end()));
    double lo = 1e300, hi = -1e300;
    for (const auto& [t, v] : truth) lo = std::min(lo, v), hi = std::max(hi, v);
    EXPECT_DOUBLE_EQ(*std::min_element(s->v.begin(), s->v.end()), lo);
    EXPECT_DOUBLE_EQ(*std::max_element(s->v.begin(), s->v.end()), hi);
    // Each pair: a stretch's minimum at its start, its maximum half-way;
    // both equal the brute force over [start, next start).
    for (std::size_t k = 0; k + 2 < s->t_ns.size(); k += 2) {
      double mn = 1e300, mx = -1e300;
      for (const auto& [t, v] : truth) {
        if (t >= s->t_ns[k] && t < s->t_ns[k + 2]) mn = std::min(mn, v), mx = std::max(mx, v);
      }
      EXPECT_DOUBLE_EQ(s->v[k], mn) << k;
      EXPECT_DOUBLE_EQ(s->v[k + 1], mx) << k;
    }
  }
  EXPECT_TRUE(reader_->GetSeries("m1", "state_score", INT64_MIN, INT64_MAX, 10)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      reader_->GetSeries("m1", "nope", INT64_MIN, INT64_MAX, 10).status().IsInvalidArgument());
  EXPECT_TRUE(reader_->GetSeries("zz", "score", INT64_MIN, INT64_MAX, 10).status().IsNotFound());
  auto empty = reader_->GetSeries("m2", "score", INT64_MIN, INT64_MAX, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->t_ns.empty());
}

TEST_F(InfluxdbReaderTest, LiveWindowsFeaturesAndNoAlarms) {
  auto after = reader_->WindowsAfter("m1", scores_[10].first, 5);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_EQ((*after)[k].t_ns, scores_[11 + k].first);
    EXPECT_DOUBLE_EQ((*after)[k].score, scores_[11 + k].second);
  }
  auto names = reader_->FeatureNames("m1");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"kurtosis_ax", "rms_ax"}));
  auto alarms = reader_->Alarms({});
  ASSERT_TRUE(alarms.ok());
  EXPECT_TRUE(alarms->empty());
  EXPECT_TRUE(reader_->Alarm("a").status().IsNotFound());
  EXPECT_TRUE(reader_->Baseline("m1").status().IsNotFound());
}

TEST_F(InfluxdbReaderTest, TheDashboardApiServesIt) {
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.reader = std::shared_ptr<StoreReader>(std::move(reader_));
  auto server = http::DashboardServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto machines = mh::testing::CurlGet((*server)->url() + "api/machines");
  ASSERT_TRUE(machines.ok()) << machines.status().ToString();
  ASSERT_EQ(machines->status, 200) << machines->body;
  const json m = json::parse(machines->body);
  ASSERT_TRUE(m.is_array()) << machines->body.substr(0, 500);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["id"], "m1");
  EXPECT_EQ(m[0]["state"], "anomalous");
  EXPECT_EQ(m[1]["state"], "learning");
  auto series =
      mh::testing::CurlGet((*server)->url() + "api/series?machine=m1&metric=score&max=50");
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->status, 200) << series->body;
  const json s = json::parse(series->body);
  EXPECT_LE(s["t"].size(), 50u);
  EXPECT_GE(s["t"].size(), 40u);
  auto ack = mh::testing::CurlPost((*server)->url() + "api/alarms/x/ack", "{}");
  ASSERT_TRUE(ack.ok());
  EXPECT_GE(ack->status, 400);
  (*server)->Stop();
}

TEST(InfluxdbReaderAuth, PasswordIsSentAndARefusalIsNotAuthorised) {
  mh::testing::InfluxdbServiceOptions options;
  options.auth_enabled = true;
  auto influx = mh::testing::InfluxdbService::Launch(options);
  ASSERT_TRUE(influx.ok()) << influx.status().ToString();
  ASSERT_TRUE((*influx)->CreateAdmin("reader", "Rd-secret-93").ok());
  ASSERT_TRUE((*influx)->CreateDatabase("iiot").ok());
  InfluxdbConfig c;
  c.host = "127.0.0.1";
  c.port = (*influx)->port();
  c.database = "iiot";
  c.user = "reader";
  c.secret = "Rd-secret-93";
  auto good = InfluxdbReader::Open(c);
  ASSERT_TRUE(good.ok());
  auto none = (*good)->Machines();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  c.secret = "wrong";
  auto bad = InfluxdbReader::Open(c);
  ASSERT_TRUE(bad.ok());
  auto refused = (*bad)->Machines();
  ASSERT_TRUE(refused.status().IsInvalidArgument()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("not authorised"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("wrong"), std::string::npos);
}

TEST(InfluxdbReaderErrors, ServeTakesOneStoreAndAValidAddress) {
  const auto neither = mh::testing::RunCli({"serve"});
  EXPECT_EQ(neither.code, 2);
  EXPECT_NE(neither.err.find("give --db FILE or --influx URI"), std::string::npos) << neither.err;
  EXPECT_EQ(mh::testing::RunCli({"serve", "--db", "a.db", "--influx", "influxdb://h/db"}).code, 2);
  const auto bad = mh::testing::RunCli({"serve", "--influx", "influxdb://127.0.0.1:1"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--influx: "), std::string::npos) << bad.err;
}

TEST(InfluxdbReaderErrors, NoServerIsUnavailableNamingTheAddress) {
  InfluxdbConfig c;
  c.host = "127.0.0.1";
  c.port = 9;  // discard: nothing listens
  c.database = "iiot";
  c.timeout = std::chrono::milliseconds(2000);
  auto reader = InfluxdbReader::Open(c);
  ASSERT_TRUE(reader.ok());
  auto machines = (*reader)->Machines();
  ASSERT_TRUE(machines.status().IsUnavailable()) << machines.status().ToString();
  EXPECT_NE(machines.status().message().find("127.0.0.1:9"), std::string::npos);
  InfluxdbConfig none;
  EXPECT_TRUE(InfluxdbReader::Open(none).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mh::sink::influxdb
