// `machine-health replay` end to end: the seed data with a pandas/zoneinfo
// reference, the prototype's environment variables, bad values, exit codes.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/test_paths.h"

namespace {

using mh::testing::BinaryPath;
using mh::testing::RunCommand;

std::vector<nlohmann::json> ParseLines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

class ReplayCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (BinaryPath().empty()) GTEST_SKIP() << "MH_BINARY not set";
    dir_ = mh::testing::MakeTempDir("mh-replay-cli");
    ASSERT_FALSE(dir_.empty());
  }
  // Runs the binary; stdout in *out, stderr in *err; returns the exit code.
  int Run(const std::string& args, std::string* out, std::string* err,
          const std::string& env = "") {
    const std::string err_path = dir_ + "/stderr.txt";
    out->clear();  // RunCommand appends
    const int rc = RunCommand(env + " " + BinaryPath() + " replay " + args + " 2>" + err_path, out);
    std::ifstream in(err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    *err = ss.str();
    return rc;
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

constexpr const char* kSeedReference = R"PY(
import json, re, sys, datetime as dt
from zoneinfo import ZoneInfo
import pandas as pd
months = {"januari": 1, "februari": 2, "mars": 3, "april": 4, "maj": 5, "juni": 6, "juli": 7,
          "augusti": 8, "september": 9, "oktober": 10, "november": 11, "december": 12}
df = pd.read_csv(sys.argv[1], sep="\t", decimal=",", float_precision="round_trip")
z = ZoneInfo("Europe/Stockholm")
for _, r in df.iterrows():
    d, mon, y = re.fullmatch(r"den (\d+) (\w+) (\d{4})", r["Date"]).groups()
    hh, mm, ss = (int(x) for x in r["time"].split(":"))
    ts = dt.datetime(int(y), months[mon], int(d), hh, mm, ss, tzinfo=z).timestamp()
    print(json.dumps({"sensor_id": r["device_id"], "timestamp": ts,
                      "feature_1": float(r["RMS"]), "feature_2": float(r["Kurtosis"])}))
)PY";

TEST_F(ReplayCliTest, SeedDataMatchesPandasAndZoneinfo) {
  MH_REQUIRE_SHARED_DATA();
  const std::string csv = mh::testing::SharedDir() + "/data/seed/iiot_rms.csv";
  const std::string ref = Write("ref.py", kSeedReference);
  std::string want_text, out, err;
  ASSERT_EQ(RunCommand(mh::testing::ReferencePython() + " " + ref + " " + csv, &want_text), 0);
  ASSERT_EQ(Run("--input " + csv +
                    " --to - --time-zone Europe/Stockholm --sensor-id-column device_id"
                    " --timestamp-column timestamp --feature-keys RMS,Kurtosis --delay 0"
                    " --batch 1000",
                &out, &err),
            0)
      << err;
  const auto want = ParseLines(want_text);
  const auto got = ParseLines(out);
  ASSERT_EQ(got.size(), want.size());
  ASSERT_GT(got.size(), 9500u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].size(), 4u);
    ASSERT_EQ(got[i]["sensor_id"], want[i]["sensor_id"]) << i;
    ASSERT_EQ(got[i]["timestamp"].get<double>(), want[i]["timestamp"].get<double>()) << i;
    ASSERT_EQ(got[i]["feature_1"].get<double>(), want[i]["feature_1"].get<double>()) << i;
    ASSERT_EQ(got[i]["feature_2"].get<double>(), want[i]["feature_2"].get<double>()) << i;
  }
  EXPECT_NE(err.find(std::to_string(got.size()) + " events"), std::string::npos) << err;
}

TEST_F(ReplayCliTest, EnvironmentVariablesAreDefaults) {
  const std::string csv = Write("t.csv", "a,b\n1,2\n3,4\n");
  std::string out, err;
  ASSERT_EQ(Run("--input " + csv + " --to - --limit 5", &out, &err,
                "env BATCH_SIZE=2 DELAY_SEC=0 FEATURE_KEYS=b SENSOR_IDS=p,q LOOP=yes"),
            0)
      << err;
  const auto ev = ParseLines(out);
  ASSERT_EQ(ev.size(), 5u);  // LOOP: 2 + 2 + 1
  EXPECT_EQ(ev[0]["sensor_id"], "p");
  EXPECT_EQ(ev[1]["sensor_id"], "q");
  EXPECT_EQ(ev[2]["sensor_id"], "p");
  EXPECT_EQ(ev[0].size(), 3u);
  EXPECT_EQ(ev[1]["feature_1"].get<double>(), 4.0);
  // Options win over the environment.
  ASSERT_EQ(Run("--input " + csv + " --to - --feature-keys a", &out, &err,
                "env DELAY_SEC=0 FEATURE_KEYS=b"),
            0);
  EXPECT_EQ(ParseLines(out)[0]["feature_1"].get<double>(), 1.0);
  // A malformed variable is a usage error naming it.
  EXPECT_EQ(Run("--input " + csv + " --to -", &out, &err, "env BATCH_SIZE=zero"), 2);
  EXPECT_NE(err.find("BATCH_SIZE"), std::string::npos) << err;
}

