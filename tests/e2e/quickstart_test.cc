// docs/quickstart.md, run as a script: the fenced ```sh block after the
// marker "<!-- quickstart-script -->" is executed by /bin/sh with the built
// binary first on PATH, in a fresh folder, with "../shared" pointing at the
// shared data. Then the files it wrote are checked: features with one row per
// window and their source files, a model, scores with a key per window, and
// the report's figures (its JSON) against the scores themselves.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/report_check.h"
#include "testing/test_paths.h"

namespace mh {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The lines of the first ```sh block after the marker.
std::vector<std::string> ScriptLines(const std::string& doc) {
  std::vector<std::string> lines;
  const std::size_t marker = doc.find("<!-- quickstart-script -->");
  if (marker == std::string::npos) return lines;
  const std::size_t begin = doc.find("```sh\n", marker);
  if (begin == std::string::npos) return lines;
  const std::size_t end = doc.find("\n```", begin + 6);
  if (end == std::string::npos) return lines;
  std::stringstream ss(doc.substr(begin + 6, end - begin - 6));
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

TEST(Quickstart, RunsAsWrittenOnTheFemtoFolder) {
  MH_REQUIRE_SHARED_DATA();
  const std::string binary = testing::BinaryPath();
  ASSERT_FALSE(binary.empty()) << "MH_BINARY is not set";
  const std::string doc = ReadText(testing::SourceDir() + "/docs/quickstart.md");
  const std::vector<std::string> lines = ScriptLines(doc);
  ASSERT_FALSE(lines.empty()) << "docs/quickstart.md has no script block";
  int commands = 0;
  for (const std::string& l : lines) commands += l.rfind("machine-health ", 0) == 0 ? 1 : 0;
  EXPECT_EQ(commands, 5) << "the walk-through promises five commands";

  const std::string dir = testing::MakeTempDir("mh-quickstart");
  ASSERT_FALSE(dir.empty());
  // The doc runs next to the repository, where ../shared is the shared data.
  std::string script = "set -eu\nexport PATH=\"" +
                       std::filesystem::path(binary).parent_path().string() + ":$PATH\"\ncd '" +
                       dir + "'\n";
  for (std::string l : lines) {
    for (std::size_t p = l.find("../shared"); p != std::string::npos; p = l.find("../shared", p)) {
      l.replace(p, 9, testing::SharedDir());
      p += testing::SharedDir().size();
    }
    script += l + "\n";
  }
  std::ofstream(dir + "/quickstart.sh") << script;
  std::string out;
  const int rc = testing::RunCommand("sh '" + dir + "/quickstart.sh' 2>&1", &out);
  ASSERT_EQ(rc, 0) << out;

  // Scores: one row per window of the run, each with its source file.
  const auto scores = ReadCsv(dir + "/scores.csv");
  ASSERT_GE(scores.size(), 2u) << out;
  const std::vector<std::string>& header = scores[0];
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<std::ptrdiff_t>(i);
    }
    return std::ptrdiff_t{-1};
  };
  ASSERT_GE(col("source_file"), 0) << ReadText(dir + "/scores.csv").substr(0, 400);
  ASSERT_GE(col("source_offset"), 0);
  ASSERT_GE(col("score"), 0);
  ASSERT_GE(col("anomaly"), 0);
  std::size_t anomalous = 0;
  std::vector<std::string> files;
  for (std::size_t r = 1; r < scores.size(); ++r) {
    const std::string& f = scores[r][static_cast<std::size_t>(col("source_file"))];
    if (files.empty() || files.back() != f) files.push_back(f);
    anomalous += scores[r][static_cast<std::size_t>(col("anomaly"))] == "1" ? 1 : 0;
  }
  EXPECT_EQ(files.size(), 72u) << "every snapshot of Bearing1_1, in order";
  EXPECT_NE(files.front().find("acc_00001.csv"), std::string::npos);
  EXPECT_NE(files.back().find("acc_02803.csv"), std::string::npos);

  // The report's JSON agrees with the scores.
  ASSERT_TRUE(std::filesystem::exists(dir + "/report.json")) << out;
  const auto j = nlohmann::json::parse(ReadText(dir + "/report.json"));
  ASSERT_EQ(j["groups"].size(), 1u);
  EXPECT_EQ(j["groups"][0]["windows"].get<std::size_t>(), scores.size() - 1);
  EXPECT_EQ(j["groups"][0]["anomalous"].get<std::size_t>(), anomalous);
  // Bearing1_1 fails at its last snapshot: its last windows are anomalous,
  // the report's strip ends high and an alarm is open at the end.
  const auto& strip = j["groups"][0]["strip"];
  ASSERT_FALSE(strip.empty());
  EXPECT_GE(strip.back().get<double>(), 0.5) << out;
  EXPECT_EQ(scores.back()[static_cast<std::size_t>(col("anomaly"))], "1") << out;
  EXPECT_GE(j["groups"][0]["alarms"].get<int>(), 1) << out;
  // ... and that alarm opened after the first quarter the model learned.
  ASSERT_FALSE(j["groups"][0]["alarm_at_end"].is_null()) << out;
  EXPECT_GT(j["groups"][0]["alarm_at_end"]["fraction"].get<double>(), 0.25) << out;
  EXPECT_NE(out.find("alarms:"), std::string::npos) << out;
  // ... and the HTML report shows those figures: the score of every window
  // and its histogram, the alarm open at the end shaded to the last window.
  const std::string html = ReadText(dir + "/report.html");
  EXPECT_EQ(testing::ExpectHtmlMatchesJson(html, j), 2u);
  ASSERT_EQ(j["sections"].size(), 1u);
  const auto& chart = j["sections"][0]["figures"][0];
  EXPECT_EQ(chart["points_in"].get<std::size_t>(), scores.size() - 1);
  ASSERT_FALSE(chart["spans"].empty());
  EXPECT_EQ(chart["spans"].back()[1].get<double>(), static_cast<double>(scores.size() - 1));

  // The report quoted in the doc is what the run prints, line for line.
  const std::size_t seen = doc.find("## What you see");
  ASSERT_NE(seen, std::string::npos);
  const std::size_t block = doc.find("```text\n", seen);
  ASSERT_NE(block, std::string::npos);
  const std::size_t block_end = doc.find("\n```", block + 8);
  std::stringstream quoted(doc.substr(block + 8, block_end - block - 8));
  int quoted_lines = 0;
  for (std::string line; std::getline(quoted, line);) {
    if (line.empty()) continue;
    ++quoted_lines;
    EXPECT_NE(out.find(line + "\n"), std::string::npos)
        << "docs/quickstart.md quotes\n  " << line << "\nbut the run printed\n"
        << out;
  }
  EXPECT_GE(quoted_lines, 6);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh
