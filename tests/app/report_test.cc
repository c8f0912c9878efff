// `machine-health report`, in-process through RunMain: figures of a scored
// table against values worked out by hand from the rows written here.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/command.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using Outcome = mh::testing::CliRun;
using mh::testing::RunCli;

// Rows of `score` output: anomalous where pattern has '#'.
std::string WriteScores(const std::string& dir, const std::string& name, const std::string& pattern,
                        const std::string& machine = "") {
  const std::string path = dir + "/" + name;
  std::ofstream f(path);
  f << (machine.empty() ? "" : "machine_id,") << "window_start,score,score_samples,anomaly\n";
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const bool bad = pattern[i] == '#';
    const double score = bad ? -0.01 * static_cast<double>(i + 1) : 0.001 * static_cast<double>(i);
    if (!machine.empty()) f << machine << ",";
    f << i * 2560 << "," << score << "," << score - 0.5 << "," << (bad ? 1 : 0) << "\n";
  }
  return path;
}

TEST(Report, CountsAlarmsByTheKOfNRule) {
  const std::string dir = mh::testing::MakeTempDir("mh-report");
  // An isolated spike, a flapping stretch (3 of 5 opens, then closes after 5
  // normal windows), and a sustained end.
  const std::string pattern = "..#......#.#.#.......###########";
  const std::string path = WriteScores(dir, "s.csv", pattern);
  const Outcome o = RunCli({"report", "--scores", path, "--json", dir + "/r.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::ifstream in(dir + "/r.json");
  const auto j = nlohmann::json::parse(in);
  const auto& g = j["groups"][0];
  EXPECT_EQ(g["name"], "all");
  EXPECT_EQ(g["windows"], pattern.size());
  EXPECT_EQ(g["anomalous"], 15);
  EXPECT_EQ(g["alarms"], 2);                      // flapping once, then the end
  EXPECT_EQ(g["first_anomalous"]["window"], 3);   // 1-based
  EXPECT_EQ(g["first_alarm"]["window"], 14);      // 9, 11, 13 anomalous
  EXPECT_EQ(g["first_alarm"]["label"], "33280");  // window_start of row 13
  // In alarm (0-based rows): 13..17, closed at 18 after five normal windows
  // (14..18); then 23 (21, 22, 23 anomalous) to the end, 31: 5 + 9 rows.
  EXPECT_DOUBLE_EQ(g["alarm_share"].get<double>(), 14.0 / 32.0);
  EXPECT_DOUBLE_EQ(g["score_min"].get<double>(), -0.32);
  EXPECT_EQ(g["alarm_at_end"]["window"], 24);  // the second alarm, still open
  EXPECT_THAT(o.out, HasSubstr("in alarm at the end, since 58880 (window 24 of 32"));
  EXPECT_THAT(o.out, HasSubstr("alarms: 2"));
  EXPECT_THAT(o.out, HasSubstr("32 windows"));
  std::filesystem::remove_all(dir);
}

TEST(Report, GroupsByMachineAndReadsAFolder) {
  const std::string dir = mh::testing::MakeTempDir("mh-report");
  std::filesystem::create_directory(dir + "/s");
  WriteScores(dir + "/s", "part_2.csv", "....", "m2");
  WriteScores(dir + "/s", "part_10.csv", "####", "m1");
  const Outcome o = RunCli({"report", "--scores", dir + "/s", "--json", "-"});
  ASSERT_EQ(o.code, 0) << o.err;
  const std::size_t brace = o.out.find("{\"source\"");
  ASSERT_NE(brace, std::string::npos) << o.out;
  const auto j = nlohmann::json::parse(o.out.substr(brace));
  ASSERT_EQ(j["groups"].size(), 2u);
  // Natural order: part_2 before part_10, so m2 comes first.
  EXPECT_EQ(j["groups"][0]["name"], "m2");
  EXPECT_EQ(j["groups"][0]["anomalous"], 0);
  EXPECT_TRUE(j["groups"][0]["first_alarm"].is_null());
  EXPECT_TRUE(j["groups"][0]["alarm_at_end"].is_null());
  EXPECT_EQ(j["groups"][1]["name"], "m1");
  EXPECT_EQ(j["groups"][1]["alarms"], 1);
  EXPECT_THAT(o.out, HasSubstr("(2 files)"));
  std::filesystem::remove_all(dir);
}

TEST(Report, LabelsWindowsByFileOffsetAndTime) {
  const std::string dir = mh::testing::MakeTempDir("mh-report");
  {
    std::ofstream f(dir + "/s.csv");
    f << "window_start,source_file,source_offset,score,anomaly\n"
      << "0,run/a_1.csv,0,0.1,0\n512,run/a_1.csv,512,-0.1,1\n"
      << "09:00:00.5,run/a_2.csv,0,-0.2,1\n";
  }
  const Outcome o = RunCli({"report", "--scores", dir + "/s.csv", "--alarm", "2/2"});
  ASSERT_EQ(o.code, 0) << o.err;
  // The sample offset is not repeated when window_start is that offset.
  EXPECT_THAT(o.out, HasSubstr("first anomalous window: a_1.csv:512 (window 2 of 3"));
  EXPECT_THAT(o.out, Not(HasSubstr("a_1.csv:512 512")));
  EXPECT_THAT(o.out, HasSubstr("the first opens at a_2.csv:0 09:00:00.5"));
  std::filesystem::remove_all(dir);
}

TEST(Report, AlarmRuleKOfNWithItsOwnCloseCountM) {
  const std::string dir = mh::testing::MakeTempDir("mh-report");
  // 3 of 5 opens at row 4 (0-based); with M = 2 the alarm closes at row 6,
  // the second normal row. The history starts afresh after the close: rows
  // 3 and 4 do not count again, so row 7 does not reopen it (3, 4, 7 would
  // be 3 of the last 5); rows 7, 9 and 10 do.
  const std::string pattern = "..###..#.###.";
  const std::string path = WriteScores(dir, "s.csv", pattern);
  const Outcome o = RunCli({"report", "--scores", path, "--alarm", "3/5/2", "--json", "-"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("3 of the last 5 windows anomalous opens an alarm, 2 normal in a "
                               "row close it"));
  const auto j = nlohmann::json::parse(o.out.substr(o.out.find("{\"source\"")));
  EXPECT_EQ(j["alarm_rule"]["close_normal"], 2);
  const auto& g = j["groups"][0];
  EXPECT_EQ(g["alarms"], 2);
  EXPECT_EQ(g["first_alarm"]["window"], 5);    // 1-based: row 4
  EXPECT_EQ(g["alarm_at_end"]["window"], 11);  // row 10, open to the end
  // In alarm: rows 4, 5 (closed at 6), then 10..12.
  EXPECT_DOUBLE_EQ(g["alarm_share"].get<double>(), 5.0 / 13.0);
  const Outcome bad = RunCli({"report", "--scores", path, "--alarm", "3/5/0"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--alarm: expected K/N or K/N/M"));
  std::filesystem::remove_all(dir);
}

TEST(Report, BadInputIsADataErrorBadRuleAUsageError) {
  const std::string dir = mh::testing::MakeTempDir("mh-report");
  { std::ofstream(dir + "/no_score.csv") << "a,b\n1,2\n"; }
  Outcome o = RunCli({"report", "--scores", dir + "/no_score.csv"});
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(o.err, HasSubstr("no 'score' column"));
  { std::ofstream(dir + "/bad.csv") << "score,anomaly\n0.1,0\nabc,0\n"; }
  o = RunCli({"report", "--scores", dir + "/bad.csv"});
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(o.err, HasSubstr("row 2"));
  o = RunCli({"report", "--scores", dir + "/missing.csv"});
  EXPECT_EQ(o.code, kExitFailure);
  EXPECT_THAT(o.err, HasSubstr("missing.csv"));
  o = RunCli({"report", "--scores", dir + "/no_score.csv", "--alarm", "6/5"});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_THAT(o.err, HasSubstr("--alarm"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::app
