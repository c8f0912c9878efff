// `machine-health score --out` in each format (CSV, TSV, JSON Lines, Parquet)
// read back by DuckDB (tools/duckdb/read_table.js, @duckdb/node-api), the
// independent reader: every value equal to the CSV output's, and the key
// columns' kinds kept in Parquet (timestamp a TIMESTAMP, window_start BIGINT).
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "score_cli_test.h"

namespace mh::app::test {
namespace {

using json = nlohmann::json;

struct DuckTable {
  json columns;            // [[name, type], ...]
  std::vector<json> rows;  // one array per row
};

// Reads `path` with DuckDB; skips the test when node or the module is absent.
bool ReadWithDuckDb(const std::string& path, DuckTable* table) {
  const std::string root = mh::testing::SourceDir();
  if (!std::filesystem::exists(root + "/tools/duckdb/node_modules/@duckdb/node-api")) return false;
  std::string out;
  const int rc = mh::testing::RunCommand(
      "node " + root + "/tools/duckdb/read_table.js '" + path + "' 2>&1", &out);
  EXPECT_EQ(rc, 0) << out;
  std::istringstream in(out);
  std::string line;
  if (!std::getline(in, line)) return false;
  table->columns = json::parse(line)["columns"];
  while (std::getline(in, line)) table->rows.push_back(json::parse(line));
  return true;
}

TEST_F(ScoreCliTest, DuckDbReadsEveryFormatToTheSameValues) {
  if (mh::testing::RunCommand("node --version >/dev/null 2>&1", nullptr) != 0) {
    GTEST_SKIP() << "node is not installed; DuckDB cross-check skipped";
  }
  if (!std::filesystem::exists(mh::testing::SourceDir() +
                               "/tools/duckdb/node_modules/@duckdb/node-api")) {
    GTEST_SKIP() << "@duckdb/node-api is not installed (npm ci --prefix tools/duckdb)";
  }
  WriteAll(dir_ + "/in.csv", FeatureCsv(2000, 150));
  std::string out, err;
  for (const std::string ext : {"csv", "tsv", "jsonl", "parquet"}) {
    ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/s." + ext, &out, &err), kExitOk) << err;
  }
  DuckTable csv;
  ASSERT_TRUE(ReadWithDuckDb(dir_ + "/s.csv", &csv));
  ASSERT_EQ(csv.rows.size(), 150u);
  ASSERT_EQ(csv.columns.size(), 6u);
  // The first row against the input: 2026-01-01T00:08:20Z, 2560 * 2000, m2.
  EXPECT_EQ(csv.rows[0][0], std::to_string((kStartSeconds + 500) * 1000000000LL));
  EXPECT_EQ(csv.rows[0][1], "5120000");
  EXPECT_EQ(csv.rows[0][2], "m2");
  for (const std::string ext : {"tsv", "jsonl", "parquet"}) {
    SCOPED_TRACE(ext);
    DuckTable t;
    ASSERT_TRUE(ReadWithDuckDb(dir_ + "/s." + ext, &t));
    ASSERT_EQ(t.columns.size(), csv.columns.size());
    for (std::size_t j = 0; j < t.columns.size(); ++j) {
      EXPECT_EQ(t.columns[j][0], csv.columns[j][0]);
    }
    ASSERT_EQ(t.rows.size(), csv.rows.size());
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      EXPECT_EQ(t.rows[r], csv.rows[r]) << "row " << r;  // doubles bit for bit
    }
    if (ext == "parquet") {
      EXPECT_EQ(t.columns[0][1], "TIMESTAMP WITH TIME ZONE");
      EXPECT_EQ(t.columns[1][1], "BIGINT");
      EXPECT_EQ(t.columns[2][1], "VARCHAR");
      EXPECT_EQ(t.columns[3][1], "DOUBLE");
      EXPECT_EQ(t.columns[4][1], "DOUBLE");
      EXPECT_EQ(t.columns[5][1], "BIGINT");
    }
  }
}

}  // namespace
}  // namespace mh::app::test
