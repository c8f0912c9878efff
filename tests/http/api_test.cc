#include "http/api.h"

#include <filesystem>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/embedded_files.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "test_db.h"
#include "testing/test_paths.h"

namespace mh::http {
namespace {

using nlohmann::json;
using testing::kStepNs;
using testing::kT0Ns;

constexpr std::int64_t kT0Ms = kT0Ns / 1'000'000;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-api-test");
    ASSERT_FALSE(dir_.empty());
    ASSERT_EQ(testing::FillTestDb(dir_ + "/m.db"), "");
    auto reader = sink::SqliteReader::Open(dir_ + "/m.db");
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_ = std::move(reader).value();
  }
  void TearDown() override {
    reader_.reset();
    std::filesystem::remove_all(dir_);
  }
  Response Series(std::map<std::string, std::string> values) {
    Params p;
    p.values = std::move(values);
    return SeriesResponse(*reader_, p);
  }

  std::string dir_;
  std::unique_ptr<sink::SqliteReader> reader_;
};

TEST_F(ApiTest, Health) {
  Response r = HealthResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json({{"status", "ok"}}));
}

TEST_F(ApiTest, MachinesShape) {
  Response r = MachinesResponse(*reader_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  json j = json::parse(r.body);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["id"], "m1");
  EXPECT_EQ(j[0]["state"], "normal");
  EXPECT_DOUBLE_EQ(j[0]["score"].get<double>(), 19 / 16.0);
  EXPECT_EQ(j[0]["windows"], 20);
  EXPECT_EQ(j[0]["updated_ms"], kT0Ms + 19 * 100);
  EXPECT_EQ(j[1]["state"], "anomalous");
  EXPECT_TRUE(j[2]["score"].is_null());  // learning: NaN -> null
  EXPECT_EQ(j[2]["state"], "learning");
}

TEST_F(ApiTest, MachinesWithoutRegistryHaveNoRegistryField) {
  json j = json::parse(MachinesResponse(*reader_).body);
  for (const json& m : j) EXPECT_FALSE(m.contains("registry")) << m.dump();
}

TEST_F(ApiTest, MachinesCarryTheirRegistryConfig) {
  auto reg = registry::Registry::Parse(
      "[defaults]\nfs_hz = 12800\n[machines.m2]\nname = \"Press 2\"\nlocation = \"hall 3\"\n"
      "rpm = 1500\nbearing = \"6205\"\niso_group = 1\n",
      "machines.toml");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  Response r = MachinesResponse(*reader_, reg->get());
  ASSERT_EQ(r.status, 200);
  json j = json::parse(r.body);
  ASSERT_EQ(j.size(), 3u);
  // The database's fields are unchanged.
  EXPECT_EQ(j[1]["id"], "m2");
  EXPECT_EQ(j[1]["state"], "anomalous");
  const json& m2 = j[1]["registry"];
  EXPECT_EQ(m2["name"], "Press 2");
  EXPECT_EQ(m2["location"], "hall 3");
  EXPECT_EQ(m2["from_file"], true);
  EXPECT_EQ(m2["fs_hz"], 12800);
  EXPECT_EQ(m2["bearing"]["name"], "6205");
  EXPECT_EQ(m2["iso_group"], 1);
  const json& m1 = j[0]["registry"];
  EXPECT_EQ(m1["id"], "m1");
  EXPECT_EQ(m1["name"], "m1");
  EXPECT_EQ(m1["from_file"], false);
  EXPECT_EQ(m1["fs_hz"], 12800);  // the file's defaults
  EXPECT_TRUE(m1["bearing"].is_null());
  // Serving registers nothing.
  EXPECT_EQ((*reg)->List().size(), 1u);
}

