// Tables read from data files (CSV, Parquet): a column-oriented batch of rows
// and the interface every file reader implements, so that replay, train,
// score and features read any format the same way.
//
// Thread safety: a TableReader is used by one thread at a time.
#ifndef MH_CORE_TABLE_H_
#define MH_CORE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh {

// The value kinds a reader hands out. Serialized nowhere; values fixed anyway.
enum class ValueKind : std::uint8_t {
  kBool = 0,       // ints: 0 or 1
  kInt = 1,        // ints (int8..int64, and unsigned up to 2^63-1)
  kDouble = 2,     // doubles (float16/32/64)
  kString = 3,     // strings: UTF-8 text (string, enum, json)
  kTimestamp = 4,  // ints: ns since the Unix epoch, UTC
  kDate = 5,       // ints: days since 1970-01-01
  kTime = 6,       // ints: ns since midnight
  kBinary = 7,     // strings: raw bytes
  kDecimal = 8,    // strings: exact decimal text, e.g. "-12.340"
  kUInt64 = 9,     // ints: the bits of a uint64 (values >= 2^63 wrap negative)
};

// The kind's name in messages and schemas: "bool", "int", "double",
// "string", "timestamp", "date", "time", "binary", "decimal", "uint64".
constexpr const char* ValueKindName(ValueKind k) {
  switch (k) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kDouble:
      return "double";
    case ValueKind::kString:
      return "string";
    case ValueKind::kTimestamp:
      return "timestamp";
    case ValueKind::kDate:
      return "date";
    case ValueKind::kTime:
      return "time";
    case ValueKind::kBinary:
      return "binary";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kUInt64:
      return "uint64";
  }
  return "unknown";
}

struct TableColumnInfo {
  std::string name;
  ValueKind kind = ValueKind::kDouble;
  // For kTimestamp/kTime: 3, 6 or 9 digits of the source unit (ms, us, ns),
  // so that printers keep the file's precision.
  int fraction_digits = 9;
};

// One column of a batch. Exactly one of the value vectors is used, chosen by
// kind (see ValueKind); it has `rows` entries, with nulls marked in `valid`.
struct TableColumn {
  TableColumnInfo info;
  std::vector<std::uint8_t> valid;  // 1 = value present, 0 = null
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
};

struct TableBatch {
  std::int64_t first_row = 0;  // 0-based index in the file of this batch's first row
  std::size_t rows = 0;
  std::vector<TableColumn> columns;  // in the reader's column order (after projection)

  // Empties the batch for reuse by a reader: no rows, one column per entry of
  // `infos`, each with its info and no values (vector capacity kept).
  void Reset(std::int64_t first, const std::vector<TableColumnInfo>& infos) {
    first_row = first;
    rows = 0;
    columns.resize(infos.size());
    for (std::size_t j = 0; j < infos.size(); ++j) {
      TableColumn& c = columns[j];
      c.info = infos[j];
      c.valid.clear();
      c.ints.clear();
      c.doubles.clear();
      c.strings.clear();
    }
  }
};

class TableReader {
 public:
  virtual ~TableReader() = default;
  // The columns every batch holds, in order.
  virtual const std::vector<TableColumnInfo>& columns() const = 0;
  // Fills `batch` with the next rows. Returns true on success (the bool does
  // not mean "more rows"): the end of the table is a batch with rows == 0.
  // Errors (Corruption, InvalidArgument, IOError) name the file and the row,
  // column or byte offset.
  virtual Result<bool> Next(TableBatch* batch) = 0;
};

// Index of the column named `name` (exact match) in `columns`, or -1.
inline std::ptrdiff_t FindColumn(const std::vector<TableColumnInfo>& columns,
                                 std::string_view name) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

// True for the key columns of feature tables, which identify a row rather
// than describe it: machine_id, sensor_id, timestamp, window_start,
// source_file, source_offset (exact names).
constexpr bool IsKeyColumn(std::string_view name) {
  return name == "machine_id" || name == "sensor_id" || name == "timestamp" ||
         name == "window_start" || name == "source_file" || name == "source_offset";
}

// The cells of a text (kString) column that read as numbers and those that
// do not; nulls are not counted. A number is what ParseDouble accepts after
// trimming blanks, or that text with its decimal commas as points.
struct NumberCells {
  std::size_t numbers = 0;
  std::size_t others = 0;
  std::ptrdiff_t first_other = -1;  // row of the first cell that is not a number
};
// Counts rows [0, rows) of `column`; all zero for a column that is not text.
NumberCells CountNumberCells(const TableColumn& column, std::size_t rows);

// The one rule for "a text column that looks numeric": some of its cells are
// not numbers, but more are numbers than not. Readers and commands that pick
// numeric columns by kind report such a column's first bad cell instead of
// leaving the column out (docs/csv.md, "Numeric columns with a bad cell").
constexpr bool LooksNumericText(std::size_t numbers, std::size_t others) {
  return others > 0 && numbers > others;
}

}  // namespace mh

#endif  // MH_CORE_TABLE_H_
