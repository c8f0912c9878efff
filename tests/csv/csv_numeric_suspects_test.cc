// CsvNumericSuspects: text columns that look numeric by the one rule,
// mh::LooksNumericText: some sample cells are not numbers, but more are.
#include <string>

#include <gtest/gtest.h>

#include "csv/csv_reader.h"

namespace mh::csv {
namespace {

std::vector<CsvNumericSuspect> Suspects(const std::string& text, CsvOptions o = {}) {
  auto r = OpenCsvTableFromBuffer(text, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? CsvNumericSuspects(**r) : std::vector<CsvNumericSuspect>{};
}

std::string Column(int numbers, int bad, int bad_every) {
  std::string t = "id,v\n";
  int b = 0;
  for (int i = 0; i < numbers + bad; ++i) {
    const bool is_bad = b < bad && i % bad_every == 1;
    if (is_bad) ++b;
    t += "m" + std::to_string(i) + "," + (is_bad ? std::string("x") : std::to_string(i)) + "\n";
  }
  return t;
}

TEST(CsvNumericSuspects, OneBadCellAmongNumbersNamesItsLine) {
  const auto s = Suspects("a,v\n1,1\n2,abc\n3,3\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].column, 1u);
  EXPECT_EQ(s[0].line, 3);
  EXPECT_EQ(s[0].cell, "abc");
  EXPECT_EQ(s[0].bad_cells, 1);
  EXPECT_EQ(s[0].sample_rows, 3);
}

TEST(CsvNumericSuspects, MoreNumbersThanOtherCellsLooksNumeric) {
  auto s = Suspects(Column(8, 2, 4));  // 2 of 10 are not numbers: numeric with bad cells
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].bad_cells, 2);
  s = Suspects(Column(198, 2, 50));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].bad_cells, 2);
  EXPECT_EQ(Suspects(Column(6, 5, 2)).size(), 1u);  // 6 numbers, 5 others
  EXPECT_TRUE(Suspects(Column(5, 5, 2)).empty());   // as many others: text
  EXPECT_TRUE(Suspects("v\n1\nabc\n").empty());     // one number, one word: text
  // The same rule as the commands' (core/table.h).
  EXPECT_TRUE(LooksNumericText(6, 5));
  EXPECT_FALSE(LooksNumericText(5, 5));
  EXPECT_FALSE(LooksNumericText(9, 0));  // all numbers: a numeric column, nothing to report
}

TEST(CsvNumericSuspects, IdentifiersAndGivenKindsAreNotSuspects) {
  EXPECT_TRUE(Suspects("id,v\nm1,1\nm2,2\nm3,3\n").empty());
  CsvOptions o;
  o.column_types = {{"v", ValueKind::kString}};
  EXPECT_TRUE(Suspects("a,v\n1,1\n2,abc\n3,3\n", o).empty());
}

}  // namespace
}  // namespace mh::csv
