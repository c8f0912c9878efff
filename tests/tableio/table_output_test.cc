#include "tableio/table_output.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "csv/csv_reader.h"
#include "parquet/parquet_reader.h"
#include "testing/test_paths.h"

namespace mh::tableio {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Three rows of every kind the commands write: a timestamp with ms digits, a
// string needing quotes, an int, doubles that need 17 digits or are not finite.
TableBatch SampleBatch() {
  TableBatch b;
  b.rows = 3;
  TableColumn ts{{"timestamp", ValueKind::kTimestamp, 3}, {1, 1, 1}, {}, {}, {}};
  ts.ints = {1767225600000000000, 1767225600250000000, -1000000};
  TableColumn id{{"machine_id", ValueKind::kString, 9}, {1, 1, 0}, {}, {}, {}};
  id.strings = {"m1", "a,\"b\"", ""};
  TableColumn n{{"window_start", ValueKind::kInt, 9}, {1, 1, 1}, {-5, 0, 2560}, {}, {}};
  TableColumn x{{"score", ValueKind::kDouble, 9}, {1, 1, 1}, {}, {}, {}};
  x.doubles = {0.1 + 0.2, 1.0, -1.2345678901234567e-300};
  b.columns = {ts, id, n, x};
  return b;
}

std::vector<TableColumnInfo> Schema(const TableBatch& b) {
  std::vector<TableColumnInfo> s;
  for (const TableColumn& c : b.columns) s.push_back(c.info);
  return s;
}

class TableOutputTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = mh::testing::MakeTempDir("tableio"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes SampleBatch to `name` (format by extension or `format`).
  Status WriteSample(const std::string& name, const std::string& format = "",
                     std::ostream* out = nullptr) {
    const TableBatch b = SampleBatch();
    const std::string path = name == "-" ? name : dir_ + "/" + name;
    MH_ASSIGN_OR_RETURN(auto o, OpenTableOutput(path, format, Schema(b), out));
    MH_RETURN_IF_ERROR(o->Write(b));
    return o->Close();
  }

  std::string dir_;
};

const char kCsv[] =
    "timestamp,machine_id,window_start,score\n"
    "2026-01-01T00:00:00.000Z,m1,-5,0.30000000000000004\n"
    "2026-01-01T00:00:00.250Z,\"a,\"\"b\"\"\",0,1.0\n"
    "1969-12-31T23:59:59.999Z,,2560,-1.2345678901234568e-300\n";

TEST(ResolveTableFormatTest, ByExtensionAnyCaseOverrideAndStandardOutput) {
  EXPECT_EQ(*ResolveTableFormat("a.csv", ""), TableFormat::kCsv);
  EXPECT_EQ(*ResolveTableFormat("a.CSV", ""), TableFormat::kCsv);
  EXPECT_EQ(*ResolveTableFormat("a.tsv", ""), TableFormat::kTsv);
  EXPECT_EQ(*ResolveTableFormat("a.jsonl", ""), TableFormat::kJsonLines);
  EXPECT_EQ(*ResolveTableFormat("a.NDJSON", ""), TableFormat::kJsonLines);
  EXPECT_EQ(*ResolveTableFormat("a.Parquet", ""), TableFormat::kParquet);
  EXPECT_EQ(*ResolveTableFormat("-", ""), TableFormat::kCsv);
  EXPECT_EQ(*ResolveTableFormat("-", "jsonl"), TableFormat::kJsonLines);
  EXPECT_EQ(*ResolveTableFormat("scores.txt", "parquet"), TableFormat::kParquet);
  EXPECT_EQ(*ResolveTableFormat("scores.csv", "JSONL"), TableFormat::kJsonLines);
}

TEST(ResolveTableFormatTest, UnknownExtensionNamesPathAndChoices) {
  Result<TableFormat> f = ResolveTableFormat("out/scores.txt", "");
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.status().IsInvalidArgument());
  EXPECT_THAT(f.status().message(), HasSubstr("'out/scores.txt'"));
  EXPECT_THAT(f.status().message(), HasSubstr(".parquet"));
  EXPECT_THAT(f.status().message(), HasSubstr(".jsonl"));
  EXPECT_FALSE(ResolveTableFormat("a.csv", "xml").ok());
  EXPECT_FALSE(ResolveTableFormat("-", "parquet").ok());
  EXPECT_FALSE(ResolveTableFormat("noextension", "").ok());
}

