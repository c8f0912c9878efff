#include "replay/sample_rows.h"

#include <cmath>
#include <filesystem>
#include <optional>

#include "core/strings.h"
#include "core/time_util.h"
#include "csv/timestamp_column.h"
#include "replay/input_files.h"
#include "replay/sample_columns.h"
#include "replay/table_file.h"

namespace mh::replay {
namespace {

// The text of a machine_id cell (any kind).
std::string CellText(const TableColumn& col, std::size_t r) {
  switch (col.info.kind) {
    case ValueKind::kString:
    case ValueKind::kDecimal:
    case ValueKind::kBinary:
      return col.strings[r];
    case ValueKind::kTimestamp:
      return FormatRfc3339(col.ints[r], col.info.fraction_digits);
    case ValueKind::kDouble:
      return FormatDouble(col.doubles[r]);
    default:
      return std::to_string(col.ints[r]);
  }
}

// Fraction digits (3, 6 or 9) that print every instant of `ns` (where
// valid) exactly.
int FractionDigits(const std::vector<std::int64_t>& ns, const std::vector<std::uint8_t>& valid) {
  int digits = 3;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    if (!valid[i]) continue;
    if (ns[i] % 1000 != 0) return 9;
    if (ns[i] % 1'000'000 != 0) digits = 6;
  }
  return digits;
}

// The one timestamp rule (csv/timestamp_column.h): typed, ISO 8601 text or
// epoch numbers with the unit chosen per file.
Result<csv::TimestampColumnReader> MakeTimestampReader(const std::string& shown) {
  csv::TimestampColumnOptions to;
  to.source = shown;
  return csv::TimestampColumnReader::Make(to);
}

const char* TimeSourceText(ValueKind k) {
  return k == ValueKind::kTimestamp ? "a timestamp column"
         : k == ValueKind::kTime    ? "hour/minute/second/microsecond columns"
                                    : "no time columns";
}

// The run being collected, handed on when the machine changes, when it is
// full and at the end.
class RunBuffer {
 public:
  RunBuffer(std::size_t channels, bool times, std::size_t max_rows)
      : samples_(channels), spans_(channels), times_(times), max_rows_(max_rows) {}

  bool empty() const { return rows_.empty(); }
  const std::string& machine() const { return machine_; }
  void Start(const std::string& machine) { machine_ = machine; }
  bool full() const { return rows_.size() >= max_rows_; }

  void Push(std::span<const double> row, std::int64_t time_ns, std::uint64_t file_row) {
    for (std::size_t c = 0; c < row.size(); ++c) samples_[c].push_back(row[c]);
    if (times_) time_ns_.push_back(time_ns);
    rows_.push_back(file_row);
  }

  Status Flush(const std::function<Status(const SampleRun&)>& on_run) {
    if (rows_.empty()) return Status::OK();
    for (std::size_t c = 0; c < samples_.size(); ++c) spans_[c] = samples_[c];
    SampleRun run;
    run.machine = machine_;
    run.channels = spans_;
    run.times = time_ns_;
    run.rows = rows_;
    Status s = on_run(run);
    for (auto& c : samples_) c.clear();
    time_ns_.clear();
    rows_.clear();
    return s;
  }

 private:
  std::string machine_;
  std::vector<std::vector<double>> samples_;
  std::vector<std::span<const double>> spans_;
  const bool times_;
  const std::size_t max_rows_;
  std::vector<std::int64_t> time_ns_;
  std::vector<std::uint64_t> rows_;
};

}  // namespace

Status ReadErrorAsData(const Status& s) {
  return s.IsInvalidArgument() ? Status::Corruption(s.message()) : s;
}

Result<SampleRowsLayout> DescribeSampleRows(const std::string& shown,
                                            const std::vector<TableColumnInfo>& cols,
                                            const TableBatch& first) {
  SampleRowsLayout layout;
  layout.machine = FindColumn(cols, "machine_id") >= 0;
  const std::ptrdiff_t ts_col = FindColumn(cols, "timestamp");
  if (ts_col >= 0) {
    const TableColumnInfo& info = cols[static_cast<std::size_t>(ts_col)];
    layout.time_kind = ValueKind::kTimestamp;
    if (info.kind == ValueKind::kTimestamp) {
      layout.fraction_digits = info.fraction_digits;
      return layout;
    }
    MH_ASSIGN_OR_RETURN(csv::TimestampColumnReader reader, MakeTimestampReader(shown));
    std::vector<std::int64_t> ns;
    std::vector<std::uint8_t> valid;
    if (first.rows > 0) {
      Status st = reader.Convert(first.columns[static_cast<std::size_t>(ts_col)], first.first_row,
                                 &ns, &valid);
      if (!st.ok()) return ReadErrorAsData(st);
    }
    layout.fraction_digits = FractionDigits(ns, valid);
    return layout;
  }
  if (!TimeOfDayColumns(cols).empty()) {
    layout.time_kind = ValueKind::kTime;
    layout.fraction_digits = 6;
  }
  return layout;
}

