// OpenCsvTable streams files in 1 MiB chunks: records, quoted fields, CRLF
// pairs and line numbers that straddle chunk boundaries must read exactly as
// the same bytes read whole from memory.
#include <cmath>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "csv/csv_reader.h"
#include "csv_test_util.h"
#include "testing/test_paths.h"

namespace mh::csv {
namespace {

using testing::ReadAll;
using testing::ReadText;
using testing::WholeTable;

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = mh::testing::MakeTempDir("csv_stream") + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  EXPECT_TRUE(out.good()) << path;
  return path;
}

Result<WholeTable> ReadFile(const std::string& path, CsvOptions options = {}) {
  options.source_name = "test.csv";
  auto reader = OpenCsvTable(path, options);
  if (!reader.ok()) return reader.status();
  return ReadAll(**reader);
}

void ExpectSameTables(const WholeTable& a, const WholeTable& b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.columns.size(), b.columns.size());
  for (std::size_t j = 0; j < a.columns.size(); ++j) {
    SCOPED_TRACE(a.columns[j].name);
    EXPECT_EQ(a.columns[j].name, b.columns[j].name);
    EXPECT_EQ(a.columns[j].kind, b.columns[j].kind);
    EXPECT_EQ(a.data[j].valid, b.data[j].valid);
    EXPECT_EQ(a.data[j].ints, b.data[j].ints);
    EXPECT_EQ(a.data[j].strings, b.data[j].strings);
    ASSERT_EQ(a.data[j].doubles.size(), b.data[j].doubles.size());
    for (std::size_t i = 0; i < a.data[j].doubles.size(); ++i) {
      const double x = a.data[j].doubles[i], y = b.data[j].doubles[i];
      if (!(std::isnan(x) && std::isnan(y))) {
        ASSERT_EQ(x, y) << "row " << i;
      }
    }
  }
}

// About 3.5 MB of semicolon/decimal-comma rows with CRLF, blank lines,
// quoted fields holding delimiters, doubled quotes and newlines, and nulls;
// row lengths vary so boundaries fall everywhere in a record.
std::string MixedText(std::size_t rows) {
  std::string t = "\xEF\xBB\xBFid;name;value;note\r\n";
  for (std::size_t i = 0; i < rows; ++i) {
    t += std::to_string(i) + ";";
    t +=
        (i % 7 == 0) ? "\"s;" + std::to_string(i) + " \"\"q\"\"\nline2\"" : "s" + std::to_string(i);
    t += ";" + std::to_string(i % 1000) + "," + std::to_string(i % 97) + ";";
    t += (i % 11 == 0) ? "" : std::string(i % 13, 'x');
    t += "\r\n";
    if (i % 101 == 0) t += "\r\n";
  }
  return t;
}

TEST(CsvStream, FileReadsLikeTheSameBytesInMemory) {
  const std::string text = MixedText(120'000);
  ASSERT_GT(text.size(), std::size_t{3} << 20);
  const std::string path = WriteTemp("mixed.csv", text);
  auto from_file = ReadFile(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  auto from_memory = ReadText(text);
  ASSERT_TRUE(from_memory.ok()) << from_memory.status().ToString();
  EXPECT_EQ(from_file->rows, 120'000u);
  EXPECT_EQ(from_file->columns[2].kind, ValueKind::kDouble);  // decimal comma detected
  ExpectSameTables(*from_file, *from_memory);
  EXPECT_EQ(from_file->data[1].strings[7], "s;7 \"q\"\nline2");
  EXPECT_EQ(from_file->data[2].doubles[119'999], 999.1);  // "999,10"
}

TEST(CsvStream, QuotedFieldLongerThanAChunk) {
  const std::string big(std::size_t{5} << 19, 'y');  // 2.5 MiB
  const std::string text = "a,b\n1,\"" + big + "\n" + big + "\"\n2,z\n";
  const std::string path = WriteTemp("long.csv", text);
  auto t = ReadFile(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows, 2u);
  EXPECT_EQ(t->data[1].strings[0], big + "\n" + big);
  EXPECT_EQ(t->data[1].strings[1], "z");
  EXPECT_EQ(t->data[0].ints, (std::vector<std::int64_t>{1, 2}));
}

TEST(CsvStream, BadCellFarIntoTheFileNamesItsLine) {
  std::string text = "x,y\n";
  for (int i = 0; i < 300'000; ++i) text += std::to_string(i) + ",1.5\n";
  text += "7,\"oops\nstill\"\n";  // line 300002 (the cell starts there)
  const std::string path = WriteTemp("bad.csv", text);
  auto t = ReadFile(path);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
  EXPECT_NE(t.status().message().find("line 300002, column 2 ('y')"), std::string::npos)
      << t.status().message();
  auto m = ReadText(text);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(t.status().message(), m.status().message());
}

TEST(CsvStream, UnclosedQuoteAtTheEndOfALargeFile) {
  std::string text = "x,y\n";
  for (int i = 0; i < 200'000; ++i) text += std::to_string(i) + ",ab\n";
  text += "1,\"never closed\n";
  const std::string path = WriteTemp("unclosed.csv", text);
  auto t = ReadFile(path);
  ASSERT_FALSE(t.ok());
  auto m = ReadText(text);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(t.status().message(), m.status().message());
  EXPECT_NE(t.status().message().find("line 200002"), std::string::npos) << t.status().message();
}

TEST(CsvStream, LastLineWithoutNewlineAndTrailingCarriageReturn) {
  std::string text = "x;y\n";
  for (int i = 0; i < 150'000; ++i) text += std::to_string(i) + ";" + std::to_string(i) + ",5\n";
  text += "9;1,25\r";
  const std::string path = WriteTemp("tail.csv", text);
  auto t = ReadFile(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows, 150'001u);
  EXPECT_EQ(t->data[1].doubles.back(), 1.25);
  auto m = ReadText(text);
  ASSERT_TRUE(m.ok());
  ExpectSameTables(*t, *m);
}

TEST(CsvStream, LongRunOfBlankLinesKeepsLineNumbers) {
  std::string text = "a,b\n1,2\n";
  for (int i = 0; i < 1'500'000; ++i) text += (i % 2 == 0) ? "\r\n" : "\n";  // 2.25 MB
  text += "3,4\n5,x\n";  // "3,4" on line 1500003
  const std::string path = WriteTemp("blank.csv", text);
  CsvOptions o;
  o.infer_rows = 1;  // b is an integer column
  auto t = ReadFile(path, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 1500004, column 2 ('b')"), std::string::npos)
      << t.status().message();
  auto m = ReadText(text, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(t.status().message(), m.status().message());
}

TEST(CsvStream, FileLargerThanMaxBytesIsRefused) {
  const std::string path = WriteTemp("limit.csv", "a\n1\n2\n");
  CsvOptions o;
  o.max_bytes = 4;
  auto r = OpenCsvTable(path, o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
}

}  // namespace
}  // namespace mh::csv
