#include "csv/csv_reader.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "csv_test_util.h"

namespace mh::csv {
namespace {

using testing::MustRead;
using testing::ReadText;
using testing::WholeTable;

TEST(CsvReader, CommaHeaderAndInferredKinds) {
  const WholeTable t = MustRead("id,value,name,flag\n1,2.5,pump,true\n2,-3e2,fan,FALSE\n");
  ASSERT_EQ(t.columns.size(), 4u);
  EXPECT_EQ(t.columns[0].name, "id");
  EXPECT_EQ(t.columns[0].kind, ValueKind::kInt);
  EXPECT_EQ(t.columns[1].kind, ValueKind::kDouble);
  EXPECT_EQ(t.columns[2].kind, ValueKind::kString);
  EXPECT_EQ(t.columns[3].kind, ValueKind::kBool);
  ASSERT_EQ(t.rows, 2u);
  EXPECT_EQ(t.data[0].ints, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(t.data[1].doubles, (std::vector<double>{2.5, -300.0}));
  EXPECT_EQ(t.data[2].strings, (std::vector<std::string>{"pump", "fan"}));
  EXPECT_EQ(t.data[3].ints, (std::vector<std::int64_t>{1, 0}));
}

TEST(CsvReader, IntAndDoubleMixIsDouble) {
  const WholeTable t = MustRead("a\n1\n2.5\n");
  EXPECT_EQ(t.columns[0].kind, ValueKind::kDouble);
  EXPECT_EQ(t.data[0].doubles, (std::vector<double>{1.0, 2.5}));
}

TEST(CsvReader, SemicolonWithDecimalComma) {
  const WholeTable t = MustRead("a;b;c\n1,5;-0,25;x\n2,0;3;y\n");
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[0].kind, ValueKind::kDouble);
  EXPECT_EQ(t.data[0].doubles, (std::vector<double>{1.5, 2.0}));
  EXPECT_EQ(t.data[1].doubles, (std::vector<double>{-0.25, 3.0}));
}

TEST(CsvReader, TabWithDecimalComma) {
  const WholeTable t = MustRead("x\ty\n0,0797777769880162\t1e-3\n-1,5\t2\n");
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.data[0].doubles[0], 0.0797777769880162);
  EXPECT_EQ(t.data[0].doubles[1], -1.5);
  // "1e-3" has no comma and no point: it reads the same either way.
  EXPECT_EQ(t.data[1].doubles[0], 1e-3);
}

TEST(CsvReader, SemicolonWithDecimalPointStaysPoint) {
  const WholeTable t = MustRead("a;b\n1.5;2\n");
  EXPECT_EQ(t.data[0].doubles, (std::vector<double>{1.5}));
}

TEST(CsvReader, CommaDelimitedQuotedDecimalCommaIsText) {
  // With ',' as the delimiter the decimal mark is '.', so "1,5" is text.
  const WholeTable t = MustRead("a,b\n\"1,5\",2\n");
  EXPECT_EQ(t.columns[0].kind, ValueKind::kString);
  EXPECT_EQ(t.data[0].strings[0], "1,5");
}

TEST(CsvReader, ExplicitDialectWins) {
  CsvOptions o;
  o.delimiter = ';';
  o.decimal_mark = '.';
  const WholeTable t = MustRead("a,b;c\n1;2\n", o);
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0].name, "a,b");
}

