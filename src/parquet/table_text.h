// Text renderings of TableBatch cells for `machine-health cat`: JSON values
// (integers as integers; doubles as the shortest decimal that reads back to
// the same value; NaN and infinities as "NaN", "Infinity", "-Infinity";
// timestamps as RFC 3339 UTC with 3, 6 or 9 fractional digits by unit; dates
// YYYY-MM-DD; binary as lowercase hex; decimals as exact strings; null) and
// CSV cells (the same texts, RFC 4180 quoting, null as an empty cell).
//
// Thread safety: free functions without shared state.
#ifndef MH_PARQUET_TABLE_TEXT_H_
#define MH_PARQUET_TABLE_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/strings.h"
#include "core/table.h"

namespace mh::parquet {

struct TextOptions {
  // true: kTimestamp/kTime ints are nanoseconds (table.h). false: they are
  // in the unit of the column's fraction_digits (readers opened with
  // ParquetReadOptions::keep_time_unit).
  bool times_in_ns = true;
  // The CSV field separator: cells holding it are quoted (',' or '\t').
  char csv_delimiter = ',';
};

// Appends the JSON value of cell `row` of `column` (null when not valid).
void AppendJsonValue(const TableColumn& column, std::size_t row, const TextOptions& options,
                     std::string* out);
// JSON string literals: the one escaper in core/strings.h.
using ::mh::AppendJsonString;
// Appends the CSV cell text of cell `row` of `column`.
void AppendCsvValue(const TableColumn& column, std::size_t row, const TextOptions& options,
                    std::string* out);

// "YYYY-MM-DDTHH:MM:SS[.f...]Z" for `value` units of 10^-digits seconds
// since the epoch (digits 0..9; negative values are before 1970).
std::string FormatInstant(std::int64_t value, int digits);
// "YYYY-MM-DD" for days since 1970-01-01.
std::string FormatDate(std::int64_t days);
// "HH:MM:SS[.f...]" for `value` units of 10^-digits seconds since midnight.
std::string FormatTimeOfDay(std::int64_t value, int digits);
// Appends FormatJsonDouble(value) without a temporary string.
void AppendDoubleText(double value, std::string* out);
// Shortest round-trip text of a double, with ".0" for integral values;
// "NaN", "Infinity", "-Infinity" for non-finite ones.
std::string FormatJsonDouble(double value);
// Lowercase hex of bytes.
std::string HexString(const std::string& bytes);

}  // namespace mh::parquet

#endif  // MH_PARQUET_TABLE_TEXT_H_
