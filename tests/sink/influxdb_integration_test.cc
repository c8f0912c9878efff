// Integration tests of the InfluxDB sink against real servers started by the
// test: influxd 1.x (v1 /write, read back with InfluxQL) and VictoriaMetrics
// (v2 /api/v2/write, read back with /api/v1/export; also over HTTPS with a
// throw-away CA, v1 and v2). A missing server program or openssl fails the
// test with an install hint.
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sink/influxdb/influxdb_sink.h"
#include "sink/influxdb/influxdb_writer.h"
#include "sink/influxdb/line_protocol.h"
#include "testing/influxdb_service.h"
#include "testing/process.h"
#include "testing/victoria_metrics_service.h"

namespace mh::sink::influxdb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

constexpr std::int64_t kT0 = 1761559200000000000;  // 2025-10-27T10:00:00Z, the seed data's day
constexpr std::int64_t kStep = 5'000'000'000;      // 5 s windows
const auto kNames = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{
    "rms_ax", "rms_ay", "peak_freq_ax", "bandE0_200_ax", "kurtosis_ax", "crest_factor"});

// `count` records over `machines` machines, deterministic; every 10th record
// of a machine is still learning (no score).
std::vector<WindowRecord> MakeRecords(int count, int machines, std::uint64_t seed = 7) {
  std::mt19937_64 random(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<WindowRecord> records;
  records.reserve(count);
  for (int i = 0; i < count; ++i) {
    WindowRecord r;
    r.machine_id = "m" + std::to_string(i % machines + 1);
    r.window_start_ns = kT0 + static_cast<std::int64_t>(i / machines) * kStep;
    r.feature_names = kNames;
    for (std::size_t f = 0; f < kNames->size(); ++f) r.features.push_back(normal(random));
    r.rms = std::abs(r.features[0]);
    if ((i / machines) % 10 != 0) {
      r.score = normal(random) * 0.1;
      r.score_samples = r.score - 0.5;
      r.anomaly = r.score < -0.05;
      r.threshold = -0.05;
    }
    records.push_back(std::move(r));
  }
  return records;
}

Status WriteInBatches(Sink& sink, const std::vector<WindowRecord>& records, std::size_t batch) {
  for (std::size_t i = 0; i < records.size(); i += batch) {
    const std::size_t n = std::min(batch, records.size() - i);
    MH_RETURN_IF_ERROR(sink.Write(std::span<const WindowRecord>(records.data() + i, n)));
  }
  return Status::OK();
}

InfluxdbConfig V1Config(const mh::testing::InfluxdbService& influx, const std::string& db) {
  InfluxdbConfig c;
  c.api = ApiVersion::kV1;
  c.host = "127.0.0.1";
  c.port = influx.port();
  c.database = db;
  c.timeout = std::chrono::milliseconds(3000);
  return c;
}

class InfluxdbIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto influx = mh::testing::InfluxdbService::Launch();
    ASSERT_TRUE(influx.ok()) << influx.status().ToString();
    influx_ = std::move(influx).value();
    ASSERT_TRUE(influx_->CreateDatabase("iiot").ok());
  }

  // The "values" rows of the first series of a query answer.
  json Rows(const std::string& influxql) {
    Result<std::string> text = influx_->Query("iiot", influxql);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) return json::array();
    json answer = json::parse(*text);
    const json& result = answer["results"][0];
    EXPECT_FALSE(result.contains("error")) << *text;
    if (!result.contains("series")) return json::array();
    return result["series"][0]["values"];
  }

  // Per tag value: count(field) of a measurement grouped by the tag.
  std::map<std::string, std::int64_t> Counts(const std::string& field,
                                             const std::string& measurement,
                                             const std::string& tag) {
    std::map<std::string, std::int64_t> counts;
    Result<std::string> text =
        influx_->Query("iiot", "SELECT count(\"" + field + "\") FROM " + measurement +
                                   " GROUP BY \"" + tag + "\"");
    EXPECT_TRUE(text.ok());
    if (!text.ok()) return counts;
    json answer = json::parse(*text);
    for (const json& series : answer["results"][0].value("series", json::array())) {
      counts[series["tags"][tag].get<std::string>()] = series["values"][0][1].get<std::int64_t>();
    }
    return counts;
  }

  std::unique_ptr<mh::testing::InfluxdbService> influx_;
};

