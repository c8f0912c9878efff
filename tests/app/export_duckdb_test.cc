// `machine-health export --what windows|rollups --out F.parquet` read back by
// DuckDB (tools/duckdb/read_table.js, @duckdb/node-api), the independent
// reader: the column types (TIMESTAMP WITH TIME ZONE, DOUBLE, BIGINT,
// VARCHAR) and every value equal to what the sink wrote (features at float32
// precision, nulls kept).
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export_cli_test.h"

namespace mh::app::test {
namespace {

using nlohmann::json;

struct DuckTable {
  json columns;            // [[name, type], ...]
  std::vector<json> rows;  // one array per row
};

// Reads `path` with DuckDB.
bool ReadWithDuckDb(const std::string& path, DuckTable* table) {
  std::string out;
  const int rc = mh::testing::RunCommand(
      "node " + mh::testing::SourceDir() + "/tools/duckdb/read_table.js '" + path + "' 2>&1", &out);
  EXPECT_EQ(rc, 0) << out;
  std::istringstream in(out);
  std::string line;
  if (!std::getline(in, line)) return false;
  table->columns = json::parse(line)["columns"];
  while (std::getline(in, line)) table->rows.push_back(json::parse(line));
  return true;
}

bool DuckDbMissing(std::string* why) {
  if (mh::testing::RunCommand("node --version >/dev/null 2>&1", nullptr) != 0) {
    *why = "node is not installed; DuckDB cross-check skipped";
    return true;
  }
  if (!std::filesystem::exists(mh::testing::SourceDir() +
                               "/tools/duckdb/node_modules/@duckdb/node-api")) {
    *why = "@duckdb/node-api is not installed (npm ci --prefix tools/duckdb)";
    return true;
  }
  return false;
}

// The column index of `name`; -1 if absent.
int Col(const DuckTable& t, const std::string& name) {
  for (std::size_t j = 0; j < t.columns.size(); ++j) {
    if (t.columns[j][0] == name) return static_cast<int>(j);
  }
  return -1;
}

void ExpectCell(double want, const json& cell, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(cell.is_null()) << what << ": " << cell;
  } else {
    ASSERT_TRUE(cell.is_number()) << what << ": " << cell;
    EXPECT_EQ(cell.get<double>(), want) << what;
  }
}

TEST_F(ExportCliTest, DuckDbReadsTheParquetWindows) {
  std::string why;
  if (DuckDbMissing(&why)) GTEST_SKIP() << why;
  const std::string out = dir_ + "/w.parquet";
  auto run = Export("m1", {"--out", out});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  DuckTable t;
  ASSERT_TRUE(ReadWithDuckDb(out, &t));
  ASSERT_EQ(t.columns.size(), 14u);
  const std::vector<std::pair<std::string, std::string>> types = {
      {"timestamp", "TIMESTAMP WITH TIME ZONE"},
      {"machine_id", "VARCHAR"},
      {"score", "DOUBLE"},
      {"anomaly", "BIGINT"},
      {"state", "VARCHAR"},
      {"threshold", "DOUBLE"},
      {"baseline_version", "BIGINT"},
      {"crest_factor_ax", "DOUBLE"}};
  for (const auto& [name, type] : types) {
    const int j = Col(t, name);
    ASSERT_GE(j, 0) << name;
    EXPECT_EQ(t.columns[j][1], type) << name;
  }
  ASSERT_EQ(t.rows.size(), static_cast<std::size_t>(kWindows));
  for (int i = 0; i < kWindows; ++i) {
    SCOPED_TRACE("window " + std::to_string(i));
    const json& row = t.rows[static_cast<std::size_t>(i)];
    const sink::WindowRecord& r = M1(i);
    EXPECT_EQ(row[Col(t, "timestamp")], std::to_string(r.window_start_ns));
    EXPECT_EQ(row[Col(t, "machine_id")], "m1");
    ExpectCell(r.score, row[Col(t, "score")], "score");
    ExpectCell(r.rms, row[Col(t, "rms")], "rms");
    ExpectCell(i < kLearning ? NAN : threshold_, row[Col(t, "threshold")], "threshold");
    EXPECT_EQ(row[Col(t, "state")], sink::MachineStateName(r.state));
    if (i < kLearning) {
      EXPECT_TRUE(row[Col(t, "anomaly")].is_null());
    } else {
      EXPECT_EQ(row[Col(t, "anomaly")], r.anomaly ? "1" : "0");
    }
    for (std::size_t f = 0; f < r.features.size(); ++f) {
      const std::string& name = (*r.feature_names)[f];
      ExpectCell(F32(r.features[f]), row[Col(t, name)], name);
    }
    EXPECT_TRUE(row[Col(t, i < kSetChange ? "crest_factor_ax" : "skewness_ax")].is_null());
  }
}

// The Parquet rollups equal the JSON Lines ones, value for value.
TEST_F(ExportCliTest, DuckDbReadsTheParquetRollups) {
  std::string why;
  if (DuckDbMissing(&why)) GTEST_SKIP() << why;
  for (const std::string ext : {"jsonl", "parquet"}) {
    auto run =
        Export("m1", {"--what", "rollups", "--resolution", "1h", "--out", dir_ + "/r." + ext});
    ASSERT_EQ(run.code, kExitOk) << run.err;
  }
  DuckTable t;
  ASSERT_TRUE(ReadWithDuckDb(dir_ + "/r.parquet", &t));
  std::vector<json> want = ReadJsonLines(dir_ + "/r.jsonl");
  ASSERT_EQ(t.columns.size(), 9u);
  EXPECT_EQ(t.columns[0][1], "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(t.columns[4][1], "BIGINT");
  EXPECT_EQ(t.columns[6][1], "DOUBLE");
  ASSERT_EQ(t.rows.size(), want.size());
  // 3 hours (8,000 s from 14:13:20): score, rms and set A's 3 features at
  // 14:00, set B's too at 15:00 (the set changes at 15:19:40), set B's at 16:00.
  EXPECT_EQ(t.rows.size(), 5u + 6u + 5u);
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    SCOPED_TRACE("row " + std::to_string(r));
    const json& row = t.rows[r];
    EXPECT_EQ(row[3], want[r]["series"]);
    EXPECT_EQ(row[4], std::to_string(want[r]["count"].get<std::int64_t>()));
    for (const auto& [j, name] : {std::pair{5, "min"}, {6, "mean"}, {7, "max"}}) {
      if (want[r][name].is_null()) {
        EXPECT_TRUE(row[j].is_null());
      } else {
        EXPECT_EQ(row[j].get<double>(), want[r][name].get<double>()) << name;
      }
    }
  }
}

}  // namespace
}  // namespace mh::app::test
