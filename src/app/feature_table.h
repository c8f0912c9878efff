// Feature tables for `machine-health train` and `score`: a CSV or Parquet
// file, or an http(s) URL of one, opened with replay::OpenTableFile, whose
// named columns are read as float64 features (an iforest::Matrix) and whose
// identifier columns are kept as CSV cell text.
//
// Lifecycle: FeatureTableFile::Open reads the schema (column names and kinds;
// for CSV, kinds inferred from the first rows as docs/csv.md describes) and
// the first data row; Read then reads the whole table. A URL is downloaded
// once, by Open. CSV input is read with the selected feature columns given
// kind kDouble and the identifier columns kString, so that identifiers keep
// their text and a cell that is not a number is an error naming the line.
//
// Thread safety: an object is used by one thread at a time.
#ifndef MH_APP_FEATURE_TABLE_H_
#define MH_APP_FEATURE_TABLE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/table.h"
#include "iforest/matrix.h"

namespace mh::app {

struct FeatureTable {
  // rows x features, in the order the features were requested.
  iforest::Matrix x;
  // Per row, the identifier columns' cells as CSV text (RFC 4180 quoting
  // when needed; a null cell is empty), in the order requested.
  std::vector<std::vector<std::string>> ids;
};

class FeatureTableFile {
 public:
  // Opens `path_or_url` and reads its schema and first data row. NotFound for
  // a missing file; the reader's errors (naming the file and line or row) for
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
  // Whether the first data row's cell of column `i` holds a number: an
  // integer or double value, or a text that parses as a number. False when
  // the table has no rows or the cell is null.
  bool FirstRowNumeric(std::size_t i) const {
    return i < first_row_numeric_.size() && first_row_numeric_[i];
  }

  // Reads every row: `features` (column names, each present exactly once)
  // as finite float64 values, `ids` (present column names) as text.
  // Corruption naming the file, the 1-based data row and the column for a
  // null cell ("missing value"), a text that is not a number, a NaN or an
  // infinite value, or a column whose kind is not numeric (bool, timestamp,
  // ...); the reader's errors (CSV: "line L, column C ('name')") for cells
  // that do not parse. InvalidArgument for a name that is not a column.
  Result<FeatureTable> Read(const std::vector<std::string>& features,
                            const std::vector<std::string>& ids) const;

 private:
  FeatureTableFile() = default;
  // Opens the file again for Read: CSV features as kDouble, other columns
  // as kString.
  Result<std::unique_ptr<TableReader>> Reopen(const std::vector<std::string>& features) const;

  std::string path_;  // as given
  std::string name_;  // for messages
  bool is_url_ = false;
  std::string body_;  // a URL's bytes
  std::vector<TableColumnInfo> columns_;
  std::vector<bool> first_row_numeric_;
  bool empty_ = true;
};

}  // namespace mh::app

#endif  // MH_APP_FEATURE_TABLE_H_