TEST_F(InfluxdbIntegrationTest, TenThousandRecordsReadBackExactly) {
  const std::vector<WindowRecord> records = MakeRecords(10000, 4);
  auto sink = OpenInfluxdbSink(V1Config(*influx_, "iiot"));
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE(WriteInBatches(**sink, records, 1000).ok());

  // 2,500 windows per machine, 250 of them learning (no score line).
  const std::map<std::string, std::int64_t> scored = {
      {"m1", 2250}, {"m2", 2250}, {"m3", 2250}, {"m4", 2250}};
  const std::map<std::string, std::int64_t> all = {
      {"m1", 2500}, {"m2", 2500}, {"m3", 2500}, {"m4", 2500}};
  EXPECT_EQ(Counts("score", "anomaly_score", "sensor_id"), scored);
  EXPECT_EQ(Counts("anomaly", "anomaly_score", "sensor_id"), scored);
  EXPECT_EQ(Counts("rms_ax", "signal_features", "device_id"), all);
  EXPECT_EQ(Counts("crest_factor", "signal_features", "device_id"), all);
  InfluxdbMetrics m = (*sink)->metrics();
  EXPECT_EQ(m.points_written, 19000u);
  EXPECT_EQ(m.requests, 10u);
  EXPECT_EQ(m.rejected_points, 0u);

  // Every value of one machine, exactly, at its event time.
  std::map<std::int64_t, const WindowRecord*> m3;
  for (const WindowRecord& r : records) {
    if (r.machine_id == "m3") m3[r.window_start_ns] = &r;
  }
  json rows = Rows(
      "SELECT score, score_samples, anomaly, threshold FROM anomaly_score WHERE sensor_id = 'm3'");
  ASSERT_EQ(rows.size(), 2250u);
  for (const json& row : rows) {
    const WindowRecord& r = *m3.at(row[0].get<std::int64_t>());
    ASSERT_EQ(row[1].get<double>(), r.score);
    ASSERT_EQ(row[2].get<double>(), r.score_samples);
    ASSERT_EQ(row[3].get<bool>(), r.anomaly);
    ASSERT_EQ(row[4].get<double>(), r.threshold);
  }
  rows =
      Rows("SELECT " +
           std::string("rms_ax, rms_ay, peak_freq_ax, bandE0_200_ax, kurtosis_ax, crest_factor") +
           " FROM signal_features WHERE device_id = 'm3'");
  ASSERT_EQ(rows.size(), 2500u);
  for (const json& row : rows) {
    const WindowRecord& r = *m3.at(row[0].get<std::int64_t>());
    for (std::size_t f = 0; f < r.features.size(); ++f) {
      ASSERT_EQ(row[f + 1].get<double>(), r.features[f]) << (*kNames)[f];
    }
  }
  // One point by sensor and timestamp.
  const WindowRecord& probe = records[4 * 1234 + 1];  // m2, window 1234
  ASSERT_EQ(probe.machine_id, "m2");
  rows = Rows("SELECT score FROM anomaly_score WHERE sensor_id = 'm2' AND time = " +
              std::to_string(probe.window_start_ns));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1].get<double>(), probe.score);
}

TEST_F(InfluxdbIntegrationTest, RewritingTheSameBatchIsIdempotent) {
  const std::vector<WindowRecord> records = MakeRecords(2000, 2);
  auto sink = OpenInfluxdbSink(V1Config(*influx_, "iiot"));
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(records).ok());
  const auto scores = Counts("score", "anomaly_score", "sensor_id");
  const auto features = Counts("rms_ax", "signal_features", "device_id");
  ASSERT_EQ(scores.at("m1"), 900);
  ASSERT_EQ(features.at("m2"), 1000);
  ASSERT_TRUE((*sink)->Write(records).ok());  // a redelivery
  ASSERT_TRUE(WriteInBatches(**sink, records, 333).ok());
  EXPECT_EQ(Counts("score", "anomaly_score", "sensor_id"), scores);
  EXPECT_EQ(Counts("rms_ax", "signal_features", "device_id"), features);
  json rows = Rows("SELECT count(score) FROM anomaly_score");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1].get<std::int64_t>(), 1800);
}