TEST_F(ApiTest, MachinesCarryTheIsoZoneOfTheirLatestVelocity) {
  // "v": two windows with velocity features; the latest one's largest
  // direction (ay 3.1 mm/s; the magnitude is not a direction) is zone C for
  // group 2 rigid (the defaults: C from 2.8), B for group 1 (B up to 4.5).
  {
    auto names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{
        "rms_ax", "velocity_rms_ax", "velocity_rms_ay", "velocity_rms_mag"});
    std::vector<sink::WindowRecord> batch;
    for (int i = 0; i < 2; ++i) {
      sink::WindowRecord r;
      r.machine_id = "v";
      r.window_start_ns = kT0Ns + i * kStepNs;
      r.feature_names = names;
      r.features = {0.5, 1.0, i == 0 ? 9.0 : 3.1, 9.5};
      batch.push_back(r);
    }
    auto sink = sink::OpenSqliteSink({dir_ + "/m.db"});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  json j = json::parse(MachinesResponse(*reader_).body);
  ASSERT_EQ(j.size(), 4u);
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(j[k]["iso"].is_null()) << j[k].dump();
  const json& iso = j[3]["iso"];
  ASSERT_TRUE(iso.is_object()) << j[3].dump();
  EXPECT_EQ(iso["zone"], "C");
  EXPECT_NEAR(iso["velocity_mm_s"].get<double>(), 3.1, 1e-6);  // stored as float32
  EXPECT_EQ(iso["feature"], "velocity_rms_ay");
  EXPECT_EQ(iso["group"], 2);
  EXPECT_EQ(iso["foundation"], "rigid");
  auto reg = registry::Registry::Parse("[machines.v]\niso_group = 1\n", "machines.toml");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  json g1 = json::parse(MachinesResponse(*reader_, reg->get()).body);
  EXPECT_EQ(g1[3]["iso"]["zone"], "B");
  EXPECT_EQ(g1[3]["iso"]["group"], 1);
}