TEST(CsvReader, QuotedFieldsWithDoubledQuotesAndNewlines) {
  const std::string text =
      "name,comment,v\n"
      "\"a,b\",\"he said \"\"hi\"\"\",1\n"
      "\"multi\nline\",\"x\r\ny\",2\n"
      "plain,\"\",3\n";
  const WholeTable t = MustRead(text);
  ASSERT_EQ(t.rows, 3u);
  EXPECT_EQ(t.data[0].strings[0], "a,b");
  EXPECT_EQ(t.data[1].strings[0], "he said \"hi\"");
  EXPECT_EQ(t.data[0].strings[1], "multi\nline");
  EXPECT_EQ(t.data[1].strings[1], "x\r\ny");
  EXPECT_EQ(t.data[1].valid[2], 0);  // "" is an empty cell: null
  EXPECT_EQ(t.data[2].ints, (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(CsvReader, LineNumbersCountEmbeddedNewlines) {
  CsvOptions o;
  o.infer_rows = 1;
  // Line 1 header, record 1 spans lines 2-3, record 2 is on line 4.
  auto t = ReadText("s,v\n\"a\nb\",1\nc,oops\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 4"), std::string::npos) << t.status().message();
}

TEST(CsvReader, Utf8BomIsStripped) {
  const WholeTable t = MustRead("\xEF\xBB\xBFid,v\n1,2\n");
  EXPECT_EQ(t.columns[0].name, "id");
  EXPECT_EQ(t.columns[0].kind, ValueKind::kInt);
}

TEST(CsvReader, CrlfLineEnds) {
  const WholeTable t = MustRead("a,b\r\n1,x\r\n2,y\r\n");
  ASSERT_EQ(t.rows, 2u);
  EXPECT_EQ(t.columns[1].name, "b");
  EXPECT_EQ(t.data[1].strings, (std::vector<std::string>{"x", "y"}));
}

TEST(CsvReader, LastLineWithoutNewline) {
  for (const char* text : {"a,b\n1,x\n2,y", "a,b\r\n1,x\r\n2,y", "a,b\n1,x\n2,\"y\""}) {
    const WholeTable t = MustRead(text);
    ASSERT_EQ(t.rows, 2u) << text;
    EXPECT_EQ(t.data[1].strings[1], "y") << text;
  }
}

TEST(CsvReader, BlankLinesAreSkipped) {
  const WholeTable t = MustRead("a,b\n\n1,2\r\n\r\n3,4\n\n");
  EXPECT_EQ(t.rows, 2u);
  EXPECT_EQ(t.data[0].ints, (std::vector<std::int64_t>{1, 3}));
}

TEST(CsvReader, EmptyCellsAreNullNeverZero) {
  const WholeTable t = MustRead("a,b\n1,\n,2.5\n");
  EXPECT_EQ(t.data[0].valid, (std::vector<std::uint8_t>{1, 0}));
  EXPECT_EQ(t.data[1].valid, (std::vector<std::uint8_t>{0, 1}));
  EXPECT_TRUE(std::isnan(t.data[1].doubles[0]));
}

TEST(CsvReader, NullValuesOption) {
  CsvOptions o;
  o.null_values = {"NA"};
  const WholeTable t = MustRead("a\n1.5\nNA\n", o);
  EXPECT_EQ(t.columns[0].kind, ValueKind::kDouble);
  EXPECT_EQ(t.data[0].valid, (std::vector<std::uint8_t>{1, 0}));
}

TEST(CsvReader, BadCellAfterSampleNamesLineAndColumn) {
  CsvOptions o;
  o.infer_rows = 2;
  auto t = ReadText("id,rms\n1,0.5\n2,0.6\n3,0.7\n4,abc\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
  const std::string& m = t.status().message();
  EXPECT_NE(m.find("test.csv"), std::string::npos) << m;
  EXPECT_NE(m.find("line 5"), std::string::npos) << m;
  EXPECT_NE(m.find("column 2"), std::string::npos) << m;
  EXPECT_NE(m.find("'rms'"), std::string::npos) << m;
  EXPECT_NE(m.find("'abc'"), std::string::npos) << m;
}

TEST(CsvReader, BadCellsAsNullAreCounted) {
  CsvOptions o;
  o.infer_rows = 1;
  o.bad_cells_as_null = true;
  o.source_name = "x.csv";
  auto reader = OpenCsvTableFromBuffer("v\n1\nx\n3\n", o);
  ASSERT_TRUE(reader.ok());
  auto t = testing::ReadAll(**reader);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->data[0].valid, (std::vector<std::uint8_t>{1, 0, 1}));
  EXPECT_EQ(CsvBadCells(**reader), 1);
}

TEST(CsvReader, WrongFieldCountNamesLine) {
  auto t = ReadText("a,b\n1,2\n3\n");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 3"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("1 fields, expected 2"), std::string::npos);
}

TEST(CsvReader, UnclosedQuoteIsAnError) {
  auto t = ReadText("a,b\n1,\"open\n");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 2, column 2"), std::string::npos)
      << t.status().message();
}

TEST(CsvReader, TextAfterClosingQuoteIsAnError) {
  auto t = ReadText("a,b\n\"x\"y,1\n");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 2"), std::string::npos) << t.status().message();
}

TEST(CsvReader, EmptyInputNeedsAHeader) {
  auto t = ReadText("");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("empty"), std::string::npos);
}

TEST(CsvReader, HeaderOnlyHasNoRows) {
  const WholeTable t = MustRead("a,b\n");
  EXPECT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.rows, 0u);
}

TEST(CsvReader, NoHeaderNamesColumns) {
  CsvOptions o;
  o.header = false;
  const WholeTable t = MustRead("1,2\n3,4\n", o);
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[1].name, "column_2");
  EXPECT_EQ(t.data[0].ints, (std::vector<std::int64_t>{1, 3}));
}

TEST(CsvReader, DuplicateHeaderNamesAreMadeUnique) {
  const WholeTable t = MustRead("a,a,a\n1,2,3\n");
  EXPECT_EQ(t.columns[1].name, "a.1");
  EXPECT_EQ(t.columns[2].name, "a.2");
}

TEST(CsvReader, BatchesCoverAllRows) {
  CsvOptions o;
  o.batch_rows = 3;
  std::string text = "v\n";
  for (int i = 0; i < 10; ++i) text += std::to_string(i) + "\n";
  const WholeTable t = MustRead(text, o);
  EXPECT_EQ(t.rows, 10u);
  EXPECT_EQ(t.batches, 4);
  EXPECT_EQ(t.data[0].ints[9], 9);
}