TEST_F(InfluxdbIntegrationTest, SpecialCharactersRoundTrip) {
  WindowRecord r = MakeRecords(2, 1)[1];
  r.machine_id = "press 1,line=2 \"A\" plant\\m";
  r.feature_names = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"rms ax", "a,b", "x=y", "q\"uote", "tab\tkey", "π"});
  r.features = {1, 2, 3, 4, 5, 6};
  auto sink = OpenInfluxdbSink(V1Config(*influx_, "iiot"));
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(std::span<const WindowRecord>(&r, 1)).ok());
  EXPECT_EQ((*sink)->metrics().rejected_points, 0u);

  json tags = Rows("SHOW TAG VALUES FROM signal_features WITH KEY = device_id");
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0][1].get<std::string>(), r.machine_id);
  Result<std::string> text = influx_->Query("iiot", "SHOW FIELD KEYS FROM signal_features");
  ASSERT_TRUE(text.ok());
  std::vector<std::string> keys;
  json answer = json::parse(*text);
  for (const json& row : answer["results"][0]["series"][0]["values"]) {
    keys.push_back(row[0].get<std::string>());
  }
  EXPECT_THAT(keys, ::testing::UnorderedElementsAreArray(*r.feature_names));
}

TEST_F(InfluxdbIntegrationTest, PartialWriteStoresTheValidLinesAndReportsTheRest) {
  auto writer = InfluxdbWriter::Open(V1Config(*influx_, "iiot"));
  ASSERT_TRUE(writer.ok());
  // Encoded by the sink's encoder, then one line broken on purpose.
  const std::vector<WindowRecord> records = MakeRecords(4, 4);
  std::string body;
  for (const WindowRecord& r : records) ASSERT_TRUE(AppendWindowRecord(r, &body).ok());
  body += "signal_features,device_id=broken\n";  // no field: unparsable
  Result<WriteResult> result = (*writer)->Write(body);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->lines, 5u);
  EXPECT_EQ(result->rejected_points, 1u);
  EXPECT_THAT(result->server_message, HasSubstr("partial write"));
  EXPECT_THAT(result->server_message, HasSubstr("unable to parse"));
  InfluxdbMetrics m = (*writer)->metrics();
  EXPECT_EQ(m.rejected_points, 1u);
  EXPECT_EQ(m.points_written, 4u);
  json rows = Rows("SELECT count(rms_ax) FROM signal_features");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1].get<std::int64_t>(), 4);

  // A field type conflict is a partial write too, counted from "dropped=N".
  result =
      (*writer)->Write("signal_features,device_id=m1 rms_ax=\"text\" " + std::to_string(kT0 + 1) +
                       "\nsignal_features,device_id=m9 rms_ax=1 " + std::to_string(kT0) + "\n");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->rejected_points, 1u);
  EXPECT_THAT(result->server_message, HasSubstr("field type conflict"));

  // A batch with only bad lines is not a partial write: refused.
  result = (*writer)->Write("broken\n");
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsInvalidArgument()) << result.status().ToString();
  EXPECT_THAT(result.status().message(), HasSubstr("unable to parse 'broken'"));
}

TEST_F(InfluxdbIntegrationTest, MissingDatabaseOrRetentionPolicyIsNotFound) {
  const std::vector<WindowRecord> records = MakeRecords(10, 2);
  auto sink = OpenInfluxdbSink(V1Config(*influx_, "nodb"));
  ASSERT_TRUE(sink.ok());
  Status s = (*sink)->Write(records);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("database not found"));

  InfluxdbConfig config = V1Config(*influx_, "iiot");
  config.retention_policy = "norp";
  auto rp_sink = OpenInfluxdbSink(config);
  ASSERT_TRUE(rp_sink.ok());
  s = (*rp_sink)->Write(records);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("retention policy not found"));
}

TEST_F(InfluxdbIntegrationTest, ServerDownIsUnavailableThenWritesAgain) {
  const std::vector<WindowRecord> records = MakeRecords(400, 2);
  const std::span<const WindowRecord> first(records.data(), 200);
  const std::span<const WindowRecord> second(records.data() + 200, 200);
  InfluxdbConfig config = V1Config(*influx_, "iiot");
  config.timeout = std::chrono::milliseconds(2000);
  auto sink = OpenInfluxdbSink(config);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->Write(first).ok());  // the keep-alive connection is open

  ASSERT_TRUE(influx_->Stop().ok());
  const auto start = std::chrono::steady_clock::now();
  Status down = (*sink)->Write(second);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(down.IsUnavailable()) << down.ToString();
  EXPECT_LT(elapsed, config.timeout + std::chrono::seconds(1));

  ASSERT_TRUE(influx_->Start().ok());
  Status again = (*sink)->Write(second);  // the retry of the failed batch
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(Counts("rms_ax", "signal_features", "device_id"),
            (std::map<std::string, std::int64_t>{{"m1", 200}, {"m2", 200}}));
  InfluxdbMetrics m = (*sink)->metrics();
  EXPECT_EQ(m.failed_requests, 1u);
  EXPECT_EQ(m.requests, 3u);
}

