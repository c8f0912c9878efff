#include "parquet/parquet_writer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <unordered_map>

#include <unistd.h>

#include "core/file_util.h"
#include "parquet/internal/codec.h"
#include "parquet/internal/encoding.h"
#include "parquet/internal/format.h"

namespace mh::parquet {

using namespace internal;  // NOLINT(build/namespaces): this file implements internal

namespace {

void PutU32(std::uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutI64(std::int64_t v, std::string* out) {
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}
void PutDouble(double d, std::string* out) {
  std::uint64_t u;
  std::memcpy(&u, &d, 8);
  PutI64(static_cast<std::int64_t>(u), out);
}

// One column's values for the current row group.
struct ColumnBuffer {
  TableColumnInfo info;
  std::vector<std::uint8_t> valid;
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  void Clear() {
    valid.clear();
    ints.clear();
    doubles.clear();
    strings.clear();
  }
};

}  // namespace

class ParquetWriter::Impl {
 public:
  Impl(std::string path, std::vector<TableColumnInfo> schema, ParquetWriteOptions options)
      : path_(std::move(path)), options_(std::move(options)) {
    for (auto& c : schema) {
      ColumnBuffer b;
      b.info = c;
      columns_.push_back(std::move(b));
    }
    tmp_path_ = path_ + ".tmp-" + std::to_string(::getpid());
  }
  ~Impl() {
    if (file_ != nullptr) std::fclose(file_);
    if (!closed_) std::remove(tmp_path_.c_str());
  }

  Status Open() {
    file_ = std::fopen(tmp_path_.c_str(), "wb");
    if (file_ == nullptr) {
      return Status::IOError(tmp_path_ + ": cannot create: " + std::strerror(errno));
    }
    return Append("PAR1");
  }

  Status Write(const TableBatch& batch) {
    if (closed_ || file_ == nullptr) return Status::InvalidArgument(path_ + ": writer is closed");
    if (batch.columns.size() != columns_.size()) {
      return Status::InvalidArgument(path_ + ": batch has " + std::to_string(batch.columns.size()) +
                                     " columns, schema has " + std::to_string(columns_.size()));
    }
    for (std::size_t j = 0; j < columns_.size(); ++j) {
      const TableColumn& c = batch.columns[j];
      const TableColumnInfo& s = columns_[j].info;
      if (c.info.name != s.name || c.info.kind != s.kind) {
        return Status::InvalidArgument(path_ + ": batch column " + std::to_string(j) + " ('" +
                                       c.info.name + "') does not match schema column '" + s.name +
                                       "'");
      }
      std::size_t need = batch.rows;
      bool ok = c.valid.size() == need;
      switch (s.kind) {
        case ValueKind::kDouble:
          ok = ok && c.doubles.size() == need;
          break;
        case ValueKind::kString:
          ok = ok && c.strings.size() == need;
          break;
        default:
          ok = ok && c.ints.size() == need;
      }
      if (!ok) {
        return Status::InvalidArgument(path_ + ": column '" + s.name + "' holds fewer than " +
                                       std::to_string(need) + " values");
      }
      if (s.kind == ValueKind::kTimestamp && s.fraction_digits == 6) {
        for (std::size_t i = 0; i < need; ++i) {
          if (c.valid[i] && c.ints[i] % 1000 != 0) {
            return Status::InvalidArgument(
                path_ + ": column '" + s.name + "' row " + std::to_string(rows_written_ + i) +
                ": timestamp has nanoseconds but the column is written in microseconds");
          }
        }
      }
    }
    std::size_t done = 0;
    while (done < batch.rows) {
      std::size_t room = options_.row_group_rows - buffered_rows_;
      std::size_t k = std::min(room, batch.rows - done);
      for (std::size_t j = 0; j < columns_.size(); ++j) {
        const TableColumn& c = batch.columns[j];
        ColumnBuffer& b = columns_[j];
        b.valid.insert(b.valid.end(), c.valid.begin() + done, c.valid.begin() + done + k);
        switch (b.info.kind) {
          case ValueKind::kDouble:
            b.doubles.insert(b.doubles.end(), c.doubles.begin() + done,
                             c.doubles.begin() + done + k);
            break;
          case ValueKind::kString:
            b.strings.insert(b.strings.end(), c.strings.begin() + done,
                             c.strings.begin() + done + k);
            break;
          default:
            b.ints.insert(b.ints.end(), c.ints.begin() + done, c.ints.begin() + done + k);
        }
      }
      buffered_rows_ += k;
      done += k;
      rows_written_ += static_cast<std::int64_t>(k);
      if (buffered_rows_ == options_.row_group_rows) MH_RETURN_IF_ERROR(FlushRowGroup());
    }
    return Status::OK();
  }

