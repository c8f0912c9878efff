// `machine-health machines list` in-process: table and JSON, with a machines
// file, a database, neither, and the exit codes of bad input.
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../http/test_db.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::registry {
namespace {

using mh::testing::RunCli;

std::string ExamplePath() { return mh::testing::SourceDir() + "/deploy/machines.toml"; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

// Cells of a table line split on runs of 2+ spaces.
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == ' ' && i + 1 < line.size() && line[i + 1] == ' ') {
      if (!cur.empty()) cells.push_back(cur);
      cur.clear();
      while (i + 1 < line.size() && line[i + 1] == ' ') ++i;
      continue;
    }
    cur += line[i];
  }
  if (!cur.empty()) cells.push_back(cur);
  return cells;
}

TEST(MachinesListCli, TableOfTheExampleFile) {
  auto run = RunCli({"machines", "list", "--machines-file", ExamplePath()});
  ASSERT_EQ(run.code, 0) << run.err;
  std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 7u) << run.out;
  EXPECT_EQ(lines[0], "machines file: " + ExamplePath());
  EXPECT_EQ(Cells(lines[1]),
            (std::vector<std::string>{"ID", "NAME", "LOCATION", "FS_HZ", "CHANNELS", "UNIT",
                                      "SHAFT", "BEARING", "ISO", "LEARNING", "ALARM_K/N/M",
                                      "THRESHOLD", "MODEL", "SOURCE"}));
  EXPECT_EQ(Cells(lines[2]),
            (std::vector<std::string>{"pump-7", "Pump 7", "hall 2, line B", "25600", "ax,ay,az",
                                      "g", "1797 rpm", "6205", "2/rigid", "10m", "3/5/5",
                                      "quantile-margin(q=0.005,margin=0.05)", "-", "file:21"}));
  EXPECT_EQ(Cells(lines[3]),
            (std::vector<std::string>{"fan-3", "Supply fan 3", "plant 1", "25600", "ax,ay,az", "g",
                                      "field shaft_rpm", "custom", "2/flexible", "10m", "4/6/5",
                                      "quantile-margin(q=0.005,margin=0.05)", "-", "file:29"}));
  EXPECT_EQ(Cells(lines[4]),
            (std::vector<std::string>{"rig/bearing-1", "PRONOSTIA bearing 1", "plant 1", "51200",
                                      "horiz,vert", "g", "1800 rpm", "femto", "2/rigid",
                                      "100 windows", "3/5/5", "robust-z(z=4)", "-", "file:38"}));
  EXPECT_EQ(Cells(lines[5])[0], "motor-1");
  EXPECT_EQ(Cells(lines[6]),
            (std::vector<std::string>{
                "*", "-", "plant 1", "25600", "ax,ay,az", "g", "-", "-", "2/rigid", "10m", "3/5/5",
                "quantile-margin(q=0.005,margin=0.05)", "-", "defaults (any other sensor)"}));
  // Columns line up: every row's SOURCE starts at the header's column.
  const std::size_t col = lines[1].find("SOURCE");
  for (int i = 2; i <= 6; ++i) EXPECT_EQ(lines[i].find_first_not_of(' ', col), col) << lines[i];
}

