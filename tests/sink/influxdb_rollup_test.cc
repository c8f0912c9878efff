// The InfluxDB retention and rollup files of deploy/influxdb/ (issue 16).
// 1.x: the .iql file is applied as it is to a real influxd, a day of windows
// is written by the sink, each continuous query of the file is run as its
// backfill (its own SELECT ... INTO with a time range added: a CQ itself only
// covers the present) and every rollup point is compared with min/mean/max/
// count computed here. 2.x (no Flux engine here): the task files are checked
// for the seed's bucket, measurement and field names and their task options.
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "influxdb_deploy_files.h"
#include "sink/influxdb/influxdb_sink.h"
#include "testing/influxdb_service.h"
#include "testing/test_paths.h"

namespace mh::sink::influxdb {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using deploy_files::Backfill;
using deploy_files::ContinuousQueries;
using deploy_files::ContinuousQuery;
using deploy_files::PostQuery;
using deploy_files::ReadText;
using deploy_files::Stats;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kStep = 10 * kSecond;  // one window every 10 s
const std::vector<std::string> kMachines = {"m1", "m2"};
const auto kNames = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"rms_ax", "kurtosis_ax", "peak_freq_ax"});

std::string DeployDir() { return mh::testing::SourceDir() + "/deploy/influxdb"; }

// A day of windows per machine, starting `day_start`; values are multiples of
// 1/64 so that every sum (and so every mean) is exact in both computations.
// Every 7th window is still learning (no score).
std::vector<WindowRecord> MakeDay(std::int64_t day_start) {
  std::vector<WindowRecord> records;
  std::uint64_t state = 12345;
  auto next = [&state](int range) {  // LCG: deterministic, independent of the library
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((state >> 33) % static_cast<std::uint64_t>(range));
  };
  for (std::int64_t t = day_start; t < day_start + kDay; t += kStep) {
    for (const std::string& machine : kMachines) {
      WindowRecord r;
      r.machine_id = machine;
      r.window_start_ns = t;
      r.feature_names = kNames;
      r.features = {next(256) / 64.0, next(640) / 64.0 - 3, 50.0 + next(16)};
      r.rms = r.features[0];
      if ((t / kStep) % 7 != 0) {
        r.score = (next(129) - 64) / 64.0;
        r.score_samples = r.score - 0.5;
        r.threshold = -0.75;
        r.anomaly = r.score < r.threshold;
      }
      records.push_back(std::move(r));
    }
  }
  return records;
}

// The expected rollup of one measurement: (machine, bucket start) -> field -> value.
using Expected = std::map<std::pair<std::string, std::int64_t>, std::map<std::string, json>>;

void AddStats(const std::string& field, const Stats& s, std::map<std::string, json>* row) {
  (*row)["min_" + field] = s.min;
  (*row)["mean_" + field] = s.sum / static_cast<double>(s.count);
  (*row)["max_" + field] = s.max;
  (*row)["count_" + field] = s.count;
}

Expected ExpectedScores(const std::vector<WindowRecord>& records, std::int64_t width) {
  std::map<std::pair<std::string, std::int64_t>, std::map<std::string, Stats>> stats;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> anomalies;
  for (const WindowRecord& r : records) {
    if (!std::isfinite(r.score)) continue;
    const auto key = std::make_pair(r.machine_id, r.window_start_ns / width * width);
    stats[key]["score"].Add(r.score);
    stats[key]["score_samples"].Add(r.score_samples);
    if (r.anomaly) ++anomalies[key];
  }
  Expected expected;
  for (const auto& [key, fields] : stats) {
    for (const auto& [field, s] : fields) AddStats(field, s, &expected[key]);
    auto a = anomalies.find(key);
    expected[key]["anomalies"] = a == anomalies.end() ? json(nullptr) : json(a->second);
  }
  return expected;
}

Expected ExpectedFeatures(const std::vector<WindowRecord>& records, std::int64_t width) {
  std::map<std::pair<std::string, std::int64_t>, std::map<std::string, Stats>> stats;
  for (const WindowRecord& r : records) {
    const auto key = std::make_pair(r.machine_id, r.window_start_ns / width * width);
    for (std::size_t f = 0; f < kNames->size(); ++f) stats[key][(*kNames)[f]].Add(r.features[f]);
  }
  Expected expected;
  for (const auto& [key, fields] : stats) {
    for (const auto& [field, s] : fields) AddStats(field, s, &expected[key]);
  }
  return expected;
}

class InfluxdbRollupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto influx = mh::testing::InfluxdbService::Launch();
    ASSERT_TRUE(influx.ok()) << influx.status().ToString();
    influx_ = std::move(influx).value();
  }

  // POST /query (statements that write); the answer's results, each checked
  // for an error.
  json Post(const std::string& database, const std::string& influxql) {
    return PostQuery(*influx_, database, influxql);
  }

  // Every series of a SELECT: (tag value, time) -> column -> value.
  std::map<std::pair<std::string, std::int64_t>, std::map<std::string, json>> Select(
      const std::string& influxql, const std::string& tag) {
    std::map<std::pair<std::string, std::int64_t>, std::map<std::string, json>> rows;
    Result<std::string> text = influx_->Query("iiot", influxql);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) return rows;
    const json answer = json::parse(*text);
    const json& result = answer["results"][0];
    EXPECT_FALSE(result.contains("error")) << *text;
    for (const json& series : result.value("series", json::array())) {
      if (!series.contains("tags") || !series["tags"].contains(tag)) {
        ADD_FAILURE() << "series without tag " << tag << ": " << series.dump().substr(0, 200);
        continue;
      }
      const std::string id = series["tags"][tag].get<std::string>();
      const json& columns = series["columns"];
      for (const json& values : series["values"]) {
        auto& row = rows[{id, values[0].get<std::int64_t>()}];
        for (std::size_t c = 1; c < columns.size(); ++c) row[columns[c]] = values[c];
      }
    }
    return rows;
  }

  std::unique_ptr<mh::testing::InfluxdbService> influx_;
};

void ExpectRollup(
    const std::map<std::pair<std::string, std::int64_t>, std::map<std::string, json>>& actual,
    const Expected& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (const auto& [key, fields] : expected) {
    auto it = actual.find(key);
    ASSERT_NE(it, actual.end()) << what << " " << key.first << " " << key.second;
    ASSERT_EQ(it->second.size(), fields.size()) << what << " columns at " << key.second;
    for (const auto& [field, value] : fields) {
      ASSERT_TRUE(it->second.count(field)) << what << " has no field " << field;
      // Exact: the values are dyadic, so sums and means are exact in both.
      ASSERT_EQ(it->second.at(field), value)
          << what << " " << key.first << " " << key.second << " " << field;
    }
  }
}