TEST_F(ApiTest, SeriesDefaultsToTenMinutesBeforeLatest) {
  Response r = Series({{"machine", "m1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["metric"], "score");
  ASSERT_EQ(j["t"].size(), 20u);
  ASSERT_EQ(j["v"].size(), 20u);
  EXPECT_EQ(j["t"][0], kT0Ms);
  EXPECT_EQ(j["t"][19], kT0Ms + 1900);
  EXPECT_TRUE(j["v"][0].is_null());
  EXPECT_DOUBLE_EQ(j["v"][19].get<double>(), 19 / 16.0);
  EXPECT_NEAR(j["to"].get<double>() - j["from"].get<double>(), 600'000, 1e-3);
}

TEST_F(ApiTest, SeriesRangeInRfc3339AndEpochMs) {
  // 2026-09-21T14:13:20Z is kT0; [t0 + 0.5 s, t0 + 1 s) holds windows 5..9.
  Response r = Series({{"machine", "m1"},
                       {"metric", "rms"},
                       {"from", "2026-09-21T14:13:20.500Z"},
                       {"to", std::to_string(kT0Ms + 1000)}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j["t"].size(), 5u);
  EXPECT_EQ(j["t"][0], kT0Ms + 500);
  EXPECT_DOUBLE_EQ(j["v"][0].get<double>(), 5 / 4.0);
  Response f = Series({{"machine", "m1"}, {"metric", "rms_ax"}, {"max", "2"}});
  ASSERT_EQ(f.status, 200) << f.body;
  json jf = json::parse(f.body);
  ASSERT_EQ(jf["v"].size(), 2u);
  EXPECT_DOUBLE_EQ(jf["v"][1].get<double>(), 19 / 8.0);  // the latest point is kept
}

TEST_F(ApiTest, SeriesErrorsNameTheParameter) {
  struct Case {
    std::map<std::string, std::string> params;
    int status;
    std::string needle;
  };
  const Case cases[] = {
      {{}, 400, "'machine'"},
      {{{"machine", "m1"}, {"from", "yesterday"}}, 400, "'from'"},
      {{{"machine", "m1"}, {"to", "12:00"}}, 400, "'to'"},
      {{{"machine", "m1"}, {"max", "0"}}, 400, "'max'"},
      {{{"machine", "m1"}, {"max", "ten"}}, 400, "'max'"},
      {{{"machine", "m1"}, {"metric", "nope"}}, 400, "nope"},
      {{{"machine", "m1"}, {"from", "2000"}, {"to", "1000"}}, 400, "'from'"},
      {{{"machine", "m9"}}, 404, "m9"},
  };
  for (const Case& c : cases) {
    Response r = Series(c.params);
    EXPECT_EQ(r.status, c.status) << r.body;
    json j = json::parse(r.body);
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_NE(j["error"].get<std::string>().find(c.needle), std::string::npos) << r.body;
  }
  Params repeated;
  repeated.values = {{"machine", "m1"}};
  repeated.repeated = "machine";
  EXPECT_EQ(SeriesResponse(*reader_, repeated).status, 400);
}

TEST_F(ApiTest, Metrics) {
  Params p;
  p.values = {{"machine", "m2"}};
  Response r = MetricsResponse(*reader_, p);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["metrics"],
            json::array({"score", "rms", "state_score", "crest_ax", "rms_ax"}));
  p.values = {{"machine", "zz"}};
  EXPECT_EQ(MetricsResponse(*reader_, p).status, 404);
}

TEST_F(ApiTest, StaticAssets) {
  ASSERT_GE(kEmbeddedFileCount, 3u);
  Response index = StaticResponse("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<title>machine-health</title>"), std::string::npos);
  EXPECT_EQ(StaticResponse("/app.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(StaticResponse("/style.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(StaticResponse("/nope.js").status, 404);
  EXPECT_EQ(StaticResponse("/../CMakeLists.txt").status, 404);
  // The embedded bytes are the files under web/.
  std::string on_disk;
  ASSERT_EQ(mh::testing::RunCommand("cat '" + mh::testing::SourceDir() + "/web/app.js'", &on_disk),
            0);
  EXPECT_EQ(StaticResponse("/app.js").body, on_disk);
}

// uPlot (web/package.json) is embedded under /vendor/ with the bytes npm
// installed, and every asset index.html references is served.
TEST_F(ApiTest, VendoredChartLibrary) {
  const std::string dist = mh::testing::SourceDir() + "/web/node_modules/uplot/dist/";
  for (const auto& [url, file, type] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/vendor/uPlot.iife.min.js", "uPlot.iife.min.js", "text/javascript; charset=utf-8"},
           {"/vendor/uPlot.min.css", "uPlot.min.css", "text/css; charset=utf-8"}}) {
    Response r = StaticResponse(url);
    ASSERT_EQ(r.status, 200) << url;
    EXPECT_EQ(r.content_type, type) << url;
    std::string on_disk;
    ASSERT_EQ(mh::testing::RunCommand("cat '" + dist + file + "'", &on_disk), 0);
    EXPECT_EQ(r.body, on_disk) << url;
  }
  std::string index = StaticResponse("/").body;
  for (const char* ref : {"vendor/uPlot.min.css", "style.css", "vendor/uPlot.iife.min.js",
                          "live.js", "machine.js", "app.js"}) {
    EXPECT_NE(index.find(std::string("\"") + ref + "\""), std::string::npos) << ref;
    EXPECT_EQ(StaticResponse(std::string("/") + ref).status, 200) << ref;
  }
}

}  // namespace
}  // namespace mh::http

namespace mh::http {
namespace {

class SnapshotApiTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    reader_.reset();
    ASSERT_EQ(testing::AddTestSnapshots(dir_ + "/m.db"), "");
    auto reader = sink::SqliteReader::Open(dir_ + "/m.db");
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_ = std::move(reader).value();
  }
  Response List(std::map<std::string, std::string> values) {
    Params p;
    p.values = std::move(values);
    return SnapshotsResponse(*reader_, p);
  }
  Response One(const std::string& id, std::map<std::string, std::string> values = {}) {
    Params p;
    p.values = std::move(values);
    return SnapshotResponse(*reader_, id, p);
  }
};

TEST_F(SnapshotApiTest, ListsPeriodicAndTheAlarmsLatestPeak) {
  Response r = List({{"machine", "m2"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j.size(), 3u) << r.body;
  // Oldest first: periodic 0, then window 3 twice (periodic and the alarm's
  // peak, which replaced window 2's).
  EXPECT_EQ(j[0]["kind"], "periodic");
  EXPECT_EQ(j[0]["t_ns"], kT0Ns);
  EXPECT_EQ(j[0]["t"], kT0Ms);
  EXPECT_TRUE(j[0]["score"].is_null());  // window 0 was learning
  EXPECT_FALSE(j[0].contains("alarm_id"));
  std::set<std::string> kinds;
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(j[i]["t_ns"], kT0Ns + 3 * kStepNs);
    EXPECT_DOUBLE_EQ(j[i]["score"].get<double>(), -3 / 32.0);
    EXPECT_EQ(j[i]["fs_hz"], 25600);
    EXPECT_EQ(j[i]["samples"], 512);
    EXPECT_GT(j[i]["bytes"].get<int>(), 100);
    kinds.insert(j[i]["kind"].get<std::string>());
    if (j[i]["kind"] == "alarm") {
      EXPECT_EQ(j[i]["alarm_id"], "m2@A");
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"alarm", "periodic"}));
  // Range and limit: the newest one in range.
  json limited = json::parse(List({{"machine", "m2"}, {"limit", "1"}}).body);
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(limited[0]["t_ns"], kT0Ns + 3 * kStepNs);
  json early = json::parse(List({{"machine", "m2"}, {"to", std::to_string(kT0Ms + 1)}}).body);
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0]["t_ns"], kT0Ns);
  EXPECT_EQ(json::parse(List({{"machine", "m1"}}).body).size(), 0u);
}