TEST_F(TableOutputTest, CsvQuotesAndFormatsEveryKind) {
  ASSERT_TRUE(WriteSample("a.csv").ok());
  EXPECT_EQ(ReadAll(dir_ + "/a.csv"), kCsv);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/a.csv.tmp"));
}

TEST_F(TableOutputTest, StandardOutputIsCsv) {
  std::ostringstream out;
  ASSERT_TRUE(WriteSample("-", "", &out).ok());
  EXPECT_EQ(out.str(), kCsv);
}

TEST_F(TableOutputTest, TsvUsesTabs) {
  ASSERT_TRUE(WriteSample("a.tsv").ok());
  const std::string text = ReadAll(dir_ + "/a.tsv");
  EXPECT_THAT(text, HasSubstr("timestamp\tmachine_id\twindow_start\tscore\n"));
  EXPECT_THAT(text, HasSubstr("\t\"a,\"\"b\"\"\"\t"));  // quoted for its quotes, not the comma
}

TEST_F(TableOutputTest, JsonLinesAsCatPrints) {
  ASSERT_TRUE(WriteSample("a.JSONL").ok());
  EXPECT_EQ(ReadAll(dir_ + "/a.JSONL"),
            "{\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"machine_id\":\"m1\",\"window_start\":-5,"
            "\"score\":0.30000000000000004}\n"
            "{\"timestamp\":\"2026-01-01T00:00:00.250Z\",\"machine_id\":\"a,\\\"b\\\"\","
            "\"window_start\":0,\"score\":1.0}\n"
            "{\"timestamp\":\"1969-12-31T23:59:59.999Z\",\"machine_id\":null,\"window_start\":2560,"
            "\"score\":-1.2345678901234568e-300}\n");
}

TEST_F(TableOutputTest, FormatOverridesExtension) {
  ASSERT_TRUE(WriteSample("a.txt", "csv").ok());
  EXPECT_EQ(ReadAll(dir_ + "/a.txt"), kCsv);
}