// The fenced block that follows `after` in `text` (its body), "" if none.
std::string FencedBlockAfter(const std::string& text, std::size_t after) {
  const std::size_t open = text.find("```", after);
  if (open == std::string::npos) return "";
  const std::size_t body = text.find('\n', open);
  const std::size_t close = text.find("\n```", body);
  if (body == std::string::npos || close == std::string::npos) return "";
  return text.substr(body + 1, close - body);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(MachinesDoc, ShowsTheExampleFileAndItsListingAsTheyAre) {
  const std::string doc = ReadAll(mh::testing::SourceDir() + "/docs/machines.md");
  const std::size_t section = doc.find("## Full example");
  ASSERT_NE(section, std::string::npos);
  const std::string toml = FencedBlockAfter(doc, section);
  EXPECT_EQ(toml, ReadAll(ExamplePath()));
  // The next block, after the closing fence of the first.
  const std::size_t first_close = doc.find("\n```", doc.find("```toml", section) + 7);
  ASSERT_NE(first_close, std::string::npos);
  const std::string listing = FencedBlockAfter(doc, first_close + 4);
  auto run = RunCli({"machines", "list", "--machines-file", ExamplePath()});
  ASSERT_EQ(run.code, 0) << run.err;
  std::string shown = run.out;
  shown.replace(0, shown.find('\n'), "machines file: deploy/machines.toml");
  EXPECT_EQ(listing, shown);
}

TEST(MachinesListCli, JsonWithDatabaseMachinesNotInTheFile) {
  const std::string dir = mh::testing::MakeTempDir("machines_cli");
  const std::string db = dir + "/mh.db";
  ASSERT_EQ(http::testing::FillTestDb(db), "");  // machines m1, m2, m3
  const std::string file = dir + "/machines.toml";
  std::ofstream(file) << "[defaults]\nfs_hz = 12800\n[machines.m2]\nname = \"Press 2\"\n";
  auto run = RunCli({"machines", "list", "--machines-file", file, "--db", db, "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["machines_file"], file);
  EXPECT_EQ(j["defaults"]["fs_hz"], 12800);
  EXPECT_EQ(j["defaults"]["id"], "");
  ASSERT_EQ(j["machines"].size(), 3u);
  EXPECT_EQ(j["machines"][0]["id"], "m2");
  EXPECT_EQ(j["machines"][0]["name"], "Press 2");
  EXPECT_EQ(j["machines"][0]["from_file"], true);
  for (int i : {1, 2}) {
    EXPECT_EQ(j["machines"][i]["from_file"], false);
    EXPECT_EQ(j["machines"][i]["fs_hz"], 12800);  // the file's defaults
    EXPECT_TRUE(j["machines"][i]["first_seen"].is_null());
  }
  EXPECT_EQ(j["machines"][1]["id"], "m1");
  EXPECT_EQ(j["machines"][2]["id"], "m3");

  auto text = RunCli({"machines", "list", "--machines-file", file, "--db", db});
  ASSERT_EQ(text.code, 0) << text.err;
  std::vector<std::string> lines = Lines(text.out);
  ASSERT_EQ(lines.size(), 6u) << text.out;
  EXPECT_EQ(Cells(lines[3])[0], "m1");
  EXPECT_EQ(Cells(lines[3]).back(), "defaults (not in file)");
  EXPECT_EQ(Cells(lines[4])[0], "m3");
  EXPECT_EQ(Cells(lines[4]).back(), "defaults (not in file)");
}

TEST(MachinesListCli, NoFileShowsTheBuiltInDefaults) {
  auto run = RunCli({"machines", "list", "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_TRUE(j["machines_file"].is_null());
  EXPECT_TRUE(j["machines"].empty());
  EXPECT_TRUE(j["defaults"]["fs_hz"].is_null());
  EXPECT_EQ(j["defaults"]["learning"]["windows"], 300);  // score::LearnOptions
  EXPECT_TRUE(j["defaults"]["learning"]["duration_s"].is_null());
  EXPECT_EQ(j["defaults"]["alarm"], (nlohmann::json{{"k", 3}, {"n", 5}, {"m", 5}}));
}

TEST(MachinesListCli, BadFileMissingFileAndUsage) {
  const std::string dir = mh::testing::MakeTempDir("machines_cli_bad");
  const std::string file = dir + "/machines.toml";
  std::ofstream(file) << "[machines.m1]\nrpm = 1500\nrpm_field = \"rpm\"\n";
  auto bad = RunCli({"machines", "list", "--machines-file", file});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err, "machine-health machines list: " + file +
                         ":3:13: machines.m1: rpm and rpm_field are both given (give either rpm "
                         "(a fixed shaft speed) or rpm_field (the event field carrying it), not "
                         "both)\n");
  auto missing = RunCli({"machines", "list", "--machines-file", dir + "/none.toml"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "machine-health machines list: " + dir + "/none.toml: no such file\n");
  auto no_db = RunCli({"machines", "list", "--db", dir + "/none.db"});
  EXPECT_EQ(no_db.code, 1);
  EXPECT_NE(no_db.err.find("no such database"), std::string::npos) << no_db.err;
  // serve checks the file before it starts serving.
  auto serve = RunCli({"serve", "--db", dir + "/none.db", "--machines-file", file});
  EXPECT_EQ(serve.code, 1);
  EXPECT_NE(serve.err.find("machine-health serve: " + file + ":3:13: machines.m1: rpm and"),
            std::string::npos)
      << serve.err;
  EXPECT_EQ(RunCli({"machines"}).code, 2);
  EXPECT_EQ(RunCli({"machines", "list", "--bogus"}).code, 2);
}

}  // namespace
}  // namespace mh::registry