TEST_F(ReplayCliTest, BadValuesFailOrAreSkippedAndCounted) {
  const std::string csv = Write("bad.csv", "v;w\n1,5;1\nabc;2\n2,5;3\n;4\n");
  std::string out, err;
  EXPECT_EQ(Run("--input " + csv + " --to - --delay 0 --feature-keys v", &out, &err), 1);
  EXPECT_NE(err.find("row 2, column 'v'"), std::string::npos) << err;
  EXPECT_NE(err.find("'abc' is not a number"), std::string::npos) << err;
  ASSERT_EQ(Run("--input " + csv + " --to - --delay 0 --feature-keys v --on-bad skip", &out, &err),
            0)
      << err;
  const auto ev = ParseLines(out);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["feature_1"].get<double>(), 1.5);
  EXPECT_EQ(ev[1]["feature_1"].get<double>(), 2.5);
  EXPECT_NE(err.find("2 rows skipped"), std::string::npos) << err;
}

TEST_F(ReplayCliTest, UsageErrorsExitTwo) {
  const std::string csv = Write("ok.csv", "a\n1\n");
  std::string out, err;
  EXPECT_EQ(Run("--input " + csv + " --to kafka://x", &out, &err), 2);
  EXPECT_NE(err.find("--to"), std::string::npos);
  EXPECT_EQ(Run("--input " + csv + " --to - --feature-keys nope", &out, &err), 2);
  EXPECT_NE(err.find("no column 'nope'"), std::string::npos) << err;
  EXPECT_EQ(Run("--input " + csv + " --to - --rate 1 --speed 1", &out, &err), 2);
  EXPECT_EQ(Run("--input " + csv + " --to - --timestamp-unit days", &out, &err), 2);
  EXPECT_EQ(Run("--input " + dir_ + "/missing.csv --to -", &out, &err), 1);
}

TEST_F(ReplayCliTest, TimestampUnitAutoAndByName) {
  // 1761523205000 ms: auto reads it as ms (the only unit giving 1990..2100);
  // the prototype's guess (> 1e12 -> ns), asked for by name, gets it wrong.
  const std::string csv = Write("ms.csv", "t,v\n1761523205000,1\n");
  std::string out, err;
  ASSERT_EQ(
      Run("--input " + csv + " --to - --delay 0 --timestamp-column t --feature-keys v", &out, &err),
      0);
  EXPECT_EQ(ParseLines(out)[0]["timestamp"].get<double>(), 1761523205.0);
  EXPECT_NE(err.find("column 't': epoch milliseconds (auto)"), std::string::npos) << err;
  ASSERT_EQ(Run("--input " + csv +
                    " --to - --delay 0 --timestamp-column t --timestamp-unit prototype"
                    " --feature-keys v",
                &out, &err),
            0);
  EXPECT_EQ(ParseLines(out)[0]["timestamp"].get<double>(), 1761523205000.0 / 1e9);
  ASSERT_EQ(Run("--input " + csv +
                    " --to - --delay 0 --timestamp-column t --timestamp-unit ms --feature-keys v",
                &out, &err),
            0);
  EXPECT_EQ(ParseLines(out)[0]["timestamp"].get<double>(), 1761523205.0);
}

TEST_F(ReplayCliTest, WaveformReplay) {
  std::string text = "ax,ay\n";
  for (int i = 0; i < 9; ++i) text += std::to_string(i) + "," + std::to_string(-i) + "\n";
  const std::string csv = Write("wave.csv", text);
  std::string out, err;
  ASSERT_EQ(Run("--input " + csv +
                    " --to - --delay 0 --channels ax,ay --fs 25600 --window 4"
                    " --sensor-ids m1",
                &out, &err),
            0)
      << err;
  const auto ev = ParseLines(out);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1]["ax"].get<std::vector<double>>(), (std::vector<double>{4, 5, 6, 7}));
  EXPECT_EQ(ev[1]["fs"].get<double>(), 25600.0);
  EXPECT_NE(err.find("1 samples in incomplete windows dropped"), std::string::npos) << err;
}

}  // namespace
