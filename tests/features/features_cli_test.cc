// End-to-end tests of `machine-health features` (runs the built binary).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "reference.h"
#include "testing/test_paths.h"

namespace mh::features {
namespace {

using ::testing::HasSubstr;

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

Csv ParseCsv(const std::string& text) {
  Csv csv;
  std::istringstream in(text);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (first) {
      csv.header = Split(line, ',');
      first = false;
    } else {
      csv.rows.push_back(Split(line, ','));
    }
  }
  return csv;
}

std::size_t Col(const Csv& csv, const std::string& name) {
  for (std::size_t i = 0; i < csv.header.size(); ++i) {
    if (csv.header[i] == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

double Num(const std::string& s) {
  auto v = ParseDouble(s);
  EXPECT_TRUE(v.ok()) << s;
  return v.ok() ? *v : std::nan("");
}

class FeaturesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (mh::testing::BinaryPath().empty()) GTEST_SKIP() << "MH_BINARY not set";
    dir_ = mh::testing::MakeTempDir("mh-features-cli");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // Runs the binary; returns its exit code, stdout in *out, stderr in *err.
  int Run(const std::string& args, std::string* out, std::string* err) {
    const std::string err_path = dir_ + "/stderr.txt";
    const int rc = mh::testing::RunCommand(
        mh::testing::BinaryPath() + " features " + args + " 2>" + err_path, out);
    std::ifstream f(err_path);
    std::stringstream ss;
    ss << f.rdbuf();
    *err = ss.str();
    return rc;
  }
  std::string dir_;
};

TEST_F(FeaturesCliTest, WindowsPerMachineWithTimestamps) {
  // Two machines interleaved, sine of amplitude 2 at 100 Hz (fs 1000) on ax;
  // machine b also has an offset. 50 samples each, window 20, hop 15 ->
  // windows at 0, 15, 30 per machine (the partial one at 45 is dropped).
  const double fs = 1000, amp = 2;
  std::ostringstream csv;
  csv << "timestamp,machine_id,sensor_id,ax,ay\n";
  for (int i = 0; i < 50; ++i) {
    const double s = amp * std::sin(2 * std::numbers::pi * 100 * i / fs);
    csv << "t" << i << ",a,s1," << FormatDouble(s) << ",0.5\n";
    csv << "t" << i << ",b,s2," << FormatDouble(s + 3) << ",-0.5\n";
  }
  const std::string in = Write("in.csv", csv.str());
  const std::string out_path = dir_ + "/out.csv";
  std::string out, err;
  ASSERT_EQ(Run("--input " + in + " --fs 1000 --channels ax,ay --window 20 --hop 15 " +
                    "--bands 50-150,200-500 --out " + out_path,
                &out, &err),
            0)
      << err;
  std::ifstream f(out_path);
  std::stringstream ss;
  ss << f.rdbuf();
  const Csv result = ParseCsv(ss.str());
  ASSERT_GE(result.header.size(), 3u);
  EXPECT_EQ(result.header[0], "window_start");
  EXPECT_EQ(result.header[1], "machine_id");
  EXPECT_EQ(result.header[2], "mean_ax");
  ASSERT_EQ(result.rows.size(), 6u);
  const std::vector<std::string> starts = {"t0", "t0", "t15", "t15", "t30", "t30"};
  const std::vector<std::string> machines = {"a", "b", "a", "b", "a", "b"};
  for (std::size_t r = 0; r < result.rows.size(); ++r) {
    const auto& row = result.rows[r];
    ASSERT_EQ(row.size(), result.header.size());
    EXPECT_EQ(row[0], starts[r]);
    EXPECT_EQ(row[1], machines[r]);
    const double offset = machines[r] == "b" ? 3 : 0;
    // 20 samples = 2 periods: analytic values.
    EXPECT_NEAR(Num(row[Col(result, "mean_ax")]), offset, 1e-12);
    EXPECT_NEAR(Num(row[Col(result, "rms_ac_ax")]), amp / std::sqrt(2), 1e-12);
    EXPECT_NEAR(Num(row[Col(result, "rms_ax")]), std::sqrt(offset * offset + amp * amp / 2), 1e-12);
    EXPECT_DOUBLE_EQ(Num(row[Col(result, "peak_freq_ax")]), 100);
    EXPECT_NEAR(Num(row[Col(result, "band_rms_50_150_ax")]), amp / std::sqrt(2), 1e-12);
    EXPECT_NEAR(Num(row[Col(result, "band_rms_200_500_ax")]), 0, 1e-12);
    EXPECT_NEAR(Num(row[Col(result, "mean_ay")]), machines[r] == "a" ? 0.5 : -0.5, 1e-15);
  }
}

TEST_F(FeaturesCliTest, SampleIndexStartsAndNumpyValues) {
  // No timestamp or machine column: window_start is the sample index.
  std::ostringstream csv;
  csv << "ax\n";
  std::vector<double> x;
  for (int i = 0; i < 100; ++i) {
    const double v = std::sin(0.37 * i) + 0.2 * std::cos(1.9 * i * i) + (i == 33 ? 4.0 : 0.0);
    x.push_back(v);
    csv << FormatDouble(v) << "\n";
  }
  const std::string in = Write("in.csv", csv.str());
  std::string out, err;
  ASSERT_EQ(
      Run("--input " + in + " --fs 400 --channels ax --window 32 --hop 40 --out -", &out, &err), 0)
      << err;
  const Csv result = ParseCsv(out);
  ASSERT_EQ(result.rows.size(), 2u);  // starts 0 and 40; 80 + 32 > 100
  EXPECT_EQ(result.rows[0][0], "0");
  EXPECT_EQ(result.rows[1][0], "40");
  std::vector<std::vector<double>> windows = {std::vector<double>(x.begin(), x.begin() + 32),
                                              std::vector<double>(x.begin() + 40, x.begin() + 72)};
  std::string error;
  const auto ref = testref::PythonReference(400, {{0, 200}}, windows, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(ref.size(), 2u);
  for (std::size_t r = 0; r < 2; ++r) {
    ASSERT_EQ(result.rows[r].size(), ref[r].size() + 1);
    for (std::size_t i = 0; i < ref[r].size(); ++i) {
      EXPECT_NEAR(Num(result.rows[r][i + 1]), ref[r][i], 1e-9 * std::fabs(ref[r][i]) + 1e-12)
          << result.header[i + 1];
    }
  }
}

TEST_F(FeaturesCliTest, BadValueNamesFileLineAndColumn) {
  const std::string in = Write("bad.csv", "ax,ay\n1,2\n3,4\n5,oops\n");
  std::string out, err;
  EXPECT_EQ(Run("--input " + in + " --fs 1000 --channels ax,ay --window 4 --out -", &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("bad.csv"));
  EXPECT_THAT(err, HasSubstr("line 4"));
  EXPECT_THAT(err, HasSubstr("'ay'"));

  const std::string nan_in = Write("nan.csv", "ax\n1\nnan\n");
  EXPECT_EQ(Run("--input " + nan_in + " --fs 1000 --channels ax --window 4 --out -", &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("line 3"));

  const std::string short_row = Write("short.csv", "ax,ay\n1,2\n3\n");
  EXPECT_EQ(
      Run("--input " + short_row + " --fs 1000 --channels ax,ay --window 4 --out -", &out, &err),
      1);
  EXPECT_THAT(err, HasSubstr("line 3"));

  EXPECT_EQ(Run("--input " + in + " --fs 1000 --channels az --window 4 --out -", &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("'az'"));

  EXPECT_EQ(Run("--input " + dir_ + "/missing.csv --fs 1000 --out -", &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("missing.csv"));
}

TEST_F(FeaturesCliTest, BadOptionsAreUsageErrors) {
  const std::string in = Write("in.csv", "ax\n1\n2\n3\n4\n");
  std::string out, err;
  const std::string base = "--input " + in + " --channels ax --out - ";
  EXPECT_EQ(Run(base + "--fs 0", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--fs"));
  EXPECT_EQ(Run(base + "--fs 1000 --window 3", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--window"));
  EXPECT_EQ(Run(base + "--fs 1000 --window 4 --hop 0", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--hop"));
  EXPECT_EQ(Run(base + "--fs 1000 --window 4 --bands 0-600", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("nyquist"));
  EXPECT_EQ(Run(base + "--fs 1000 --window 4 --bands 10", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--bands"));
  EXPECT_EQ(Run("--input " + in + " --fs 1000 --out -  --channels ax,,ay", &out, &err), 2);
  EXPECT_EQ(Run("--input " + in + " --fs 1000", &out, &err), 2);  // --out missing
  EXPECT_EQ(Run(base + "--fs 1000 --window 4", &out, &err), 0) << err;
}

}  // namespace
}  // namespace mh::features