TEST_F(InfluxdbIntegrationTest, GzipOnAndOffBothStored) {
  std::vector<WindowRecord> plain = MakeRecords(2000, 1, 1);
  std::vector<WindowRecord> zipped = MakeRecords(2000, 1, 2);
  for (WindowRecord& r : plain) r.machine_id = "plain";
  for (WindowRecord& r : zipped) r.machine_id = "gzip";
  InfluxdbConfig config = V1Config(*influx_, "iiot");
  config.gzip = false;
  auto plain_sink = OpenInfluxdbSink(config);
  config.gzip = true;
  auto gzip_sink = OpenInfluxdbSink(config);
  ASSERT_TRUE(plain_sink.ok() && gzip_sink.ok());
  ASSERT_TRUE((*plain_sink)->Write(plain).ok());
  ASSERT_TRUE((*gzip_sink)->Write(zipped).ok());
  EXPECT_EQ(Counts("rms_ax", "signal_features", "device_id"),
            (std::map<std::string, std::int64_t>{{"gzip", 2000}, {"plain", 2000}}));
  json rows = Rows("SELECT rms_ax FROM signal_features WHERE device_id = 'gzip' AND time = " +
                   std::to_string(zipped[1999].window_start_ns));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1].get<double>(), zipped[1999].features[0]);
  const std::uint64_t plain_bytes = (*plain_sink)->metrics().bytes_sent;
  const std::uint64_t gzip_bytes = (*gzip_sink)->metrics().bytes_sent;
  EXPECT_LT(gzip_bytes * 2, plain_bytes) << gzip_bytes << " vs " << plain_bytes;
}

TEST(InfluxdbAuthIntegrationTest, PasswordAuthAndRefusal) {
  mh::testing::InfluxdbServiceOptions options;
  options.auth_enabled = true;
  auto influx = mh::testing::InfluxdbService::Launch(options);
  ASSERT_TRUE(influx.ok()) << influx.status().ToString();
  const std::string password = "s3cr3t-Pw-4711";
  ASSERT_TRUE((*influx)->CreateAdmin("admin", password).ok());
  ASSERT_TRUE((*influx)->CreateDatabase("iiot").ok());
  const std::vector<WindowRecord> records = MakeRecords(10, 1);

  InfluxdbConfig config = V1Config(**influx, "iiot");
  config.user = "admin";
  config.secret = password;
  auto sink = OpenInfluxdbSink(config);
  ASSERT_TRUE(sink.ok());
  Status ok = (*sink)->Write(records);
  EXPECT_TRUE(ok.ok()) << ok.ToString();

  config.secret = "wrong-" + password;
  auto bad = OpenInfluxdbSink(config);
  ASSERT_TRUE(bad.ok());
  Status refused = (*bad)->Write(records);
  EXPECT_TRUE(refused.IsInvalidArgument()) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("not authorised"));
  EXPECT_THAT(refused.message(), Not(HasSubstr(password)));

  config.user.clear();
  config.secret.clear();
  auto anonymous = OpenInfluxdbSink(config);
  ASSERT_TRUE(anonymous.ok());
  refused = (*anonymous)->Write(records);
  EXPECT_TRUE(refused.IsInvalidArgument()) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("not authorised"));
}

TEST(InfluxdbLimitsIntegrationTest, TooLargeBatchIsRefused) {
  mh::testing::InfluxdbServiceOptions options;
  options.max_body_size = 4096;
  auto influx = mh::testing::InfluxdbService::Launch(options);
  ASSERT_TRUE(influx.ok()) << influx.status().ToString();
  ASSERT_TRUE((*influx)->CreateDatabase("iiot").ok());
  InfluxdbConfig config = V1Config(**influx, "iiot");
  config.gzip = false;
  auto sink = OpenInfluxdbSink(config);
  ASSERT_TRUE(sink.ok());
  Status s = (*sink)->Write(MakeRecords(200, 2));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("too large"));
  EXPECT_TRUE((*sink)->Write(MakeRecords(4, 2)).ok());
}

