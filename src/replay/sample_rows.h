// ReadSampleRows: the rows of one sample table (a recording read with
// replay::OpenTableFile, one sample per row) handed on as runs of
// consecutive rows of one machine, with the time and the file row of every
// sample, for a window stage (window::Windower: runs become blocks with
// sample_times and tags). Used by `features`.
//
// A table's layout (DescribeSampleRows): a `machine_id` column makes runs
// per machine; a row's time is its `timestamp` column (the one timestamp
// rule, csv/timestamp_column.h), else FEMTO's hour, minute, second and
// microsecond columns (the time of day), else none (the sample index).
//
// Errors (Corruption) name the file, the 1-based data row and the column.
//
// Thread safety: free functions.
#ifndef MH_REPLAY_SAMPLE_ROWS_H_
#define MH_REPLAY_SAMPLE_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/table.h"

namespace mh::replay {

struct SampleRowsLayout {
  bool machine = false;  // a machine_id column
  // The rows' time as a column: kInt (no time: the sample index), kTimestamp
  // (a timestamp column; fraction_digits 3, 6 or 9, what its first rows
  // need to be printed exactly) or kTime (the time of day, digits 6).
  ValueKind time_kind = ValueKind::kInt;
  int fraction_digits = 9;
};

// The layout of a table with columns `cols` and first rows `first`.
// Corruption for a timestamp column whose first rows do not parse.
Result<SampleRowsLayout> DescribeSampleRows(const std::string& shown,
                                            const std::vector<TableColumnInfo>& cols,
                                            const TableBatch& first);

// Consecutive rows of one machine.
struct SampleRun {
  std::string_view machine;                           // "" without a machine_id column
  std::span<const std::span<const double>> channels;  // per channel, one sample a row
  std::span<const std::int64_t> times;                // ns, per row; empty for kInt
  std::span<const std::uint64_t> rows;                // 0-based data row in the file
};

struct SampleRowsOptions {
  std::vector<std::string> channels;  // column names
  // Round every sample to the nearest float32 first (a float32 logger's
  // values, --dtype float32); one outside the float32 range is Corruption.
  bool float32 = false;
  std::size_t max_run_rows = 8192;  // longest run handed on at once
  // When set: the timestamp rule's description of the file (unit, zone).
  std::string* timestamp_note = nullptr;
};

// Reads every row of `reader`, whose first rows `batch` holds already,
// and calls `on_run` for each run, in row order. Corruption when the file
// has no rows, when its layout is not `layout` (the first file's: naming
// what differs), for a missing or non-numeric channel column, a null or
// non-finite sample, a null machine_id or time; errors of the reader as
// data errors (ReadErrorAsData); an error of `on_run` is returned as is.
Status ReadSampleRows(TableReader& reader, TableBatch& batch, const std::string& shown,
                      const SampleRowsLayout& layout, const SampleRowsOptions& options,
                      const std::function<Status(const SampleRun&)>& on_run);

// A reader's error as a data error: the CSV reader reports a bad cell as
// InvalidArgument, which the commands' exit codes keep for usage errors.
Status ReadErrorAsData(const Status& s);

// For a local CSV `file` (`shown` in messages) of `columns` columns:
// Corruption when it is too small to hold `window` rows of `channels`
// channels (every row has a byte per separator or line end and one per
// channel cell at least). Checked only for windows above 65536 samples,
// before any window buffer is allocated; OK for URLs and Parquet files.
Status CheckFileHoldsWindow(const std::string& file, const std::string& shown, std::size_t columns,
                            std::size_t channels, std::size_t window);

}  // namespace mh::replay

#endif  // MH_REPLAY_SAMPLE_ROWS_H_
