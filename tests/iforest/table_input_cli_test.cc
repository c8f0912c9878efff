// `machine-health train` and `score` on Parquet as well as CSV feature
// tables (app/feature_table.h), and the feature granularity stored by train:
// runs the built binary (MH_BINARY).
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/table.h"
#include "iforest/model_io.h"
#include "parquet/parquet_writer.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

TableColumn Column(const std::string& name, ValueKind kind, int digits = 9) {
  TableColumn c;
  c.info = {name, kind, digits};
  return c;
}

Status WriteParquet(const std::string& path, const TableBatch& batch) {
  std::vector<TableColumnInfo> schema;
  for (const TableColumn& c : batch.columns) schema.push_back(c.info);
  auto w = parquet::ParquetWriter::Create(path, schema, {});
  if (!w.ok()) return w.status();
  MH_RETURN_IF_ERROR((*w)->Write(batch));
  return (*w)->Close();
}

class TableInputCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = mh::testing::BinaryPath();
    if (binary_.empty() || !std::filesystem::exists(binary_)) {
      GTEST_SKIP() << "MH_BINARY is not set to the built machine-health binary";
    }
    dir_ = mh::testing::MakeTempDir("iforest-table-cli");
    // The same 200 rows as CSV and as Parquet: window_start INT64,
    // machine_id STRING, rms and kurtosis DOUBLE (a few outliers).
    batch_.rows = kRows;
    batch_.columns = {Column("window_start", ValueKind::kInt),
                      Column("machine_id", ValueKind::kString), Column("rms", ValueKind::kDouble),
                      Column("kurtosis", ValueKind::kDouble)};
    std::ostringstream csv;
    csv << "window_start,machine_id,rms,kurtosis\n";
    for (std::size_t i = 0; i < kRows; ++i) {
      const double k = i % 50 == 7 ? 5.0 : 1.0;
      const double rms = k * (1.0 + 0.013 * static_cast<double>(i % 17)) + std::sin(0.1 * i) / 7;
      const double kurt = 3.0 + k * 0.11 * static_cast<double>(i % 7);
      const auto start = static_cast<std::int64_t>(2560 * i);
      const std::string machine = "m" + std::to_string(i % 3);
      csv << start << "," << machine << "," << FormatDouble(rms) << "," << FormatDouble(kurt)
          << "\n";
      batch_.columns[0].ints.push_back(start);
      batch_.columns[1].strings.push_back(machine);
      batch_.columns[2].doubles.push_back(rms);
      batch_.columns[3].doubles.push_back(kurt);
      for (TableColumn& c : batch_.columns) c.valid.push_back(1);
    }
    test::WriteFile(dir_ + "/f.csv", csv.str());
    Status s = WriteParquet(dir_ + "/f.parquet", batch_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs `machine-health <args>`; returns the exit code, sets out/err.
  int Run(const std::string& args, std::string* out, std::string* err) {
    out->clear();
    const int rc = mh::testing::RunCommand(binary_ + " " + args + " 2>" + dir_ + "/err.txt", out);
    *err = test::ReadFile(dir_ + "/err.txt");
    return rc;
  }

  static constexpr std::size_t kRows = 200;
  std::string binary_, dir_;
  TableBatch batch_;
};