// --- v2 write API against VictoriaMetrics ---

// The values of one exported metric by (label value, timestamp ms).
std::map<std::pair<std::string, std::int64_t>, double> ExportValues(const std::string& text,
                                                                    const std::string& label) {
  std::map<std::pair<std::string, std::int64_t>, double> values;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) {
      json series = json::parse(text.substr(start, end - start));
      const std::string id = series["metric"].value(label, "");
      for (std::size_t i = 0; i < series["values"].size(); ++i) {
        values[{id, series["timestamps"][i].get<std::int64_t>()}] =
            series["values"][i].get<double>();
      }
    }
    start = end + 1;
  }
  return values;
}

// VictoriaMetrics keeps about 12 significant digits.
bool Near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

TEST(InfluxdbV2IntegrationTest, WritesThroughTheV2ApiWithAToken) {
  auto vm = mh::testing::VictoriaMetricsService::Launch();
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  const std::vector<WindowRecord> records = MakeRecords(2000, 2);

  Environment env;
  env.get_env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "INFLUXDB_TOKEN") return std::string("test-token-123");
    return std::nullopt;
  };
  env.read_file = [](const std::string&) -> Result<std::string> {
    return Status::NotFound("no files here");
  };
  Result<Uri> uri = ParseUri("influxdb2://127.0.0.1:" + std::to_string((*vm)->port()) +
                             "/iiot_rms?org=acme&timeout_ms=5000");
  ASSERT_TRUE(uri.ok());
  Result<InfluxdbConfig> config = ConfigFromUri(*uri, env);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->secret, "test-token-123");
  auto sink = OpenInfluxdbSink(*config);
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE(WriteInBatches(**sink, records, 500).ok());

  std::map<std::pair<std::string, std::int64_t>, double> scores;
  ASSERT_TRUE(mh::testing::WaitUntil(
      [&] {
        Result<std::string> text = (*vm)->Export("anomaly_score_score");
        if (!text.ok()) return false;
        scores = ExportValues(*text, "sensor_id");
        return scores.size() >= 1800;
      },
      std::chrono::seconds(20)))
      << scores.size();
  EXPECT_EQ(scores.size(), 1800u);
  for (const WindowRecord& r : records) {
    if (!std::isfinite(r.score)) continue;
    auto it = scores.find({r.machine_id, r.window_start_ns / 1'000'000});
    ASSERT_NE(it, scores.end()) << r.machine_id << " " << r.window_start_ns;
    ASSERT_TRUE(Near(it->second, r.score)) << it->second << " vs " << r.score;
  }
  Result<std::string> features = (*vm)->Export("signal_features_kurtosis_ax");
  ASSERT_TRUE(features.ok());
  std::map<std::pair<std::string, std::int64_t>, double> kurtosis =
      ExportValues(*features, "device_id");
  EXPECT_EQ(kurtosis.size(), 2000u);
  const WindowRecord& probe = records[777];
  ASSERT_TRUE(kurtosis.count({probe.machine_id, probe.window_start_ns / 1'000'000}));
  EXPECT_TRUE(
      Near(kurtosis[{probe.machine_id, probe.window_start_ns / 1'000'000}], probe.features[4]));
}

TEST(InfluxdbV2IntegrationTest, PrototypeEnvironmentAndGzipOff) {
  auto vm = mh::testing::VictoriaMetricsService::Launch();
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  // Each test runs in its own process (gtest_discover_tests), so setting the
  // prototype's variables here touches no other test.
  ASSERT_EQ(setenv("INFLUXDB_URL", (*vm)->url().c_str(), 1), 0);
  ASSERT_EQ(setenv("INFLUXDB_ORG", "iiot", 1), 0);
  ASSERT_EQ(setenv("INFLUXDB_BUCKET", "iiot_rms", 1), 0);
  ASSERT_EQ(setenv("INFLUXDB_TOKEN", "prototype-token", 1), 0);
  Result<std::unique_ptr<Sink>> sink = NewInfluxdbSinkFromEnvironment();
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::vector<WindowRecord> records = MakeRecords(100, 1, 3);
  for (WindowRecord& r : records) r.machine_id = "sim-1";
  ASSERT_TRUE((*sink)->Write(records).ok());

  Result<Uri> uri = ParseUri("influxdb2://127.0.0.1:" + std::to_string((*vm)->port()) +
                             "/iiot_rms?org=iiot&gzip=false");
  ASSERT_TRUE(uri.ok());
  Result<std::unique_ptr<Sink>> plain = NewInfluxdbSink(*uri);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  std::vector<WindowRecord> more = MakeRecords(100, 1, 4);
  for (WindowRecord& r : more) r.machine_id = "sim-2";
  ASSERT_TRUE((*plain)->Write(more).ok());

  std::map<std::pair<std::string, std::int64_t>, double> rms;
  ASSERT_TRUE(mh::testing::WaitUntil(
      [&] {
        Result<std::string> text = (*vm)->Export("signal_features_rms_ax");
        if (!text.ok()) return false;
        rms = ExportValues(*text, "device_id");
        return rms.size() >= 200;
      },
      std::chrono::seconds(20)))
      << rms.size();
  EXPECT_EQ(rms.size(), 200u);
  EXPECT_TRUE(
      Near(rms[{"sim-1", records[42].window_start_ns / 1'000'000}], records[42].features[0]));
  EXPECT_TRUE(Near(rms[{"sim-2", more[42].window_start_ns / 1'000'000}], more[42].features[0]));
}

// --- HTTPS against VictoriaMetrics with a throw-away CA ---

// The token from INFLUXDB_TOKEN, files (the ca=) from the real file system.
Environment TokenAndRealFiles() {
  Environment env;
  env.get_env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "INFLUXDB_TOKEN") return std::string("test-token-123");
    return std::nullopt;
  };
  env.read_file = ProcessEnvironment().read_file;
  return env;
}

Result<InfluxdbConfig> HttpsConfig(const std::string& address) {
  MH_ASSIGN_OR_RETURN(Uri uri, ParseUri(address));
  return ConfigFromUri(uri, TokenAndRealFiles());
}

Result<std::unique_ptr<mh::testing::VictoriaMetricsService>> LaunchHttpsVm() {
  mh::testing::VictoriaMetricsOptions options;
  options.https = true;
  return mh::testing::VictoriaMetricsService::Launch(options);
}

// Waits until `metric` holds at least `count` points; by (label, ms).
std::map<std::pair<std::string, std::int64_t>, double> WaitForExport(
    mh::testing::VictoriaMetricsService& vm, const std::string& metric, const std::string& label,
    std::size_t count) {
  std::map<std::pair<std::string, std::int64_t>, double> values;
  mh::testing::WaitUntil(
      [&] {
        Result<std::string> text = vm.Export(metric);
        if (!text.ok()) return false;
        values = ExportValues(*text, label);
        return values.size() >= count;
      },
      std::chrono::seconds(20));
  return values;
}

TEST(InfluxdbHttpsIntegrationTest, V2OverHttpsWithTheGivenCaStoresEveryPoint) {
  auto vm = LaunchHttpsVm();
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  ASSERT_THAT((*vm)->url(), ::testing::StartsWith("https://"));
  const std::vector<WindowRecord> records = MakeRecords(300, 3);

  Result<InfluxdbConfig> config =
      HttpsConfig("influxdb2s://127.0.0.1:" + std::to_string((*vm)->port()) +
                  "/iiot_rms?org=acme&timeout_ms=5000&ca=" + (*vm)->ca_file());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->https);
  ASSERT_EQ(config->ca_file, (*vm)->ca_file());
  ASSERT_EQ(config->secret, "test-token-123");
  auto sink = OpenInfluxdbSink(*config);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  Status written = WriteInBatches(**sink, records, 100);
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ((*sink)->metrics().requests, 3u);
  EXPECT_EQ((*sink)->metrics().failed_requests, 0u);

  // 100 windows per machine, 10 of them learning (no score).
  std::map<std::pair<std::string, std::int64_t>, double> scores =
      WaitForExport(**vm, "anomaly_score_score", "sensor_id", 270);
  EXPECT_EQ(scores.size(), 270u);
  std::map<std::pair<std::string, std::int64_t>, double> kurtosis =
      WaitForExport(**vm, "signal_features_kurtosis_ax", "device_id", 300);
  EXPECT_EQ(kurtosis.size(), 300u);
  for (const WindowRecord& r : records) {
    const std::pair<std::string, std::int64_t> key = {r.machine_id, r.window_start_ns / 1'000'000};
    auto k = kurtosis.find(key);
    ASSERT_NE(k, kurtosis.end()) << r.machine_id << " " << r.window_start_ns;
    EXPECT_TRUE(Near(k->second, r.features[4])) << k->second << " vs " << r.features[4];
    if (!std::isfinite(r.score)) continue;
    auto s = scores.find(key);
    ASSERT_NE(s, scores.end()) << r.machine_id << " " << r.window_start_ns;
    EXPECT_TRUE(Near(s->second, r.score)) << s->second << " vs " << r.score;
  }
}

