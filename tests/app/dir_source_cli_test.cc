// `score --from dir:` in-process (app::RunMain) on real FEMTO snapshots: the
// streamed features of each file equal what `features` computes from the
// same files, and the progress file names the last file.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/command.h"
#include "core/strings.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

int RunCli(const std::vector<std::string>& args, std::string* err) {
  std::ostringstream out, e;
  CommandIo io{out, e};
  const int rc = RunMain(args, io);
  *err = e.str();
  return rc;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) lines.push_back(l);
  }
  return lines;
}

TEST(DirSourceCli, StreamedFemtoFeaturesEqualTheFeaturesCommand) {
  MH_REQUIRE_SHARED_DATA();
  const std::string data = testing::SharedDir() + "/data/femto/Bearing1_1";
  if (!std::filesystem::is_directory(data)) GTEST_SKIP() << data << " is not present";
  const std::string dir = testing::MakeTempDir("dir-cli");
  std::string err;
  ASSERT_EQ(RunCli({"features", "--input", data + "/acc_00[0-2]*.csv", "--fs", "25600", "--window",
                    "2560", "--no-mag", "--names", "prototype", "--out", dir + "/f.csv"},
                   &err),
            0)
      << err;
  ASSERT_EQ(RunCli({"train", "--input", dir + "/f.csv", "--features",
                    "rms_acc_horizontal_g,kurtosis_acc_vertical_g", "--out", dir + "/m.mhm"},
                   &err),
            0)
      << err;
  ASSERT_EQ(RunCli({"score", "--model", dir + "/m.mhm", "--from",
                    "dir:" + data + "?fs=25600&once=1&pattern=acc_00[0-2]*.csv&state=" + dir +
                        "/progress",
                    "--to", "jsonl:" + dir + "/s.jsonl"},
                   &err),
            0)
      << err;
  const std::vector<std::string> features = Lines(dir + "/f.csv");
  const std::vector<std::string> scores = Lines(dir + "/s.jsonl");
  ASSERT_EQ(features.size(), 7u);  // header + 6 snapshots (acc_00001, 00051, ..., 00251)
  ASSERT_EQ(scores.size(), 6u);
  const std::vector<std::string> header = Split(features[0], ',');
  std::size_t compared = 0;
  for (std::size_t r = 0; r < scores.size(); ++r) {
    const nlohmann::json s = nlohmann::json::parse(scores[r]);
    EXPECT_EQ(s["sensor_id"], "Bearing1_1");
    const std::vector<std::string> cells = Split(features[r + 1], ',');
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (!s["features"].contains(header[c])) continue;
      EXPECT_EQ(s["features"][header[c]].get<double>(), *ParseDouble(cells[c]))
          << header[c] << " snapshot " << r;
      ++compared;
    }
  }
  EXPECT_GE(compared, 6u * 20);
  const std::vector<std::string> progress = Lines(dir + "/progress");
  ASSERT_EQ(progress.size(), 2u);
  EXPECT_EQ(progress[1], "Bearing1_1 acc_00251.csv");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace mh::app
