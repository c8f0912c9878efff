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
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/table.h"
#include "features/bearing.h"
#include "features/velocity.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"
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
    out->clear();  // RunCommand appends
    const std::string err_path = dir_ + "/stderr.txt";
    const int rc = mh::testing::RunCommand(
        mh::testing::BinaryPath() + " features " + args + " 2>" + err_path, out);
    std::ifstream f(err_path);
    std::stringstream ss;
    ss << f.rdbuf();
    *err = ss.str();
    return rc;
  }
  std::string Read(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::string dir_;
};

// A 3-channel-free single-column CSV "ax" of an impulsive, noisy signal.
std::string ImpulsiveCsv(int n, double fs, bool with_timestamp) {
  std::ostringstream csv;
  csv << (with_timestamp ? "timestamp,ax\n" : "ax\n");
  for (int i = 0; i < n; ++i) {
    const double t = i / fs;
    const double v = 0.3 * std::sin(2 * std::numbers::pi * 30 * t) + 0.1 * std::sin(0.77 * i * i) +
                     (i % 97 == 0 ? 2.0 : 0.0);
    if (with_timestamp) csv << 1767225600 + i << ",";  // epoch seconds from 2026-01-01
    csv << FormatDouble(v) << "\n";
  }
  return csv.str();
}

