#include "tableio/table_output.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <string_view>
#include <thread>
#include <utility>

#include "core/file_util.h"
#include "core/strings.h"
#include "parquet/table_text.h"

namespace mh::tableio {
namespace {

// Text output is appended here and handed to the file or stream in chunks of
// about this size, so that a row costs no I/O call.
constexpr std::size_t kFlushBytes = std::size_t{1} << 20;
// Text output renders a batch on several threads only with at least this
// many rows per thread.
constexpr std::size_t kMinRowsPerThread = 16384;

// CSV, TSV and JSON Lines: rows rendered by parquet/table_text.h into one
// buffer, written to "<path>.tmp" (renamed by Close) or to a stream.
class TextOutput : public TableOutput {
 public:
  TextOutput(std::string path, std::vector<TableColumnInfo> schema, TableFormat format,
             const TableOutputOptions& options, std::ostream* stream)
      : TableOutput(std::move(path), std::move(schema)), format_(format), stream_(stream) {
    text_.times_in_ns = options.times_in_ns;
    text_.csv_delimiter = format == TableFormat::kTsv ? '\t' : ',';
    threads_ = options.threads > 0 ? static_cast<std::size_t>(options.threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
    buffer_.reserve(kFlushBytes + 4096);
  }
  ~TextOutput() override {
    if (file_ != nullptr) std::fclose(file_);
    if (!tmp_.empty() && !committed_) std::remove(tmp_.c_str());
  }

  Status Start() {
    if (stream_ == nullptr) {
      tmp_ = path_ + ".tmp";
      file_ = std::fopen(tmp_.c_str(), "wb");
      if (file_ == nullptr) {
        const int e = errno;
        tmp_.clear();
        return Status::IOError(path_ + ".tmp: cannot create: " + std::strerror(e));
      }
    }
    if (format_ == TableFormat::kJsonLines) {
      for (const TableColumnInfo& c : schema_) {
        std::string key;
        AppendJsonString(c.name, &key);
        keys_.push_back(key + ":");
      }
      return Status::OK();
    }
    TableColumn header;
    header.info.kind = ValueKind::kString;
    header.valid.assign(schema_.size(), 1);
    for (const TableColumnInfo& c : schema_) header.strings.push_back(c.name);
    for (std::size_t j = 0; j < schema_.size(); ++j) {
      if (j > 0) buffer_.push_back(text_.csv_delimiter);
      parquet::AppendCsvValue(header, j, text_, &buffer_);
    }
    buffer_.push_back('\n');
    return Status::OK();
  }

  Status Write(const TableBatch& batch) override {
    if (closed_) return Status::Internal(path_ + ": write after close");
    MH_RETURN_IF_ERROR(CheckBatch(batch));
    // Large batches: rows [0, chunk) are rendered here, the next ranges by a
    // thread each into a text of their own, written after in row order.
    const std::size_t parts = std::clamp<std::size_t>(batch.rows / kMinRowsPerThread, 1, threads_);
    const std::size_t chunk = (batch.rows + parts - 1) / parts;
    std::vector<std::vector<std::string>> texts(parts - 1);  // pieces of about kFlushBytes
    std::vector<std::thread> pool;
    pool.reserve(parts - 1);
    for (std::size_t t = 1; t < parts; ++t) {
      pool.emplace_back([this, &batch, &texts, t, chunk] {
        std::vector<std::string>& pieces = texts[t - 1];
        const std::size_t end = std::min(batch.rows, (t + 1) * chunk);
        for (std::size_t r = t * chunk; r < end; ++r) {
          if (pieces.empty() || pieces.back().size() >= kFlushBytes) {
            pieces.emplace_back().reserve(kFlushBytes + 4096);
          }
          AppendRow(batch, r, &pieces.back());
        }
      });
    }
    Status s = Status::OK();
    const std::size_t first_end = std::min(batch.rows, chunk);
    for (std::size_t r = 0; r < first_end && s.ok(); ++r) {
      AppendRow(batch, r, &buffer_);
      if (buffer_.size() >= kFlushBytes) s = Flush();
    }
    for (std::thread& th : pool) th.join();
    if (s.ok()) s = Flush();
    for (const std::vector<std::string>& pieces : texts) {
      for (const std::string& piece : pieces) {
        if (s.ok()) s = WriteBytes(piece);
      }
    }
    return s;
  }

  bool renders_text() const override { return true; }

  Status Render(const TableBatch& batch, std::string* text) const override {
    MH_RETURN_IF_ERROR(CheckBatch(batch));
    for (std::size_t r = 0; r < batch.rows; ++r) AppendRow(batch, r, text);
    return Status::OK();
  }

  Status WriteRendered(std::string_view text) override {
    if (closed_) return Status::Internal(path_ + ": write after close");
    MH_RETURN_IF_ERROR(Flush());  // the header
    return WriteBytes(text);
  }

  Status Close() override {
    if (closed_) return Status::Internal(path_ + ": closed twice");
    closed_ = true;
    MH_RETURN_IF_ERROR(Flush());
    if (stream_ != nullptr) {
      stream_->flush();
      return *stream_ ? Status::OK() : Status::IOError("standard output: write failed");
    }
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok) return Status::IOError(tmp_ + ": write failed: " + std::strerror(errno));
    if (!ReplaceFile(tmp_, path_)) {
      return Status::IOError(path_ + ": cannot rename " + tmp_ + ": " + std::strerror(errno));
    }
    committed_ = true;
    return Status::OK();
  }