TEST(InfluxdbHttpsIntegrationTest, V1OverHttpsWithTheGivenCaStoresEveryPoint) {
  auto vm = LaunchHttpsVm();
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  std::vector<WindowRecord> records = MakeRecords(200, 1, 5);
  for (WindowRecord& r : records) r.machine_id = "press-7";

  Result<InfluxdbConfig> config =
      HttpsConfig("influxdbs://127.0.0.1:" + std::to_string((*vm)->port()) +
                  "/iiot?gzip=false&ca=" + (*vm)->ca_file());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->api, ApiVersion::kV1);
  ASSERT_TRUE(config->https);
  auto sink = OpenInfluxdbSink(*config);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  Status written = WriteInBatches(**sink, records, 100);
  ASSERT_TRUE(written.ok()) << written.ToString();

  std::map<std::pair<std::string, std::int64_t>, double> rms =
      WaitForExport(**vm, "signal_features_rms_ax", "device_id", 200);
  EXPECT_EQ(rms.size(), 200u);
  for (const WindowRecord& r : records) {
    auto it = rms.find({r.machine_id, r.window_start_ns / 1'000'000});
    ASSERT_NE(it, rms.end()) << r.window_start_ns;
    EXPECT_TRUE(Near(it->second, r.features[0])) << it->second << " vs " << r.features[0];
  }
}

TEST(InfluxdbHttpsIntegrationTest, UntrustedServerCertificateFailsAndStoresNothing) {
  auto vm = LaunchHttpsVm();
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  const std::string base = "127.0.0.1:" + std::to_string((*vm)->port());

  // No ca=: the system trust store does not know the test CA.
  Result<InfluxdbConfig> untrusting = HttpsConfig("influxdb2s://" + base + "/iiot_rms?org=acme");
  ASSERT_TRUE(untrusting.ok()) << untrusting.status().ToString();
  ASSERT_TRUE(untrusting->ca_file.empty());
  auto refused_sink = OpenInfluxdbSink(*untrusting);
  ASSERT_TRUE(refused_sink.ok()) << refused_sink.status().ToString();
  std::vector<WindowRecord> refused = MakeRecords(50, 1, 11);
  for (WindowRecord& r : refused) r.machine_id = "untrusted";
  Status s = (*refused_sink)->Write(refused);
  ASSERT_FALSE(s.ok());
  // Not retryable: the same certificate would fail again.
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  std::string lower = s.message();
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_THAT(lower, HasSubstr("certificate")) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("https://" + base)) << s.ToString();
  EXPECT_THAT(s.message(), Not(HasSubstr("test-token-123")));
  InfluxdbMetrics m = (*refused_sink)->metrics();
  EXPECT_EQ(m.requests, 1u);
  EXPECT_EQ(m.failed_requests, 1u);
  EXPECT_EQ(m.points_written, 0u);
  EXPECT_EQ(m.bytes_sent, 0u);

  // The same server with ca=: once this write shows, the refused one would
  // show too had any of it been stored.
  Result<InfluxdbConfig> trusting =
      HttpsConfig("influxdb2s://" + base + "/iiot_rms?org=acme&ca=" + (*vm)->ca_file());
  ASSERT_TRUE(trusting.ok()) << trusting.status().ToString();
  auto sink = OpenInfluxdbSink(*trusting);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::vector<WindowRecord> accepted = MakeRecords(20, 1, 12);
  for (WindowRecord& r : accepted) r.machine_id = "trusted";
  Status ok = (*sink)->Write(accepted);
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  std::map<std::pair<std::string, std::int64_t>, double> rms =
      WaitForExport(**vm, "signal_features_rms_ax", "device_id", 20);
  EXPECT_EQ(rms.size(), 20u);
  for (const auto& [key, value] : rms) EXPECT_EQ(key.first, "trusted");
}

}  // namespace
}  // namespace mh::sink::influxdb