  Status Close() {
    if (closed_ || file_ == nullptr) return Status::InvalidArgument(path_ + ": writer is closed");
    if (buffered_rows_ > 0) MH_RETURN_IF_ERROR(FlushRowGroup());
    FileMetaData meta;
    meta.version = 1;
    meta.num_rows = rows_written_;
    meta.created_by = options_.created_by;
    SchemaElement root;
    root.name = "schema";
    root.num_children = static_cast<std::int32_t>(columns_.size());
    meta.schema.push_back(root);
    for (const ColumnBuffer& b : columns_) meta.schema.push_back(SchemaFor(b.info));
    meta.row_groups = std::move(row_groups_);
    std::string footer;
    SerializeFileMetaData(meta, &footer);
    MH_RETURN_IF_ERROR(Append(footer));
    std::string tail;
    PutU32(static_cast<std::uint32_t>(footer.size()), &tail);
    tail += "PAR1";
    MH_RETURN_IF_ERROR(Append(tail));
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
      return Status::IOError(tmp_path_ + ": flush failed: " + std::strerror(errno));
    }
    int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) return Status::IOError(tmp_path_ + ": close failed: " + std::strerror(errno));
    if (!ReplaceFile(tmp_path_, path_)) {
      return Status::IOError(path_ + ": rename from " + tmp_path_ +
                             " failed: " + std::strerror(errno));
    }
    closed_ = true;
    return Status::OK();
  }

 private:
  SchemaElement SchemaFor(const TableColumnInfo& c) const {
    SchemaElement e;
    e.name = c.name;
    e.has_type = true;
    e.has_repetition = true;
    e.repetition = kOptional;
    switch (c.kind) {
      case ValueKind::kDouble:
        e.type = kDouble;
        break;
      case ValueKind::kInt:
        e.type = kInt64;
        break;
      case ValueKind::kBool:
        e.type = kBoolean;
        break;
      case ValueKind::kString:
        e.type = kByteArray;
        e.has_converted_type = true;
        e.converted_type = kCtUtf8;
        e.logical.kind = kLtString;
        break;
      case ValueKind::kTimestamp:
        e.type = kInt64;
        e.logical.kind = kLtTimestamp;
        e.logical.utc = options_.timestamps_adjusted_to_utc;
        e.logical.unit = c.fraction_digits == 6 ? kMicros : kNanos;
        if (c.fraction_digits == 6 && options_.timestamps_adjusted_to_utc) {
          e.has_converted_type = true;
          e.converted_type = kCtTimestampMicros;
        }
        break;
      default:
        break;
    }
    return e;
  }

