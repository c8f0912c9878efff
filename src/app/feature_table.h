// Feature tables for `machine-health train` and `score`: a CSV or Parquet
// file, or an http(s) URL of one, opened with replay::OpenTableFile, whose
// named columns are read as float64 features (an iforest::Matrix) and whose
// key columns (machine_id, timestamp, ...) are kept with their kinds.
//
// Lifecycle: FeatureTableFile::Open reads the schema (column names and kinds;
// for CSV, kinds inferred from the first rows as docs/csv.md describes) and
// that inference sample; Read then reads the whole table. A URL is downloaded
// once, by Open. CSV input is read with the selected feature columns given
// kind kDouble, machine_id and sensor_id kString, other key columns their
// inferred kinds (window_start an integer, timestamp a timestamp when its
// sample parses as one) and unused columns kString, so that unused columns
// cannot fail and a feature cell that is not a number is the reader's error
// naming the line and column.
//
// Thread safety: an object is used by one thread at a time.
#ifndef MH_APP_FEATURE_TABLE_H_
#define MH_APP_FEATURE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/table.h"
#include "iforest/matrix.h"

namespace mh::app {

// Rows per sample examined by Open (the CSV reader's inference sample).
inline constexpr std::size_t kFeatureSampleRows = 1000;

struct FeatureTable {
  // rows x features, in the order the features were requested.
  iforest::Matrix x;
  // The key columns requested, in that order, with x.rows rows each, kinds
  // as read (first_row 0), but for a `timestamp` key, which is read by the
  // one timestamp rule (csv/timestamp_column.h: date-times, epoch numbers in
  // the unit their values fit, ISO text) into kTimestamp; timestamps carry
  // the fraction digits (3, 6 or 9) their values need.
  TableBatch keys;
  // Seconds spent in the file reader (TableReader::Next: parsing and
  // decoding), for `score --timings`; the rest of Read is conversion.
  double reader_seconds = 0;
  // How the `timestamp` key was read, for the log ("column 'timestamp':
  // epoch seconds (auto)"); empty without one.
  std::string timestamp_rule;
};

// IsKeyColumn (core/table.h): machine_id, sensor_id, timestamp,
// window_start, source_file, source_offset are never default features
// (train) and are carried to the output (score).

// Rows of a feature table read in batches by FeatureTableStream::Next.
struct FeatureChunk {
  // rows x features, as FeatureTable::x.
  iforest::Matrix x;
  // The key columns, as FeatureTable::keys but for a `timestamp` key, whose
  // fraction_digits stay 9 (SetTimestampDigits gives the digits a whole table
  // needs).
  TableBatch keys;
  // 0-based data row of the chunk's first row in the file.
  std::int64_t first_row = 0;
};

// Gives the kTimestamp columns of `keys` the fraction digits (3, 6 or 9)
// their values need.
void SetTimestampDigits(TableBatch* keys);

// A feature table read batch by batch (FeatureTableFile::Stream), with the
// checks and errors of FeatureTableFile::Read.
class FeatureTableStream {
 public:
  FeatureTableStream(FeatureTableStream&&) noexcept;
  FeatureTableStream& operator=(FeatureTableStream&&) noexcept;
  ~FeatureTableStream();

  // Empties `chunk` (keeping its buffers) for the rows the next Next reads.
  void StartChunk(FeatureChunk* chunk) const;
  // Reads the next batch of the file and appends its rows to `chunk`
  // (started by StartChunk); returns the rows appended, 0 at the end. Errors
  // as FeatureTableFile::Read; after one, the stream is not used again.
  Result<std::size_t> Next(FeatureChunk* chunk);
  // As FeatureTable::reader_seconds and timestamp_rule, so far.
  double reader_seconds() const { return reader_seconds_; }
  std::string timestamp_rule() const;

  struct State;

 private:
  friend class FeatureTableFile;
  explicit FeatureTableStream(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  double reader_seconds_ = 0;
};

// Parses a --features list "a,b,c" (blanks around names trimmed).
// InvalidArgument naming the option for an empty name or a name listed twice.
Result<std::vector<std::string>> ParseFeatureList(const std::string& text);

class FeatureTableFile {
 public:
  // Opens `path_or_url` and reads its schema and first rows. NotFound for a
  // missing file; the reader's errors (naming the file and line or row) for
  // unreadable or malformed input.
  static Result<FeatureTableFile> Open(const std::string& path_or_url);

  // The file (a URL without its query, which may be a secret) for messages.
  const std::string& name() const { return name_; }
  // The columns in file order.
  const std::vector<TableColumnInfo>& columns() const { return columns_; }
  // True when the table has no data rows.
  bool empty() const { return empty_; }
  // Index of the column called `name`, or -1.
  std::ptrdiff_t Find(const std::string& name) const;
  // Whether column `i` holds numbers: its kind is int or double, or it is a
  // text column most of whose non-null cells in the first
  // kFeatureSampleRows rows parse as numbers (a numeric column with a few bad
  // cells, which Read then reports by line). False for a column without any
  // value in the sample.
  bool LooksNumeric(std::size_t i) const { return i < numeric_.size() && numeric_[i]; }

  // Reads every row: `features` (column names, each present exactly once)
  // as finite float64 values, `keys` (present column names) as they are
  // (a `timestamp` key as an instant: InvalidArgument naming the file, the
  // column and the row for a value that is not one, or epoch numbers that
  // fit no unit or several).
  // Corruption naming the file, the 1-based data row and the column for a
  // null cell ("missing value"), a text that is not a number, a NaN or an
  // infinite value, or a column whose kind is not numeric (bool, timestamp,
  // ...); the reader's errors (CSV: "line L, column C ('name')") for cells
  // that do not parse. InvalidArgument for a name that is not a column.
  // threads: Parquet columns decoded on this many threads (0 = all cores;
  // ParquetReadOptions::threads); the table does not depend on it.
  Result<FeatureTable> Read(const std::vector<std::string>& features,
                            const std::vector<std::string>& keys, int threads = 1) const;
  // The rows of Read in batches of at most `batch_rows` rows (a Parquet batch
  // never spans two row groups), for a caller that processes them as they
  // come. The checks of Read on the names are made here.
  Result<FeatureTableStream> Stream(const std::vector<std::string>& features,
                                    const std::vector<std::string>& keys, int threads = 1,
                                    std::size_t batch_rows = std::size_t{1} << 16) const;

 private:
  FeatureTableFile() = default;
  // Opens the file again for Read (CSV kinds as the lead comment says).
  Result<std::unique_ptr<TableReader>> Reopen(const std::vector<std::string>& features,
                                              const std::vector<std::string>& keys, int threads,
                                              std::size_t batch_rows) const;

  // Opens the Parquet file or body reading `columns` (all when empty),
  // decoding on `threads` threads (ParquetReadOptions::threads).
  Result<std::unique_ptr<TableReader>> OpenParquet(const std::vector<std::string>& columns,
                                                   std::size_t batch_rows, int threads = 1) const;

  std::string path_;  // as given
  std::string name_;  // for messages
  bool is_url_ = false;
  bool parquet_ = false;
  std::string body_;  // a URL's bytes
  std::vector<TableColumnInfo> columns_;
  std::vector<bool> numeric_;
  bool empty_ = true;
  std::size_t rows_hint_ = 0;  // Parquet: the footer's row count
};

}  // namespace mh::app

#endif  // MH_APP_FEATURE_TABLE_H_