TEST_F(InfluxdbRollupTest, ContinuousQueriesOfTheFileRollUpADayExactly) {
  const std::string iql = ReadText(DeployDir() + "/influxdb1-retention.iql");
  ASSERT_FALSE(iql.empty()) << DeployDir();
  const json applied = Post("", iql);  // the file as it is, all statements at once
  ASSERT_EQ(applied.size(), 10u);
  ASSERT_EQ(Post("", iql).size(), 10u);  // applying it again changes nothing and is no error

  // Retention policies as documented.
  std::map<std::string, std::pair<std::string, bool>> policies;
  Result<std::string> text = influx_->Query("iiot", "SHOW RETENTION POLICIES ON \"iiot\"");
  ASSERT_TRUE(text.ok());
  const json answer = json::parse(*text);
  for (const json& row : answer["results"][0]["series"][0]["values"]) {
    policies[row[0].get<std::string>()] = {row[1].get<std::string>(), row[4].get<bool>()};
  }
  EXPECT_EQ(policies, (std::map<std::string, std::pair<std::string, bool>>{
                          {"autogen", {"720h0m0s", true}},
                          {"rollup_1m", {"2160h0m0s", false}},
                          {"rollup_1h", {"43800h0m0s", false}}}));

  const std::vector<ContinuousQuery> queries = ContinuousQueries(iql);
  std::vector<std::string> names;
  for (const ContinuousQuery& q : queries) names.push_back(q.name);
  ASSERT_THAT(names, ::testing::ElementsAre("mh_anomaly_score_1m", "mh_anomalies_1m",
                                            "mh_signal_features_1m", "mh_anomaly_score_1h",
                                            "mh_anomalies_1h", "mh_signal_features_1h"));
  // The server holds the same queries.
  text = influx_->Query("iiot", "SHOW CONTINUOUS QUERIES");
  ASSERT_TRUE(text.ok());
  for (const std::string& name : names) EXPECT_THAT(*text, HasSubstr("\"" + name + "\""));

  // A whole day two days ago (inside the 30-day raw policy), in the past so
  // that the running CQ service never touches it.
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t day_start = now / kDay * kDay - 2 * kDay;
  const std::vector<WindowRecord> records = MakeDay(day_start);
  ASSERT_EQ(records.size(), 2u * 8640u);
  InfluxdbConfig config;
  config.api = ApiVersion::kV1;
  config.host = "127.0.0.1";
  config.port = influx_->port();
  config.database = "iiot";
  config.timeout = std::chrono::milliseconds(10000);
  auto sink = OpenInfluxdbSink(config);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  for (std::size_t i = 0; i < records.size(); i += 4000) {
    const std::size_t n = std::min<std::size_t>(4000, records.size() - i);
    Status s = (*sink)->Write(std::span<const WindowRecord>(records.data() + i, n));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_EQ((*sink)->metrics().rejected_points, 0u);

  for (const ContinuousQuery& q : queries) {
    const std::string backfill = Backfill(q.select, day_start, day_start + kDay);
    ASSERT_NE(backfill, q.select) << q.name << ": no GROUP BY time(...)";
    const json results = Post("iiot", backfill);
    ASSERT_EQ(results.size(), 1u) << q.name;
    // SELECT ... INTO answers the number of points written.
    ASSERT_GT(results[0]["series"][0]["values"][0][1].get<std::int64_t>(), 0) << q.name;
  }

  ExpectRollup(
      Select("SELECT * FROM \"iiot\".\"rollup_1m\".\"anomaly_score_1m\" GROUP BY *", "sensor_id"),
      ExpectedScores(records, kMinute), "anomaly_score_1m");
  ExpectRollup(
      Select("SELECT * FROM \"iiot\".\"rollup_1h\".\"anomaly_score_1h\" GROUP BY *", "sensor_id"),
      ExpectedScores(records, kHour), "anomaly_score_1h");
  ExpectRollup(
      Select("SELECT * FROM \"iiot\".\"rollup_1m\".\"signal_features_1m\" GROUP BY *", "device_id"),
      ExpectedFeatures(records, kMinute), "signal_features_1m");
  ExpectRollup(
      Select("SELECT * FROM \"iiot\".\"rollup_1h\".\"signal_features_1h\" GROUP BY *", "device_id"),
      ExpectedFeatures(records, kHour), "signal_features_1h");
  EXPECT_EQ(ExpectedScores(records, kMinute).size(), 2u * 1440u);
  EXPECT_EQ(ExpectedFeatures(records, kHour).size(), 2u * 24u);
}

// 2.x: no Flux engine or parser here (InfluxDB 2 is not in Debian), so the
// task files are checked for what must match the sink's schema and the 1.x file.
TEST(InfluxdbRollupTasksTest, FluxTasksUseTheSeedNamesAndMatchTheirResolution) {
  const std::map<std::string, std::vector<std::string>> measurements = {
      {"anomaly_score",
       {"r._field == \"score\"", "r._field == \"score_samples\"",
        "r._field == \"anomaly\" and r._value == true", "\"anomalies\""}},
      {"signal_features", {}}};
  int files = 0;
  for (const auto& [measurement, extra] : measurements) {
    for (const std::string resolution : {"1m", "1h"}) {
      const std::string path = DeployDir() + "/tasks/" + measurement + "_" + resolution + ".flux";
      const std::string flux = ReadText(path);
      ASSERT_FALSE(flux.empty()) << path;
      ++files;
      SCOPED_TRACE(path);
      EXPECT_THAT(flux, HasSubstr("option task = {name: \"mh_" + measurement + "_" + resolution +
                                  "\", every: " + resolution));
      EXPECT_THAT(flux, HasSubstr("from(bucket: \"iiot_rms\")"));
      EXPECT_THAT(flux, HasSubstr("r._measurement == \"" + measurement + "\""));
      EXPECT_THAT(flux, HasSubstr("_measurement: \"" + measurement + "_" + resolution + "\""));
      EXPECT_THAT(flux, HasSubstr("to(bucket: \"iiot_rms_" + resolution + "\")"));
      for (const std::string fn : {"min", "mean", "max", "count"}) {
        EXPECT_THAT(flux, HasSubstr("rollup(fn: " + fn + ", prefix: \"" + fn + "\")"));
      }
      for (const std::string& text : extra) EXPECT_THAT(flux, HasSubstr(text));
      // Every aggregateWindow has the task's resolution and stamps the
      // window's start, like the 1.x continuous queries.
      std::size_t windows = 0;
      for (std::size_t at = flux.find("aggregateWindow("); at != std::string::npos;
           at = flux.find("aggregateWindow(", at + 1)) {
        ++windows;
        const std::string head = "aggregateWindow(every: " + resolution + ", fn: ";
        EXPECT_EQ(flux.compare(at, head.size(), head), 0) << flux.substr(at, 60);
        EXPECT_NE(flux.find("timeSrc: \"_start\"", at), std::string::npos);
      }
      EXPECT_EQ(windows, measurement == "anomaly_score" ? 2u : 1u);
      // Balanced brackets: a cheap guard against a broken edit.
      for (const auto& [open, close] : {std::pair{'(', ')'}, {'{', '}'}, {'[', ']'}}) {
        EXPECT_EQ(std::count(flux.begin(), flux.end(), open),
                  std::count(flux.begin(), flux.end(), close));
      }
    }
  }
  EXPECT_EQ(files, 4);
}

}  // namespace
}  // namespace mh::sink::influxdb