  Status Append(const std::string& bytes) {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return Status::IOError(tmp_path_ + ": write failed: " + std::strerror(errno));
    }
    offset_ += static_cast<std::int64_t>(bytes.size());
    return Status::OK();
  }

  // Writes one page (header + compressed body); returns sizes for metadata.
  Status WritePage(PageHeader h, const std::string& body, std::int64_t* uncompressed_total,
                   std::int64_t* compressed_total) {
    std::string compressed;
    MH_RETURN_IF_ERROR(Compress(static_cast<std::int32_t>(options_.codec), body, &compressed));
    h.uncompressed_page_size = static_cast<std::int32_t>(body.size());
    h.compressed_page_size = static_cast<std::int32_t>(compressed.size());
    if (options_.page_crc) {
      h.has_crc = true;
      h.crc = Crc32(reinterpret_cast<const std::uint8_t*>(compressed.data()), compressed.size());
    }
    std::string header;
    SerializePageHeader(h, &header);
    MH_RETURN_IF_ERROR(Append(header));
    MH_RETURN_IF_ERROR(Append(compressed));
    *uncompressed_total += static_cast<std::int64_t>(header.size() + body.size());
    *compressed_total += static_cast<std::int64_t>(header.size() + compressed.size());
    return Status::OK();
  }

  std::int64_t StoredInt(const ColumnBuffer& b, std::size_t i) const {
    std::int64_t v = b.ints[i];
    if (b.info.kind == ValueKind::kTimestamp && b.info.fraction_digits == 6) v /= 1000;
    return v;
  }

  Status WriteColumn(const ColumnBuffer& b, ColumnChunk* chunk) {
    ColumnMetaData& m = chunk->meta_data;
    chunk->has_meta_data = true;
    SchemaElement e = SchemaFor(b.info);
    m.type = e.type;
    m.path = {b.info.name};
    m.codec = static_cast<std::int32_t>(options_.codec);
    std::size_t rows = b.valid.size();
    m.num_values = static_cast<std::int64_t>(rows);
    // Statistics.
    Statistics& st = m.statistics;
    m.has_statistics = true;
    st.has_null_count = true;
    std::int64_t nulls = 0;
    for (std::uint8_t v : b.valid) nulls += v ? 0 : 1;
    st.null_count = nulls;
    // Dictionary for strings.
    bool use_dict = false;
    std::vector<std::string> dict;
    std::vector<std::uint32_t> indices;
    if (b.info.kind == ValueKind::kString) {
      const std::string* mn = nullptr;
      const std::string* mx = nullptr;
      std::unordered_map<std::string, std::uint32_t> ids;
      use_dict = options_.dictionary;
      for (std::size_t i = 0; i < rows; ++i) {
        if (!b.valid[i]) continue;
        const std::string& s = b.strings[i];
        if (mn == nullptr || s < *mn) mn = &s;
        if (mx == nullptr || s > *mx) mx = &s;
        if (!use_dict) continue;
        auto [it, inserted] = ids.emplace(s, static_cast<std::uint32_t>(dict.size()));
        if (inserted) {
          dict.push_back(s);
          if (dict.size() > options_.max_dictionary_entries) use_dict = false;
        }
        indices.push_back(it->second);
      }
      if (mn != nullptr) {
        st.has_min = st.has_max = true;
        st.min = *mn;
        st.max = *mx;
      }
    } else if (b.info.kind == ValueKind::kDouble) {
      bool any = false;
      double mn = 0, mx = 0;
      for (std::size_t i = 0; i < rows; ++i) {
        double v = b.doubles[i];
        if (!b.valid[i] || std::isnan(v)) continue;
        if (!any || v < mn) mn = v;
        if (!any || v > mx) mx = v;
        any = true;
      }
      if (any) {
        if (mn == 0) mn = -0.0;
        if (mx == 0) mx = 0.0;
        st.has_min = st.has_max = true;
        PutDouble(mn, &st.min);
        PutDouble(mx, &st.max);
      }
    } else {
      bool any = false;
      std::int64_t mn = 0, mx = 0;
      for (std::size_t i = 0; i < rows; ++i) {
        if (!b.valid[i]) continue;
        std::int64_t v = StoredInt(b, i);
        if (!any || v < mn) mn = v;
        if (!any || v > mx) mx = v;
        any = true;
      }
      if (any) {
        st.has_min = st.has_max = true;
        if (b.info.kind == ValueKind::kBool) {
          st.min.assign(1, static_cast<char>(mn));
          st.max.assign(1, static_cast<char>(mx));
        } else {
          PutI64(mn, &st.min);
          PutI64(mx, &st.max);
        }
      }
    }
    std::int64_t uncompressed = 0, compressed = 0;
    if (use_dict) {
      std::string body;
      for (const std::string& s : dict) {
        PutU32(static_cast<std::uint32_t>(s.size()), &body);
        body += s;
      }
      PageHeader h;
      h.type = kDictionaryPage;
      h.num_values = static_cast<std::int32_t>(dict.size());
      h.encoding = kPlain;
      m.has_dictionary_page_offset = true;
      m.dictionary_page_offset = offset_;
      MH_RETURN_IF_ERROR(WritePage(h, body, &uncompressed, &compressed));
      m.encodings = {kPlain, kRle, kRleDictionary};
    } else {
      m.encodings = {kPlain, kRle};
    }
    m.data_page_offset = offset_;
    int index_width = BitWidth(dict.empty() ? 0 : dict.size() - 1);
    std::size_t next_index = 0;
    for (std::size_t start = 0; start < rows || (rows == 0 && start == 0);
         start += options_.page_rows) {
      if (rows == 0) break;
      std::size_t end = std::min(rows, start + options_.page_rows);
      std::string body;
      std::vector<std::uint32_t> levels(b.valid.begin() + start, b.valid.begin() + end);
      std::string enc;
      RleEncode(levels, 1, &enc);
      PutU32(static_cast<std::uint32_t>(enc.size()), &body);
      body += enc;
      if (use_dict) {
        std::vector<std::uint32_t> idx;
        for (std::size_t i = start; i < end; ++i) {
          if (b.valid[i]) idx.push_back(indices[next_index++]);
        }
        body.push_back(static_cast<char>(index_width));
        RleEncode(idx, index_width, &body);
      } else {
        switch (b.info.kind) {
          case ValueKind::kDouble:
            for (std::size_t i = start; i < end; ++i) {
              if (b.valid[i]) PutDouble(b.doubles[i], &body);
            }
            break;
          case ValueKind::kString:
            for (std::size_t i = start; i < end; ++i) {
              if (!b.valid[i]) continue;
              PutU32(static_cast<std::uint32_t>(b.strings[i].size()), &body);
              body += b.strings[i];
            }
            break;
          case ValueKind::kBool: {
            std::size_t n = 0;
            std::string bits;
            for (std::size_t i = start; i < end; ++i) {
              if (!b.valid[i]) continue;
              if (n % 8 == 0) bits.push_back(0);
              if (b.ints[i]) bits.back() = static_cast<char>(bits.back() | (1 << (n % 8)));
              ++n;
            }
            body += bits;
            break;
          }
          default:
            for (std::size_t i = start; i < end; ++i) {
              if (b.valid[i]) PutI64(StoredInt(b, i), &body);
            }
        }
      }
      PageHeader h;
      h.type = kDataPage;
      h.num_values = static_cast<std::int32_t>(end - start);
      h.encoding = use_dict ? kRleDictionary : kPlain;
      h.definition_level_encoding = kRle;
      h.repetition_level_encoding = kRle;
      MH_RETURN_IF_ERROR(WritePage(h, body, &uncompressed, &compressed));
    }
    m.total_uncompressed_size = uncompressed;
    m.total_compressed_size = compressed;
    return Status::OK();
  }

  Status FlushRowGroup() {
    RowGroup rg;
    rg.num_rows = static_cast<std::int64_t>(buffered_rows_);
    for (ColumnBuffer& b : columns_) {
      ColumnChunk chunk;
      MH_RETURN_IF_ERROR(WriteColumn(b, &chunk));
      rg.total_byte_size += chunk.meta_data.total_uncompressed_size;
      rg.columns.push_back(std::move(chunk));
      b.Clear();
    }
    row_groups_.push_back(std::move(rg));
    buffered_rows_ = 0;
    return Status::OK();
  }

  std::string path_, tmp_path_;
  ParquetWriteOptions options_;
  std::vector<ColumnBuffer> columns_;
  std::FILE* file_ = nullptr;
  std::int64_t offset_ = 0;
  std::size_t buffered_rows_ = 0;
  std::int64_t rows_written_ = 0;
  std::vector<RowGroup> row_groups_;
  bool closed_ = false;
};

