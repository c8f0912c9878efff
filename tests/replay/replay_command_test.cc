// `machine-health replay` in-process (app::RunMain): event times by the one
// timestamp rule (core/epoch_time.h, csv/timestamp_column.h) and the bad
// inputs of issue 14, one test per kind. Expected instants are analytic
// (2026-01-01T00:00:00Z = 1767225600 s).
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/command.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

constexpr double kNewYear2026 = 1767225600.0;

class ReplayCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-replay-cmd");
    ASSERT_FALSE(dir_.empty());
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Runs `replay <args> --to - --delay 0`; stdout in out_, stderr (the
  // command's and the log's) in err_.
  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), "replay");
    for (const char* a : {"--to", "-", "--delay", "0"}) args.emplace_back(a);
    const mh::testing::CliRun run = mh::testing::RunCli(args);
    out_ = run.out;
    err_ = run.err;
    return run.code;
  }
  std::vector<nlohmann::json> Events() const {
    std::vector<nlohmann::json> v;
    std::istringstream in(out_);
    std::string line;
    while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
    return v;
  }
  std::string dir_, out_, err_;
};

TEST_F(ReplayCommandTest, EpochSecondsAreRead2026NotAs1970) {
  const std::string csv = Write("s.csv", "timestamp,v\n1767225600,1\n1767225601.5,2\n");
  ASSERT_EQ(Run({"--input", csv, "--timestamp-column", "timestamp"}), 0) << err_;
  const auto ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["timestamp"].get<double>(), kNewYear2026);
  EXPECT_EQ(ev[1]["timestamp"].get<double>(), kNewYear2026 + 1.5);
  EXPECT_EQ(ev[0]["feature_1"].get<double>(), 1.0);
  EXPECT_NE(err_.find("replay: column 'timestamp': epoch seconds (auto)"), std::string::npos)
      << err_;
}

TEST_F(ReplayCommandTest, EpochMillisMicrosNanosAreChosenPerColumn) {
  struct Case {
    const char* first;
    const char* second;
    const char* words;
  };
  for (const Case c : {Case{"1767225600000", "1767225600250", "epoch milliseconds"},
                       Case{"1767225600000000", "1767225600250000", "epoch microseconds"},
                       Case{"1767225600000000000", "1767225600250000000", "epoch nanoseconds"}}) {
    const std::string csv =
        Write("u.csv", std::string("t,v\n") + c.first + ",1\n" + c.second + ",2\n");
    ASSERT_EQ(Run({"--input", csv, "--timestamp-column", "t"}), 0) << err_;
    const auto ev = Events();
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0]["timestamp"].get<double>(), kNewYear2026) << c.words;
    EXPECT_EQ(ev[1]["timestamp"].get<double>(), kNewYear2026 + 0.25) << c.words;
    EXPECT_NE(err_.find(std::string("column 't': ") + c.words + " (auto)"), std::string::npos)
        << err_;
  }
}

TEST_F(ReplayCommandTest, IsoStringsWithAndWithoutOffset) {
  // Without an offset: local time in --time-zone (UTC by default).
  const std::string csv = Write("iso.csv",
                                "t,v\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00+01:00,2\n"
                                "2026-01-01 00:00:01,3\n");
  ASSERT_EQ(Run({"--input", csv, "--timestamp-column", "t"}), 0) << err_;
  auto ev = Events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]["timestamp"].get<double>(), kNewYear2026);
  EXPECT_EQ(ev[1]["timestamp"].get<double>(), kNewYear2026);
  EXPECT_EQ(ev[2]["timestamp"].get<double>(), kNewYear2026 + 1);
  // Europe/Stockholm is UTC+1 in January: local midnight is 23:00Z.
  ASSERT_EQ(Run({"--input", csv, "--timestamp-column", "t", "--time-zone", "Europe/Stockholm"}), 0)
      << err_;
  ev = Events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]["timestamp"].get<double>(), kNewYear2026);
  EXPECT_EQ(ev[2]["timestamp"].get<double>(), kNewYear2026 + 1 - 3600);
}

TEST_F(ReplayCommandTest, IsoAndEpochTextInOneColumn) {
  // A column that is text for the CSV reader (mixed forms) is read cell by
  // cell by the same rule: date-times as such, numbers in the one unit.
  const std::string csv = Write("mix.csv", "t,v\n2026-01-01T00:00:00Z,1\n1767225602,2\n");
  ASSERT_EQ(Run({"--input", csv, "--timestamp-column", "t"}), 0) << err_;
  const auto ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["timestamp"].get<double>(), kNewYear2026);
  EXPECT_EQ(ev[1]["timestamp"].get<double>(), kNewYear2026 + 2);
}

TEST_F(ReplayCommandTest, MixedUnitsAreAnErrorNamingColumnAndRow) {
  const std::string csv = Write("mixed.csv", "t,v\n1767225600,1\n1767225601,2\n1767225602000,3\n");
  EXPECT_EQ(Run({"--input", csv, "--timestamp-column", "t"}), 1);
  EXPECT_NE(err_.find("column 't': row 3: 1767225602000 reads as epoch milliseconds"),
            std::string::npos)
      << err_;
  EXPECT_NE(err_.find("--timestamp-unit s|ms|us|ns"), std::string::npos) << err_;
  EXPECT_TRUE(out_.empty()) << out_;
}