 private:
  // Appends row r of `batch` in the output format, with its line end.
  void AppendRow(const TableBatch& batch, std::size_t r, std::string* out) const {
    const std::size_t n = batch.columns.size();
    if (format_ == TableFormat::kJsonLines) {
      out->push_back('{');
      for (std::size_t j = 0; j < n; ++j) {
        if (j > 0) out->push_back(',');
        out->append(keys_[j]);
        parquet::AppendJsonValue(batch.columns[j], r, text_, out);
      }
      out->append("}\n");
    } else {
      for (std::size_t j = 0; j < n; ++j) {
        if (j > 0) out->push_back(text_.csv_delimiter);
        parquet::AppendCsvValue(batch.columns[j], r, text_, out);
      }
      out->push_back('\n');
    }
  }

  Status Flush() {
    Status s = WriteBytes(buffer_);
    buffer_.clear();
    return s;
  }

  // Writes `bytes` to the file or stream.
  Status WriteBytes(std::string_view bytes) {
    if (bytes.empty()) return Status::OK();
    if (stream_ != nullptr) {
      stream_->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      return *stream_ ? Status::OK() : Status::IOError("standard output: write failed");
    }
    const std::size_t wrote = std::fwrite(bytes.data(), 1, bytes.size(), file_);
    if (wrote != bytes.size()) {
      return Status::IOError(tmp_ + ": write failed: " + std::strerror(errno));
    }
    return Status::OK();
  }