ParquetWriter::ParquetWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ParquetWriter::~ParquetWriter() = default;

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Create(
    const std::string& path, const std::vector<TableColumnInfo>& schema,
    const ParquetWriteOptions& options) {
  if (schema.empty()) return Status::InvalidArgument(path + ": writer: empty schema");
  if (options.row_group_rows == 0 || options.page_rows == 0) {
    return Status::InvalidArgument(path + ": writer: row_group_rows and page_rows must be >= 1");
  }
  if (options.row_group_rows > (std::size_t{1} << 31) || options.page_rows > (1u << 24)) {
    return Status::InvalidArgument(path + ": writer: row_group_rows or page_rows too large");
  }
  std::set<std::string> names;
  for (const TableColumnInfo& c : schema) {
    if (c.name.empty() || !names.insert(c.name).second) {
      return Status::InvalidArgument(path + ": writer: empty or duplicate column name '" + c.name +
                                     "'");
    }
    switch (c.kind) {
      case ValueKind::kDouble:
      case ValueKind::kInt:
      case ValueKind::kString:
      case ValueKind::kBool:
        break;
      case ValueKind::kTimestamp:
        if (c.fraction_digits != 6 && c.fraction_digits != 9) {
          return Status::InvalidArgument(path + ": writer: column '" + c.name +
                                         "': timestamps are written with 6 or 9 fraction digits");
        }
        break;
      default:
        return Status::InvalidArgument(path + ": writer: column '" + c.name +
                                       "': kind not supported by the writer");
    }
  }
  auto impl = std::make_unique<Impl>(path, schema, options);
  MH_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<ParquetWriter>(new ParquetWriter(std::move(impl)));
}

Status ParquetWriter::Write(const TableBatch& batch) { return impl_->Write(batch); }
Status ParquetWriter::Close() { return impl_->Close(); }

}  // namespace mh::parquet