TEST_F(TableOutputTest, ParquetKeepsKinds) {
  ASSERT_TRUE(WriteSample("a.parquet").ok());
  parquet::ParquetReadOptions options;
  auto reader = parquet::OpenParquetTable(dir_ + "/a.parquet", options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  TableBatch got;
  ASSERT_TRUE((*reader)->Next(&got).ok());
  const TableBatch want = SampleBatch();
  ASSERT_EQ(got.rows, want.rows);
  ASSERT_EQ(got.columns.size(), want.columns.size());
  for (std::size_t j = 0; j < want.columns.size(); ++j) {
    SCOPED_TRACE(want.columns[j].info.name);
    EXPECT_EQ(got.columns[j].info.kind, want.columns[j].info.kind);
    EXPECT_EQ(got.columns[j].valid, want.columns[j].valid);
    EXPECT_EQ(got.columns[j].ints, want.columns[j].ints);
    EXPECT_EQ(got.columns[j].doubles, want.columns[j].doubles);
    for (std::size_t r = 0; r < want.rows; ++r) {
      if (want.columns[j].valid[r] && !want.columns[j].strings.empty()) {
        EXPECT_EQ(got.columns[j].strings[r], want.columns[j].strings[r]);
      }
    }
  }
}

TEST_F(TableOutputTest, CsvReadsBackToTheSameValues) {
  ASSERT_TRUE(WriteSample("a.csv").ok());
  auto reader = csv::OpenCsvTable(dir_ + "/a.csv", csv::CsvOptions{});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  TableBatch got;
  ASSERT_TRUE((*reader)->Next(&got).ok());
  const TableBatch want = SampleBatch();
  ASSERT_EQ(got.rows, 3u);
  EXPECT_EQ(got.columns[0].info.kind, ValueKind::kTimestamp);
  EXPECT_EQ(got.columns[0].ints, want.columns[0].ints);
  EXPECT_EQ(got.columns[1].strings[1], "a,\"b\"");
  EXPECT_EQ(got.columns[2].ints, want.columns[2].ints);
  EXPECT_EQ(got.columns[3].doubles, want.columns[3].doubles);
}

TEST_F(TableOutputTest, AbandonedOutputLeavesNoFile) {
  const TableBatch b = SampleBatch();
  for (const std::string name : {"a.csv", "a.jsonl", "a.parquet"}) {
    SCOPED_TRACE(name);
    const std::string path = dir_ + "/" + name;
    {
      auto o = OpenTableOutput(path, "", Schema(b), nullptr);
      ASSERT_TRUE(o.ok()) << o.status().ToString();
      ASSERT_TRUE((*o)->Write(b).ok());
      // Destroyed without Close: a failed run.
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_TRUE(std::filesystem::is_empty(dir_));
  }
}

// Close replaces an existing file (core's ReplaceFile: exchanged, then the
// old one removed), leaves no temporary file, and never replaces a folder.
TEST_F(TableOutputTest, CloseReplacesAFileButNotAFolder) {
  for (const std::string name : {"a.csv", "a.parquet"}) {
    SCOPED_TRACE(name);
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "old contents\n";
    ASSERT_TRUE(WriteSample(name).ok());
    const std::string first = ReadAll(path);
    EXPECT_NE(first, "old contents\n");
    ASSERT_TRUE(WriteSample(name).ok());
    EXPECT_EQ(ReadAll(path), first);
    std::filesystem::remove(path);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
  ASSERT_TRUE(WriteSample("b.csv").ok());
  EXPECT_EQ(ReadAll(dir_ + "/b.csv"), kCsv);
  std::filesystem::create_directory(dir_ + "/d.csv");
  std::ofstream(dir_ + "/d.csv/inside") << "x";
  Status s = WriteSample("d.csv");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/d.csv"));
  EXPECT_EQ(ReadAll(dir_ + "/d.csv/inside"), "x");
}

TEST_F(TableOutputTest, BatchNotMatchingTheSchemaIsRefused) {
  TableBatch b = SampleBatch();
  auto o = OpenTableOutput(dir_ + "/a.csv", "", Schema(b), nullptr);
  ASSERT_TRUE(o.ok());
  b.columns[3].doubles.pop_back();
  Status s = (*o)->Write(b);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("'score'"));
}

TEST_F(TableOutputTest, UncreatableFileIsIoErrorNamingIt) {
  const TableBatch b = SampleBatch();
  auto o = OpenTableOutput(dir_ + "/no/such/dir/a.csv", "", Schema(b), nullptr);
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(o.status().IsIOError());
  EXPECT_THAT(o.status().message(), HasSubstr("no/such/dir/a.csv"));
}

// Times kept in their file unit (a reader opened with keep_time_unit, as cat
// does) are scaled for Parquet; kinds the Parquet writer has no type for are
// stored as their text.
TEST_F(TableOutputTest, ParquetScalesFileUnitTimesAndStoresOtherKindsAsText) {
  TableBatch b;
  b.rows = 2;
  TableColumn ts{{"t", ValueKind::kTimestamp, 3}, {1, 1}, {1767225600250, -1}, {}, {}};
  TableColumn day{{"d", ValueKind::kDate, 9}, {1, 0}, {20454, 0}, {}, {}};
  b.columns = {ts, day};
  TableOutputOptions options;
  options.times_in_ns = false;
  auto o = OpenTableOutput(dir_ + "/u.parquet", "", Schema(b), nullptr, options);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_TRUE((*o)->Write(b).ok());
  ASSERT_TRUE((*o)->Close().ok());
  auto reader = parquet::OpenParquetTable(dir_ + "/u.parquet", parquet::ParquetReadOptions{});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  TableBatch got;
  ASSERT_TRUE((*reader)->Next(&got).ok());
  ASSERT_EQ(got.rows, 2u);
  EXPECT_EQ(got.columns[0].info.kind, ValueKind::kTimestamp);
  EXPECT_EQ(got.columns[0].ints, (std::vector<std::int64_t>{1767225600250000000, -1000000}));
  EXPECT_EQ(got.columns[1].info.kind, ValueKind::kString);
  EXPECT_EQ(got.columns[1].strings[0], "2026-01-01");
  EXPECT_EQ(got.columns[1].valid, (std::vector<std::uint8_t>{1, 0}));
}

}  // namespace
}  // namespace mh::tableio
