// CSV files as tables (core/table.h): dialect detection, type inference and
// time zone-aware timestamps. See docs/csv.md for the rules in full.
//
// Dialect: RFC 4180 records (quoted fields with doubled quotes and embedded
// newlines), LF or CRLF line ends, an optional UTF-8 BOM, a last line with or
// without a newline, blank lines skipped. The delimiter (',', ';' or tab) and
// the decimal mark ('.' or ',') are detected from the start of the file unless
// given.
//
// Types: each column's kind is given (CsvOptions::column_types) or inferred
// from the first `infer_rows` data rows: the first kind in the order bool,
// int, double, timestamp, date, time that parses every non-empty cell of the
// sample, else string. Empty cells are null. A later cell that does not parse
// as its column's kind is an error naming file, line and column.
//
// Time: date-times without a zone, and a date column combined with a time
// column, are local times in CsvOptions::time_zone (IANA; csv/time_zone.h).
//
// Memory: OpenCsvTable streams the file in chunks of 1 MiB (a window of
// about two chunks, or twice the longest record); the dialect is detected and
// the kinds inferred from the first chunk and the first `infer_rows` rows.
// OpenCsvTableFromBuffer reads bytes already in memory. Rows are converted
// batch by batch (CsvOptions::batch_rows).
//
// Thread safety: a reader is used by one thread at a time.
#ifndef MH_CSV_CSV_READER_H_
#define MH_CSV_CSV_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/epoch_time.h"
#include "core/result.h"
#include "core/table.h"
#include "csv/time_zone.h"

namespace mh::csv {

// Unit of epoch numbers in a column whose type is given as kTimestamp: the
// one rule of core/epoch_time.h (kAuto decides per column on the inference
// sample; later values must fit the unit chosen).
using EpochUnit = ::mh::EpochUnit;

struct CsvOptions {
  // --- Dialect ---
  // ',', ';' or '\t'; '\0' detects among them from the first records.
  char delimiter = '\0';
  // '.' or ','; '\0' detects: ',' when the delimiter is not ',' and the
  // sample has numbers written with a comma and none with a point.
  char decimal_mark = '\0';
  // The first record holds the column names; otherwise columns are named
  // column_1..column_N.
  bool header = true;
  // Cell texts (after trimming blanks) read as null, besides the empty cell.
  std::vector<std::string> null_values;

  // --- Types ---
  // Data rows examined to infer column kinds (at least 1).
  std::size_t infer_rows = 1000;
  // Kinds given by column name; they win over inference. Allowed: kBool,
  // kInt, kDouble, kString, kTimestamp, kDate, kTime.
  std::vector<std::pair<std::string, ValueKind>> column_types;
  // When the table has exactly one date column and one time column, append a
  // kTimestamp column combining them (named date_time_column; "_2" etc. is
  // added when the name is taken).
  bool combine_date_time = true;
  std::string date_time_column = "timestamp";
  // Epoch numbers in kTimestamp columns given by column_types.
  EpochUnit epoch_unit = EpochUnit::kAuto;

  // --- Time ---
  // IANA zone of local date-times (those without "Z" or an offset).
  std::string time_zone = "UTC";
  AmbiguousTime ambiguous = AmbiguousTime::kEarlier;
  NonexistentTime nonexistent = NonexistentTime::kShiftForward;

  // --- Bad data ---
  // false: a cell that does not parse is an error (InvalidArgument naming
  // file, line and column). true: it becomes null and is counted (see
  // CsvBadCells); use only when the consumer treats null as bad data.
  bool bad_cells_as_null = false;

  // --- Resources ---
  std::size_t batch_rows = 8192;                 // rows per TableBatch (>= 1)
  std::size_t max_bytes = std::size_t{1} << 32;  // larger inputs are refused

  // Name used in messages for OpenCsvTableFromBuffer ("<buffer>" if empty).
  std::string source_name;
};

// Opens a CSV file, detects its dialect and infers column kinds from the
// first rows. NotFound/IOError when the file cannot be read; InvalidArgument
// for a directory ("PATH: is a directory") or another non-regular file, bad
// options or an unreadable header/sample (message names file and line);
// NotFound when the time zone's TZif file is missing. Messages quote file
// text through QuoteForMessage (core/strings.h): bounded and escaped.
Result<std::unique_ptr<TableReader>> OpenCsvTable(const std::string& path,
                                                  const CsvOptions& options);

// The same over bytes in memory (HTTP bodies, fuzzing); messages name
// options.source_name.
Result<std::unique_ptr<TableReader>> OpenCsvTableFromBuffer(std::string bytes,
                                                            const CsvOptions& options);

// Cells turned into null so far by a reader opened with bad_cells_as_null
// (0 for other readers, including non-CSV ones).
std::int64_t CsvBadCells(const TableReader& reader);

// A column inferred as text (kString) although its inference sample looks
// numeric by the one rule, mh::LooksNumericText (core/table.h): some cells
// are not numbers but more are (docs/csv.md, "Numeric columns with a bad
// cell"). Most likely a numeric column with bad data: a caller that picks
// numeric columns by kind reports it instead of dropping the column.
struct CsvNumericSuspect {
  std::size_t column = 0;        // index in TableReader::columns()
  std::int64_t line = 0;         // line of the first cell that is not a number
  std::string cell;              // that cell, trimmed (show it with QuoteForMessage)
  std::int64_t bad_cells = 0;    // sample cells that are not numbers
  std::int64_t sample_rows = 0;  // rows in the inference sample
};

// The suspect columns of a CSV reader, in column order (none for other
// readers, and none for columns whose kind was given).
std::vector<CsvNumericSuspect> CsvNumericSuspects(const TableReader& reader);

}  // namespace mh::csv

#endif  // MH_CSV_CSV_READER_H_