TEST_F(ReplayCommandTest, NegativeAndImplausibleValuesAreErrorsNotGuesses) {
  const std::string neg = Write("neg.csv", "t,v\n-1767225600,1\n");
  EXPECT_EQ(Run({"--input", neg, "--timestamp-column", "t"}), 1);
  EXPECT_NE(err_.find("column 't': row 1: -1767225600 is not an epoch time"), std::string::npos)
      << err_;
  const std::string small = Write("small.csv", "t,v\n1767225600,1\n12,2\n");
  EXPECT_EQ(Run({"--input", small, "--timestamp-column", "t"}), 1);
  EXPECT_NE(err_.find("column 't': row 2: 12 is not an epoch time"), std::string::npos) << err_;
  // An explicit unit reads them (before 1970, and 12 s after the epoch).
  ASSERT_EQ(Run({"--input", small, "--timestamp-column", "t", "--timestamp-unit", "s"}), 0) << err_;
  EXPECT_EQ(Events()[1]["timestamp"].get<double>(), 12.0);
}

TEST_F(ReplayCommandTest, LaterBatchInAnotherUnitIsAnErrorNamingItsRow) {
  // The unit is decided on the first batch (8192 rows); row 9000 is in ms.
  std::string text = "t,v\n";
  for (int i = 0; i < 9000; ++i) {
    text +=
        (i == 8999 ? std::to_string(1767225600000LL + i * 1000) : std::to_string(1767225600 + i));
    text += ",1\n";
  }
  const std::string csv = Write("stream.csv", text);
  EXPECT_EQ(Run({"--input", csv, "--timestamp-column", "t", "--batch", "10000"}), 1);
  EXPECT_NE(err_.find("column 't': row 9000: 1767234599000 reads as epoch milliseconds"),
            std::string::npos)
      << err_;
  EXPECT_NE(err_.find("epoch seconds"), std::string::npos) << err_;
}

TEST_F(ReplayCommandTest, ColumnTypedTimestampUsesTheSameRuleInTheCsvReader) {
  // --column-type t=timestamp: the CSV reader converts epoch numbers itself,
  // by the same rule and the --timestamp-unit given.
  const std::string csv = Write("typed.csv", "t,v\n1767225600,1\n1767225601,2\n");
  ASSERT_EQ(Run({"--input", csv, "--timestamp-column", "t", "--column-type", "t=timestamp"}), 0)
      << err_;
  EXPECT_EQ(Events()[1]["timestamp"].get<double>(), kNewYear2026 + 1);
  const std::string ms = Write("typed_ms.csv", "t,v\n1767225600000,1\n");
  ASSERT_EQ(Run({"--input", ms, "--timestamp-column", "t", "--column-type", "t=timestamp",
                 "--timestamp-unit", "ms"}),
            0)
      << err_;
  EXPECT_EQ(Events()[0]["timestamp"].get<double>(), kNewYear2026);
  const std::string mixed = Write("typed_mixed.csv", "t,v\n1767225600,1\n1767225600000,2\n");
  EXPECT_EQ(Run({"--input", mixed, "--timestamp-column", "t", "--column-type", "t=timestamp"}), 1);
  EXPECT_NE(err_.find("column 't': row 2: 1767225600000 reads as epoch milliseconds"),
            std::string::npos)
      << err_;
}

TEST_F(ReplayCommandTest, PrototypeRuleOnlyByName) {
  const std::string csv = Write("p.csv", "t,v\n1767225600,1\n1767225600000,2\n");
  ASSERT_EQ(Run({"--input", csv, "--timestamp-column", "t", "--timestamp-unit", "prototype"}), 0)
      << err_;
  const auto ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  // > 1e9 -> ms, > 1e12 -> ns: the prototype's 1970 dates.
  EXPECT_EQ(ev[0]["timestamp"].get<double>(), 1767225600.0 / 1e3);
  EXPECT_EQ(ev[1]["timestamp"].get<double>(), 1767225600000.0 / 1e9);
  EXPECT_EQ(Run({"--input", csv, "--timestamp-column", "t", "--timestamp-unit", "guess"}), 2);
  EXPECT_NE(err_.find("--timestamp-unit"), std::string::npos) << err_;
}

TEST_F(ReplayCommandTest, HelpDocumentsThePrototypeRuleAsWrongForSeconds) {
  std::ostringstream out, err;
  CommandIo io{out, err};
  ASSERT_EQ(RunMain({"replay", "--help"}, io), 0);
  EXPECT_NE(out.str().find("prototype"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("wrong for epoch seconds"), std::string::npos) << out.str();
}

// --- Bad input (issue 14) ---

TEST_F(ReplayCommandTest, BadCellInANumericColumnIsAnErrorNamingLineColumnAndCell) {
  // Before: column b turned into text, left the default features, and c
  // became feature_2, exit 0.
  const std::string csv = Write("abc.csv", "a,b,c\n1,2,3\n4,abc,6\n7,8,9\n");
  EXPECT_EQ(Run({"--input", csv}), 1);
  EXPECT_NE(err_.find("line 3, column 'b': 'abc' is not a number"), std::string::npos) << err_;
  EXPECT_NE(err_.find("--on-bad skip"), std::string::npos) << err_;
  EXPECT_TRUE(out_.empty()) << out_;
}

TEST_F(ReplayCommandTest, NulByteInACellIsShownEscaped) {
  const std::string csv = Write("nul.csv", std::string("a,b\n1,2\n3,4\0\n5,6\n", 17));
  EXPECT_EQ(Run({"--input", csv}), 1);
  EXPECT_NE(err_.find("line 3, column 'b': '4\\0' is not a number"), std::string::npos) << err_;
}

TEST_F(ReplayCommandTest, NumberTooLargeForADoubleIsAnErrorNamingTheLine) {
  const std::string csv = Write("big.csv", "a,b\n1,2\n3,1e400\n5,6\n");
  EXPECT_EQ(Run({"--input", csv}), 1);
  EXPECT_NE(err_.find("line 3"), std::string::npos) << err_;
  EXPECT_NE(err_.find("'b'"), std::string::npos) << err_;
  EXPECT_NE(err_.find("1e400"), std::string::npos) << err_;
  EXPECT_TRUE(out_.empty()) << out_;
}

TEST_F(ReplayCommandTest, SkippingBadRowsKeepsTheFeatureAndItsKey) {
  const std::string csv = Write("skip.csv", "a,b,c\n1,2,3\n4,abc,6\n7,8,9\n");
  ASSERT_EQ(Run({"--input", csv, "--on-bad", "skip"}), 0) << err_;
  const auto ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1]["feature_1"].get<double>(), 7.0);
  EXPECT_EQ(ev[1]["feature_2"].get<double>(), 8.0);  // b keeps its key
  EXPECT_EQ(ev[1]["feature_3"].get<double>(), 9.0);
  EXPECT_NE(err_.find("1 rows skipped"), std::string::npos) << err_;
}

TEST_F(ReplayCommandTest, TextColumnsStayTextAndNamedFeaturesAreTheUsersChoice) {
  // Ids (no numbers) and a column the user types as text are not flagged.
  const std::string ids = Write("ids.csv", "id,v\nm1,1\nm2,2\nm3,3\n");
  ASSERT_EQ(Run({"--input", ids}), 0) << err_;
  EXPECT_EQ(Events()[0].size(), 3u);  // sensor_id, timestamp, feature_1
  const std::string csv = Write("typed.csv", "a,b\n1,2\n4,abc\n7,8\n");
  ASSERT_EQ(Run({"--input", csv, "--column-type", "b=string"}), 0) << err_;
  EXPECT_EQ(Events()[0].size(), 3u);
  ASSERT_EQ(Run({"--input", csv, "--feature-keys", "a"}), 0) << err_;
  EXPECT_EQ(Events().size(), 3u);
}

TEST_F(ReplayCommandTest, RateMustBePositive) {
  const std::string csv = Write("r.csv", "a\n1\n");
  for (const char* rate : {"0", "-1", "nan"}) {
    EXPECT_EQ(Run({"--input", csv, "--rate", rate}), 2) << rate;
    EXPECT_NE(err_.find("--rate"), std::string::npos) << rate << ": " << err_;
    EXPECT_TRUE(out_.empty()) << out_;
  }
  EXPECT_EQ(Run({"--input", csv, "--timestamp-column", "a", "--speed", "0"}), 2);
  EXPECT_NE(err_.find("--speed"), std::string::npos) << err_;
}

TEST_F(ReplayCommandTest, HugeWindowIsAUsageErrorBeforeAnyAllocation) {
  const std::string csv = Write("w.csv", "ax\n1\n2\n3\n");
  for (const char* window : {"100000000000", "4611686018427387904", "16777217"}) {
    EXPECT_EQ(Run({"--input", csv, "--channels", "ax", "--fs", "100", "--window", window}), 2)
        << window;
    EXPECT_NE(err_.find("--window: expected 1 to 16777216 samples per event"), std::string::npos)
        << window << ": " << err_;
  }
}

TEST_F(ReplayCommandTest, WindowLongerThanTheInputIsAnError) {
  const std::string csv = Write("w.csv", "ax\n1\n2\n3\n");
  EXPECT_EQ(Run({"--input", csv, "--channels", "ax", "--fs", "100", "--window", "16777216"}), 2);
  EXPECT_NE(err_.find("--window: 16777216 samples per event, but"), std::string::npos) << err_;
  EXPECT_NE(err_.find("has only 3 rows"), std::string::npos) << err_;
  ASSERT_EQ(Run({"--input", csv, "--channels", "ax", "--fs", "100", "--window", "3"}), 0) << err_;
  EXPECT_EQ(Events().size(), 1u);
}

}  // namespace
}  // namespace mh::app