TEST_F(TableInputCliTest, TrainAndScoreReadParquetExactlyAsCsv) {
  std::string out, err;
  const std::string opts = " --trees 20 --seed 11 --threads 1 --contamination 0.05";
  ASSERT_EQ(Run("train --input " + dir_ + "/f.csv --out " + dir_ + "/csv.mhm" + opts, &out, &err),
            0)
      << err;
  ASSERT_EQ(
      Run("train --input " + dir_ + "/f.parquet --out " + dir_ + "/pq.mhm" + opts, &out, &err), 0)
      << err;
  EXPECT_NE(out.find("rows=200 features=2"), std::string::npos) << out;
  Result<Model> a = LoadModel(dir_ + "/csv.mhm");
  Result<Model> b = LoadModel(dir_ + "/pq.mhm");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  // window_start and machine_id are identifiers, never default features.
  EXPECT_EQ(b->feature_names, (std::vector<std::string>{"rms", "kurtosis"}));
  EXPECT_EQ(a->feature_names, b->feature_names);
  EXPECT_EQ(a->scaler.mean, b->scaler.mean);
  EXPECT_EQ(a->scaler.scale, b->scaler.scale);
  EXPECT_EQ(a->offset, b->offset);
  ASSERT_EQ(a->trees.size(), b->trees.size());
  for (std::size_t t = 0; t < a->trees.size(); ++t) {
    EXPECT_EQ(a->trees[t].threshold, b->trees[t].threshold) << "tree " << t;
    EXPECT_EQ(a->trees[t].left, b->trees[t].left) << "tree " << t;
  }
  EXPECT_EQ(b->card.source, dir_ + "/f.parquet");

  // Scoring: Parquet and CSV input give the same bytes, ids included.
  std::string from_csv, from_pq;
  ASSERT_EQ(
      Run("score --model " + dir_ + "/pq.mhm --input " + dir_ + "/f.csv --out -", &from_csv, &err),
      0)
      << err;
  ASSERT_EQ(Run("score --model " + dir_ + "/pq.mhm --input " + dir_ + "/f.parquet --out -",
                &from_pq, &err),
            0)
      << err;
  EXPECT_EQ(from_pq, from_csv);
  std::istringstream lines(from_pq);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "window_start,machine_id,score,score_samples,anomaly");
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("0,m0,", 0), 0u) << line;
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("2560,m1,", 0), 0u) << line;
  std::size_t rows = 2, anomalies = 0;
  while (std::getline(lines, line)) {
    ++rows;
    anomalies += line.back() == '1';
  }
  EXPECT_EQ(rows, kRows);
  EXPECT_GT(anomalies, 0u);
}

