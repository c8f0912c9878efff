// Helpers for the csv tests: read a whole table into rows of text.
#ifndef MH_TESTS_CSV_CSV_TEST_UTIL_H_
#define MH_TESTS_CSV_CSV_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/table.h"
#include "csv/csv_reader.h"

namespace mh::csv::testing {

// All batches of a reader concatenated, column by column.
struct WholeTable {
  std::vector<TableColumnInfo> columns;
  std::vector<TableColumn> data;  // one per column, all rows
  std::size_t rows = 0;
  int batches = 0;
};

inline Result<WholeTable> ReadAll(TableReader& reader) {
  WholeTable t;
  t.columns = reader.columns();
  t.data.resize(t.columns.size());
  for (std::size_t j = 0; j < t.columns.size(); ++j) t.data[j].info = t.columns[j];
  TableBatch batch;
  while (true) {
    auto more = reader.Next(&batch);
    if (!more.ok()) return more.status();
    if (batch.rows == 0) break;
    if (batch.first_row != static_cast<std::int64_t>(t.rows)) {
      return Status::Internal("first_row out of sequence");
    }
    ++t.batches;
    for (std::size_t j = 0; j < t.columns.size(); ++j) {
      const TableColumn& c = batch.columns[j];
      TableColumn& d = t.data[j];
      if (c.valid.size() != batch.rows) return Status::Internal("valid size mismatch");
      d.valid.insert(d.valid.end(), c.valid.begin(), c.valid.end());
      d.ints.insert(d.ints.end(), c.ints.begin(), c.ints.end());
      d.doubles.insert(d.doubles.end(), c.doubles.begin(), c.doubles.end());
      d.strings.insert(d.strings.end(), c.strings.begin(), c.strings.end());
    }
    t.rows += batch.rows;
  }
  return t;
}

inline Result<WholeTable> ReadText(const std::string& text, CsvOptions options = {}) {
  options.source_name = "test.csv";
  auto reader = OpenCsvTableFromBuffer(text, options);
  if (!reader.ok()) return reader.status();
  return ReadAll(**reader);
}

// ReadText that must succeed: a failure is a test failure (its message cut
// to 500 bytes) and gives an empty table.
inline WholeTable MustRead(const std::string& text, CsvOptions options = {}) {
  auto t = ReadText(text, options);
  EXPECT_TRUE(t.ok()) << t.status().ToString().substr(0, 500);
  return t.ok() ? std::move(t).value() : WholeTable{};
}

}  // namespace mh::csv::testing

#endif  // MH_TESTS_CSV_CSV_TEST_UTIL_H_
