// `machine-health evaluate`, in-process through RunMain: manifest errors,
// a synthetic machine with a known fault, and the detection floor of issue
// 15 on the shared recordings (eval/*.csv, generated from their index.csv
// and README by tools/make_eval_manifests.py).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/cli_run.h"
#include "testing/report_check.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using mh::testing::RunCli;
using ::testing::HasSubstr;

nlohmann::json JsonOf(const std::string& out) {
  const std::size_t at = out.find("{\"machines\"");
  EXPECT_NE(at, std::string::npos) << out;
  return nlohmann::json::parse(out.substr(at));
}

// A CSV of `n` samples of one channel "acc": a 50 Hz tone and noise; with
// `impacts`, one decaying 3 kHz ring every 1/107 s (an outer-race fault).
void WriteSignal(const std::string& path, std::size_t n, bool impacts, std::uint64_t seed) {
  const double fs = 25600;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.05);
  std::ofstream f(path);
  f << "acc\n";
  const double period = fs / 107;
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / fs;
    double x = 0.3 * std::sin(2 * M_PI * 50 * t) + noise(rng);
    if (impacts) {
      const double since = std::fmod(static_cast<double>(i), period) / fs;
      x += 1.5 * std::exp(-since * 800) * std::sin(2 * M_PI * 3000 * since);
    }
    f << x << "\n";
  }
}

class EvaluateTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = mh::testing::MakeTempDir("mh-evaluate"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_F(EvaluateTest, SyntheticFaultIsAlarmedAndNormalIsNot) {
  for (int i = 0; i < 6; ++i)
    WriteSignal(dir_ + "/n" + std::to_string(i) + ".csv", 25600, false, i);
  for (int i = 0; i < 2; ++i)
    WriteSignal(dir_ + "/f" + std::to_string(i) + ".csv", 25600, true, 10 + i);
  std::string m = "file,machine,seq,fs_hz,channels,rpm,bearing,sample_range,role,truth\n";
  for (int i = 0; i < 6; ++i) {
    m += "n" + std::to_string(i) + ".csv,pump-7," + std::to_string(i + 1) + ",25600,acc,,,," +
         (i < 3 ? "learn" : "watch") + ",normal\n";
  }
  m += "f0.csv,pump-7,7,25600,acc,,,,watch,fault\n";
  m += "f1.csv,pump-7,8,25600,acc,,,0:12800,watch,fault\n";
  const std::string manifest = Write("manifest.csv", m);
  auto r = RunCli({"evaluate", "--manifest", manifest, "--json", "-"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("pump-7: learned from 150 windows"));
  const nlohmann::json j = JsonOf(r.out);
  const auto& mc = j["machines"][0];
  EXPECT_EQ(mc["machine"], "pump-7");
  EXPECT_EQ(mc["windows_watched"], 150 + 50 + 25);
  EXPECT_EQ(mc["normal_alarm_share"], 0.0);
  EXPECT_LT(mc["normal_flagged_share"].get<double>(), 0.05);
  EXPECT_GT(mc["fault_flagged_share"].get<double>(), 0.9);
  EXPECT_EQ(mc["alarms"], 1);
  EXPECT_EQ(mc["false_alarms"], 0);
  EXPECT_EQ(mc["first_alarm_seq"], 7);
  EXPECT_DOUBLE_EQ(mc["first_alarm_fraction"].get<double>(), 6.0 / 7.0);
  ASSERT_EQ(mc["files"].size(), 5u);
  EXPECT_EQ(mc["files"][3]["truth"], "fault");
  EXPECT_EQ(mc["files"][3]["in_alarm_at_end"], true);
  EXPECT_EQ(mc["files"][4]["windows"], 25);  // rows 0..12799 only
  EXPECT_EQ(mc["files"][0]["in_alarm_at_end"], false);
  EXPECT_EQ(j["total"]["alarms"], 1);
  // --json FILE writes the same figures.
  auto f = RunCli({"evaluate", "--manifest", manifest, "--json", dir_ + "/out.json"});
  ASSERT_EQ(f.code, 0) << f.err;
  std::ifstream in(dir_ + "/out.json");
  const nlohmann::json again = nlohmann::json::parse(in);
  EXPECT_EQ(again["machines"][0]["fault_flagged_share"], mc["fault_flagged_share"]);
}

TEST_F(EvaluateTest, ReportShowsDetectionLeadAndCurves) {
  for (int i = 0; i < 5; ++i)
    WriteSignal(dir_ + "/n" + std::to_string(i) + ".csv", 25600, false, i);
  WriteSignal(dir_ + "/f0.csv", 25600, true, 10);
  std::string m = "file,machine,seq,fs_hz,channels,rpm,bearing,sample_range,role,truth\n";
  for (int i = 0; i < 5; ++i) {
    m += "n" + std::to_string(i) + ".csv,<pump&7>," + std::to_string(i + 1) + ",25600,acc,,,," +
         (i < 3 ? "learn" : "watch") + ",normal\n";
  }
  m += "f0.csv,<pump&7>,9,25600,acc,,,,watch,fault\n";
  const std::string manifest = Write("manifest.csv", m);
  auto r = RunCli({"evaluate", "--manifest", manifest, "--report", dir_ + "/r.html", "--json",
                   dir_ + "/r.json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(dir_ + "/r.json"), hin(dir_ + "/r.html");
  const nlohmann::json j = nlohmann::json::parse(in);
  std::stringstream html;
  html << hin.rdbuf();
  // A summary, then the machine: score, histogram, ROC and PR.
  EXPECT_EQ(mh::testing::ExpectHtmlMatchesJson(html.str(), j), 4u);
  EXPECT_EQ(html.str().find("<pump&7>"), std::string::npos);
  const auto& mc = j["machines"][0];
  const auto& s = j["sections"][1]["stats"];
  EXPECT_EQ(s["detection_share"], mc["fault_alarm_share"]);
  EXPECT_EQ(s["false_alarm_share"], mc["normal_alarm_share"]);
  EXPECT_EQ(s["windows_watched"], 150);
  EXPECT_EQ(s["sustained_alarm_seq"], 9);
  EXPECT_EQ(s["lead_seq"], 0);  // opened in the last file
  // The alarm opens at the third fault window (3 of 5) and stays open.
  EXPECT_EQ(s["lead_windows"], 48);
  EXPECT_EQ(s["fault_windows"].get<double>() * s["detection_share"].get<double>(), 48);
  // The impacts rank every fault window above every normal one.
  EXPECT_EQ(s["roc_auc"], 1.0);
  EXPECT_EQ(s["average_precision"], 1.0);
  const auto& line = j["sections"][1]["figures"][0];
  EXPECT_EQ(line["series"][0]["x"].size(), 150u);
  EXPECT_EQ(line["threshold"], mc["threshold"]);
  ASSERT_EQ(line["spans"].size(), 1u);
  EXPECT_EQ(line["spans"][0][1], line["series"][0]["x"].back());
}

TEST_F(EvaluateTest, ManifestErrorsNameTheLine) {
  WriteSignal(dir_ + "/a.csv", 4096, false, 1);
  const std::string head = "file,machine,seq,fs_hz,channels,rpm,bearing,sample_range,role,truth\n";
  struct Case {
    std::string rows;
    std::string message;
  } cases[] = {
      {"a.csv,m,1,25600,acc,,,,learn,normal\na.csv,m,2,25600,acc,,,,teach,normal\n",
       "line 3: role 'teach': expected learn or watch"},
      {"a.csv,m,1,25600,acc,,,,learn,normal\na.csv,m,2,25600,acc,,,,watch,broken\n",
       "line 3: truth 'broken'"},
      {"a.csv,m,1,0,acc,,,,learn,normal\n", "line 2: fs_hz '0'"},
      {"a.csv,m,1,25600,acc,,,,watch,normal\na.csv,m,2,25600,acc,,,,learn,normal\n",
       "learn row after a watch row"},
      {"a.csv,m,1,25600,acc,,,,learn,normal\na.csv,m,1,25600,acc,,,,watch,normal\n",
       "has seq 1 twice"},
      {"a.csv,m,1,25600,acc,,,,learn,normal\n", "has no watch rows"},
      {"a.csv,m,1,25600,acc,,,,learn,normal\nmissing.csv,m,2,25600,acc,,,,watch,normal\n",
       "line 3"},
      {"a.csv,m,1,25600,vib,,,,learn,normal\na.csv,m,2,25600,vib,,,,watch,normal\n",
       "no column 'vib' (columns: acc)"},
      {"a.csv,m,1,25600,acc,,,0:99999,learn,normal\na.csv,m,2,25600,acc,,,,watch,normal\n",
       "is beyond its 4096 rows"},
      {"a.csv,m,1,25600,acc,,,,learn,normal\na.csv,m,2,48000,acc,,,,watch,normal\n",
       "must be the same on every row"},
  };
  for (const Case& c : cases) {
    const std::string manifest = Write("m.csv", head + c.rows);
    auto r = RunCli({"evaluate", "--manifest", manifest});
    EXPECT_EQ(r.code, 1) << c.rows;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.rows;
  }
  const std::string no_role = Write("n.csv", "file,machine,seq,fs_hz,channels\na.csv,m,1,1,acc\n");
  auto r = RunCli({"evaluate", "--manifest", no_role});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no column 'role'"));
  auto u = RunCli({"evaluate", "--manifest", no_role, "--alarm-k", "9"});
  EXPECT_EQ(u.code, 2);
  EXPECT_THAT(u.err, HasSubstr("k (9) must be <= n (5)"));
  auto t = RunCli({"evaluate", "--manifest", no_role, "--threshold", "max"});
  EXPECT_EQ(t.code, 2);
  EXPECT_THAT(t.err, HasSubstr("--threshold: expected auto"));
}

// The floor of issue 15 with the defaults, nothing tuned per run.
class EvaluateRecordingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MH_REQUIRE_SHARED_DATA();
    // The manifests name files relative to eval/: ../../shared/data.
    if (!std::filesystem::exists(mh::testing::SourceDir() + "/../shared/data/femto")) {
      GTEST_SKIP() << "eval/*.csv expect the shared data at ../shared/data";
    }
  }
  nlohmann::json Evaluate(const std::string& name) {
    auto r = RunCli(
        {"evaluate", "--manifest", mh::testing::SourceDir() + "/eval/" + name, "--json", "-"});
    EXPECT_EQ(r.code, 0) << r.err;
    return JsonOf(r.out);
  }
};

TEST_F(EvaluateRecordingsTest, FemtoNoAlarmBeforeOnsetAndAlarmBeforeTheEnd) {
  const nlohmann::json j = Evaluate("femto.csv");
  ASSERT_EQ(j["machines"].size(), 3u);
  for (const auto& m : j["machines"]) {
    SCOPED_TRACE(m["machine"].get<std::string>());
    EXPECT_EQ(m["false_alarms"], 0);
    EXPECT_EQ(m["normal_alarm_share"], 0.0);
    const auto& files = m["files"];
    // A sustained alarm before the last snapshot, still open at the end.
    ASSERT_FALSE(m["first_alarm_seq"].is_null());
    EXPECT_LT(m["first_alarm_seq"].get<int>(), files.back()["seq"].get<int>());
    EXPECT_GE(m["first_alarm_seq"].get<int>(), m["first_fault_seq"].get<int>());
    EXPECT_EQ(files.back()["in_alarm_at_end"], true);
  }
}

// The committed report's figures: the HTML against the JSON, and the areas
// of each machine's curves against scikit-learn on the plotted scores
// (fewer than 1,400 windows a machine: not downsampled).
TEST_F(EvaluateRecordingsTest, FemtoReportCurvesAgreeWithScikitLearn) {
  const std::string dir = mh::testing::MakeTempDir("mh-evaluate-report");
  auto r = RunCli({"evaluate", "--manifest", mh::testing::SourceDir() + "/eval/femto.csv",
                   "--report", dir + "/r.html", "--json", dir + "/r.json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream in(dir + "/r.json"), hin(dir + "/r.html");
  const nlohmann::json j = nlohmann::json::parse(in);
  std::stringstream html;
  html << hin.rdbuf();
  EXPECT_EQ(mh::testing::ExpectHtmlMatchesJson(html.str(), j), 12u);
  EXPECT_LT(html.str().size(), 1'000'000u);
  std::ofstream(dir + "/auc.py") << R"py(
import sys
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score
for path in sys.argv[1:]:
    d = np.loadtxt(path, delimiter=",")
    print(repr(roc_auc_score(d[:, 0], d[:, 1])), repr(average_precision_score(d[:, 0], d[:, 1])))
)py";
  std::string files;
  for (std::size_t m = 1; m < j["sections"].size(); ++m) {
    const auto& s = j["sections"][m];
    const auto& series = s["figures"][0]["series"][0];
    ASSERT_EQ(series["x"].size(), s["stats"]["windows_watched"].get<std::size_t>());
    std::ofstream csv(dir + "/" + std::to_string(m) + ".csv");
    csv.precision(17);
    const double onset = s["stats"]["first_fault_seq"].get<double>();
    for (std::size_t k = 0; k < series["x"].size(); ++k) {
      csv << (series["x"][k].get<double>() >= onset ? 1 : 0) << "," << -series["y"][k].get<double>()
          << "\n";
    }
    files += " " + dir + "/" + std::to_string(m) + ".csv";
  }
  std::string out;
  ASSERT_EQ(
      mh::testing::RunCommand(mh::testing::ReferencePython() + " " + dir + "/auc.py" + files, &out),
      0)
      << out;
  std::istringstream want(out);
  for (std::size_t m = 1; m < j["sections"].size(); ++m) {
    const auto& s = j["sections"][m]["stats"];
    double auc = 0, ap = 0;
    want >> auc >> ap;
    SCOPED_TRACE(j["sections"][m]["title"].get<std::string>());
    EXPECT_NEAR(s["roc_auc"].get<double>(), auc, 1e-12);
    EXPECT_NEAR(s["average_precision"].get<double>(), ap, 1e-12);
    EXPECT_GT(auc, 0.8);
    // Run to failure: an alarm open at the end, opened after the onset.
    EXPECT_GE(s["sustained_alarm_seq"].get<int>(), s["first_fault_seq"].get<int>());
    EXPECT_GE(s["lead_seq"].get<int>(), 0);
  }
  std::filesystem::remove_all(dir);
}

// The paths where two JSON documents differ (numbers within 1e-9, relative
// to the larger, count as equal: the FFT backend, FFTW or KissFFT
// (MH_WITH_FFTW), changes the last bits of spectral features), at most 10.
void JsonDiff(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
              std::vector<std::string>* out) {
  if (out->size() >= 10) return;
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    if (!(std::abs(x - y) <= 1e-9 * std::max({1.0, std::abs(x), std::abs(y)}))) {
      out->push_back(path + ": " + a.dump() + " != " + b.dump());
    }
    return;
  }
  if (a.type() != b.type() || a.size() != b.size()) {
    out->push_back(path + ": " + a.dump().substr(0, 200) + " != " + b.dump().substr(0, 200));
    return;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonDiff(a[i], b[i], path + "[" + std::to_string(i) + "]", out);
    }
  } else if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) {
        out->push_back(path + "." + it.key() + ": missing");
        continue;
      }
      JsonDiff(it.value(), b[it.key()], path + "." + it.key(), out);
    }
  } else if (a != b) {
    out->push_back(path + ": " + a.dump() + " != " + b.dump());
  }
}