TEST_F(FeaturesCliTest, WindowsPerMachineWithTimestamps) {
  // Two machines interleaved, sine of amplitude 2 at 100 Hz (fs 1000) on ax;
  // machine b also has an offset. 50 samples each, window 20, hop 15 ->
  // windows at 0, 15, 30 per machine (the partial one at 45 is dropped).
  const double fs = 1000, amp = 2;
  std::ostringstream csv;
  csv << "timestamp,machine_id,sensor_id,ax,ay\n";
  for (int i = 0; i < 50; ++i) {
    const double s = amp * std::sin(2 * std::numbers::pi * 100 * i / fs);
    // Epoch milliseconds (2026-01-01T00:00:00Z + i ms): the unit is inferred.
    csv << 1767225600000 + i << ",a,s1," << FormatDouble(s) << ",0.5\n";
    csv << 1767225600000 + i << ",b,s2," << FormatDouble(s + 3) << ",-0.5\n";
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
  const std::vector<std::string> starts = {"2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z",
                                           "2026-01-01T00:00:00.015Z", "2026-01-01T00:00:00.015Z",
                                           "2026-01-01T00:00:00.030Z", "2026-01-01T00:00:00.030Z"};
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

TEST_F(FeaturesCliTest, BadValueNamesFileRowAndColumn) {
  const std::string in = Write("bad.csv", "ax,ay\n1,2\n3,4\n5,oops\n");
  std::string out, err;
  EXPECT_EQ(Run("--input " + in + " --fs 1000 --channels ax,ay --window 4 --out -", &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("bad.csv: row 3: column 'ay': 'oops' is not a number"));

  const std::string nan_in = Write("nan.csv", "ax\n1\nnan\n");
  EXPECT_EQ(Run("--input " + nan_in + " --fs 1000 --channels ax --window 4 --out -", &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("row 2: column 'ax'"));

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

TEST_F(FeaturesCliTest, OutputFormatsAgree) {
  const std::string in = Write("in.csv", ImpulsiveCsv(1000, 2000, false));
  const std::string args = "--input " + in +
                           " --fs 2000 --channels ax --window 256 --hop 128 --set full "
                           "--rpm 1800 --bearing 6205 --out ";
  std::string out, err;
  ASSERT_EQ(Run(args + "-", &out, &err), 0) << err;
  const Csv csv = ParseCsv(out);
  ASSERT_EQ(csv.rows.size(), 6u);  // starts 0, 128, ..., 640

  // JSON lines: same keys in the same order, numbers equal to the CSV text.
  for (const char* ext : {".jsonl", ".ndjson", ".JSONL"}) {
    const std::string path = dir_ + "/out" + ext;
    ASSERT_EQ(Run(args + path, &out, &err), 0) << err;
    std::istringstream lines(Read(path));
    std::string line;
    std::size_t r = 0;
    while (std::getline(lines, line)) {
      ASSERT_LT(r, csv.rows.size());
      const nlohmann::json j = nlohmann::json::parse(line);
      ASSERT_TRUE(j.is_object());
      ASSERT_EQ(j.size(), csv.header.size());
      EXPECT_TRUE(j["window_start"].is_number_integer());
      EXPECT_EQ(j["window_start"].get<std::int64_t>(), static_cast<std::int64_t>(r * 128));
      for (std::size_t c = 1; c < csv.header.size(); ++c) {
        ASSERT_TRUE(j.contains(csv.header[c])) << csv.header[c];
        // Shortest round-trip text reads back to the identical double.
        EXPECT_EQ(j[csv.header[c]].get<double>(), Num(csv.rows[r][c])) << csv.header[c];
      }
      ++r;
    }
    EXPECT_EQ(r, csv.rows.size()) << ext;
  }

  // Parquet: read back with the project's reader.
  const std::string pq = dir_ + "/out.parquet";
  ASSERT_EQ(Run(args + pq, &out, &err), 0) << err;
  auto reader = mh::parquet::OpenParquetTable(pq, {});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const auto& cols = (*reader)->columns();
  ASSERT_EQ(cols.size(), csv.header.size());
  EXPECT_EQ(cols[0].kind, ValueKind::kInt);
  TableBatch batch;
  std::size_t rows = 0;
  while (true) {
    auto more = (*reader)->Next(&batch);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (batch.rows == 0) break;
    for (std::size_t r = 0; r < batch.rows; ++r, ++rows) {
      ASSERT_LT(rows, csv.rows.size());
      EXPECT_EQ(batch.columns[0].ints[r], static_cast<std::int64_t>(rows * 128));
      for (std::size_t c = 1; c < cols.size(); ++c) {
        EXPECT_EQ(cols[c].name, csv.header[c]);
        EXPECT_EQ(batch.columns[c].doubles[r], Num(csv.rows[rows][c])) << cols[c].name;
      }
    }
  }
  EXPECT_EQ(rows, csv.rows.size());

  // Unknown extension: usage error naming --out.
  EXPECT_EQ(Run(args + dir_ + "/out.txt", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--out"));
}

TEST_F(FeaturesCliTest, ParquetInputMatchesCsvInput) {
  // The same samples as CSV and as Parquet (ax DOUBLE, ay INT64, machine_id
  // STRING) give the same output; a null sample names row and column.
  const int n = 300;
  std::ostringstream csv;
  csv << "machine_id,ax,ay\n";
  TableBatch batch;
  batch.rows = n;
  batch.columns = {TableColumn{{"machine_id", ValueKind::kString, 9}, {}, {}, {}, {}},
                   TableColumn{{"ax", ValueKind::kDouble, 9}, {}, {}, {}, {}},
                   TableColumn{{"ay", ValueKind::kInt, 9}, {}, {}, {}, {}}};
  for (int i = 0; i < n; ++i) {
    const std::string machine = i % 3 == 0 ? "m1" : "m2";
    const double ax = std::sin(0.21 * i) + 0.05 * std::cos(1.3 * i * i);
    const std::int64_t ay = (i * 37) % 11 - 5;
    csv << machine << "," << FormatDouble(ax) << "," << ay << "\n";
    batch.columns[0].strings.push_back(machine);
    batch.columns[1].doubles.push_back(ax);
    batch.columns[2].ints.push_back(ay);
    for (auto& c : batch.columns) c.valid.push_back(1);
  }
  const std::string csv_in = Write("in.csv", csv.str());
  const std::string pq_in = dir_ + "/in.parquet";
  std::vector<TableColumnInfo> schema;
  for (const auto& c : batch.columns) schema.push_back(c.info);
  {
    auto w = mh::parquet::ParquetWriter::Create(pq_in, schema, {});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write(batch).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  const std::string opts = " --fs 1000 --channels ax,ay --window 64 --hop 32 --set full --out -";
  std::string from_csv, from_pq, err;
  ASSERT_EQ(Run("--input " + csv_in + opts, &from_csv, &err), 0) << err;
  ASSERT_EQ(Run("--input " + pq_in + opts, &from_pq, &err), 0) << err;
  EXPECT_GT(ParseCsv(from_csv).rows.size(), 4u);
  EXPECT_EQ(from_pq, from_csv);

  // A null sample.
  batch.columns[1].valid[150] = 0;
  const std::string bad = dir_ + "/null.parquet";
  {
    auto w = mh::parquet::ParquetWriter::Create(bad, schema, {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(batch).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  EXPECT_EQ(Run("--input " + bad + opts, &from_pq, &err), 1);
  EXPECT_THAT(err, HasSubstr("null.parquet: row 151: column 'ax' is null"));
  EXPECT_EQ(
      Run("--input " + pq_in + " --fs 1000 --channels ax,az --window 64 --out -", &from_pq, &err),
      1);
  EXPECT_THAT(err, HasSubstr("no column 'az'"));
}

TEST_F(FeaturesCliTest, JsonLinesTimestampsAndHugeValues) {
  // 1e200 squared overflows; the window is scaled by a power of two first,
  // so rms and kurtosis are right (numpy says inf and NaN).
  std::ostringstream csv;
  csv << "timestamp,ax\n";
  for (int i = 0; i < 8; ++i) {
    csv << "2026-01-01T00:00:0" << i << "+01:00," << (i % 2 ? "1e200" : "-1e200") << "\n";
  }
  const std::string in = Write("big.csv", csv.str());
  const std::string path = dir_ + "/big.jsonl";
  std::string out, err;
  ASSERT_EQ(Run("--input " + in + " --fs 1000 --channels ax --window 8 --out " + path, &out, &err),
            0)
      << err;
  const nlohmann::json j = nlohmann::json::parse(Read(path));
  EXPECT_EQ(j["window_start"], "2025-12-31T23:00:00.000Z");  // the offset applied
  EXPECT_EQ(j["rms_ax"].get<double>(), 1e200);
  EXPECT_EQ(j["kurtosis_ax"].get<double>(), 1.0);  // a square wave
  EXPECT_EQ(j["peak_ax"].get<double>(), 1e200);
}

TEST_F(FeaturesCliTest, OrdersEnvelopeIsoZoneAndPrototypeNames) {
  const std::string in = Write("in.csv", ImpulsiveCsv(1024, 2000, true));
  std::string out, err;
  ASSERT_EQ(Run("--input " + in +
                    " --fs 2000 --channels ax --window 512 --set full --rpm 1800 "
                    "--bearing 9,0.3126,1.537,0 --env-band 200-900 --iso-group 2 "
                    "--foundation flexible --names prototype --out -",
                &out, &err),
            0)
      << err;
  const Csv csv = ParseCsv(out);
  ASSERT_EQ(csv.rows.size(), 2u);
  EXPECT_EQ(csv.rows[1][0], "2026-01-01T00:08:32.000Z");  // epoch seconds + 512
  // Prototype names; the rest unchanged.
  Col(csv, "bandE0_200_ax");
  Col(csv, "rms_ax");
  Col(csv, "peak_freq_ax");
  for (const std::string& h : csv.header) EXPECT_EQ(h.find("band_energy"), std::string::npos);
  // The 30 Hz sine of amplitude 0.3 lies exactly on bin 30 / (2000/512).
  // Not on a bin: amplitude 0.3 is spread, but order1x picks the largest of
  // the three bins around 30 Hz, which must be well above the noise.
  EXPECT_GT(Num(csv.rows[0][Col(csv, "order1x_ax")]), 0.15);
  const std::size_t zone_col = Col(csv, "iso_zone_ax");
  EXPECT_EQ(csv.header[zone_col - 1], "velocity_rms_ax");
  for (const auto& row : csv.rows) {
    const double v = Num(row[zone_col - 1]);
    const char* expected = v < 2.3 ? "A" : v < 4.5 ? "B" : v < 7.1 ? "C" : "D";
    EXPECT_EQ(row[zone_col], expected) << v;
    for (const char* f : {"env_bpfo_ax", "env_bpfi_ax", "env_bsf_ax", "env_ftf_ax", "env_2bpfo_ax",
                          "env_2bpfi_ax", "env_2bsf_ax", "env_2ftf_ax"}) {
      EXPECT_GE(Num(row[Col(csv, f)]), 0) << f;
    }
  }
}

TEST_F(FeaturesCliTest, MachineOptionErrors) {
  const std::string in = Write("in.csv", ImpulsiveCsv(600, 2000, false));
  const std::string base = "--input " + in + " --fs 2000 --channels ax --window 256 --out - ";
  std::string out, err;
  EXPECT_EQ(Run(base + "--bearing 6205", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--rpm"));
  EXPECT_EQ(Run(base + "--rpm 1800 --bearing 6999", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--bearing"));
  EXPECT_EQ(Run(base + "--rpm 1800 --bearing 9,1,1", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--bearing"));
  EXPECT_EQ(Run(base + "--rpm 1800 --bearing 6205 --env-band 900-1200", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("nyquist"));
  EXPECT_EQ(Run(base + "--rpm 30000", &out, &err), 2);  // 3x = 1500 Hz > 1000 Hz
  EXPECT_THAT(err, HasSubstr("--rpm"));
  EXPECT_EQ(Run(base + "--rpm -1", &out, &err), 2);
  EXPECT_EQ(Run(base + "--iso-group 2", &out, &err), 2);  // needs --set full
  EXPECT_THAT(err, HasSubstr("--set full"));
  EXPECT_EQ(Run(base + "--set full --iso-group 3", &out, &err), 2);
  EXPECT_EQ(Run(base + "--set full --iso-group 1 --foundation soft", &out, &err), 2);
  EXPECT_EQ(Run(base + "--names influx", &out, &err), 2);
  EXPECT_EQ(Run(base + "--rpm 1800 --bearing 6205", &out, &err), 0) << err;
}

TEST_F(FeaturesCliTest, BadInputNamesFileRowAndColumn) {
  std::string out, err;
  // Infinite and NaN samples.
  const std::string inf = Write("inf.csv", "ax,ay\n1,2\n3,inf\n");
  EXPECT_EQ(Run("--input " + inf + " --fs 1000 --channels ax,ay --window 4 --out -", &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("inf.csv: row 2: column 'ay'"));
  const std::string nan = Write("nan.csv", "ax,ay\n-nan,2\n");
  EXPECT_EQ(Run("--input " + nan + " --fs 1000 --channels ax,ay --window 4 --out -", &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("nan.csv: row 1: column 'ax'"));
  const std::string empty_field = Write("empty.csv", "ax,ay\n1,\n");
  EXPECT_EQ(
      Run("--input " + empty_field + " --fs 1000 --channels ax,ay --window 4 --out -", &out, &err),
      1);
  EXPECT_THAT(err, HasSubstr("row 1: column 'ay' is null"));
  // Too short: fewer samples than one window, per machine.
  const std::string short_in = Write("short.csv", "ax\n1\n2\n3\n");
  EXPECT_EQ(Run("--input " + short_in + " --fs 1000 --channels ax --window 4 --out -", &out, &err),
            1);
  EXPECT_THAT(err, HasSubstr("short.csv"));
  EXPECT_THAT(err, HasSubstr("fewer than one window of 4"));
  const std::string two = Write("two.csv", "machine_id,ax\na,1\nb,1\na,2\na,3\na,4\nb,2\n");
  EXPECT_EQ(Run("--input " + two + " --fs 1000 --channels ax --window 4 --out -", &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("machine 'b': only 2 samples"));
  const std::string header_only = Write("header.csv", "ax\n");
  EXPECT_EQ(
      Run("--input " + header_only + " --fs 1000 --channels ax --window 4 --out -", &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("no samples"));
  // A failed run leaves no output file behind.
  const std::string target = dir_ + "/never.csv";
  EXPECT_EQ(Run("--input " + short_in + " --fs 1000 --channels ax --window 4 --out " + target, &out,
                &err),
            1);
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_FALSE(std::filesystem::exists(target + ".tmp"));
  // fs <= 0 and a missing channel.
  EXPECT_EQ(Run("--input " + short_in + " --fs -5 --channels ax --window 2 --out -", &out, &err),
            2);
  EXPECT_THAT(err, HasSubstr("--fs"));
  EXPECT_EQ(
      Run("--input " + short_in + " --fs 1000 --channels ax,az --window 4 --out -", &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("short.csv: no column 'az' (columns: ax)"));
}

// Columns of `csv` whose name ends with `suffix`.
std::vector<std::string> ColumnsEndingWith(const Csv& csv, const std::string& suffix) {
  std::vector<std::string> out;
  for (const std::string& h : csv.header) {
    if (h.size() >= suffix.size() &&
        h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(h);
    }
  }
  return out;
}

TEST_F(FeaturesCliTest, MagnitudeIsOnByDefaultAndMatchesNumpy) {
  // Three channels: ax noise-like, ay a tone, az gravity plus a tone.
  const double fs = 2560;
  const std::size_t n = 256;
  std::vector<std::vector<double>> ch(3);
  std::ostringstream csv;
  csv << "ax,ay,az\n";
  for (std::size_t i = 0; i < 2 * n; ++i) {
    const double t = static_cast<double>(i) / fs;
    const double ax = 0.3 * std::sin(0.77 * static_cast<double>(i * i)) + (i % 41 == 0 ? 1.5 : 0);
    const double ay = 0.8 * std::sin(2 * std::numbers::pi * 120 * t);
    const double az = 1.0 + 0.2 * std::cos(2 * std::numbers::pi * 310 * t);
    ch[0].push_back(ax);
    ch[1].push_back(ay);
    ch[2].push_back(az);
    csv << FormatDouble(ax) << "," << FormatDouble(ay) << "," << FormatDouble(az) << "\n";
  }
  const std::string in = Write("in.csv", csv.str());
  const std::string opts = " --fs 2560 --channels ax,ay,az --window 256 --bands 0-200,200-1280";
  std::string out, err;
  ASSERT_EQ(Run("--input " + in + opts + " --out -", &out, &err), 0) << err;
  const Csv with_mag = ParseCsv(out);
  ASSERT_EQ(with_mag.rows.size(), 2u);
  const std::vector<std::string> mag_cols = ColumnsEndingWith(with_mag, "_mag");
  ASSERT_EQ(mag_cols.size(), 14u);  // 10 + 2 bands x 2
  EXPECT_EQ(mag_cols.front(), "mean_mag");
  EXPECT_EQ(with_mag.header.back(), "band_rms_200_1280_mag");
  Col(with_mag, "rms_mag");
  Col(with_mag, "kurtosis_mag");

  // numpy: the magnitude from the same samples, then its features.
  std::vector<std::vector<double>> lines;
  for (std::size_t w = 0; w < 2; ++w) {
    for (std::size_t c = 0; c < 3; ++c) {
      lines.emplace_back(ch[c].begin() + static_cast<std::ptrdiff_t>(w * n),
                         ch[c].begin() + static_cast<std::ptrdiff_t>((w + 1) * n));
    }
  }
  std::string error;
  const auto ref =
      testref::PythonReference(fs, {{0, 200}, {200, 1280}}, lines, &error, "magnitude=3");
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(ref.size(), 8u);
  for (std::size_t w = 0; w < 2; ++w) {
    const std::vector<double>& r = ref[4 * w + 3];  // the magnitude's row
    ASSERT_EQ(r.size(), mag_cols.size());
    for (std::size_t i = 0; i < r.size(); ++i) {
      const double tol = i < 8 ? 1e-9 * std::fabs(r[i]) + 1e-12 : 1e-6 * std::fabs(r[i]) + 1e-9;
      EXPECT_NEAR(Num(with_mag.rows[w][Col(with_mag, mag_cols[i])]), r[i], tol)
          << mag_cols[i] << " window " << w;
    }
  }

  // --no-mag: the same columns minus the magnitude's, with the same values.
  ASSERT_EQ(Run("--input " + in + opts + " --no-mag --out -", &out, &err), 0) << err;
  const Csv no_mag = ParseCsv(out);
  EXPECT_TRUE(ColumnsEndingWith(no_mag, "_mag").empty());
  ASSERT_EQ(no_mag.header.size() + mag_cols.size(), with_mag.header.size());
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t i = 0; i < no_mag.header.size(); ++i) {
      EXPECT_EQ(no_mag.header[i], with_mag.header[i]);
      EXPECT_EQ(no_mag.rows[r][i], with_mag.rows[r][i]) << no_mag.header[i];
    }
  }

  // One channel: no magnitude.
  ASSERT_EQ(Run("--input " + in + " --fs 2560 --channels ay --window 256 --out -", &out, &err), 0)
      << err;
  EXPECT_TRUE(ColumnsEndingWith(ParseCsv(out), "_mag").empty());
  // The full set with an ISO zone: velocity_rms_mag, but no iso_zone_mag.
  ASSERT_EQ(Run("--input " + in + opts + " --set full --iso-group 2 --out -", &out, &err), 0)
      << err;
  const Csv full = ParseCsv(out);
  Col(full, "velocity_rms_mag");
  Col(full, "iso_zone_az");
  for (const std::string& h : full.header) EXPECT_NE(h, "iso_zone_mag");
}

TEST_F(FeaturesCliTest, AMagColumnNeedsNoMag) {
  // The prototype's per-sample tables have a "mag" column of their own.
  std::ostringstream csv;
  csv << "ax,mag\n";
  for (int i = 0; i < 8; ++i) csv << i % 3 << "," << i % 5 << "\n";
  const std::string in = Write("mag.csv", csv.str());
  std::string out, err;
  const std::string base = "--input " + in + " --fs 1000 --channels ax,mag --window 8 --out -";
  EXPECT_EQ(Run(base, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--no-mag"));
  ASSERT_EQ(Run(base + " --no-mag", &out, &err), 0) << err;
  const Csv result = ParseCsv(out);
  EXPECT_DOUBLE_EQ(Num(result.rows.at(0)[Col(result, "mean_mag")]), 1.625);  // 0 1 2 3 4 0 1 2
}

TEST_F(FeaturesCliTest, Float32DtypeRoundsSamplesLikeNumpy) {
  // Samples with 17 significant digits: float32 rounding changes them.
  const double fs = 1000;
  const std::size_t n = 200;
  std::vector<double> ax, ay;
  std::ostringstream csv;
  csv << "ax,ay\n";
  for (std::size_t i = 0; i < n; ++i) {
    ax.push_back(0.1234567890123 * std::sin(0.3 * static_cast<double>(i)) + 9.80665);
    ay.push_back(std::cos(1.7 * static_cast<double>(i * i)) / 3);
    csv << FormatDouble(ax.back()) << "," << FormatDouble(ay.back()) << "\n";
  }
  const std::string in = Write("in.csv", csv.str());
  const std::string opts = " --fs 1000 --channels ax,ay --window 200 --bands 0-100,100-500 --out -";
  std::string out32, out64, err;
  ASSERT_EQ(Run("--input " + in + opts + " --dtype float32", &out32, &err), 0) << err;
  ASSERT_EQ(Run("--input " + in + opts + " --dtype float64", &out64, &err), 0) << err;
  const Csv f32 = ParseCsv(out32), f64 = ParseCsv(out64);
  ASSERT_EQ(f32.rows.size(), 1u);
  ASSERT_EQ(f32.header, f64.header);
  EXPECT_NE(f32.rows[0][Col(f32, "mean_ax")], f64.rows[0][Col(f64, "mean_ax")]);
  // numpy rounds the float64 samples to np.float32 and upcasts them.
  std::string error;
  const auto ref =
      testref::PythonReference(fs, {{0, 100}, {100, 500}}, {ax, ay}, &error, "magnitude=2 float32");
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(ref.size(), 3u);
  const std::size_t per = ref[0].size();
  ASSERT_EQ(f32.header.size(), 1 + 3 * per);
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < per; ++i) {
      const double want = ref[c][i];
      const double tol = i < 8 ? 1e-9 * std::fabs(want) + 1e-12 : 1e-6 * std::fabs(want) + 1e-9;
      EXPECT_NEAR(Num(f32.rows[0][1 + c * per + i]), want, tol) << f32.header[1 + c * per + i];
    }
  }
  // Bad dtype; a value beyond float32's range names file, line and column.
  EXPECT_EQ(Run("--input " + in + opts + " --dtype float16", &out32, &err), 2);
  EXPECT_THAT(err, HasSubstr("--dtype"));
  const std::string big = Write("big.csv", "ax,ay\n1,2\n3,1e39\n5,6\n7,8\n");
  EXPECT_EQ(Run("--input " + big + " --fs 1000 --channels ax,ay --window 4 --dtype float32 --out -",
                &out32, &err),
            1);
  EXPECT_THAT(err, HasSubstr("big.csv: row 2: column 'ay': '1e+39' is outside the float32 range"));
}

TEST_F(FeaturesCliTest, ParquetFloatColumnsAreReadExactly) {
  // parquet-testing's alltypes_tiny_pages.parquet has a FLOAT column
  // (float_col) and a DOUBLE column (double_col), 7300 rows.
  const std::string file =
      mh::testing::SharedDir() + "/testdata/parquet/alltypes_tiny_pages.parquet";
  ASSERT_TRUE(std::filesystem::exists(file)) << file << " missing (../shared/testdata)";
  // Our reader's values (float32 widened exactly) as the oracle's input.
  std::vector<double> fcol;
  {
    auto reader = mh::parquet::OpenParquetTable(file, {});
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    std::size_t idx = 0;
    for (std::size_t i = 0; i < (*reader)->columns().size(); ++i) {
      if ((*reader)->columns()[i].name == "float_col") idx = i;
    }
    TableBatch batch;
    while (true) {
      auto more = (*reader)->Next(&batch);
      ASSERT_TRUE(more.ok()) << more.status().ToString();
      if (batch.rows == 0) break;
      for (std::size_t r = 0; r < batch.rows; ++r) fcol.push_back(batch.columns[idx].doubles[r]);
    }
  }
  ASSERT_EQ(fcol.size(), 7300u);
  for (double v : fcol) ASSERT_EQ(static_cast<double>(static_cast<float>(v)), v);

  // Copied without its extension: recognised by the PAR1 magic.
  const std::string copy = dir_ + "/alltypes.dat";
  std::filesystem::copy_file(file, copy);
  const std::string opts = " --fs 1000 --channels float_col --window 1000 --bands 0-100 --out -";
  std::string out, out32, err;
  ASSERT_EQ(Run("--input " + copy + opts, &out, &err), 0) << err;
  ASSERT_EQ(Run("--input " + file + opts + " --dtype float32", &out32, &err), 0) << err;
  EXPECT_EQ(out, out32);  // float32 values round to themselves
  const Csv csv = ParseCsv(out);
  ASSERT_EQ(csv.rows.size(), 7u);
  std::vector<std::vector<double>> windows;
  for (std::size_t w = 0; w < 7; ++w) {
    windows.emplace_back(fcol.begin() + static_cast<std::ptrdiff_t>(w * 1000),
                         fcol.begin() + static_cast<std::ptrdiff_t>((w + 1) * 1000));
  }
  std::string error;
  const auto ref = testref::PythonReference(1000, {{0, 100}}, windows, &error, "float32");
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(ref.size(), 7u);
  for (std::size_t w = 0; w < 7; ++w) {
    ASSERT_EQ(csv.rows[w].size(), ref[w].size() + 1);
    for (std::size_t i = 0; i < ref[w].size(); ++i) {
      const double want = ref[w][i];
      const double tol = i < 8 ? 1e-9 * std::fabs(want) + 1e-12 : 1e-6 * std::fabs(want) + 1e-9;
      EXPECT_NEAR(Num(csv.rows[w][i + 1]), want, tol) << csv.header[i + 1] << " window " << w;
    }
  }
}

}  // namespace
}  // namespace mh::features
