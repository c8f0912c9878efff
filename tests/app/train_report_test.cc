// `train --report` in-process through RunMain: a feature table with a known
// gap and a shifted tail, split into train / validation / test; the HTML
// checked against the JSON, the figures against the rows written.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/time_util.h"
#include "report_inputs.h"
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

class TrainReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-train-report");
    // The last 60 rows of the table are the test split below.
    test::WriteTrainTable(dir_ + "/f.csv");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TrainReportTest, SplitsGapsAndScoresPerSplit) {
  const auto o = mh::testing::RunCli({"train", "--input", dir_ + "/f.csv", "--out", dir_ + "/m.mhm",
                                      "--validation-fraction", "0.2", "--test-fraction", "0.2",
                                      "--report", dir_ + "/r.html", "--json", dir_ + "/r.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("rows=180 "), std::string::npos) << o.out;
  const auto j = nlohmann::json::parse(ReadText(dir_ + "/r.json"));
  // Data, scores, then one histogram per feature.
  EXPECT_EQ(mh::testing::ExpectHtmlMatchesJson(ReadText(dir_ + "/r.html"), j), 1u + 2u);
  const auto& data = j["sections"][0]["stats"];
  EXPECT_EQ(data["rows"], 300);
  EXPECT_EQ(data["features"], 2);
  EXPECT_EQ(data["train_rows"], 180);
  EXPECT_EQ(data["validation_rows"], 60);
  EXPECT_EQ(data["test_rows"], 60);
  EXPECT_EQ(data["time_column"], "timestamp");
  EXPECT_EQ(data["median_step"], 1);
  EXPECT_EQ(data["gaps"], 1);
  EXPECT_EQ(data["largest_step"], 61);
  EXPECT_EQ(j["sections"][0]["tables"][0]["rows"].size(), 1u);
  const auto& scores = j["sections"][1];
  // The model never saw the shifted test rows: nearly all are anomalous.
  EXPECT_GT(scores["stats"]["anomaly_rate_test"].get<double>(), 0.9);
  EXPECT_LT(scores["stats"]["anomaly_rate_validation"].get<double>(), 0.5);
  const std::size_t at = o.out.find("train_outlier_fraction=");
  ASSERT_NE(at, std::string::npos);
  EXPECT_DOUBLE_EQ(scores["stats"]["anomaly_rate_train"].get<double>(),
                   std::stod(o.out.substr(at + 23)));
  const auto& hist = scores["figures"][0];
  EXPECT_EQ(hist["threshold"], 0);
  ASSERT_EQ(hist["bins"].size(), 3u);
  const int want[] = {180, 60, 60};
  for (int k = 0; k < 3; ++k) {
    int sum = 0;
    for (const auto& c : hist["bins"][k]["counts"]) sum += c.get<int>();
    EXPECT_EQ(sum, want[k]) << hist["bins"][k]["name"];
  }
  EXPECT_EQ(j["sections"][2]["figures"][0]["title"], "a");
}

TEST_F(TrainReportTest, BadFractionsAreUsageErrors) {
  for (const auto& [v, t] :
       {std::pair{"0.6", "0.4"}, std::pair{"-0.1", "0"}, std::pair{"0", "1"}}) {
    const auto o =
        mh::testing::RunCli({"train", "--input", dir_ + "/f.csv", "--out", dir_ + "/m.mhm",
                             "--validation-fraction", v, "--test-fraction", t});
    EXPECT_EQ(o.code, 2) << v << " " << t << o.err;
  }
}

// --split time: the file's rows in reverse time order. By position the test
// split would be the earliest (healthy) rows; by time it is the last 20% of
// the time span (359 s with the gap: rows 228..299, 72 rows; validation rows
// 156..227), which holds the shifted tail.
TEST_F(TrainReportTest, SplitByTimeWhateverTheRowOrder) {
  std::vector<std::string> lines;
  {
    std::ifstream in(dir_ + "/f.csv");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  {
    std::ofstream out(dir_ + "/rev.csv");
    out << lines[0] << "\n";
    for (std::size_t i = lines.size(); i-- > 1;) out << lines[i] << "\n";
  }
  auto run = [&](const char* split) {
    return mh::testing::RunCli({"train", "--input", dir_ + "/rev.csv", "--out", dir_ + "/m.mhm",
                                "--validation-fraction", "0.2", "--test-fraction", "0.2", "--split",
                                split, "--json", dir_ + "/r.json"});
  };
  auto o = run("time");
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("rows=156 "), std::string::npos) << o.out;
  auto j = nlohmann::json::parse(ReadText(dir_ + "/r.json"));
  EXPECT_EQ(j["sections"][0]["stats"]["train_rows"], 156);
  EXPECT_EQ(j["sections"][0]["stats"]["validation_rows"], 72);
  EXPECT_EQ(j["sections"][0]["stats"]["test_rows"], 72);
  EXPECT_GT(j["sections"][1]["stats"]["anomaly_rate_test"].get<double>(), 0.75);  // 60 of 72
  EXPECT_LT(j["sections"][1]["stats"]["anomaly_rate_validation"].get<double>(), 0.5);
  // By position (the default) the reversed file's last rows, the earliest in
  // time, are the test split: healthy, and the shifted rows are trained on.
  o = run("position");
  ASSERT_EQ(o.code, 0) << o.err;
  j = nlohmann::json::parse(ReadText(dir_ + "/r.json"));
  EXPECT_EQ(j["sections"][0]["stats"]["test_rows"], 60);
  EXPECT_LT(j["sections"][1]["stats"]["anomaly_rate_test"].get<double>(), 0.5);
  // Shuffled: the same seed gives the same splits and scores (the model
  // file holds its creation time), another seed other ones.
  ASSERT_EQ(run("shuffle").code, 0);
  const auto first = nlohmann::json::parse(ReadText(dir_ + "/r.json"))["sections"][1];
  EXPECT_EQ(first["stats"].size(), 3u);
  ASSERT_EQ(run("shuffle").code, 0);
  EXPECT_EQ(nlohmann::json::parse(ReadText(dir_ + "/r.json"))["sections"][1], first);
  o = mh::testing::RunCli({"train", "--input", dir_ + "/rev.csv", "--out", dir_ + "/m.mhm",
                           "--validation-fraction", "0.2", "--test-fraction", "0.2", "--split",
                           "shuffle", "--seed", "7", "--json", dir_ + "/r.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(nlohmann::json::parse(ReadText(dir_ + "/r.json"))["sections"][1], first);
  // Errors: an unknown split (2), --split time without a time column (1).
  EXPECT_EQ(run("random").code, 2);
  {
    std::ofstream out(dir_ + "/nt.csv");
    out << "a,b\n1,2\n3,4\n5,6\n";
  }
  o = mh::testing::RunCli({"train", "--input", dir_ + "/nt.csv", "--out", dir_ + "/m.mhm",
                           "--test-fraction", "0.3", "--split", "time"});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("--split time needs a timestamp or window_start column"), std::string::npos)
      << o.err;
}

}  // namespace
}  // namespace mh::app
