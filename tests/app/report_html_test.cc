// `report --html` in-process through RunMain: the HTML of a scored table and
// of one machine of a database, checked against the JSON written beside it
// (testing/report_check.h), and the figures against the input rows.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "codec/snapshot.h"
#include "export_cli_test.h"
#include "report_inputs.h"
#include "sink/sqlite/alarm_store.h"
#include "testing/cli_run.h"
#include "testing/report_check.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReportHtml, ScoredTableWithAnEscapedMachineName) {
  const std::string dir = mh::testing::MakeTempDir("mh-report-html");
  const std::string name = "<m&\"1>";
  // Anomalous where '#': a flapping alarm (3 of 5) that closes, then one open at the end.
  const std::string pattern = "..#......#.#.#.......###########";
  {
    std::ofstream f(dir + "/s.csv");
    f << "machine_id,window_start,score,anomaly\n";
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      const bool bad = pattern[i] == '#';
      f << "\""
        << "<m&\"\"1>"
        << "\"," << i * 2560 << "," << (bad ? -0.01 : 0.02) * (i + 1) << "," << bad << "\n";
    }
  }
  const auto o = mh::testing::RunCli(
      {"report", "--scores", dir + "/s.csv", "--html", dir + "/r.html", "--json", dir + "/r.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::string html = ReadText(dir + "/r.html");
  const auto j = nlohmann::json::parse(ReadText(dir + "/r.json"));
  // The JSON keeps its own keys and adds the report's.
  ASSERT_EQ(j["groups"].size(), 1u);
  EXPECT_EQ(j["groups"][0]["name"], name);
  ASSERT_EQ(j["sections"].size(), 1u);
  const auto& s = j["sections"][0];
  EXPECT_EQ(s["title"], name);
  EXPECT_EQ(s["stats"]["windows"], pattern.size());
  EXPECT_EQ(s["stats"]["alarms"], j["groups"][0]["alarms"]);
  EXPECT_EQ(s["stats"]["alarm_share"], j["groups"][0]["alarm_share"]);
  EXPECT_EQ(mh::testing::ExpectHtmlMatchesJson(html, j), 2u);
  const auto& line = s["figures"][0];
  EXPECT_EQ(line["id"], "machine-1-score");
  EXPECT_EQ(line["series"][0]["y"].size(), pattern.size());
  EXPECT_EQ(line["threshold"], 0.0);
  // Alarms (1-based windows): 14..18 (closed after five normal), 24..32.
  ASSERT_EQ(line["spans"].size(), 2u);
  EXPECT_EQ(line["spans"][0][0], 14);
  EXPECT_EQ(line["spans"][0][1], 18);
  EXPECT_EQ(line["spans"][1][0], 24);
  EXPECT_EQ(line["spans"][1][1], 32);
  std::size_t counted = 0;
  for (const auto& c : s["figures"][1]["bins"][0]["counts"]) counted += c.get<std::size_t>();
  EXPECT_EQ(counted, pattern.size());
  // The machine id is escaped everywhere it is shown.
  EXPECT_EQ(html.find(name), std::string::npos);
  EXPECT_NE(html.find("&lt;m&amp;&quot;1&gt;"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ReportHtml, WithoutHtmlTheJsonIsAsBefore) {
  const std::string dir = mh::testing::MakeTempDir("mh-report-html");
  std::ofstream(dir + "/s.csv") << "score\n0.1\n-0.2\n";
  const auto o = mh::testing::RunCli({"report", "--scores", dir + "/s.csv", "--json", "-"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.find("\"sections\""), std::string::npos);
  EXPECT_NE(o.out.find("{\"source\""), std::string::npos);
  std::filesystem::remove_all(dir);
}

class ReportDbTest : public test::ExportCliTest {
 protected:
  void SetUp() override {
    test::ExportCliTest::SetUp();
    auto store = sink::AlarmStore::Open({db_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const sink::AlarmRecord closed = test::AlarmOfM1(120);
    sink::AlarmRecord open = closed;
    open.alarm_id = "m1-b";
    open.start_ns = test::kT0 + 390 * test::kStep;
    open.end_ns = 0;
    std::vector<sink::AlarmEvent> events = {{sink::AlarmEventKind::kClosed, closed, closed.end_ns},
                                            {sink::AlarmEventKind::kOpened, open, open.start_ns}};
    ASSERT_TRUE((*store)->Record(events).ok());
  }
};

TEST_F(ReportDbTest, OneMachineOfAStore) {
  const auto o = mh::testing::RunCli({"report", "--db", db_, "--machine", "m1", "--html",
                                      dir_ + "/r.html", "--json", dir_ + "/r.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("400 windows"), std::string::npos) << o.out;
  const std::string html = ReadText(dir_ + "/r.html");
  const auto j = nlohmann::json::parse(ReadText(dir_ + "/r.json"));
  EXPECT_EQ(mh::testing::ExpectHtmlMatchesJson(html, j), 3u);
  const auto& s = j["sections"][0];
  EXPECT_EQ(s["stats"]["windows"], test::kWindows);
  EXPECT_EQ(s["stats"]["scored_windows"], test::kWindows - test::kLearning);
  EXPECT_EQ(s["stats"]["alarms"], 2);
  EXPECT_DOUBLE_EQ(s["stats"]["threshold"].get<double>(), threshold_);
  // Windows 100..119 and 390..399 are in alarm.
  EXPECT_DOUBLE_EQ(s["stats"]["alarm_share"].get<double>(), 30.0 / test::kWindows);
  std::size_t anomalous = 0;
  for (int i = test::kLearning; i < test::kWindows; ++i) anomalous += M1(i).anomaly ? 1 : 0;
  EXPECT_EQ(s["stats"]["anomalous"], anomalous);
  const auto& line = s["figures"][0];
  EXPECT_TRUE(line["x_time"].get<bool>());
  ASSERT_EQ(line["spans"].size(), 2u);
  EXPECT_EQ(line["spans"][0][0].get<double>(), static_cast<double>(test::kT0 + 100 * test::kStep));
  EXPECT_EQ(line["spans"][0][1].get<double>(), static_cast<double>(test::kT0 + 119 * test::kStep));
  EXPECT_EQ(line["points_in"], test::kWindows);
  ASSERT_EQ(s["tables"].size(), 2u);
  EXPECT_EQ(s["tables"][0]["rows"].size(), 2u);
  EXPECT_EQ(s["tables"][1]["rows"].size(), 1u);  // baseline version 1
  EXPECT_EQ(s["tables"][1]["rows"][0][0], "1");
  // The explanation is shown, escaped.
  EXPECT_NE(html.find("kurtosis_ax &lt;9.1&gt; sd"), std::string::npos);
}

TEST_F(ReportDbTest, TimeRangeAndErrors) {
  const std::string from = std::to_string((test::kT0 + 200 * test::kStep) / 1'000'000);
  auto o = mh::testing::RunCli(
      {"report", "--db", db_, "--machine", "m1", "--from", from, "--json", dir_ + "/r.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  const auto j = nlohmann::json::parse(ReadText(dir_ + "/r.json"));
  EXPECT_EQ(j["sections"][0]["stats"]["windows"], test::kWindows - 200);
  EXPECT_EQ(j["sections"][0]["stats"]["alarms"], 1);  // the open one only
  o = mh::testing::RunCli({"report", "--db", db_, "--machine", "nope"});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("nope"), std::string::npos) << o.err;
  EXPECT_EQ(mh::testing::RunCli({"report", "--db", db_}).code, 2);
  EXPECT_EQ(mh::testing::RunCli({"report"}).code, 2);
  EXPECT_EQ(mh::testing::RunCli({"report", "--db", db_, "--machine", "m1", "--from", "x"}).code, 2);
}

// Issue 17: --alarm ID with --db selects that alarm (its windows, its
// explanation, the spectrum of its snapshot) instead of being ignored.
TEST_F(ReportDbTest, OneAlarmWithItsSnapshot) {
  // Window 110 (inside alarm m1-a) written again with the alarm's snapshot:
  // a 1 kHz sine on ax at 25.6 kHz, 512 samples (bin 20 of 50 Hz).
  {
    constexpr double kFs = 25600;
    std::vector<std::vector<double>> x(2, std::vector<double>(512));
    for (std::size_t k = 0; k < 512; ++k) {
      x[0][k] = 0.5 * std::sin(2 * 3.14159265358979323846 * 1000 * static_cast<double>(k) / kFs);
      x[1][k] = 0.01;
    }
    std::vector<std::span<const double>> spans(x.begin(), x.end());
    sink::WindowRecord r = M1(110);
    const std::vector<std::string> channels = {"ax", "ay"};
    auto blob = codec::EncodeSnapshot("m1", r.window_start_ns, kFs, channels, spans);
    ASSERT_TRUE(blob.ok()) << blob.status().ToString();
    auto snap = std::make_shared<sink::WaveformSnapshot>();
    snap->window_start_ns = r.window_start_ns;
    snap->periodic = false;
    snap->alarm_id = "m1-a";
    snap->score = r.score;
    snap->fs_hz = kFs;
    snap->samples = 512;
    snap->blob = std::move(*blob);
    r.snapshots.push_back(std::move(snap));
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    const std::vector<sink::WindowRecord> batch = {r};
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  // No --machine: the alarm's own.
  auto o = mh::testing::RunCli({"report", "--db", db_, "--alarm", "m1-a", "--html",
                                dir_ + "/a.html", "--json", dir_ + "/a.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("alarm m1-a"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("21 windows"), std::string::npos) << o.out;  // 100..120
  const std::string html = ReadText(dir_ + "/a.html");
  const auto j = nlohmann::json::parse(ReadText(dir_ + "/a.json"));
  EXPECT_EQ(mh::testing::ExpectHtmlMatchesJson(html, j), 5u);
  const auto& s = j["sections"][0];
  EXPECT_EQ(s["stats"]["windows"], 21);
  EXPECT_EQ(s["stats"]["alarms"], 1);
  EXPECT_EQ(s["stats"]["alarm_id"], "m1-a");
  EXPECT_EQ(s["stats"]["alarm_explanation"], "kurtosis_ax <9.1> sd above baseline");
  EXPECT_DOUBLE_EQ(s["stats"]["alarm_peak_score"].get<double>(), -0.25);
  ASSERT_EQ(s["tables"][0]["rows"].size(), 1u);
  ASSERT_EQ(s["figures"].size(), 5u);
  const auto& spectrum = s["figures"][3];
  EXPECT_EQ(spectrum["id"], "machine-1-spectrum");
  // The ax channel peaks at 1 kHz with amplitude 0.5.
  const auto& ax = spectrum["series"][0];
  std::size_t peak = 0;
  for (std::size_t k = 0; k < ax["y"].size(); ++k) {
    if (ax["y"][k].get<double>() > ax["y"][peak].get<double>()) peak = k;
  }
  EXPECT_DOUBLE_EQ(ax["x"][peak].get<double>(), 1000.0);
  EXPECT_NEAR(ax["y"][peak].get<double>(), 0.5, 1e-6);
  EXPECT_EQ(s["figures"][4]["id"], "machine-1-envelope");

  // The open alarm has no snapshot: said so, and its range reaches the end.
  o = mh::testing::RunCli(
      {"report", "--db", db_, "--machine", "m1", "--alarm", "m1-b", "--json", dir_ + "/b.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("no snapshot of the alarm is stored"), std::string::npos) << o.out;
  const auto b = nlohmann::json::parse(ReadText(dir_ + "/b.json"));
  EXPECT_EQ(b["sections"][0]["stats"]["windows"], test::kWindows - 390);
  EXPECT_EQ(b["sections"][0]["stats"]["alarm_end"], "open");
  EXPECT_EQ(b["sections"][0]["figures"].size(), 3u);

  // Errors: unknown alarm (1), another machine's alarm (1), a rule (2).
  o = mh::testing::RunCli({"report", "--db", db_, "--alarm", "nope"});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("unknown alarm 'nope'"), std::string::npos) << o.err;
  o = mh::testing::RunCli({"report", "--db", db_, "--machine", "m2", "--alarm", "m1-a"});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("is of machine 'm1', not 'm2'"), std::string::npos) << o.err;
  o = mh::testing::RunCli({"report", "--db", db_, "--machine", "m1", "--alarm", "3/5"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("an alarm rule goes with --scores"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace mh::app
