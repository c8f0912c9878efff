#include "app/feature_table.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/memory.h"
#include "core/strings.h"
#include "csv/timestamp_column.h"
#include "parquet/parquet_reader.h"
#include "replay/table_file.h"

namespace mh::app {
namespace {

bool NumericKind(ValueKind k) {
  return k == ValueKind::kInt || k == ValueKind::kDouble || k == ValueKind::kString;
}

// Batches of fewer rows append their key columns on the reading thread.
constexpr std::size_t kMinParallelRows = 16384;

// Key columns that are names, never numbers, whatever their cells look like.
bool TextKey(const std::string& name) { return name == "machine_id" || name == "sensor_id"; }

// Moves the rows of `src` (same kind, `rows` rows) to the end of `dst`;
// `src` is left for the reader to reset. A `dst` reserved for the rows (the
// Parquet row count) keeps the reader's buffers with the reader, for its next
// batches (no fresh memory per batch); else the first batch takes them.
template <typename T>
void MoveAppend(std::vector<T>& src, std::size_t rows, std::vector<T>* dst) {
  if (dst->empty() && dst->capacity() < rows) {
    dst->swap(src);
    dst->resize(rows);
    return;
  }
  dst->insert(dst->end(), std::make_move_iterator(src.begin()),
              std::make_move_iterator(src.begin() + static_cast<std::ptrdiff_t>(rows)));
}

void AppendRows(TableColumn& src, std::size_t rows, TableColumn* dst) {
  MoveAppend(src.valid, rows, &dst->valid);
  switch (src.info.kind) {
    case ValueKind::kDouble:
      MoveAppend(src.doubles, rows, &dst->doubles);
      break;
    case ValueKind::kString:
    case ValueKind::kBinary:
    case ValueKind::kDecimal:
      MoveAppend(src.strings, rows, &dst->strings);
      break;
    default:
      MoveAppend(src.ints, rows, &dst->ints);
      break;
  }
}

// Whether each column of the first batch of `reader` holds numbers, into
// `numeric` (by column name): a numeric kind with a value, or text that is
// all numbers or looks numeric (mh::LooksNumericText).
Status SampleNumeric(TableReader& reader, std::vector<std::pair<std::string, bool>>* numeric,
                     std::size_t* rows) {
  TableBatch batch;
  MH_RETURN_IF_ERROR(reader.Next(&batch).status());
  *rows = batch.rows;
  for (const TableColumn& c : batch.columns) {
    bool any = false;
    for (std::size_t r = 0; r < batch.rows && !any; ++r) any = c.valid[r] != 0;
    bool numeric_column =
        any && (c.info.kind == ValueKind::kInt || c.info.kind == ValueKind::kDouble);
    if (c.info.kind == ValueKind::kString) {
      const NumberCells n = CountNumberCells(c, batch.rows);
      numeric_column = n.numbers > 0 && (n.others == 0 || LooksNumericText(n.numbers, n.others));
    }
    numeric->emplace_back(c.info.name, numeric_column);
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<std::string>> ParseFeatureList(const std::string& text) {
  std::vector<std::string> names;
  for (const std::string& raw : Split(text, ',')) {
    std::string name(TrimSpace(raw));
    if (name.empty())
      return Status::InvalidArgument("--features: empty column name in '" + text + "'");
    for (const std::string& seen : names) {
      if (seen == name) {
        return Status::InvalidArgument("--features: '" + name + "' is listed twice");
      }
    }
    names.push_back(std::move(name));
  }
  return names;
}

Result<FeatureTableFile> FeatureTableFile::Open(const std::string& path_or_url) {
  FeatureTableFile f;
  f.path_ = path_or_url;
  f.is_url_ = replay::IsHttpUrl(path_or_url);
  f.name_ = f.is_url_ ? replay::RedactUrl(path_or_url) : path_or_url;
  replay::TableFileOptions options;
  if (f.is_url_) {
    MH_ASSIGN_OR_RETURN(f.body_, replay::FetchUrl(path_or_url, options));
  }
  f.parquet_ =
      f.is_url_ ? replay::IsParquetBytes(f.body_, f.name_) : replay::IsParquetFile(f.path_);
  std::vector<std::pair<std::string, bool>> numeric;
  if (f.parquet_) {
    // The footer gives exact kinds: only text columns are sampled, and no
    // page is read when there are none.
    std::unique_ptr<TableReader> reader;
    MH_ASSIGN_OR_RETURN(reader, f.OpenParquet({}, 1));
    f.columns_ = reader->columns();
    Result<parquet::ParquetFileInfo> info =
        f.is_url_ ? parquet::ReadParquetInfoFromBuffer(f.body_, f.name_)
                  : parquet::ReadParquetInfo(f.path_);
    if (!info.ok()) return info.status();
    f.empty_ = info->num_rows == 0;
    f.rows_hint_ = static_cast<std::size_t>(std::max<std::int64_t>(0, info->num_rows));
    std::vector<std::string> text;
    for (const TableColumnInfo& c : f.columns_) {
      if (c.kind == ValueKind::kString) {
        // Keys are never features: not sampled.
        if (!IsKeyColumn(c.name)) text.push_back(c.name);
      } else {
        numeric.emplace_back(c.name, c.kind == ValueKind::kInt || c.kind == ValueKind::kDouble);
      }
    }
    if (!text.empty() && !f.empty_) {
      MH_ASSIGN_OR_RETURN(reader, f.OpenParquet(text, kFeatureSampleRows));
      std::size_t rows = 0;
      MH_RETURN_IF_ERROR(SampleNumeric(*reader, &numeric, &rows));
    }
  } else {
    // One batch of exactly the inference sample: every cell in it fits its
    // inferred kind, so this pass cannot fail on a cell further down (Read
    // gives the columns their kinds).
    options.csv.infer_rows = kFeatureSampleRows;
    options.csv.batch_rows = kFeatureSampleRows;
    options.csv.combine_date_time = false;  // the columns are the file's own
    std::unique_ptr<TableReader> reader;
    if (f.is_url_) {
      MH_ASSIGN_OR_RETURN(reader, replay::OpenTableBytes(f.body_, f.name_, options));
    } else {
      MH_ASSIGN_OR_RETURN(reader, replay::OpenTableFile(path_or_url, options));
    }
    f.columns_ = reader->columns();
    std::size_t rows = 0;
    MH_RETURN_IF_ERROR(SampleNumeric(*reader, &numeric, &rows));
    f.empty_ = rows == 0;
  }
  f.numeric_.assign(f.columns_.size(), false);
  for (std::size_t i = 0; i < f.columns_.size(); ++i) {
    for (const auto& [name, yes] : numeric) {
      if (name == f.columns_[i].name && yes) f.numeric_[i] = true;
    }
  }
  return f;
}

Result<std::unique_ptr<TableReader>> FeatureTableFile::OpenParquet(
    const std::vector<std::string>& columns, std::size_t batch_rows, int threads) const {
  parquet::ParquetReadOptions options;
  options.threads = threads;
  options.columns = columns;
  options.batch_rows = batch_rows;
  options.source_name = name_;
  if (is_url_) return parquet::OpenParquetTableFromBuffer(body_, options);
  return parquet::OpenParquetTable(path_, options);
}

std::ptrdiff_t FeatureTableFile::Find(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

Result<std::unique_ptr<TableReader>> FeatureTableFile::Reopen(
    const std::vector<std::string>& features, const std::vector<std::string>& keys, int threads,
    std::size_t batch_rows) const {
  if (parquet_) {
    // Only the columns asked for are read (each once).
    std::vector<std::string> wanted;
    for (const std::vector<std::string>* list : {&features, &keys}) {
      for (const std::string& name : *list) {
        bool seen = false;
        for (const std::string& w : wanted) seen = seen || w == name;
        if (!seen) wanted.push_back(name);
      }
    }
    MH_ASSIGN_OR_RETURN(auto reader, OpenParquet(wanted, batch_rows, threads));
    return reader;
  }
  replay::TableFileOptions options;
  // CSV (Parquet ignores these): features are numbers (a bad cell is the
  // reader's error naming line and column); key columns keep the kinds
  // inferred by Open (names stay text); every other column is text, so that
  // unused columns cannot fail.
  for (const TableColumnInfo& c : columns_) {
    ValueKind kind = ValueKind::kString;
    for (const std::string& f : features) {
      if (f == c.name) kind = ValueKind::kDouble;
    }
    for (const std::string& k : keys) {
      if (k == c.name && !TextKey(k)) kind = c.kind;
    }
    options.csv.column_types.emplace_back(c.name, kind);
  }
  options.csv.combine_date_time = false;
  options.csv.batch_rows = batch_rows;
  options.batch_rows = batch_rows;
  if (is_url_) return replay::OpenTableBytes(body_, name_, options);
  return replay::OpenTableFile(path_, options);
}

// The state of FeatureTableFile::Stream: the reader, the columns' places in
// its batches, the timestamp rule and the buffers reused from batch to batch.
struct FeatureTableStream::State {
  std::string name;  // for messages
  std::vector<std::string> features;
  std::unique_ptr<TableReader> reader;
  std::vector<std::size_t> feature_col, key_col;
  std::vector<TableColumnInfo> key_infos;  // as appended (a timestamp key kTimestamp)
  std::ptrdiff_t ts_key = -1;
  std::optional<csv::TimestampColumnReader> ts_reader;
  bool parallel = false;
  TableBatch batch;
  std::vector<std::int64_t> ts_ns;
  std::vector<std::uint8_t> ts_valid;
  std::vector<const double*> column_ptrs;
};

FeatureTableStream::FeatureTableStream(std::unique_ptr<State> state) : state_(std::move(state)) {}
FeatureTableStream::FeatureTableStream(FeatureTableStream&&) noexcept = default;
FeatureTableStream& FeatureTableStream::operator=(FeatureTableStream&&) noexcept = default;
FeatureTableStream::~FeatureTableStream() = default;

void FeatureTableStream::StartChunk(FeatureChunk* chunk) const {
  chunk->x.rows = 0;
  chunk->x.cols = state_->features.size();
  chunk->x.data.clear();
  chunk->first_row = state_->batch.first_row + static_cast<std::int64_t>(state_->batch.rows);
  chunk->keys.Reset(0, state_->key_infos);
}

std::string FeatureTableStream::timestamp_rule() const {
  return state_->ts_reader ? state_->ts_reader->Describe() : std::string();
}

Result<std::size_t> FeatureTableStream::Next(FeatureChunk* chunk) {
  State& st = *state_;
  TableBatch& batch = st.batch;
  const std::vector<std::string>& features = st.features;
  const std::size_t d = features.size();
  const auto t0 = std::chrono::steady_clock::now();
  MH_RETURN_IF_ERROR(st.reader->Next(&batch).status());
  reader_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (batch.rows == 0) return std::size_t{0};
  // The key columns (moves, timestamp conversion) are appended on a thread
  // of their own while the features fill the matrix, for large batches
  // (the thread is joined before the next batch, and on every return).
  auto append_keys = [&]() -> Status {
    for (std::size_t k = 0; k < st.key_col.size(); ++k) {
      TableColumn& src = batch.columns[st.key_col[k]];
      if (static_cast<std::ptrdiff_t>(k) == st.ts_key) {
        MH_RETURN_IF_ERROR(st.ts_reader->Convert(src, batch.first_row, &st.ts_ns, &st.ts_valid));
        TableColumn converted;
        converted.info = chunk->keys.columns[k].info;
        converted.valid.swap(st.ts_valid);
        converted.ints.swap(st.ts_ns);
        AppendRows(converted, batch.rows, &chunk->keys.columns[k]);
        st.ts_valid.swap(converted.valid);
        st.ts_ns.swap(converted.ints);
        continue;
      }
      AppendRows(src, batch.rows, &chunk->keys.columns[k]);
    }
    return Status::OK();
  };
  Status keys_status = Status::OK();
  std::jthread keys_thread;
  if (st.parallel && !st.key_col.empty() && batch.rows >= kMinParallelRows) {
    keys_thread = std::jthread([&] { keys_status = append_keys(); });
  }
  const std::size_t base = chunk->x.data.size();
  chunk->x.data.resize(base + batch.rows * d);
  double* const out = chunk->x.data.data() + base;
  // The common case, every feature a double column without nulls: rows
  // written whole (sequential stores), one finiteness check per batch.
  bool fast = true;
  std::vector<const double*>& cols_in = st.column_ptrs;
  cols_in.assign(d, nullptr);
  for (std::size_t j = 0; j < d && fast; ++j) {
    const TableColumn& c = batch.columns[st.feature_col[j]];
    fast = c.info.kind == ValueKind::kDouble;
    for (std::size_t r = 0; fast && r < batch.rows; ++r) fast = c.valid[r] != 0;
    cols_in[j] = c.doubles.data();
  }
  if (fast) {
    bool finite = true;
    for (std::size_t r = 0; r < batch.rows; ++r) {
      double* row = out + r * d;
      for (std::size_t j = 0; j < d; ++j) {
        const double v = cols_in[j][r];
        row[j] = v;
        finite &= std::isfinite(v);
      }
    }
    fast = finite;  // else the column loop below names the bad cell
  }
  for (std::size_t j = 0; j < d && !fast; ++j) {
    const TableColumn& c = batch.columns[st.feature_col[j]];
    auto where = [&](std::size_t r) {
      return st.name + ": row " +
             std::to_string(batch.first_row + static_cast<std::int64_t>(r) + 1) + ", column '" +
             features[j] + "'";
    };
    // Column at a time: the reader's vectors are read straight into the
    // row-major matrix; errors are looked for only after a cheap check.
    bool all_valid = true;
    for (std::size_t r = 0; r < batch.rows; ++r) all_valid &= c.valid[r] != 0;
    if (!all_valid) {
      for (std::size_t r = 0; r < batch.rows; ++r) {
        if (!c.valid[r]) return Status::Corruption(where(r) + ": missing value");
      }
    }
    switch (c.info.kind) {
      case ValueKind::kDouble: {
        const double* v = c.doubles.data();
        bool finite = true;
        for (std::size_t r = 0; r < batch.rows; ++r) {
          out[r * d + j] = v[r];
          finite &= std::isfinite(v[r]);
        }
        if (!finite) {
          for (std::size_t r = 0; r < batch.rows; ++r) {
            if (!std::isfinite(v[r])) {
              return Status::Corruption(where(r) + ": not finite (" + FormatDouble(v[r]) + ")");
            }
          }
        }
        break;
      }
      case ValueKind::kInt:
        for (std::size_t r = 0; r < batch.rows; ++r) {
          out[r * d + j] = static_cast<double>(c.ints[r]);
        }
        break;
      default:  // kString (Parquet text, checked above)
        for (std::size_t r = 0; r < batch.rows; ++r) {
          Result<double> parsed = ParseDouble(TrimSpace(c.strings[r]));
          if (!parsed.ok()) {
            return Status::Corruption(where(r) + ": not a number: '" + c.strings[r] + "'");
          }
          if (!std::isfinite(*parsed)) {
            return Status::Corruption(where(r) + ": not finite (" + FormatDouble(*parsed) + ")");
          }
          out[r * d + j] = *parsed;
        }
    }
  }
  // Key errors come after feature errors, as when done in order.
  if (keys_thread.joinable()) {
    keys_thread.join();
  } else {
    keys_status = append_keys();
  }
  MH_RETURN_IF_ERROR(keys_status);
  chunk->x.rows += batch.rows;
  chunk->keys.rows += batch.rows;
  return batch.rows;
}

Result<FeatureTableStream> FeatureTableFile::Stream(const std::vector<std::string>& features,
                                                    const std::vector<std::string>& keys,
                                                    int threads, std::size_t batch_rows) const {
  for (const std::vector<std::string>* list : {&features, &keys}) {
    for (const std::string& name : *list) {
      if (Find(name) < 0) {
        return Status::InvalidArgument(name_ + ": no column '" + name + "'");
      }
    }
  }
  for (const std::string& name : features) {
    std::size_t count = 0;
    for (const TableColumnInfo& c : columns_) count += c.name == name;
    if (count > 1) return Status::Corruption(name_ + ": column '" + name + "' appears twice");
  }
  auto st = std::make_unique<FeatureTableStream::State>();
  st->name = name_;
  st->features = features;
  MH_ASSIGN_OR_RETURN(st->reader, Reopen(features, keys, threads, batch_rows));
  const std::vector<TableColumnInfo>& cols = st->reader->columns();
  auto index = [&](const std::string& name) -> Result<std::size_t> {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (cols[i].name == name) return i;
    }
    return Status::Corruption(name_ + ": column '" + name + "' disappeared on reopening");
  };
  for (const std::string& name : features) {
    MH_ASSIGN_OR_RETURN(const std::size_t i, index(name));
    if (!NumericKind(cols[i].kind)) {
      return Status::Corruption(name_ + ": column '" + name + "' holds " +
                                ValueKindName(cols[i].kind) + " values, not numbers");
    }
    st->feature_col.push_back(i);
  }
  for (const std::string& name : keys) {
    MH_ASSIGN_OR_RETURN(const std::size_t i, index(name));
    st->key_col.push_back(i);
    st->key_infos.push_back(cols[i]);
  }
  // The `timestamp` key is read by the one timestamp rule
  // (csv/timestamp_column.h): date-times as they are, epoch numbers in the
  // unit their values fit, ISO text parsed; it becomes a kTimestamp column.
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (keys[k] != "timestamp") continue;
    st->ts_key = static_cast<std::ptrdiff_t>(k);
    csv::TimestampColumnOptions ts_options;
    ts_options.source = name_;
    MH_ASSIGN_OR_RETURN(auto made, csv::TimestampColumnReader::Make(ts_options));
    st->ts_reader.emplace(std::move(made));
    st->key_infos[k].kind = ValueKind::kTimestamp;
    st->key_infos[k].fraction_digits = 9;
  }
  // A column read as a feature and as a key (--features window_start) is
  // moved by the key append: then keys wait for the features.
  st->parallel = threads > 1 || (threads == 0 && std::thread::hardware_concurrency() > 1);
  for (const std::size_t k : st->key_col) {
    for (const std::size_t f : st->feature_col) st->parallel = st->parallel && k != f;
  }
  return FeatureTableStream(std::move(st));
}

void SetTimestampDigits(TableBatch* keys) {
  for (TableColumn& c : keys->columns) {
    if (c.info.kind != ValueKind::kTimestamp) continue;
    int digits = 3;
    for (std::size_t r = 0; r < c.ints.size() && digits < 9; ++r) {
      if (!c.valid[r]) continue;
      if (c.ints[r] % 1000 != 0) {
        digits = 9;
      } else if (c.ints[r] % 1000000 != 0) {
        digits = 6;
      }
    }
    c.info.fraction_digits = digits;
  }
}

Result<FeatureTable> FeatureTableFile::Read(const std::vector<std::string>& features,
                                            const std::vector<std::string>& keys,
                                            int threads) const {
  MH_ASSIGN_OR_RETURN(FeatureTableStream stream, Stream(features, keys, threads));
  FeatureChunk chunk;
  stream.StartChunk(&chunk);
  // Parquet says how many rows come: no reallocation while reading.
  chunk.x.data.reserve(rows_hint_ * features.size());
  AdviseHugePages(chunk.x.data.data(), chunk.x.data.capacity() * sizeof(double));
  for (TableColumn& c : chunk.keys.columns) {
    c.valid.reserve(rows_hint_);
    switch (c.info.kind) {
      case ValueKind::kDouble:
        c.doubles.reserve(rows_hint_);
        break;
      case ValueKind::kString:
      case ValueKind::kBinary:
      case ValueKind::kDecimal:
        c.strings.reserve(rows_hint_);
        AdviseHugePages(c.strings.data(), c.strings.capacity() * sizeof(std::string));
        break;
      default:
        c.ints.reserve(rows_hint_);
        break;
    }
  }
  while (true) {
    MH_ASSIGN_OR_RETURN(const std::size_t rows, stream.Next(&chunk));
    if (rows == 0) break;
  }
  FeatureTable table;
  table.x = std::move(chunk.x);
  table.keys = std::move(chunk.keys);
  // Timestamps print with the digits their values need (3, 6 or 9), not the
  // reader's nanoseconds: "00:00:00.250Z" stays so.
  SetTimestampDigits(&table.keys);
  table.reader_seconds = stream.reader_seconds();
  table.timestamp_rule = stream.timestamp_rule();
  return table;
}

}  // namespace mh::app