  const TableFormat format_;
  std::ostream* const stream_;  // non-null: "-"
  parquet::TextOptions text_;
  std::vector<std::string> keys_;  // JSON Lines: "\"name\":" per column
  std::string buffer_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  std::size_t threads_ = 1;  // see TableOutputOptions::threads
  bool closed_ = false;
  bool committed_ = false;
};

// True for the kinds parquet::ParquetWriter stores as they are.
bool ParquetKeepsKind(ValueKind k) {
  return k == ValueKind::kDouble || k == ValueKind::kInt || k == ValueKind::kString ||
         k == ValueKind::kBool || k == ValueKind::kTimestamp;
}

// The Parquet column of a schema column: timestamps in MICROS when their
// fraction digits fit (ms, us), else NANOS; kinds the writer has no type for
// (date, time, binary, decimal, uint64) as their text.
TableColumnInfo ParquetColumn(TableColumnInfo info) {
  if (info.kind == ValueKind::kTimestamp) {
    info.fraction_digits = info.fraction_digits <= 6 ? 6 : 9;
  } else if (!ParquetKeepsKind(info.kind)) {
    info.kind = ValueKind::kString;
  }
  return info;
}

// Parquet: parquet::ParquetWriter, which owns its temporary file.
class ParquetOutput : public TableOutput {
 public:
  ParquetOutput(std::string path, std::vector<TableColumnInfo> schema,
                std::vector<TableColumnInfo> stored, std::unique_ptr<parquet::ParquetWriter> writer,
                const TableOutputOptions& options)
      : TableOutput(std::move(path), std::move(schema)),
        stored_(std::move(stored)),
        writer_(std::move(writer)) {
    text_.times_in_ns = options.times_in_ns;
    for (std::size_t j = 0; j < schema_.size(); ++j) {
      const ValueKind k = schema_[j].kind;
      const bool time = k == ValueKind::kTimestamp && !options.times_in_ns;
      convert_ = convert_ || time || stored_[j].kind != k;
    }
  }

  Status Write(const TableBatch& batch) override {
    MH_RETURN_IF_ERROR(CheckBatch(batch));
    if (!convert_) return writer_->Write(batch);
    // Columns stored as text, and times kept in their file unit (the writer
    // takes nanoseconds).
    TableBatch copy = batch;
    for (std::size_t j = 0; j < copy.columns.size(); ++j) {
      TableColumn& c = copy.columns[j];
      if (stored_[j].kind == ValueKind::kString && c.info.kind != ValueKind::kString) {
        c.strings.resize(copy.rows);
        for (std::size_t r = 0; r < copy.rows; ++r) {
          if (c.valid[r]) parquet::AppendCsvValue(batch.columns[j], r, text_, &c.strings[r]);
        }
        c.info = stored_[j];
        c.ints.clear();
      } else if (c.info.kind == ValueKind::kTimestamp && !text_.times_in_ns) {
        std::int64_t factor = 1;
        for (int d = c.info.fraction_digits; d < 9; ++d) factor *= 10;
        for (std::int64_t& v : c.ints) v *= factor;
      }
      c.info.fraction_digits = stored_[j].fraction_digits;
    }
    return writer_->Write(copy);
  }
  Status Close() override { return writer_->Close(); }

