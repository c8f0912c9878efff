// app::FeatureTableFile: feature tables from CSV and Parquet files read the
// same way (values, identifiers, errors naming file, row and column).
#include "app/feature_table.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/table.h"
#include "parquet/parquet_writer.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using ::testing::HasSubstr;

class FeatureTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-feature-table");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(FeatureTableTest, CsvAndParquetGiveTheSameTable) {
  const std::size_t n = 50;
  TableBatch b;
  b.rows = n;
  b.columns = {TableColumn{{"sensor_id", ValueKind::kString, 9}, {}, {}, {}, {}},
               TableColumn{{"a", ValueKind::kDouble, 9}, {}, {}, {}, {}},
               TableColumn{{"b", ValueKind::kInt, 9}, {}, {}, {}, {}}};
  std::ostringstream csv;
  csv << "sensor_id,a,b\n";
  for (std::size_t i = 0; i < n; ++i) {
    const double a = std::sin(0.37 * static_cast<double>(i)) * 1e-3;
    const auto bi = static_cast<std::int64_t>(i * i) - 40;
    const std::string id = "s" + std::to_string(i % 4);
    csv << id << "," << FormatDouble(a) << "," << bi << "\n";
    b.columns[0].strings.push_back(id);
    b.columns[1].doubles.push_back(a);
    b.columns[2].ints.push_back(bi);
    for (TableColumn& c : b.columns) c.valid.push_back(1);
  }
  const std::string csv_path = Write("t.csv", csv.str());
  const std::string pq_path = dir_ + "/t.parquet";
  {
    std::vector<TableColumnInfo> schema;
    for (const TableColumn& c : b.columns) schema.push_back(c.info);
    auto w = parquet::ParquetWriter::Create(pq_path, schema, {});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write(b).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  std::vector<FeatureTable> tables;
  for (const std::string& path : {csv_path, pq_path}) {
    auto f = FeatureTableFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_FALSE(f->empty());
    ASSERT_EQ(f->columns().size(), 3u);
    EXPECT_EQ(f->Find("b"), 2);
    EXPECT_EQ(f->Find("c"), -1);
    EXPECT_FALSE(f->LooksNumeric(0));
    EXPECT_TRUE(f->LooksNumeric(1));
    EXPECT_TRUE(f->LooksNumeric(2));
    auto t = f->Read({"b", "a"}, {"sensor_id"});  // any order
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tables.push_back(std::move(*t));
  }
  const FeatureTable& c = tables[0];
  const FeatureTable& p = tables[1];
  ASSERT_EQ(c.x.rows, n);
  ASSERT_EQ(c.x.cols, 2u);
  EXPECT_EQ(c.x.data, p.x.data);  // bit for bit
  ASSERT_EQ(c.keys.columns.size(), 1u);
  ASSERT_EQ(p.keys.columns.size(), 1u);
  EXPECT_EQ(c.keys.rows, n);
  EXPECT_EQ(c.keys.columns[0].info.kind, ValueKind::kString);
  EXPECT_EQ(c.keys.columns[0].strings, p.keys.columns[0].strings);
  EXPECT_EQ(c.x.data[2 * 7 + 0], 49.0 - 40.0);
  EXPECT_EQ(c.x.data[2 * 7 + 1], b.columns[1].doubles[7]);
  EXPECT_EQ(c.keys.columns[0].strings[5], "s1");
}

TEST_F(FeatureTableTest, UnusedColumnsCannotFailAndKeysKeepTheirKinds) {
  // Beyond the 1000 rows sampled for inference, "extra" (inferred integer)
  // holds a word, and "a" (inferred integer) a fraction: neither may fail.
  std::ostringstream csv;
  csv << "timestamp,extra,a\n";
  for (int i = 0; i < 1500; ++i) {
    csv << "2024-03-01T10:00:0" << i % 10 << "," << (i == 1400 ? "oops" : std::to_string(i)) << ","
        << (i == 1300 ? "2.5" : std::to_string(i % 7)) << "\n";
  }
  const std::string path = Write("wide.csv", csv.str());
  auto f = FeatureTableFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto t = f->Read({"a"}, {"timestamp"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->x.rows, 1500u);
  EXPECT_EQ(t->x.data[1300], 2.5);
  // The timestamp key is read as a timestamp (local time in UTC, the CSV
  // reader's default zone), not as text.
  ASSERT_EQ(t->keys.columns.size(), 1u);
  EXPECT_EQ(t->keys.columns[0].info.kind, ValueKind::kTimestamp);
  EXPECT_EQ(t->keys.columns[0].ints[3], 1709287203LL * 1000000000LL);  // 2024-03-01T10:00:03Z
  // Selected, the word is an error naming line and column.
  auto bad = f->Read({"extra"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("wide.csv: line 1402, column 2 ('extra')"));
}

TEST_F(FeatureTableTest, ErrorsNameFileRowAndColumn) {
  const std::string path = Write("bad.csv", "a,b\n1,2\n3,\n5,nan\n");
  auto f = FeatureTableFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto missing = f->Read({"a", "b"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsCorruption());
  EXPECT_THAT(missing.status().message(), HasSubstr("bad.csv: row 2, column 'b': missing value"));
  const std::string nan = Write("nan.csv", "a,b\n1,2\n5,nan\n");
  auto g = FeatureTableFile::Open(nan);
  ASSERT_TRUE(g.ok());
  auto not_finite = g->Read({"b"}, {});
  ASSERT_FALSE(not_finite.ok());
  EXPECT_THAT(not_finite.status().message(), HasSubstr("nan.csv: row 2, column 'b': not finite"));
  auto unknown = g->Read({"z"}, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.status().IsInvalidArgument());
  EXPECT_THAT(unknown.status().message(), HasSubstr("no column 'z'"));
  auto absent = FeatureTableFile::Open(dir_ + "/absent.csv");
  ASSERT_FALSE(absent.ok());
  EXPECT_TRUE(absent.status().IsNotFound());
  auto header_only = FeatureTableFile::Open(Write("h.csv", "a,b\n"));
  ASSERT_TRUE(header_only.ok()) << header_only.status().ToString();
  EXPECT_TRUE(header_only->empty());
}

}  // namespace
}  // namespace mh::app
