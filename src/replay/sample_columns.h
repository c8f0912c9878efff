// How a table of samples (a snapshot file of a data logger, read through
// replay/table_file.h) is understood, for every reader of recordings
// (`features`, the dir: source): which columns are channels by default and
// where a row's time of day comes from.
//
// Thread safety: free functions.
#ifndef MH_REPLAY_SAMPLE_COLUMNS_H_
#define MH_REPLAY_SAMPLE_COLUMNS_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/table.h"

namespace mh::replay {

// True for the kinds a channel can have: int and double.
constexpr bool IsSampleKind(ValueKind k) { return k == ValueKind::kDouble || k == ValueKind::kInt; }

// True when a column named `name` is a time, index or id column, never a
// channel by default: a key column of feature tables (IsKeyColumn), one of
// index, idx, id, i, n, t, time, times, ts, datetime, date, epoch, unix,
// unix_time, elapsed, sample, samples, sample_no, row, row_id, record, year,
// month, day, hour, minute, second, millisecond, microsecond, nanosecond,
// machine, sensor, device, device_id, asset, asset_id, channel_id, label,
// class (any case, blanks trimmed), or a name ending in _id, _index, _idx,
// _time, _ts or _timestamp, or starting with time_, timestamp_ or "unnamed:"
// (pandas' index column).
bool IsTimeOrIndexColumn(std::string_view name);

struct DefaultChannels {
  std::vector<std::string> channels;  // in file order
  std::string skipped;                // "hour (time/index), note (string)", for the log
};

// The default channels of a file (`file`: its name in messages) with columns
// `cols` and first rows `first`: its numeric columns that are not time or
// index columns. Corruption listing the columns when there is none, or naming
// the bad cell of a text column whose other cells are numbers; `hint` says
// how to name channels instead ("--channels", "?channels=").
Result<DefaultChannels> ChooseDefaultChannels(const std::string& file,
                                              const std::vector<TableColumnInfo>& cols,
                                              const TableBatch& first, std::string_view hint);

// The error for a channel column `c` of `batch` that is not numeric: naming
// the first text cell that is not a number (quoted by QuoteForMessage), else
// its kind. `shown` names the file.
Status NotNumericError(const std::string& shown, const TableBatch& batch, std::size_t c);

// The index in `cols` of every channel of `channels`. Corruption naming
// `shown`: a missing column (listing the columns), or one that is not
// numeric (naming its first bad cell in `first` when given, else its kind).
Result<std::vector<std::size_t>> FindChannelColumns(const std::string& shown,
                                                    const std::vector<TableColumnInfo>& cols,
                                                    const std::vector<std::string>& channels,
                                                    const TableBatch* first = nullptr);

// Cell r of a channel column (kind int or double) in *out; false for a null
// or non-finite cell, whose error SampleCellError gives.
inline bool SampleCell(const TableColumn& col, std::size_t r, double* out) {
  if (!col.valid[r]) return false;
  *out = col.info.kind == ValueKind::kDouble ? col.doubles[r] : static_cast<double>(col.ints[r]);
  return std::isfinite(*out);
}
// Corruption "<where>: column '<channel>' is null" or "...: '<v>' is not a
// finite number" for a cell SampleCell refused.
Status SampleCellError(const std::string& where, const TableColumn& col, std::size_t r,
                       std::string_view channel);

// FEMTO's time-of-day columns: hour, minute, second, microsecond (any case),
// all numeric. Indices, or empty when the file lacks any of them.
std::vector<std::size_t> TimeOfDayColumns(const std::vector<TableColumnInfo>& cols);

// Nanoseconds since midnight from the hour, minute, second and microsecond
// cells of row r. Corruption naming the row and column for a null,
// non-integral or out-of-range cell.
Result<std::int64_t> TimeOfDayNs(const TableBatch& batch, const std::vector<std::size_t>& cols,
                                 std::size_t r, const std::string& shown);

// The instant a snapshot file's name gives, if any: the first run
// "YYYY?MM?DD?hh?mm?ss" of digit groups separated by single '.', '-', '_',
// 'T' or ' ' and not part of a longer number, read as UTC (IMS:
// "2003.10.22.12.06.24" -> 2003-10-22T12:06:24Z). nullopt when there is none
// or it is not a valid date-time.
std::optional<std::int64_t> FileNameTimeNs(std::string_view name);

}  // namespace mh::replay

#endif  // MH_REPLAY_SAMPLE_COLUMNS_H_