// docs/evaluation/*.json (and the HTML beside each) are what evaluate
// writes today: regenerate them as docs/evaluation.md says when this fails.
TEST_F(EvaluateRecordingsTest, CommittedReportsAreCurrent) {
  const std::string dir = mh::testing::MakeTempDir("mh-evaluate-committed");
  for (const std::string name : {"femto", "cwru", "hit-sm", "ims"}) {
    SCOPED_TRACE(name);
    auto r = RunCli({"evaluate", "--manifest", mh::testing::SourceDir() + "/eval/" + name + ".csv",
                     "--report", dir + "/r.html", "--json", dir + "/r.json"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream now(dir + "/r.json"),
        committed(mh::testing::SourceDir() + "/docs/evaluation/" + name + ".json"),
        committed_html(mh::testing::SourceDir() + "/docs/evaluation/" + name + ".html");
    ASSERT_TRUE(committed.good() && committed_html.good());
    const nlohmann::json a = nlohmann::json::parse(now), b = nlohmann::json::parse(committed);
    std::vector<std::string> diff;
    JsonDiff(a["machines"], b["machines"], "machines", &diff);
    JsonDiff(a["sections"], b["sections"], "sections", &diff);
    EXPECT_TRUE(diff.empty()) << diff.size() << " differences, first: " << diff.front();
    std::stringstream html;
    html << committed_html.rdbuf();
    mh::testing::ExpectHtmlMatchesJson(html.str(), b);
    EXPECT_LT(html.str().size(), 1'000'000u);
  }
  std::filesystem::remove_all(dir);
}

TEST_F(EvaluateRecordingsTest, CwruEveryFaultAlarmedNormalNot) {
  const nlohmann::json j = Evaluate("cwru.csv");
  const auto& m = j["machines"][0];
  EXPECT_EQ(m["normal_alarm_share"], 0.0);
  int faults = 0;
  for (const auto& f : m["files"]) {
    if (f["truth"] != "fault") continue;
    ++faults;
    EXPECT_EQ(f["in_alarm_at_end"], true) << f["file"];
    EXPECT_GT(f["flagged_share"].get<double>(), 0.5) << f["file"];
  }
  EXPECT_EQ(faults, 6);  // inner race, ball, outer race; 0.007 and 0.021 in
}

// The first alarm's explanation names the fault's defect frequency on the
// real CWRU recordings (48 kHz, 6205 at 1797 rpm), one machine per fault
// file, with windows long enough to separate BPFO (107 Hz) and BPFI (162
// Hz): --window 8192 (5.9 Hz lines; the default 512 gives 94 Hz lines).
TEST_F(EvaluateRecordingsTest, CwruFirstAlarmNamesTheDefectFrequency) {
  const std::string data = mh::testing::SharedDir() + "/data/cwru/";
  std::string m = "file,machine,seq,fs_hz,channels,rpm,bearing,sample_range,role,truth\n";
  const std::string normal = data + "normal_1797rpm_48k_DE_0-120000.csv";
  for (const std::string fault : {"outer_race_centered_6oclock_007", "inner_race_007"}) {
    m += normal + "," + fault + ",1,48000,DE_accel,1797,6205,0:60000,learn,normal\n";
    m += normal + "," + fault + ",2,48000,DE_accel,1797,6205,60000:120000,watch,normal\n";
    m += data + fault + "_1797rpm_48k_DE_0-48000.csv," + fault +
         ",3,48000,DE_accel,1797,6205,,watch,fault\n";
  }
  const std::string dir = mh::testing::MakeTempDir("mh-evaluate-cwru-evidence");
  std::ofstream(dir + "/m.csv") << m;
  auto r = RunCli({"evaluate", "--manifest", dir + "/m.csv", "--window", "8192", "--json", "-"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = JsonOf(r.out);
  std::map<std::string, std::string> named;
  for (const auto& mc : j["machines"]) {
    const auto& e = mc["first_alarm_explanation"];
    ASSERT_TRUE(e.is_object()) << mc.dump();
    EXPECT_EQ(mc["first_alarm_seq"], 3);
    named[mc["machine"]] = e["bearing"]["standing_out"].is_string()
                               ? e["bearing"]["standing_out"].get<std::string>()
                               : "none";
  }
  EXPECT_EQ(named["outer_race_centered_6oclock_007"], "BPFO");
  EXPECT_EQ(named["inner_race_007"], "BPFI");
  std::filesystem::remove_all(dir);
}

TEST_F(EvaluateRecordingsTest, HitSmEveryFaultAlarmedNormalNot) {
  const nlohmann::json j = Evaluate("hit-sm.csv");
  const auto& m = j["machines"][0];
  EXPECT_EQ(m["normal_alarm_share"], 0.0);
  int faults = 0;
  for (const auto& f : m["files"]) {
    if (f["truth"] != "fault") continue;
    ++faults;
    EXPECT_EQ(f["in_alarm_at_end"], true) << f["file"];
  }
  EXPECT_EQ(faults, 6);
}

TEST_F(EvaluateRecordingsTest, ImsHealthyTest1NotAlarmed) {
  const nlohmann::json j = Evaluate("ims.csv");
  ASSERT_EQ(j["machines"].size(), 4u);
  for (const auto& m : j["machines"]) {
    EXPECT_EQ(m["alarms"], 0) << m["machine"];
    EXPECT_EQ(m["normal_alarm_share"], 0.0) << m["machine"];
  }
}

}  // namespace
}  // namespace mh::app