 private:
  const std::vector<TableColumnInfo> stored_;  // the Parquet file's columns
  std::unique_ptr<parquet::ParquetWriter> writer_;
  parquet::TextOptions text_;
  bool convert_ = false;
};

}  // namespace

const char* TableFormatName(TableFormat format) {
  switch (format) {
    case TableFormat::kCsv:
      return "csv";
    case TableFormat::kTsv:
      return "tsv";
    case TableFormat::kJsonLines:
      return "jsonl";
    case TableFormat::kParquet:
      return "parquet";
  }
  return "unknown";
}

Result<TableFormat> ResolveTableFormat(const std::string& path, const std::string& format) {
  TableFormat f = TableFormat::kCsv;
  if (!format.empty()) {
    const std::string name = AsciiLower(format);
    if (name == "csv") {
      f = TableFormat::kCsv;
    } else if (name == "tsv") {
      f = TableFormat::kTsv;
    } else if (name == "jsonl" || name == "ndjson") {
      f = TableFormat::kJsonLines;
    } else if (name == "parquet") {
      f = TableFormat::kParquet;
    } else {
      return Status::InvalidArgument("--format: expected csv, tsv, jsonl or parquet, got '" +
                                     format + "'");
    }
  } else if (path != "-") {
    const std::string lower = AsciiLower(path);
    if (EndsWith(lower, ".csv")) {
      f = TableFormat::kCsv;
    } else if (EndsWith(lower, ".tsv")) {
      f = TableFormat::kTsv;
    } else if (EndsWith(lower, ".jsonl") || EndsWith(lower, ".ndjson")) {
      f = TableFormat::kJsonLines;
    } else if (EndsWith(lower, ".parquet")) {
      f = TableFormat::kParquet;
    } else {
      return Status::InvalidArgument(
          "--out: cannot tell the format of '" + path +
          "' (expected .csv, .tsv, .jsonl, .ndjson, .parquet, - for csv on standard output, or "
          "--format csv|tsv|jsonl|parquet)");
    }
  }
  if (path == "-" && f == TableFormat::kParquet) {
    return Status::InvalidArgument(
        "--format parquet: cannot write parquet to standard output (give --out FILE.parquet)");
  }
  return f;
}

Status TableOutput::Render(const TableBatch&, std::string*) const {
  return Status::NotSupported(path_ + ": this format is not rendered as text");
}

Status TableOutput::WriteRendered(std::string_view) {
  return Status::NotSupported(path_ + ": this format is not rendered as text");
}

Status TableOutput::CheckBatch(const TableBatch& batch) const {
  if (batch.columns.size() != schema_.size()) {
    return Status::InvalidArgument(path_ + ": batch has " + std::to_string(batch.columns.size()) +
                                   " columns, the output " + std::to_string(schema_.size()));
  }
  for (std::size_t j = 0; j < schema_.size(); ++j) {
    const TableColumn& c = batch.columns[j];
    if (c.info.kind != schema_[j].kind) {
      return Status::InvalidArgument(path_ + ": column '" + schema_[j].name + "' is " +
                                     ValueKindName(schema_[j].kind) + ", the batch's " +
                                     ValueKindName(c.info.kind));
    }
    std::size_t values = 0;
    switch (c.info.kind) {
      case ValueKind::kDouble:
        values = c.doubles.size();
        break;
      case ValueKind::kString:
      case ValueKind::kBinary:
      case ValueKind::kDecimal:
        values = c.strings.size();
        break;
      default:
        values = c.ints.size();
        break;
    }
    if (c.valid.size() != batch.rows || values != batch.rows) {
      return Status::InvalidArgument(path_ + ": column '" + schema_[j].name + "' has " +
                                     std::to_string(values) + " values for " +
                                     std::to_string(batch.rows) + " rows");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<TableOutput>> TableOutput::Open(const std::string& path, TableFormat format,
                                                       const std::vector<TableColumnInfo>& schema,
                                                       std::ostream* standard_output,
                                                       const TableOutputOptions& options) {
  if (schema.empty()) return Status::InvalidArgument(path + ": no columns to write");
  const bool to_stream = path == "-";
  if (to_stream && standard_output == nullptr) {
    return Status::InvalidArgument("-: no standard output stream given");
  }
  if (format == TableFormat::kParquet) {
    if (to_stream) {
      return Status::InvalidArgument("cannot write parquet to standard output");
    }
    std::vector<TableColumnInfo> stored;
    for (const TableColumnInfo& c : schema) stored.push_back(ParquetColumn(c));
    MH_ASSIGN_OR_RETURN(auto writer, parquet::ParquetWriter::Create(path, stored, options.parquet));
    return std::unique_ptr<TableOutput>(
        new ParquetOutput(path, schema, std::move(stored), std::move(writer), options));
  }
  auto out = std::make_unique<TextOutput>(path, schema, format, options,
                                          to_stream ? standard_output : nullptr);
  MH_RETURN_IF_ERROR(out->Start());
  return std::unique_ptr<TableOutput>(std::move(out));
}

Result<std::unique_ptr<TableOutput>> OpenTableOutput(const std::string& path,
                                                     const std::string& format,
                                                     const std::vector<TableColumnInfo>& schema,
                                                     std::ostream* standard_output,
                                                     const TableOutputOptions& options) {
  MH_ASSIGN_OR_RETURN(const TableFormat f, ResolveTableFormat(path, format));
  return TableOutput::Open(path, f, schema, standard_output, options);
}

}  // namespace mh::tableio