TEST(CsvReader, TimestampsWithZonesAndLocal) {
  CsvOptions o;
  o.time_zone = "Europe/Stockholm";
  const WholeTable t = MustRead(
      "t\n"
      "2025-10-27T00:00:05Z\n"
      "2025-10-27T01:00:05+01:00\n"
      "2025-10-27 01:00:05\n"       // local CET = 00:00:05Z
      "2025-07-01 02:00:05.250\n",  // local CEST = 00:00:05.25Z
      o);
  ASSERT_EQ(t.columns[0].kind, ValueKind::kTimestamp);
  EXPECT_EQ(t.columns[0].fraction_digits, 3);
  const std::int64_t base = 1761523205LL * 1'000'000'000;  // 2025-10-27T00:00:05Z
  EXPECT_EQ(t.data[0].ints[0], base);
  EXPECT_EQ(t.data[0].ints[1], base);
  EXPECT_EQ(t.data[0].ints[2], base);
  EXPECT_EQ(t.data[0].ints[3], 1751328005LL * 1'000'000'000 + 250'000'000);
}

TEST(CsvReader, DateAndTimeColumnsCombine) {
  CsvOptions o;
  o.time_zone = "Europe/Stockholm";
  const WholeTable t = MustRead("Date\ttime\tv\nden 27 oktober 2025\t01:00:05\t1,5\n", o);
  ASSERT_EQ(t.columns.size(), 4u);
  EXPECT_EQ(t.columns[0].kind, ValueKind::kDate);
  EXPECT_EQ(t.columns[1].kind, ValueKind::kTime);
  EXPECT_EQ(t.columns[3].name, "timestamp");
  EXPECT_EQ(t.columns[3].kind, ValueKind::kTimestamp);
  EXPECT_EQ(t.data[0].ints[0], 20388);  // days: 2025-10-27
  EXPECT_EQ(t.data[1].ints[0], 3605LL * 1'000'000'000);
  EXPECT_EQ(t.data[3].ints[0], 1761523205LL * 1'000'000'000);
}

TEST(CsvReader, AmbiguousLocalTimeFollowsPolicy) {
  CsvOptions o;
  o.time_zone = "Europe/Stockholm";
  const std::string text = "t\n2025-10-26 02:30:00\n";
  // 02:30 happens twice: 00:30Z (CEST) and 01:30Z (CET).
  EXPECT_EQ(MustRead(text, o).data[0].ints[0], 1761438600LL * 1'000'000'000);
  o.ambiguous = AmbiguousTime::kLater;
  EXPECT_EQ(MustRead(text, o).data[0].ints[0], 1761442200LL * 1'000'000'000);
  o.ambiguous = AmbiguousTime::kError;
  auto t = ReadText(text, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("ambiguous"), std::string::npos);
  EXPECT_NE(t.status().message().find("line 2"), std::string::npos) << t.status().message();
}

TEST(CsvReader, GivenTypesAndEpochNumbers) {
  CsvOptions o;
  o.column_types = {{"ts", ValueKind::kTimestamp}, {"code", ValueKind::kString}};
  const std::int64_t ns = 1761523205LL * 1'000'000'000;
  // s, ms, us and ns of the same instant: one unit per column (core/epoch_time.h).
  for (const char* v : {"1761523205", "1761523205000", "1761523205000000", "1761523205000000000"}) {
    const WholeTable t = MustRead(std::string("ts,code\n") + v + ",007\n" + v + ",8\n", o);
    EXPECT_EQ(t.columns[1].kind, ValueKind::kString);
    EXPECT_EQ(t.data[1].strings[0], "007");
    EXPECT_EQ(t.data[0].ints[0], ns) << v;
    EXPECT_EQ(t.data[0].ints[1], ns) << v;
  }
  // A column mixing units is an error naming the column and a row.
  auto mixed = ReadText("ts,code\n1761523205,1\n1761523205000,2\n", o);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("column 'ts': row 2"), std::string::npos)
      << mixed.status().message();
  o.epoch_unit = EpochUnit::kMillis;
  const WholeTable ms = MustRead("ts,code\n1761523205000,1\n", o);
  EXPECT_EQ(ms.data[0].ints[0], ns);
}

TEST(CsvReader, GivenTypeForMissingColumnIsAnError) {
  CsvOptions o;
  o.column_types = {{"nope", ValueKind::kInt}};
  auto t = ReadText("a\n1\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("'nope'"), std::string::npos);
}

TEST(CsvReader, UnknownTimeZoneIsAnError) {
  CsvOptions o;
  o.time_zone = "Mars/Olympus";
  auto t = ReadText("a\n1\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsNotFound()) << t.status().ToString();
  o.time_zone = "../etc/passwd";
  t = ReadText("a\n1\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
}

TEST(CsvReader, OpenMissingFileIsNotFound) {
  auto r = OpenCsvTable("/nonexistent/file.csv", {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find("/nonexistent/file.csv"), std::string::npos);
}

}  // namespace
}  // namespace mh::csv
