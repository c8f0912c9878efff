// Writing rows (mh::TableBatch, core/table.h) to a file in the format its
// name asks for: the one output path of every command that writes rows
// (features, score, ...). docs/output-formats.md describes the formats.
//
//   .csv            CSV: a header line, RFC 4180 quoting, null = empty cell
//   .tsv            the same with tab separators
//   .jsonl .ndjson  JSON Lines: one object per row, keys = column names
//   .parquet        Parquet (parquet/parquet_writer.h), column kinds kept
//   -               CSV (or the text format asked for) on standard output
//
// Extensions are matched without regard to case. Cell texts follow
// parquet/table_text.h, as `machine-health cat` prints them: doubles in the
// shortest form that reads back to the same bits, timestamps RFC 3339 UTC with
// the column's fraction digits, NaN/infinities as "NaN", "Infinity",
// "-Infinity".
//
// A file is written under "<path>.tmp" (Parquet: "<path>.tmp-<pid>") and
// renamed to `path` by Close(); an output destroyed before a successful
// Close() removes its temporary file, so that a failed run leaves no half
// file behind.
//
// Thread safety: a TableOutput is used by one thread at a time.
#ifndef MH_TABLEIO_TABLE_OUTPUT_H_
#define MH_TABLEIO_TABLE_OUTPUT_H_

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/table.h"
#include "parquet/parquet_writer.h"

namespace mh::tableio {

// Values are not serialized.
enum class TableFormat : std::uint8_t { kCsv = 0, kTsv = 1, kJsonLines = 2, kParquet = 3 };

// "csv", "tsv", "jsonl", "parquet".
const char* TableFormatName(TableFormat format);

// The format of output `path` ("-" = standard output): `format` ("csv",
// "tsv", "jsonl", "parquet"; any case) when not empty, else the path's
// extension, and CSV for "-". InvalidArgument for an unknown `format`, a path
// whose extension names no format (the message names the path and the
// choices), or Parquet on standard output.
Result<TableFormat> ResolveTableFormat(const std::string& path, const std::string& format);

struct TableOutputOptions {
  // true: kTimestamp/kTime ints are nanoseconds (table.h); false: in the unit
  // of the column's fraction_digits (as read with keep_time_unit).
  bool times_in_ns = true;
  // CSV, TSV, JSON Lines: threads rendering the rows of a large batch (at
  // least 16384 rows per thread; 0 = all cores). The bytes written do not
  // depend on it.
  int threads = 1;
  // Parquet layout; the writer's defaults.
  parquet::ParquetWriteOptions parquet;
};

class TableOutput {
 public:
  // Opens `path` ("-": `standard_output`, which must then be non-null) for
  // rows with columns `schema` in `format`. InvalidArgument for an empty
  // schema or Parquet on "-"; IOError when the temporary file cannot be
  // created (naming it).
  static Result<std::unique_ptr<TableOutput>> Open(const std::string& path, TableFormat format,
                                                   const std::vector<TableColumnInfo>& schema,
                                                   std::ostream* standard_output,
                                                   const TableOutputOptions& options = {});
  // Removes the temporary file unless Close() succeeded.
  virtual ~TableOutput() = default;
  TableOutput(const TableOutput&) = delete;
  TableOutput& operator=(const TableOutput&) = delete;

  // Appends the rows of `batch`, whose columns match the schema (same count
  // and kinds, vectors of `rows` entries as table.h says): InvalidArgument
  // otherwise. IOError (naming the file) when writing fails.
  virtual Status Write(const TableBatch& batch) = 0;
  // Flushes, then renames the file into place. After Close, Write and Close
  // are errors (Internal).
  virtual Status Close() = 0;

  // Text formats (CSV, TSV, JSON Lines) can render batches apart from
  // writing them, so that several threads render batches that are then
  // written in order: Render appends to `text` the bytes Write(batch) would
  // write (InvalidArgument as Write), and may be called from several threads
  // at once; WriteRendered writes such bytes (after the header), as Write
  // would. Parquet: renders_text() is false and both are NotSupported.
  virtual bool renders_text() const { return false; }
  virtual Status Render(const TableBatch& batch, std::string* text) const;
  virtual Status WriteRendered(std::string_view text);

  const std::vector<TableColumnInfo>& schema() const { return schema_; }
  const std::string& path() const { return path_; }

 protected:
  TableOutput(std::string path, std::vector<TableColumnInfo> schema)
      : path_(std::move(path)), schema_(std::move(schema)) {}
  // InvalidArgument unless `batch` fits the schema.
  Status CheckBatch(const TableBatch& batch) const;

  const std::string path_;
  const std::vector<TableColumnInfo> schema_;
};

// Opens `path` in ResolveTableFormat(path, format).
Result<std::unique_ptr<TableOutput>> OpenTableOutput(const std::string& path,
                                                     const std::string& format,
                                                     const std::vector<TableColumnInfo>& schema,
                                                     std::ostream* standard_output,
                                                     const TableOutputOptions& options = {});

}  // namespace mh::tableio

#endif  // MH_TABLEIO_TABLE_OUTPUT_H_