Status ReadSampleRows(TableReader& reader, TableBatch& batch, const std::string& shown,
                      const SampleRowsLayout& layout, const SampleRowsOptions& o,
                      const std::function<Status(const SampleRun&)>& on_run) {
  const std::vector<TableColumnInfo>& cols = reader.columns();
  if (batch.rows == 0) return Status::Corruption(shown + ": no samples after the header");
  MH_ASSIGN_OR_RETURN(const std::vector<std::size_t> channel_col,
                      FindChannelColumns(shown, cols, o.channels, &batch));
  const std::ptrdiff_t ts_col = FindColumn(cols, "timestamp");
  const std::ptrdiff_t machine_col = FindColumn(cols, "machine_id");
  const std::vector<std::size_t> tod_cols =
      ts_col < 0 ? TimeOfDayColumns(cols) : std::vector<std::size_t>{};
  if ((machine_col >= 0) != layout.machine) {
    return Status::Corruption(shown + ": " +
                              (machine_col >= 0 ? "has a machine_id column, the first file not"
                                                : "has no machine_id column, the first file has"));
  }
  const ValueKind time_kind = ts_col >= 0         ? ValueKind::kTimestamp
                              : !tod_cols.empty() ? ValueKind::kTime
                                                  : ValueKind::kInt;
  if (time_kind != layout.time_kind) {
    return Status::Corruption(shown + ": has " + TimeSourceText(time_kind) + ", the first file " +
                              TimeSourceText(layout.time_kind));
  }
  std::optional<csv::TimestampColumnReader> timestamps;
  if (ts_col >= 0) {
    MH_ASSIGN_OR_RETURN(csv::TimestampColumnReader made, MakeTimestampReader(shown));
    timestamps.emplace(std::move(made));
  }
  std::vector<std::int64_t> ts_ns;
  std::vector<std::uint8_t> ts_valid;
  std::vector<double> row_values(o.channels.size());
  std::string machine;
  std::int64_t time_ns = 0;
  RunBuffer run(o.channels.size(), time_kind != ValueKind::kInt, o.max_run_rows);
  // A bad row ends the reading, but the rows before it are handed on first,
  // as if every row were handed on by itself.
  auto fail = [&](const Status& s) {
    Status flushed = run.Flush(on_run);
    return flushed.ok() ? s : flushed;
  };
  // `batch` holds the first rows already.
  for (bool first = true;; first = false) {
    if (!first) {
      auto more = reader.Next(&batch);
      if (!more.ok()) return fail(ReadErrorAsData(more.status()));
    }
    if (batch.rows == 0) break;
    if (timestamps.has_value()) {
      Status st = timestamps->Convert(batch.columns[static_cast<std::size_t>(ts_col)],
                                      batch.first_row, &ts_ns, &ts_valid);
      if (!st.ok()) return fail(ReadErrorAsData(st));
      if (first && o.timestamp_note != nullptr) *o.timestamp_note = timestamps->Describe();
    }
    for (std::size_t r = 0; r < batch.rows; ++r) {
      const auto row_in_file = static_cast<std::uint64_t>(batch.first_row) + r;
      // "<file>: row <n>" for messages; built only on errors (hot loop).
      auto where = [&] { return shown + ": row " + std::to_string(row_in_file + 1); };
      for (std::size_t c = 0; c < channel_col.size(); ++c) {
        const TableColumn& col = batch.columns[channel_col[c]];
        double v = 0;
        if (!SampleCell(col, r, &v)) return fail(SampleCellError(where(), col, r, o.channels[c]));
        if (o.float32) {
          const auto f = static_cast<float>(v);
          if (!std::isfinite(f)) {
            return fail(Status::Corruption(where() + ": column '" + o.channels[c] + "': '" +
                                           FormatDouble(v) +
                                           "' is outside the float32 range (--dtype float32)"));
          }
          v = static_cast<double>(f);
        }
        row_values[c] = v;
      }
      if (machine_col >= 0) {
        const TableColumn& col = batch.columns[static_cast<std::size_t>(machine_col)];
        if (!col.valid[r]) {
          return fail(Status::Corruption(where() + ": column '" + col.info.name + "' is null"));
        }
        machine = CellText(col, r);
      }
      if (timestamps.has_value()) {
        if (!ts_valid[r]) {
          return fail(Status::Corruption(
              where() + ": column '" + cols[static_cast<std::size_t>(ts_col)].name + "' is null"));
        }
        time_ns = ts_ns[r];
      } else if (!tod_cols.empty()) {
        auto tod = TimeOfDayNs(batch, tod_cols, r, shown);
        if (!tod.ok()) return fail(tod.status());
        time_ns = *tod;
      }
      if (!run.empty() && machine != run.machine()) MH_RETURN_IF_ERROR(run.Flush(on_run));
      if (run.empty()) run.Start(machine);
      run.Push(row_values, time_ns, row_in_file);
      if (run.full()) MH_RETURN_IF_ERROR(run.Flush(on_run));
    }
  }
  return run.Flush(on_run);
}

Status CheckFileHoldsWindow(const std::string& file, const std::string& shown, std::size_t columns,
                            std::size_t channels, std::size_t window) {
  // Small windows cost little: the file is read and the exact count reported.
  constexpr std::size_t kSizeCheckedWindow = 65536;
  if (window <= kSizeCheckedWindow) return Status::OK();
  if (IsHttpUrl(file) || IsParquetFile(file)) return Status::OK();
  std::error_code ec;
  const std::uintmax_t bytes = std::filesystem::file_size(file, ec);
  const std::uint64_t per_row = columns + channels;
  if (ec || per_row == 0) return Status::OK();
  const std::uint64_t max_rows = (bytes + 1) / per_row;
  if (max_rows != 0 && max_rows < window) {
    return Status::Corruption(shown + ": at most " + std::to_string(max_rows) +
                              " samples fit in its size, fewer than one window of " +
                              std::to_string(window));
  }
  return Status::OK();
}

}  // namespace mh::replay
