// The one entry point for reading a column of event times, for every command
// (replay, features, score, train): any TableColumn (core/table.h) becomes
// ns since the epoch per row, by the rules of docs/replay.md "Timestamps":
//   - kTimestamp: as read (CSV date-times, Parquet timestamps);
//   - kDate: midnight in the time zone;
//   - kInt, kUInt64, kDouble: epoch numbers, unit by core/epoch_time.h
//     (kAuto: one unit per column, decided on the first batch);
//   - kString, kDecimal: an ISO 8601 / RFC 3339 date-time (with an offset or
//     "Z" as such, without one in the time zone, as the CSV reader does with
//     CsvOptions::time_zone), else an epoch number as above.
// It lives in csv/ because it needs the CSV date-time parser and time zones;
// core/epoch_time.h has the unit rule itself.
//
// Thread safety: a reader is used by one thread at a time.
#ifndef MH_CSV_TIMESTAMP_COLUMN_H_
#define MH_CSV_TIMESTAMP_COLUMN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/epoch_time.h"
#include "core/result.h"
#include "core/table.h"
#include "csv/time_zone.h"

namespace mh::csv {

struct TimestampColumnOptions {
  // Unit of epoch numbers (see core/epoch_time.h).
  EpochUnit unit = EpochUnit::kAuto;
  // IANA zone of date-times without an offset, and of dates.
  std::string time_zone = "UTC";
  // The input's name in messages (a path or redacted URL).
  std::string source = "input";
  // false: a cell that is not a timestamp is an error. true: it is marked
  // invalid (as a null cell is) and counted in bad_cells(); for callers that
  // skip bad rows. Unit errors (no unit fits, mixed units) are errors always.
  bool bad_as_invalid = false;
};

class TimestampColumnReader {
 public:
  // Loads the time zone: the errors of TimeZone::Load.
  static Result<TimestampColumnReader> Make(const TimestampColumnOptions& options);

  // Converts one batch of the column (first_row: TableBatch::first_row,
  // 0-based): (*ns)[i] is row i's instant when (*valid)[i] is 1; null cells
  // (and bad ones with bad_as_invalid) are 0 with valid 0. InvalidArgument
  // "<source>: column 'C': row R: ..." (rows 1-based among data rows) for a
  // cell that is not a timestamp, a value that breaks the unit rule, or a
  // column kind that cannot hold instants (bool, time, binary).
  Status Convert(const TableColumn& column, std::int64_t first_row, std::vector<std::int64_t>* ns,
                 std::vector<std::uint8_t>* valid);

  // The unit of the epoch numbers (kAuto until some were seen under kAuto).
  EpochUnit chosen() const { return decoder_.chosen(); }
  // What the column has been read as so far, for the log:
  // "column 'ts': epoch seconds (auto)", "column 'ts': epoch milliseconds
  // (--timestamp-unit ms)", "column 'ts': date-times".
  std::string Describe() const;
  std::int64_t bad_cells() const { return bad_cells_; }

 private:
  TimestampColumnReader(const TimestampColumnOptions& options, TimeZone zone);
  Result<std::int64_t> LocalToUtc(std::int64_t local_ns) const;

  TimestampColumnOptions options_;
  TimeZone zone_;
  EpochColumnDecoder decoder_;
  std::string name_;
  bool saw_numbers_ = false;
  bool saw_text_times_ = false;
  std::int64_t bad_cells_ = 0;
  // Per batch, reused: epoch numbers waiting for the unit decision.
  std::vector<double> pending_values_;
  std::vector<std::int64_t> pending_rows_;
};

}  // namespace mh::csv

#endif  // MH_CSV_TIMESTAMP_COLUMN_H_