TEST_F(TableInputCliTest, GranularityIsStoredAndShown) {
  std::string out, err;
  const std::string base = "train --input " + dir_ + "/f.parquet --trees 5 --out " + dir_;
  ASSERT_EQ(Run(base + "/window.mhm", &out, &err), 0) << err;
  ASSERT_EQ(Run(base + "/sample.mhm --granularity sample", &out, &err), 0) << err;
  ASSERT_EQ(Run(base + "/window2.mhm --granularity window", &out, &err), 0) << err;
  Result<Model> w = LoadModel(dir_ + "/window.mhm");
  Result<Model> s = LoadModel(dir_ + "/sample.mhm");
  Result<Model> w2 = LoadModel(dir_ + "/window2.mhm");
  ASSERT_TRUE(w.ok() && s.ok() && w2.ok());
  EXPECT_EQ(w->granularity, FeatureGranularity::kPerWindow);  // the default
  EXPECT_EQ(w2->granularity, FeatureGranularity::kPerWindow);
  EXPECT_EQ(s->granularity, FeatureGranularity::kPerSample);
  ASSERT_EQ(Run("model info " + dir_ + "/sample.mhm", &out, &err), 0) << err;
  EXPECT_NE(out.find("(per-sample)"), std::string::npos) << out;
  ASSERT_EQ(Run("model info --json " + dir_ + "/window.mhm", &out, &err), 0) << err;
  const nlohmann::json info = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(info.is_discarded()) << out;
  EXPECT_EQ(info.value("feature_granularity", ""), "per-window") << out;
  EXPECT_EQ(Run(base + "/bad.mhm --granularity day", &out, &err), 2);
  EXPECT_NE(err.find("--granularity"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/bad.mhm"));
}

TEST_F(TableInputCliTest, ParquetBadCellsNameFileRowAndColumn) {
  std::string out, err;
  ASSERT_EQ(Run("train --input " + dir_ + "/f.csv --trees 5 --out " + dir_ + "/m.mhm", &out, &err),
            0)
      << err;
  // A null rms in row 51 (index 50).
  TableBatch nulls = batch_;
  nulls.columns[2].valid[50] = 0;
  ASSERT_TRUE(WriteParquet(dir_ + "/null.parquet", nulls).ok());
  EXPECT_EQ(Run("train --input " + dir_ + "/null.parquet --out " + dir_ + "/x.mhm", &out, &err), 1);
  EXPECT_NE(err.find("null.parquet: row 51, column 'rms': missing value"), std::string::npos)
      << err;
  EXPECT_EQ(
      Run("score --model " + dir_ + "/m.mhm --input " + dir_ + "/null.parquet --out -", &out, &err),
      1);
  EXPECT_NE(err.find("null.parquet: row 51, column 'rms': missing value"), std::string::npos)
      << err;
  // NaN and infinite values.
  TableBatch nan = batch_;
  nan.columns[3].doubles[70] = std::nan("");
  ASSERT_TRUE(WriteParquet(dir_ + "/nan.parquet", nan).ok());
  EXPECT_EQ(
      Run("score --model " + dir_ + "/m.mhm --input " + dir_ + "/nan.parquet --out -", &out, &err),
      1);
  EXPECT_NE(err.find("nan.parquet: row 71, column 'kurtosis': not finite (NaN)"), std::string::npos)
      << err;
  TableBatch inf = batch_;
  inf.columns[2].doubles[0] = -INFINITY;
  ASSERT_TRUE(WriteParquet(dir_ + "/inf.parquet", inf).ok());
  EXPECT_EQ(Run("train --input " + dir_ + "/inf.parquet --out " + dir_ + "/x.mhm", &out, &err), 1);
  EXPECT_NE(err.find("inf.parquet: row 1, column 'rms': not finite (-Infinity)"), std::string::npos)
      << err;
  // Text columns are parsed; a text that is not a number names its row.
  TableBatch text;
  text.rows = 3;
  text.columns = {Column("rms", ValueKind::kString), Column("at", ValueKind::kTimestamp)};
  for (const char* v : {"1.5", "2.5", "x7"}) {
    text.columns[0].strings.emplace_back(v);
    text.columns[1].ints.push_back(1'700'000'000'000'000'000);
    for (TableColumn& c : text.columns) c.valid.push_back(1);
  }
  ASSERT_TRUE(WriteParquet(dir_ + "/text.parquet", text).ok());
  EXPECT_EQ(Run("train --input " + dir_ + "/text.parquet --out " + dir_ + "/x.mhm", &out, &err), 1);
  EXPECT_NE(err.find("text.parquet: row 3, column 'rms': not a number: 'x7'"), std::string::npos)
      << err;
  // A timestamp is not a feature.
  EXPECT_EQ(Run("train --input " + dir_ + "/text.parquet --features at --out " + dir_ + "/x.mhm",
                &out, &err),
            1);
  EXPECT_NE(err.find("column 'at' holds timestamp values, not numbers"), std::string::npos) << err;
  // Missing feature columns are listed.
  EXPECT_EQ(
      Run("score --model " + dir_ + "/m.mhm --input " + dir_ + "/text.parquet --out -", &out, &err),
      1);
  EXPECT_NE(err.find("missing feature column(s) 'kurtosis'"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.mhm"));
}

TEST_F(TableInputCliTest, IdentifiersAreQuotedAndTimestampsAreInstants) {
  std::string out, err;
  ASSERT_EQ(Run("train --input " + dir_ + "/f.csv --trees 5 --out " + dir_ + "/m.mhm", &out, &err),
            0)
      << err;
  // CSV: identifiers verbatim, quoted cells re-quoted in the output; the
  // timestamp is an instant, written as RFC 3339 UTC.
  test::WriteFile(dir_ + "/ids.csv",
                  "timestamp,sensor_id,rms,kurtosis\n"
                  "2024-01-01 00:00:00.5,\"s1,left\",1.0,3.0\n"
                  "2024-01-01T00:00:01Z,007,1.1,3.1\n");
  ASSERT_EQ(
      Run("score --model " + dir_ + "/m.mhm --input " + dir_ + "/ids.csv --out -", &out, &err), 0)
      << err;
  std::istringstream lines(out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "timestamp,sensor_id,score,score_samples,anomaly");
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("2024-01-01T00:00:00.500Z,\"s1,left\",", 0), 0u) << line;
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("2024-01-01T00:00:01.000Z,007,", 0), 0u) << line;
  // A timestamp that is no instant is an error naming the column.
  test::WriteFile(dir_ + "/bad_ts.csv", "timestamp,rms,kurtosis\n007,1.0,3.0\n");
  EXPECT_EQ(
      Run("score --model " + dir_ + "/m.mhm --input " + dir_ + "/bad_ts.csv --out -", &out, &err),
      1);
  EXPECT_NE(err.find("'timestamp'"), std::string::npos) << err;
  // Parquet: a TIMESTAMP column is written as RFC 3339 UTC.
  TableBatch b;
  b.rows = 1;
  b.columns = {Column("timestamp", ValueKind::kTimestamp, 9), Column("rms", ValueKind::kDouble),
               Column("kurtosis", ValueKind::kDouble)};
  b.columns[0].ints.push_back(1'700'000'000'123'000'000);
  b.columns[1].doubles.push_back(1.0);
  b.columns[2].doubles.push_back(3.0);
  for (TableColumn& c : b.columns) c.valid.push_back(1);
  ASSERT_TRUE(WriteParquet(dir_ + "/ts.parquet", b).ok());
  ASSERT_EQ(
      Run("score --model " + dir_ + "/m.mhm --input " + dir_ + "/ts.parquet --out -", &out, &err),
      0)
      << err;
  EXPECT_NE(out.find("\n2023-11-14T22:13:20.123"), std::string::npos) << out;
}

TEST_F(TableInputCliTest, FeaturesParquetTrainsAndScores) {
  // features --out x.parquet, then train and score on that Parquet file.
  std::ostringstream csv;
  csv << "ax,ay\n";
  for (int i = 0; i < 64 * 40; ++i) {
    const double burst = (i / 64) % 13 == 5 ? 4.0 : 1.0;
    csv << FormatDouble(burst * std::sin(0.3 * i) + 0.1 * std::cos(1.7 * i * i)) << ","
        << FormatDouble(0.5 * std::cos(0.11 * i)) << "\n";
  }
  test::WriteFile(dir_ + "/samples.csv", csv.str());
  std::string out, err;
  ASSERT_EQ(Run("features --input " + dir_ + "/samples.csv --fs 1000 --channels ax,ay " +
                    "--window 64 --out " + dir_ + "/w.parquet",
                &out, &err),
            0)
      << err;
  ASSERT_EQ(Run("train --input " + dir_ + "/w.parquet --features rms_ax,kurtosis_ax,rms_mag " +
                    "--trees 10 --out " + dir_ + "/w.mhm",
                &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("rows=40 features=3"), std::string::npos) << out;
  ASSERT_EQ(Run("score --model " + dir_ + "/w.mhm --input " + dir_ + "/w.parquet --out " + dir_ +
                    "/scores.csv",
                &out, &err),
            0)
      << err;
  const std::string scores = test::ReadFile(dir_ + "/scores.csv");
  EXPECT_EQ(scores.rfind("window_start,score,score_samples,anomaly\n0,", 0), 0u) << scores;
  std::size_t lines = 0;
  for (char c : scores) lines += c == '\n';
  EXPECT_EQ(lines, 41u);
}

}  // namespace
}  // namespace mh::iforest