TEST_F(SnapshotApiTest, SpectrumAndSamplesOfOneSnapshot) {
  json list = json::parse(List({{"machine", "m2"}}).body);
  const std::string id = std::to_string(list[0]["id"].get<std::int64_t>());
  Response r = One(id);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["channels"], (json{"ax", "ay"}));
  ASSERT_EQ(j["freq_hz"].size(), 257u);
  EXPECT_DOUBLE_EQ(j["freq_hz"][20].get<double>(), 1000);
  // 0.5 sin at 1000 Hz (bin 20), 0.25 cos at 3000 Hz (bin 60): the stored
  // float32 samples read their amplitudes to float32 precision.
  EXPECT_NEAR(j["amplitude"][0][20].get<double>(), 0.5, 1e-6);
  EXPECT_NEAR(j["amplitude"][1][60].get<double>(), 0.25, 1e-6);
  EXPECT_NEAR(j["amplitude"][0][21].get<double>(), 0, 1e-6);
  EXPECT_EQ(j["envelope"]["band_hz"], (json{1600, 6400}));
  EXPECT_EQ(j["envelope"]["amplitude"].size(), 2u);
  // Samples: the float32-rounded originals of window 0.
  json s = json::parse(One(id, {{"view", "samples"}}).body);
  const auto x = testing::SnapshotSamplesOf(0);
  ASSERT_EQ(s["samples"][0].size(), 512u);
  for (std::size_t k = 0; k < 512; k += 37) {
    EXPECT_EQ(s["samples"][0][k].get<double>(), static_cast<float>(x[0][k])) << k;
    EXPECT_EQ(s["samples"][1][k].get<double>(), static_cast<float>(x[1][k])) << k;
  }
}

TEST_F(SnapshotApiTest, BadRequestsNameTheProblem) {
  EXPECT_EQ(List({}).status, 400);
  EXPECT_EQ(List({{"machine", "m2"}, {"limit", "0"}}).status, 400);
  EXPECT_EQ(List({{"machine", "m2"}, {"from", "soon"}}).status, 400);
  Response bad_id = One("abc");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_NE(bad_id.body.find("bad snapshot id 'abc'"), std::string::npos) << bad_id.body;
  Response unknown = One("999");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("unknown snapshot 999"), std::string::npos) << unknown.body;
  EXPECT_EQ(One("1", {{"view", "waterfall"}}).status, 400);
}

}  // namespace
}  // namespace mh::http
