// `machine-health features` in-process through app::RunMain (issue 14): the
// defaults a new user's recordings need, folders and globs, one CSV reader,
// windows checked before allocation, overflow, bands without a bin. One test
// per behaviour.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/command.h"
#include "core/strings.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// Our own output is plain CSV without quoted commas.
Table ParseCsv(const std::string& text) {
  Table t;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (t.header.empty()) {
      t.header = Split(line, ',');
    } else {
      t.rows.push_back(Split(line, ','));
    }
  }
  return t;
}

std::size_t Col(const Table& t, const std::string& name) {
  for (std::size_t i = 0; i < t.header.size(); ++i) {
    if (t.header[i] == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

class FeaturesCmdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-features-cmd");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Runs `features ARGS` in-process: exit code; stdout, stderr (the
  // command's messages and the log lines) in out_, err_.
  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), "features");
    const mh::testing::CliRun run = mh::testing::RunCli(args);
    out_ = run.out;
    err_ = run.err;
    return run.code;
  }
  std::string dir_;
  std::string out_;
  std::string err_;
};

std::string Femto(const std::string& file) {
  return mh::testing::SharedDir() + "/data/femto/Bearing1_1/" + file;
}

// A sine of 50 Hz (fs 1000) plus noise-like terms, as CSV text of `n` rows
// with the given header and row writer.
double Signal(int i) {
  return std::sin(2 * std::numbers::pi * 50 * i / 1000.0) + 0.1 * std::sin(0.77 * i * i);
}

TEST_F(FeaturesCmdTest, DefaultChannelsAreTheNumericNonTimeColumnsAndAreLogged) {
  MH_REQUIRE_SHARED_DATA();
  ASSERT_EQ(Run({"--input", Femto("acc_00001.csv"), "--fs", "25600", "--out", "-"}), 0) << err_;
  const Table t = ParseCsv(out_);
  ASSERT_EQ(t.rows.size(), 1u);
  Col(t, "rms_acc_horizontal_g");
  Col(t, "rms_acc_vertical_g");
  Col(t, "rms_mag");  // two channels: the magnitude is on
  for (const std::string& h : t.header) {
    EXPECT_THAT(h, Not(HasSubstr("hour")));
    EXPECT_THAT(h, Not(HasSubstr("microsecond")));
  }
  EXPECT_THAT(err_, HasSubstr("channels acc_horizontal_g,acc_vertical_g"));
  EXPECT_THAT(err_, HasSubstr("hour (time/index)"));
  // FEMTO's hour/minute/second/microsecond make the time of day.
  EXPECT_EQ(t.rows[0][Col(t, "window_start")], "09:39:39.065664");

  // Index, id and time columns by name are never channels.
  std::ostringstream csv;
  csv << "Unnamed: 0,index,sample,t,sensor_id,vib\n";
  for (int i = 0; i < 8; ++i) csv << i << "," << i << "," << i << "," << i * 0.1 << ",7,1.5\n";
  ASSERT_EQ(Run({"--input", Write("idx.csv", csv.str()), "--fs", "1000", "--window", "4", "--bands",
                 "0-250", "--out", "-"}),
            0)
      << err_;
  const Table u = ParseCsv(out_);
  EXPECT_EQ(u.header.size(), 1 + 12u) << out_;  // window_start + the features of 'vib'
  Col(u, "rms_vib");
}

TEST_F(FeaturesCmdTest, MagnitudeOnlyForTheTwoOrThreeAxesOfOneSensor) {
  MH_REQUIRE_SHARED_DATA();
  // IMS: two axes of four bearings; a magnitude over all eight would mix sensors.
  const std::string ims = mh::testing::SharedDir() + "/data/ims/test1/2003.10.22.12.06.24.csv";
  ASSERT_EQ(Run({"--input", ims, "--fs", "20000", "--window", "4096", "--out", "-"}), 0) << err_;
  const Table t = ParseCsv(out_);
  ASSERT_FALSE(t.rows.empty());
  Col(t, "rms_bearing4_y");
  for (const std::string& h : t.header) EXPECT_THAT(h, Not(HasSubstr("_mag")));
  // Three axes: the magnitude is there.
  std::ostringstream csv;
  csv << "ax,ay,az\n";
  for (int i = 0; i < 8; ++i) csv << i << "," << -i << "," << 2 * i << "\n";
  ASSERT_EQ(Run({"--input", Write("xyz.csv", csv.str()), "--fs", "1000", "--window", "4", "--bands",
                 "0-250", "--out", "-"}),
            0)
      << err_;
  Col(ParseCsv(out_), "rms_mag");
}

TEST_F(FeaturesCmdTest, FileWithoutChannelColumnIsAnErrorListingItsColumns) {
  const std::string in = Write("none.csv", "time,machine_id,index\n0.1,m1,0\n0.2,m1,1\n");
  EXPECT_EQ(Run({"--input", in, "--fs", "1000", "--window", "4", "--out", "-"}), 1);
  EXPECT_THAT(err_, HasSubstr("none.csv: no channel column"));
  EXPECT_THAT(err_, HasSubstr("time (double), machine_id (string), index (int)"));
  EXPECT_THAT(err_, HasSubstr("--channels"));
}

TEST_F(FeaturesCmdTest, NumericColumnWithBadCellIsAnErrorNotDropped) {
  std::ostringstream csv;
  csv << "ax,ay\n";
  for (int i = 0; i < 8; ++i) csv << Signal(i) << "," << (i == 5 ? "abc" : "0.5") << "\n";
  EXPECT_EQ(
      Run({"--input", Write("bad.csv", csv.str()), "--fs", "1000", "--window", "4", "--out", "-"}),
      1);
  EXPECT_THAT(err_, HasSubstr("bad.csv: row 6: column 'ay': 'abc' is not a number"));
}

TEST_F(FeaturesCmdTest, BomSemicolonAndDecimalCommaAreReadAsByEveryCommand) {
  std::ostringstream plain, european;
  plain << "ax,ay\n";
  european << "\xEF\xBB\xBF"
           << "ax;ay\n";
  for (int i = 0; i < 64; ++i) {
    const std::string x = FormatDouble(std::round(Signal(i) * 1e6) / 1e6);
    const std::string y = FormatDouble(std::round(Signal(i + 7) * 1e6) / 1e6);
    plain << x << "," << y << "\n";
    std::string xc = x, yc = y;
    for (char& c : xc) c = c == '.' ? ',' : c;
    for (char& c : yc) c = c == '.' ? ',' : c;
    european << xc << ";" << yc << "\n";
  }
  const std::vector<std::string> opts = {"--fs", "1000", "--window", "32", "--out", "-"};
  std::vector<std::string> a = {"--input", Write("plain.csv", plain.str())};
  a.insert(a.end(), opts.begin(), opts.end());
  ASSERT_EQ(Run(a), 0) << err_;
  const std::string expected = out_;
  std::vector<std::string> b = {"--input", Write("european.csv", european.str())};
  b.insert(b.end(), opts.begin(), opts.end());
  ASSERT_EQ(Run(b), 0) << err_;
  EXPECT_EQ(out_, expected);
  EXPECT_EQ(ParseCsv(out_).rows.size(), 2u);
}

TEST_F(FeaturesCmdTest, FemtoFolderGivesTheRowsOfItsFilesOneByOne) {
  MH_REQUIRE_SHARED_DATA();
  const std::string folder = mh::testing::SharedDir() + "/data/femto/Bearing1_1";
  ASSERT_EQ(Run({"--input", folder, "--fs", "25600", "--out", "-"}), 0) << err_;
  const Table all = ParseCsv(out_);
  ASSERT_EQ(all.rows.size(), 72u);  // 72 snapshots of 2560 samples, one window each
  ASSERT_EQ(all.header[1], "source_file");
  ASSERT_EQ(all.header[2], "source_offset");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(folder)) {
    if (e.path().extension() == ".csv") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());  // acc_NNNNN: zero-padded, natural = byte order
  ASSERT_EQ(files.size(), 72u);
  for (std::size_t f = 0; f < files.size(); ++f) {
    const std::string path = folder + "/" + files[f];
    ASSERT_EQ(Run({"--input", path, "--fs", "25600", "--out", "-"}), 0) << err_;
    const Table one = ParseCsv(out_);
    ASSERT_EQ(one.rows.size(), 1u);
    const std::vector<std::string>& row = all.rows[f];
    EXPECT_EQ(row[1], path);
    EXPECT_EQ(row[2], "0");
    // The same window_start and features, in the same columns.
    std::vector<std::string> rest = {row[0]};
    rest.insert(rest.end(), row.begin() + 3, row.end());
    EXPECT_EQ(rest, one.rows[0]) << files[f];
  }
}

TEST_F(FeaturesCmdTest, GlobInNaturalOrderWithOffsetsWithinEachFile) {
  // Windows never cross a file: 10 rows, window 4 -> offsets 0 and 4 in
  // each file (the last 2 rows are dropped); acc_2 comes before acc_10.
  for (const std::string name : {"acc_10.csv", "acc_2.csv", "notes.txt.bak"}) {
    std::ostringstream csv;
    csv << "vib\n";
    for (int i = 0; i < 10; ++i) csv << Signal(i + static_cast<int>(name.size())) << "\n";
    Write("run/" + name, csv.str());
  }
  ASSERT_EQ(Run({"--input", dir_ + "/run/acc_*.csv", "--fs", "1000", "--window", "4", "--bands",
                 "0-250", "--out", "-"}),
            0)
      << err_;
  const Table t = ParseCsv(out_);
  ASSERT_EQ(t.rows.size(), 4u);
  const std::vector<std::string> files = {"acc_2.csv", "acc_2.csv", "acc_10.csv", "acc_10.csv"};
  const std::vector<std::string> offsets = {"0", "4", "0", "4"};
  for (std::size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(t.rows[r][Col(t, "source_file")], dir_ + "/run/" + files[r]);
    EXPECT_EQ(t.rows[r][Col(t, "source_offset")], offsets[r]);
    EXPECT_EQ(t.rows[r][Col(t, "window_start")], offsets[r]);
  }
}

TEST_F(FeaturesCmdTest, FailingFileStopsTheRunUnlessKeepGoing) {
  std::ostringstream good;
  good << "vib\n";
  for (int i = 0; i < 8; ++i) good << Signal(i) << "\n";
  Write("run/a_1.csv", good.str());
  Write("run/a_2.csv", "vib\n1\n2\n");  // fewer samples than one window
  Write("run/a_3.csv", good.str());
  const std::string target = dir_ + "/out.csv";
  const std::vector<std::string> base = {"--input", dir_ + "/run", "--fs",  "1000",  "--window",
                                         "4",       "--bands",     "0-250", "--out", target};
  EXPECT_EQ(Run(base), 1);
  EXPECT_THAT(err_, HasSubstr("a_2.csv: only 2 samples, fewer than one window of 4"));
  EXPECT_FALSE(std::filesystem::exists(target));

  std::vector<std::string> keep = base;
  keep.push_back("--keep-going");
  EXPECT_EQ(Run(keep), 1);  // documented: 1 when any file failed, the rest written
  EXPECT_THAT(err_, HasSubstr("a_2.csv: only 2 samples"));
  EXPECT_THAT(err_, HasSubstr("1 of 3 files failed"));
  std::ifstream f(target);
  std::stringstream ss;
  ss << f.rdbuf();
  const Table t = ParseCsv(ss.str());
  ASSERT_EQ(t.rows.size(), 4u);  // two windows from each good file, none from a_2
  for (const auto& row : t.rows) EXPECT_THAT(row[Col(t, "source_file")], Not(HasSubstr("a_2")));
}

// Issue 17, progress: --progress lines ends with a line counting every file
// (also the one that failed, with --keep-going); auto on a stream that is no
// terminal says nothing for work shorter than a line's interval.
TEST_F(FeaturesCmdTest, ProgressLinesCountEveryFile) {
  std::ostringstream good;
  good << "vib\n";
  for (int i = 0; i < 8; ++i) good << Signal(i) << "\n";
  for (int f = 1; f <= 12; ++f) Write("run/a_" + std::to_string(f) + ".csv", good.str());
  Write("run/a_13.csv", "vib\n1\n2\n");  // fewer samples than one window
  const std::vector<std::string> base = {"--input",  dir_ + "/run", "--fs",        "1000",
                                         "--window", "4",           "--bands",     "0-250",
                                         "--out",    "-",           "--keep-going"};
  std::vector<std::string> lines = base;
  lines.insert(lines.end(), {"--progress", "lines"});
  EXPECT_EQ(Run(lines), 1) << err_;
  EXPECT_EQ(ParseCsv(out_).rows.size(), 24u);
  std::vector<std::string> progress;
  for (const std::string& line : Split(err_, '\n')) {
    if (line.rfind("features: ", 0) == 0 && line.find(" files (") != std::string::npos) {
      progress.push_back(line);
    }
  }
  ASSERT_FALSE(progress.empty()) << err_;
  EXPECT_THAT(progress.back(), ::testing::StartsWith("features: 13/13 files (100.0 %), "));
  EXPECT_THAT(progress.back(), HasSubstr(", done in "));

  EXPECT_EQ(Run(base), 1);  // auto, not a terminal, quick: no progress line
  EXPECT_THAT(err_, Not(HasSubstr("13/13 files")));
  std::vector<std::string> off = base;
  off.insert(off.end(), {"--progress", "off"});
  EXPECT_EQ(Run(off), 1);
  EXPECT_THAT(err_, Not(HasSubstr("13/13 files")));
  std::vector<std::string> bad = base;
  bad.insert(bad.end(), {"--progress", "sometimes"});
  EXPECT_EQ(Run(bad), kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--progress"));
}

TEST_F(FeaturesCmdTest, WindowIsCheckedBeforeAllocation) {
  std::ostringstream csv;
  csv << "vib\n";
  for (int i = 0; i < 64; ++i) csv << Signal(i) << "\n";
  const std::string in = Write("small.csv", csv.str());
  for (const std::string w : {"100000000", "100000000000", "4611686018427387904"}) {
    EXPECT_EQ(Run({"--input", in, "--fs", "25600", "--window", w, "--out", "-"}), 2) << w;
    EXPECT_THAT(err_, HasSubstr("--window: " + w + " samples is above the maximum of 4194304"));
  }
  // Under the maximum but larger than the file can hold: known from its size.
  EXPECT_EQ(Run({"--input", in, "--fs", "25600", "--window", "1000000", "--out", "-"}), 1);
  EXPECT_THAT(err_, HasSubstr("small.csv: at most"));
  EXPECT_THAT(err_, HasSubstr("fewer than one window of 1000000"));
}

TEST_F(FeaturesCmdTest, HugeSpikeIsComputedSafelyOrReportedNeverInfinity) {
  std::ostringstream csv;
  csv << "vib\n";
  for (int i = 0; i < 8; ++i) csv << (i == 3 ? "1e200" : "1") << "\n";
  const std::string in = Write("spike.csv", csv.str());
  // Without bands: every feature is representable and right.
  ASSERT_EQ(Run({"--input", in, "--fs", "1000", "--window", "8", "--no-mag", "--bands", "", "--set",
                 "full", "--out", "-"}),
            0)
      << err_;
  EXPECT_THAT(out_, Not(HasSubstr("Infinity")));
  EXPECT_THAT(out_, Not(HasSubstr("NaN")));
  const Table t = ParseCsv(out_);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_NEAR(*ParseDouble(t.rows[0][Col(t, "rms_vib")]) / (1e200 / std::sqrt(8.0)), 1, 1e-12);
  EXPECT_NEAR(*ParseDouble(t.rows[0][Col(t, "kurtosis_vib")]), 344.0 / 56.0, 1e-12);
  EXPECT_GT(*ParseDouble(t.rows[0][Col(t, "spectral_centroid_vib")]), 0);
  // The band energy (about 1e400) is beyond float64: an error naming it.
  EXPECT_EQ(Run({"--input", in, "--fs", "1000", "--window", "8", "--no-mag", "--out", "-"}), 1);
  EXPECT_THAT(err_, HasSubstr("spike.csv: row 8: channel 'vib': band_energy_0_200 is beyond the "
                              "float64 range"));
  EXPECT_THAT(out_, Not(HasSubstr("Infinity")));
}

TEST_F(FeaturesCmdTest, BandWithoutFftBinIsAUsageError) {
  std::ostringstream csv;
  csv << "vib\n";
  for (int i = 0; i < 2560; ++i) csv << Signal(i) << "\n";
  const std::string in = Write("in.csv", csv.str());
  // fs 25600, window 2560: bins every 10 Hz; 101-109 holds none.
  EXPECT_EQ(Run({"--input", in, "--fs", "25600", "--bands", "0-200,101-109", "--out", "-"}), 2);
  EXPECT_THAT(err_, HasSubstr("--bands: band 2 (101-109 hz): holds no fft bin (bin width 10 hz"));
  EXPECT_EQ(Run({"--input", in, "--fs", "25600", "--bands", "100-101", "--out", "-"}), 0) << err_;
}

TEST_F(FeaturesCmdTest, EpochTimestampsFollowTheOneTimestampRule) {
  // Epoch seconds (2026-01-01T00:00:00Z + i s), the unit inferred per column.
  std::ostringstream csv;
  csv << "timestamp,vib\n";
  for (int i = 0; i < 8; ++i) csv << 1767225600 + i << "," << Signal(i) << "\n";
  ASSERT_EQ(Run({"--input", Write("ts.csv", csv.str()), "--fs", "1", "--window", "4", "--bands",
                 "0-0.5", "--out", "-"}),
            0)
      << err_;
  const Table t = ParseCsv(out_);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][0], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(t.rows[1][0], "2026-01-01T00:00:04.000Z");
  EXPECT_THAT(err_, HasSubstr("epoch seconds"));
}

}  // namespace
}  // namespace mh::app
