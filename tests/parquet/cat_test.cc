// `machine-health cat` end to end: JSON lines and CSV of a corpus file
// against its DuckDB-written .expected.json, --schema, --columns, --limit,
// and the errors for refused files and bad options.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/time_util.h"
#include "testing/test_paths.h"

namespace mh::parquet {
namespace {

using nlohmann::json;

std::string Corpus(const std::string& f) { return testing::SharedDir() + "/testdata/parquet/" + f; }

int Cat(const std::string& args, std::string* out) {
  out->clear();
  return testing::RunCommand(testing::BinaryPath() + " cat " + args + " 2>&1", out);
}

TEST(CatTest, JsonLinesMatchExpectedValues) {
  MH_REQUIRE_SHARED_DATA();
  std::string f = "generated/features_arrowrs_uncompressed_v1_small.parquet";
  std::ifstream in(Corpus(f) + ".expected.json");
  json exp = json::parse(in);
  std::string out;
  ASSERT_EQ(Cat(Corpus(f) + " --limit 40", &out), 0) << out;
  std::istringstream lines(out);
  std::string line;
  std::size_t row = 0;
  const json& cols = exp["columns"];
  while (std::getline(lines, line)) {
    json got = json::parse(line);
    ASSERT_EQ(got.size(), cols.size());
    for (std::size_t j = 0; j < cols.size(); ++j) {
      std::string name = cols[j]["name"].get<std::string>();
      std::string repr = cols[j]["json_repr"].get<std::string>();
      const json& want = exp["rows"][row][j];
      const json& g = got[name];
      SCOPED_TRACE(name + " row " + std::to_string(row) + ": " + g.dump());
      if (want.is_null()) {
        EXPECT_TRUE(g.is_null());
      } else if (repr.rfind("timestamp_", 0) == 0) {
        auto ns = ParseInstant(g.get<std::string>());
        ASSERT_TRUE(ns.ok()) << g.dump();
        std::int64_t mult = repr == "timestamp_ms" ? 1000000 : repr == "timestamp_us" ? 1000 : 1;
        EXPECT_EQ(*ns, want.get<std::int64_t>() * mult);
      } else if (repr == "float64" || repr == "float32") {
        if (want.is_string()) {
          EXPECT_EQ(g, want);
        } else {
          EXPECT_EQ(g.get<double>(), want.get<double>());
        }
      } else {
        EXPECT_EQ(g, want);
      }
    }
    ++row;
  }
  EXPECT_EQ(row, 40u);
}

TEST(CatTest, SchemaColumnsCsvAndErrors) {
  MH_REQUIRE_SHARED_DATA();
  std::string out;
  ASSERT_EQ(Cat(Corpus("alltypes_plain.snappy.parquet") + " --schema", &out), 0) << out;
  EXPECT_NE(out.find("timestamp_col: INT96 OPTIONAL"), std::string::npos) << out;
  EXPECT_NE(out.find("codec=SNAPPY"), std::string::npos) << out;
  EXPECT_NE(out.find("PLAIN_DICTIONARY"), std::string::npos) << out;

  ASSERT_EQ(
      Cat(Corpus("alltypes_plain.parquet") + " --columns id,double_col --format csv --limit 2",
          &out),
      0)
      << out;
  EXPECT_EQ(out, "id,double_col\n4,0.0\n5,10.1\n");

  EXPECT_EQ(Cat(Corpus("datapage_v2.snappy.parquet"), &out), 1);
  EXPECT_NE(out.find("column 'e': nested"), std::string::npos) << out;
  EXPECT_EQ(Cat(Corpus("datapage_v2.snappy.parquet") + " --columns a,b --limit 1", &out), 0) << out;
  EXPECT_EQ(Cat(Corpus("hadoop_lz4_compressed.parquet"), &out), 1);
  EXPECT_NE(out.find("unsupported codec LZ4"), std::string::npos) << out;
  EXPECT_EQ(Cat(Corpus("alltypes_plain.parquet") + " --format xml", &out), 2);
  EXPECT_EQ(Cat(Corpus("alltypes_plain.parquet") + " --columns nope", &out), 2);
  EXPECT_NE(out.find("'nope'"), std::string::npos) << out;
}

}  // namespace
}  // namespace mh::parquet
