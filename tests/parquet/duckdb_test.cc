// DuckDB as the independent reader of files our writer produces: every cell
// DuckDB reads (via tools/duckdb/read_table.js and @duckdb/node-api) must
// equal what we wrote. Skipped with a message when node or the npm package
// is missing (install: tools/install-deps.sh test).
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "parquet/parquet_writer.h"
#include "testing/test_paths.h"
#include "writer_test_util.h"

namespace mh::parquet {
namespace {

using nlohmann::json;

void CheckWithDuckDb(ParquetCodec codec, std::size_t row_group_rows, bool utc) {
  std::string root = testing::SourceDir();
  std::string script = root + "/tools/duckdb/read_table.js";
  if (testing::RunCommand("node --version > /dev/null 2>&1", nullptr) != 0) {
    GTEST_SKIP() << "node is not installed; DuckDB cross-check skipped";
  }
  if (!std::filesystem::exists(root + "/tools/duckdb/node_modules/@duckdb/node-api")) {
    GTEST_SKIP() << "@duckdb/node-api is not installed (run: npm ci --prefix tools/duckdb, or "
                    "tools/install-deps.sh test); DuckDB cross-check skipped";
  }
  std::string dir = testing::MakeTempDir("mh-parquet-duckdb");
  std::string path = dir + "/w.parquet";
  ParquetWriteOptions o;
  o.codec = codec;
  o.row_group_rows = row_group_rows;
  o.page_rows = 100;
  o.timestamps_adjusted_to_utc = utc;
  const std::size_t kRows = 1000;
  {
    auto w = ParquetWriter::Create(path, testutil::Schema(), o);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(testutil::MakeBatch(0, kRows)).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  std::string out;
  int rc = testing::RunCommand("node " + script + " " + path, &out);
  ASSERT_EQ(rc, 0) << out;
  std::istringstream in(out);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  json header = json::parse(line);
  auto schema = testutil::Schema();
  ASSERT_EQ(header["columns"].size(), schema.size());
  for (std::size_t j = 0; j < schema.size(); ++j) {
    EXPECT_EQ(header["columns"][j][0].get<std::string>(), schema[j].name);
  }
  EXPECT_EQ(header["columns"][3][1].get<std::string>(), "DOUBLE");
  EXPECT_EQ(header["columns"][4][1].get<std::string>(), "BIGINT");
  EXPECT_EQ(header["columns"][5][1].get<std::string>(), "BOOLEAN");
  EXPECT_EQ(header["columns"][2][1].get<std::string>(), "VARCHAR");
  TableBatch want = testutil::MakeBatch(0, kRows);
  std::size_t row = 0;
  while (std::getline(in, line)) {
    json cells = json::parse(line);
    ASSERT_LT(row, kRows);
    for (std::size_t j = 0; j < schema.size(); ++j) {
      const TableColumn& c = want.columns[j];
      const json& v = cells[j];
      SCOPED_TRACE("row " + std::to_string(row) + " column " + schema[j].name + ": " + v.dump());
      if (!c.valid[row]) {
        EXPECT_TRUE(v.is_null());
        continue;
      }
      ASSERT_FALSE(v.is_null());
      switch (c.info.kind) {
        case ValueKind::kDouble: {
          double d = c.doubles[row];
          if (std::isnan(d)) {
            EXPECT_EQ(v, "NaN");
          } else if (std::isinf(d)) {
            EXPECT_EQ(v, d > 0 ? "Infinity" : "-Infinity");
          } else if (d == 0 && std::signbit(d)) {
            EXPECT_EQ(v, "-0.0");
          } else {
            EXPECT_EQ(v.get<double>(), d);
          }
          break;
        }
        case ValueKind::kString:
          EXPECT_EQ(v.get<std::string>(), c.strings[row]);
          break;
        case ValueKind::kBool:
          EXPECT_EQ(v.get<bool>(), c.ints[row] != 0);
          break;
        default: {  // int64 and timestamps (epoch ns) as decimal strings
          std::int64_t x = c.ints[row];
          // DuckDB's TIMESTAMP WITH TIME ZONE holds microseconds (truncated).
          if (header["columns"][j][1].get<std::string>() == "TIMESTAMP WITH TIME ZONE") {
            x = x / 1000 * 1000;
          }
          EXPECT_EQ(v.get<std::string>(), std::to_string(x));
        }
      }
    }
    ++row;
  }
  EXPECT_EQ(row, kRows);
  std::filesystem::remove_all(dir);
}

TEST(DuckDbTest, ReadsOurSnappyFile) { CheckWithDuckDb(ParquetCodec::kSnappy, 300, true); }
TEST(DuckDbTest, ReadsOurZstdFile) { CheckWithDuckDb(ParquetCodec::kZstd, 1000, true); }
TEST(DuckDbTest, ReadsOurUncompressedFile) {
  CheckWithDuckDb(ParquetCodec::kUncompressed, 64, true);
}
// Without the UTC flag DuckDB keeps nanoseconds: every value exact.
TEST(DuckDbTest, ReadsOurLocalTimestampsExactly) {
  CheckWithDuckDb(ParquetCodec::kSnappy, 500, false);
}

}  // namespace
}  // namespace mh::parquet
