#include "parquet/parquet_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>
#include <thread>

#include "core/strings.h"
#include "parquet/internal/codec.h"
#include "parquet/internal/encoding.h"
#include "parquet/internal/format.h"
#include "parquet/internal/source.h"

namespace mh::parquet {

using namespace internal;  // NOLINT(build/namespaces): this file implements internal

namespace {

constexpr std::int64_t kMaxFooterBytes = std::int64_t{1} << 30;
constexpr std::int64_t kMaxPageBytes = std::int64_t{1} << 28;  // 256 MiB uncompressed
constexpr std::int64_t kMaxPageValues = std::int64_t{1} << 24;
constexpr std::int64_t kJulianEpochDay = 2440588;

// How raw physical values become TableColumn values.
enum class Conv : std::uint8_t {
  kBool,
  kI32,
  kU32,
  kI64,
  kU64,
  kDate,
  kTime32,  // INT32 TIME(MILLIS)
  kTime64,  // INT64 TIME(MICROS|NANOS)
  kTs64,    // INT64 TIMESTAMP(any unit)
  kInt96,
  kFloat,
  kDouble,
  kFloat16,
  kDecimal32,
  kDecimal64,
  kDecimalBytes,
  kString,
  kBinary,
  kUuid,
};

enum class Store : std::uint8_t { kInts, kDoubles, kStrings };

struct ColumnPlan {
  std::string name;
  int leaf = 0;  // index of the column chunk in each row group
  std::int32_t physical = 0;
  std::int32_t type_length = 0;
  bool optional = false;
  Conv conv = Conv::kI64;
  Store store = Store::kInts;
  std::int64_t factor = 1;  // multiply to reach the output unit (time/timestamps)
  std::int32_t scale = 0;   // decimals
  TableColumnInfo info;
};

struct Values {
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  void Clear() {
    ints.clear();
    doubles.clear();
    strings.clear();
  }
  std::size_t Size(Store s) const {
    return s == Store::kInts ? ints.size() : s == Store::kDoubles ? doubles.size() : strings.size();
  }
};

std::int32_t LoadI32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return static_cast<std::int32_t>(v);
}
std::int64_t LoadI64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return static_cast<std::int64_t>(v);
}

double HalfToDouble(std::uint16_t h) {
  int sign = h >> 15;
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);
  } else if (exp == 31) {
    v = mant == 0 ? std::numeric_limits<double>::infinity()
                  : std::numeric_limits<double>::quiet_NaN();
  } else {
    v = std::ldexp(static_cast<double>(mant + 1024), exp - 25);
  }
  return sign ? -v : v;
}

// Exact decimal text of a big-endian two's complement unscaled value.
std::string DecimalText(const std::uint8_t* be, std::size_t len, std::int32_t scale) {
  std::vector<std::uint8_t> mag(be, be + len);
  bool neg = len > 0 && (be[0] & 0x80) != 0;
  if (neg) {
    for (auto& b : mag) b = static_cast<std::uint8_t>(~b);
    for (std::size_t i = mag.size(); i-- > 0;) {
      if (++mag[i] != 0) break;
    }
  }
  std::string digits;
  // Repeated division by 10^9 of the big-endian magnitude.
  std::size_t start = 0;
  while (start < mag.size() && mag[start] == 0) ++start;
  while (start < mag.size()) {
    std::uint64_t rem = 0;
    for (std::size_t i = start; i < mag.size(); ++i) {
      std::uint64_t cur = (rem << 8) | mag[i];
      mag[i] = static_cast<std::uint8_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    while (start < mag.size() && mag[start] == 0) ++start;
    for (int k = 0; k < 9; ++k) {
      digits.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
      if (start >= mag.size() && rem == 0) break;
    }
  }
  if (digits.empty()) digits = "0";
  std::reverse(digits.begin(), digits.end());
  if (scale > 0) {
    if (digits.size() <= static_cast<std::size_t>(scale)) {
      digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(scale), 1, '.');
  }
  bool zero = digits.find_first_not_of("0.") == std::string::npos;
  if (neg && !zero) digits.insert(0, 1, '-');
  return digits;
}

std::string DecimalText64(std::int64_t v, std::int32_t scale) {
  std::uint8_t be[8];
  for (int i = 0; i < 8; ++i)
    be[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
  return DecimalText(be, 8, scale);
}

std::string UuidText(const std::uint8_t* p) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[p[i] >> 4]);
    s.push_back(kHex[p[i] & 15]);
  }
  return s;
}

// Builds the plan of one leaf; NotSupported for types outside the scope.
Status MakePlan(const SchemaElement& e, bool keep_unit, ColumnPlan* p) {
  p->name = e.name;
  p->physical = e.type;
  p->type_length = e.type_length;
  p->optional = e.has_repetition && e.repetition == kOptional;
  auto unsupported = [&](const std::string& what) {
    return Status::NotSupported("column '" + e.name + "': " + what + " on physical type " +
                                PhysicalTypeName(e.type) + " is not supported");
  };
  if (e.type < kBoolean || e.type > kFixedLenByteArray) {
    return Status::Corruption("column '" + e.name + "': invalid physical type " +
                              std::to_string(e.type));
  }
  if (e.type == kFixedLenByteArray && (e.type_length <= 0 || e.type_length > (1 << 20))) {
    return Status::Corruption("column '" + e.name + "': invalid FIXED_LEN_BYTE_ARRAY length " +
                              std::to_string(e.type_length));
  }
  ValueKind& kind = p->info.kind;
  int& digits = p->info.fraction_digits;
  p->info.name = e.name;
  digits = 9;
  auto time_unit = [&](std::int32_t unit) {
    // factor to nanoseconds, or 1 when keeping the file's unit
    digits = unit == kMillis ? 3 : unit == kMicros ? 6 : 9;
    std::int64_t to_ns = unit == kMillis ? 1000000 : unit == kMicros ? 1000 : 1;
    p->factor = keep_unit ? 1 : to_ns;
    if (!keep_unit) digits = digits;  // precision of the source is kept for printers
  };
  // Physical defaults.
  switch (e.type) {
    case kBoolean:
      p->conv = Conv::kBool;
      kind = ValueKind::kBool;
      break;
    case kInt32:
      p->conv = Conv::kI32;
      kind = ValueKind::kInt;
      break;
    case kInt64:
      p->conv = Conv::kI64;
      kind = ValueKind::kInt;
      break;
    case kInt96:
      p->conv = Conv::kInt96;
      kind = ValueKind::kTimestamp;
      digits = keep_unit ? 6 : 9;
      break;
    case kFloat:
      p->conv = Conv::kFloat;
      kind = ValueKind::kDouble;
      break;
    case kDouble:
      p->conv = Conv::kDouble;
      kind = ValueKind::kDouble;
      break;
    default:
      p->conv = Conv::kBinary;
      kind = ValueKind::kBinary;
      break;
  }
  bool is_bytes = e.type == kByteArray || e.type == kFixedLenByteArray;
  // DECIMAL, as a logical or a converted type: on INT32, INT64 or bytes.
  auto decimal = [&](std::int32_t scale) {
    if (scale < 0 || scale > 1000)
      return unsupported("DECIMAL with scale " + std::to_string(scale));
    p->scale = scale;
    kind = ValueKind::kDecimal;
    if (e.type == kInt32) {
      p->conv = Conv::kDecimal32;
    } else if (e.type == kInt64) {
      p->conv = Conv::kDecimal64;
    } else if (is_bytes) {
      p->conv = Conv::kDecimalBytes;
    } else {
      return unsupported("DECIMAL");
    }
    return Status::OK();
  };
  const LogicalType& lt = e.logical;
  bool known_logical =
      lt.kind != kLtNone && lt.kind != kLtNull && (lt.kind <= kLtFloat16 && lt.kind != 9);
  if (known_logical) {
    switch (lt.kind) {
      case kLtString:
      case kLtEnum:
      case kLtJson:
        if (!is_bytes) return unsupported(LogicalTypeName(lt));
        p->conv = Conv::kString;
        kind = ValueKind::kString;
        break;
      case kLtBson:
        if (!is_bytes) return unsupported("BSON");
        break;
      case kLtUuid:
        if (e.type != kFixedLenByteArray || e.type_length != 16) return unsupported("UUID");
        p->conv = Conv::kUuid;
        kind = ValueKind::kString;
        break;
      case kLtFloat16:
        if (e.type != kFixedLenByteArray || e.type_length != 2) return unsupported("FLOAT16");
        p->conv = Conv::kFloat16;
        kind = ValueKind::kDouble;
        break;
      case kLtDecimal:
        MH_RETURN_IF_ERROR(decimal(lt.scale));
        break;
      case kLtDate:
        if (e.type != kInt32) return unsupported("DATE");
        p->conv = Conv::kDate;
        kind = ValueKind::kDate;
        break;
      case kLtTime:
        kind = ValueKind::kTime;
        if (lt.unit == kMillis && e.type == kInt32) {
          p->conv = Conv::kTime32;
        } else if ((lt.unit == kMicros || lt.unit == kNanos) && e.type == kInt64) {
          p->conv = Conv::kTime64;
        } else {
          return unsupported(LogicalTypeName(lt));
        }
        time_unit(lt.unit);
        break;
      case kLtTimestamp:
        if (e.type != kInt64 || lt.unit == kUnitNone) return unsupported(LogicalTypeName(lt));
        p->conv = Conv::kTs64;
        kind = ValueKind::kTimestamp;
        time_unit(lt.unit);
        break;
      case kLtInteger: {
        int w = lt.bit_width;
        bool ok32 = e.type == kInt32 && (w == 8 || w == 16 || w == 32);
        bool ok64 = e.type == kInt64 && w == 64;
        if (!ok32 && !ok64) return unsupported(LogicalTypeName(lt));
        if (ok32) {
          p->conv = lt.is_signed ? Conv::kI32 : Conv::kU32;
          kind = ValueKind::kInt;
        } else {
          p->conv = lt.is_signed ? Conv::kI64 : Conv::kU64;
          kind = lt.is_signed ? ValueKind::kInt : ValueKind::kUInt64;
        }
        break;
      }
      case kLtMap:
      case kLtList:
        return Status::NotSupported("column '" + e.name + "': nested columns (" +
                                    LogicalTypeName(lt) + ") are not supported");
      default:
        break;
    }
  } else if (e.has_converted_type && lt.kind == kLtNone) {
    switch (e.converted_type) {
      case kCtUtf8:
      case kCtEnum:
      case kCtJson:
        if (!is_bytes) return unsupported(ConvertedTypeName(e.converted_type));
        p->conv = Conv::kString;
        kind = ValueKind::kString;
        break;
      case kCtBson:
        if (!is_bytes) return unsupported("BSON");
        break;
      case kCtDecimal:
        MH_RETURN_IF_ERROR(decimal(e.scale));
        break;
      case kCtDate:
        if (e.type != kInt32) return unsupported("DATE");
        p->conv = Conv::kDate;
        kind = ValueKind::kDate;
        break;
      case kCtTimeMillis:
        if (e.type != kInt32) return unsupported("TIME_MILLIS");
        p->conv = Conv::kTime32;
        kind = ValueKind::kTime;
        time_unit(kMillis);
        break;
      case kCtTimeMicros:
        if (e.type != kInt64) return unsupported("TIME_MICROS");
        p->conv = Conv::kTime64;
        kind = ValueKind::kTime;
        time_unit(kMicros);
        break;
      case kCtTimestampMillis:
      case kCtTimestampMicros:
        if (e.type != kInt64) return unsupported(ConvertedTypeName(e.converted_type));
        p->conv = Conv::kTs64;
        kind = ValueKind::kTimestamp;
        time_unit(e.converted_type == kCtTimestampMillis ? kMillis : kMicros);
        break;
      case kCtUint8:
      case kCtUint16:
      case kCtUint32:
      case kCtInt8:
      case kCtInt16:
      case kCtInt32:
        if (e.type != kInt32) return unsupported(ConvertedTypeName(e.converted_type));
        p->conv = e.converted_type <= kCtUint32 ? Conv::kU32 : Conv::kI32;
        kind = ValueKind::kInt;
        break;
      case kCtUint64:
      case kCtInt64:
        if (e.type != kInt64) return unsupported(ConvertedTypeName(e.converted_type));
        p->conv = e.converted_type == kCtUint64 ? Conv::kU64 : Conv::kI64;
        kind = e.converted_type == kCtUint64 ? ValueKind::kUInt64 : ValueKind::kInt;
        break;
      case kCtMap:
      case kCtList:
      case kCtMapKeyValue:
        return Status::NotSupported("column '" + e.name + "': nested columns (" +
                                    ConvertedTypeName(e.converted_type) + ") are not supported");
      case kCtInterval:
        return Status::NotSupported("column '" + e.name + "': INTERVAL is not supported");
      default:
        break;  // unknown converted type: physical default
    }
  }
  p->store =
      (kind == ValueKind::kDouble) ? Store::kDoubles
      : (kind == ValueKind::kString || kind == ValueKind::kBinary || kind == ValueKind::kDecimal)
          ? Store::kStrings
          : Store::kInts;
  return Status::OK();
}

std::size_t FixedWidth(const ColumnPlan& p) {
  switch (p.physical) {
    case kInt32:
    case kFloat:
      return 4;
    case kInt64:
    case kDouble:
      return 8;
    case kInt96:
      return 12;
    case kFixedLenByteArray:
      return static_cast<std::size_t>(p.type_length);
    default:
      return 0;
  }
}

// Reads one column chunk page by page and hands out rows.
class ColumnReader {
 public:
  ColumnReader(ColumnPlan plan, const ParquetReadOptions& options)
      : plan_(std::move(plan)), options_(options) {}

  const ColumnPlan& plan() const { return plan_; }

  // `bytes` is the chunk (a view of the source's memory), or empty when
  // `storage` holds it.
  // The previous chunk's buffer, for the next chunk's bytes to be read into
  // without a new allocation (its pages are already faulted in). The
  // current chunk is gone: StartChunk must follow.
  std::string TakeChunkStorage() {
    chunk_ = {};
    return std::exchange(chunk_storage_, std::string());
  }

  void StartChunk(std::string_view bytes, std::string storage, std::int64_t offset,
                  std::int32_t codec, std::int64_t rows) {
    chunk_storage_ = std::move(storage);
    chunk_ = bytes.empty() ? std::string_view(chunk_storage_) : bytes;
    chunk_offset_ = offset;
    chunk_pos_ = 0;
    codec_ = codec;
    rows_left_in_chunk_ = rows;
    has_dict_ = false;
    dict_.Clear();
    page_rows_ = page_pos_ = value_pos_ = 0;
    page_values_.Clear();
    raw_values_ = nullptr;
  }

  // Appends n rows to *out.
  Status Read(std::size_t n, TableColumn* out) {
    // One allocation per batch at most (none once a reused batch has grown).
    out->valid.reserve(out->valid.size() + n);
    switch (plan_.store) {
      case Store::kInts:
        out->ints.reserve(out->ints.size() + n);
        break;
      case Store::kDoubles:
        out->doubles.reserve(out->doubles.size() + n);
        break;
      case Store::kStrings:
        out->strings.reserve(out->strings.size() + n);
        break;
    }
    while (n > 0) {
      if (page_pos_ == page_rows_) MH_RETURN_IF_ERROR(NextDataPage());
      std::size_t k = std::min(n, page_rows_ - page_pos_);
      if (!plan_.optional) {
        out->valid.insert(out->valid.end(), k, 1);
        AppendValues(value_pos_, k, out);
        value_pos_ += k;
      } else {
        const std::uint8_t* valid = page_valid_.data() + page_pos_;
        out->valid.insert(out->valid.end(), valid, valid + k);
        std::size_t i = 0;
        while (i < k) {
          std::size_t run = i;
          while (run < k && valid[run]) ++run;
          if (run > i) {  // a run of present values: one bulk copy
            AppendValues(value_pos_, run - i, out);
            value_pos_ += run - i;
            i = run;
          }
          while (i < k && !valid[i]) {
            AppendNull(out);
            ++i;
          }
        }
      }
      page_pos_ += k;
      n -= k;
    }
    return Status::OK();
  }

 private:
  // Whether PLAIN values of the column are stored as they are (DOUBLE, and
  // INT64 without conversion): then ReadDataPage keeps them in the page
  // (raw_values_) instead of decoding them into page_values_.
  bool RawPlain() const {
    return (plan_.physical == kDouble && plan_.store == Store::kDoubles) ||
           (plan_.physical == kInt64 && plan_.store == Store::kInts &&
            (plan_.conv == Conv::kI64 || plan_.conv == Conv::kU64));
  }

  void AppendValues(std::size_t from, std::size_t k, TableColumn* out) {
    if (raw_values_ != nullptr) {
      if (plan_.store == Store::kDoubles) {
        const std::size_t old = out->doubles.size();
        out->doubles.resize(old + k);
        std::memcpy(out->doubles.data() + old, raw_values_ + 8 * from, 8 * k);
      } else {
        const std::size_t old = out->ints.size();
        out->ints.resize(old + k);
        std::memcpy(out->ints.data() + old, raw_values_ + 8 * from, 8 * k);
      }
      return;
    }
    switch (plan_.store) {
      case Store::kInts:
        out->ints.insert(out->ints.end(), page_values_.ints.begin() + from,
                         page_values_.ints.begin() + from + k);
        break;
      case Store::kDoubles:
        out->doubles.insert(out->doubles.end(), page_values_.doubles.begin() + from,
                            page_values_.doubles.begin() + from + k);
        break;
      case Store::kStrings:
        for (std::size_t i = from; i < from + k; ++i) {
          out->strings.push_back(std::move(page_values_.strings[i]));
        }
        break;
    }
  }
  void AppendNull(TableColumn* out) {
    switch (plan_.store) {
      case Store::kInts:
        out->ints.push_back(0);
        break;
      case Store::kDoubles:
        out->doubles.push_back(std::numeric_limits<double>::quiet_NaN());
        break;
      case Store::kStrings:
        out->strings.emplace_back();
        break;
    }
  }

  Status PageError(std::int64_t page_offset, const std::string& what) const {
    return Status::Corruption("page at offset " + std::to_string(page_offset) + ": " + what);
  }

  Status CheckRatio(std::int64_t page_offset, std::size_t compressed, std::int64_t uncompressed) {
    std::int64_t ratio = 1;
    switch (codec_) {
      case kSnappy:
        ratio = 32;
        break;
      case kGzip:
        ratio = 1100;
        break;
      case kLz4Raw:
        ratio = 256;
        break;
      case kZstd:
        ratio = 32768;
        break;
      default:
        ratio = 1;
    }
    if (uncompressed > kMaxPageBytes ||
        uncompressed > static_cast<std::int64_t>(compressed) * ratio + 4096) {
      return PageError(page_offset, "uncompressed size " + std::to_string(uncompressed) +
                                        " is implausible for " + std::to_string(compressed) +
                                        " compressed bytes");
    }
    return Status::OK();
  }

  Status NextDataPage() {
    while (true) {
      std::int64_t page_offset = chunk_offset_ + static_cast<std::int64_t>(chunk_pos_);
      if (chunk_pos_ >= chunk_.size()) {
        return Status::Corruption("column chunk ends at offset " + std::to_string(page_offset) +
                                  " with " + std::to_string(rows_left_in_chunk_) + " rows missing");
      }
      PageHeader h;
      std::size_t hlen = 0;
      MH_RETURN_IF_ERROR(
          ParsePageHeader(reinterpret_cast<const std::uint8_t*>(chunk_.data()) + chunk_pos_,
                          chunk_.size() - chunk_pos_, page_offset, &h, &hlen));
      if (h.type < 0 || h.compressed_page_size < 0 || h.uncompressed_page_size < 0) {
        return PageError(page_offset, "page header misses type or sizes");
      }
      std::size_t body_pos = chunk_pos_ + hlen;
      if (static_cast<std::size_t>(h.compressed_page_size) > chunk_.size() - body_pos) {
        return PageError(page_offset, "compressed size " + std::to_string(h.compressed_page_size) +
                                          " runs past the end of the column chunk");
      }
      const auto* body = reinterpret_cast<const std::uint8_t*>(chunk_.data()) + body_pos;
      std::size_t body_size = static_cast<std::size_t>(h.compressed_page_size);
      chunk_pos_ = body_pos + body_size;
      if (h.has_crc && options_.verify_crc && Crc32(body, body_size) != h.crc) {
        return PageError(page_offset, "CRC-32 mismatch");
      }
      if (h.type == kDictionaryPage) {
        MH_RETURN_IF_ERROR(ReadDictionaryPage(h, page_offset, body, body_size));
        continue;
      }
      if (h.type == kDataPage) {
        if (!h.has_data) return PageError(page_offset, "data page without its header");
        return ReadDataPage(h, page_offset, body, body_size, false);
      }
      if (h.type == kDataPageV2) {
        if (!h.has_data_v2) return PageError(page_offset, "data page v2 without its header");
        return ReadDataPage(h, page_offset, body, body_size, true);
      }
      if (h.type != kIndexPage) {
        return PageError(page_offset, "unknown page type " + std::to_string(h.type));
      }
    }
  }

  Status Decompressed(std::int64_t page_offset, const std::uint8_t* data, std::size_t size,
                      std::int64_t uncompressed, bool compressed, std::string* out) {
    if (!compressed || codec_ == kUncompressed) {
      if (static_cast<std::int64_t>(size) != uncompressed) {
        return PageError(page_offset, "uncompressed page size " + std::to_string(uncompressed) +
                                          " differs from its " + std::to_string(size) + " bytes");
      }
      out->assign(reinterpret_cast<const char*>(data), size);
      return Status::OK();
    }
    if (size == 0 && uncompressed == 0) {
      out->clear();
      return Status::OK();
    }
    MH_RETURN_IF_ERROR(CheckRatio(page_offset, size, uncompressed));
    Status s = Decompress(codec_, data, size, static_cast<std::size_t>(uncompressed), out);
    if (!s.ok()) return PageError(page_offset, s.message());
    return Status::OK();
  }

  Status ReadDictionaryPage(const PageHeader& h, std::int64_t page_offset, const std::uint8_t* body,
                            std::size_t body_size) {
    if (!h.has_dictionary) return PageError(page_offset, "dictionary page without its header");
    if (has_dict_) return PageError(page_offset, "second dictionary page in a column chunk");
    if (h.num_values < 0) {
      return PageError(page_offset,
                       "dictionary page with negative num_values " + std::to_string(h.num_values));
    }
    if (h.encoding != kPlain && h.encoding != kPlainDictionary) {
      return Status::NotSupported("dictionary page encoding " + EncodingName(h.encoding) +
                                  " is not supported");
    }
    std::string page;
    MH_RETURN_IF_ERROR(
        Decompressed(page_offset, body, body_size, h.uncompressed_page_size, true, &page));
    Values values;
    Status s = DecodePlain(reinterpret_cast<const std::uint8_t*>(page.data()), page.size(),
                           static_cast<std::size_t>(h.num_values), &values);
    if (!s.ok()) return PageError(page_offset, "dictionary: " + s.message());
    dict_ = std::move(values);
    has_dict_ = true;
    return Status::OK();
  }

  Status ReadDataPage(const PageHeader& h, std::int64_t page_offset, const std::uint8_t* body,
                      std::size_t body_size, bool v2) {
    if (h.num_values < 0 || h.num_values > rows_left_in_chunk_ || h.num_values > kMaxPageValues) {
      return PageError(page_offset, "num_values " + std::to_string(h.num_values) + " invalid (" +
                                        std::to_string(rows_left_in_chunk_) +
                                        " rows left in the row group)");
    }
    const std::size_t n = static_cast<std::size_t>(h.num_values);
    std::string& page = page_buf_;
    const std::uint8_t* levels = nullptr;
    std::size_t levels_size = 0;
    const std::uint8_t* values = nullptr;
    std::size_t values_size = 0;
    if (!v2) {
      MH_RETURN_IF_ERROR(
          Decompressed(page_offset, body, body_size, h.uncompressed_page_size, true, &page));
      const auto* p = reinterpret_cast<const std::uint8_t*>(page.data());
      std::size_t pos = 0;
      if (plan_.optional) {
        if (h.definition_level_encoding == kRle) {
          if (page.size() < 4) return PageError(page_offset, "truncated definition levels");
          std::uint32_t len = static_cast<std::uint32_t>(LoadI32(p));
          if (len > page.size() - 4)
            return PageError(page_offset, "definition levels past the page");
          levels = p + 4;
          levels_size = len;
          pos = 4 + len;
        } else if (h.definition_level_encoding == kBitPacked) {
          std::size_t len = (n + 7) / 8;
          if (len > page.size()) return PageError(page_offset, "definition levels past the page");
          levels = p;
          levels_size = len;
          pos = len;
        } else {
          return Status::NotSupported("definition level encoding " +
                                      EncodingName(h.definition_level_encoding));
        }
      }
      values = p + pos;
      values_size = page.size() - pos;
    } else {
      // A flat column has max repetition level 0 (and a REQUIRED one max
      // definition level 0): such level sections carry no information and
      // are skipped (some writers emit them as zero-width runs).
      if (h.repetition_levels_byte_length < 0 || h.definition_levels_byte_length < 0 ||
          static_cast<std::int64_t>(h.repetition_levels_byte_length) +
                  h.definition_levels_byte_length >
              static_cast<std::int64_t>(body_size) ||
          static_cast<std::int64_t>(h.uncompressed_page_size) <
              static_cast<std::int64_t>(h.repetition_levels_byte_length) +
                  h.definition_levels_byte_length) {
        return PageError(page_offset, "invalid level lengths");
      }
      std::size_t rl = static_cast<std::size_t>(h.repetition_levels_byte_length);
      std::size_t dl = static_cast<std::size_t>(h.definition_levels_byte_length);
      body += rl;
      body_size -= rl;
      std::int64_t values_uncompressed = static_cast<std::int64_t>(h.uncompressed_page_size) -
                                         static_cast<std::int64_t>(rl) -
                                         static_cast<std::int64_t>(dl);
      levels = body;
      levels_size = dl;
      MH_RETURN_IF_ERROR(Decompressed(page_offset, body + dl, body_size - dl, values_uncompressed,
                                      h.is_compressed, &page));
      values = reinterpret_cast<const std::uint8_t*>(page.data());
      values_size = page.size();
    }
    // Definition levels -> validity.
    std::size_t non_null = n;
    if (plan_.optional) {
      page_valid_.resize(n);
      if (!v2 && h.definition_level_encoding == kBitPacked) {
        for (std::size_t i = 0; i < n; ++i) {
          page_valid_[i] = (levels[i / 8] >> (7 - i % 8)) & 1;
        }
      } else {
        level_buf_.resize(n);
        RleDecoder dec(levels, levels_size, 1);
        Status s = dec.Get(level_buf_.data(), n);
        if (!s.ok()) return PageError(page_offset, "definition levels: " + s.message());
        for (std::size_t i = 0; i < n; ++i)
          page_valid_[i] = static_cast<std::uint8_t>(level_buf_[i]);
      }
      non_null = 0;
      for (std::size_t i = 0; i < n; ++i) non_null += page_valid_[i];
    }
    page_values_.Clear();
    raw_values_ = nullptr;
    if (h.encoding == kPlain && RawPlain()) {
      // 8-byte values kept as they are: copied from the page by AppendValues.
      if (non_null > values_size / 8) {
        return PageError(page_offset, "PLAIN values: values run past the page");
      }
      raw_values_ = values;
      page_rows_ = n;
      page_pos_ = 0;
      value_pos_ = 0;
      rows_left_in_chunk_ -= h.num_values;
      return Status::OK();
    }
    Status s = DecodeValues(h.encoding, values, values_size, non_null, &page_values_);
    if (!s.ok()) {
      if (s.IsNotSupported()) return s;
      return PageError(page_offset, EncodingName(h.encoding) + " values: " + s.message());
    }
    if (page_values_.Size(plan_.store) != non_null) {
      return PageError(page_offset, "decoded value count differs from the page's");
    }
    page_rows_ = n;
    page_pos_ = 0;
    value_pos_ = 0;
    rows_left_in_chunk_ -= h.num_values;
    return Status::OK();
  }

  // --- value conversion ---

  Status EmitI32(std::int32_t v, Values* out) {
    switch (plan_.conv) {
      case Conv::kU32:
        out->ints.push_back(static_cast<std::uint32_t>(v));
        return Status::OK();
      case Conv::kTime32:
        out->ints.push_back(static_cast<std::int64_t>(v) * (plan_.factor));
        return Status::OK();
      case Conv::kDecimal32:
        out->strings.push_back(DecimalText64(v, plan_.scale));
        return Status::OK();
      default:
        out->ints.push_back(v);
        return Status::OK();
    }
  }

  Status EmitI64(std::int64_t v, Values* out) {
    switch (plan_.conv) {
      case Conv::kTs64:
      case Conv::kTime64: {
        std::int64_t r;
        if (__builtin_mul_overflow(v, plan_.factor, &r)) {
          return Status::InvalidArgument("value " + std::to_string(v) +
                                         " is outside int64 nanoseconds");
        }
        out->ints.push_back(r);
        return Status::OK();
      }
      case Conv::kDecimal64:
        out->strings.push_back(DecimalText64(v, plan_.scale));
        return Status::OK();
      default:
        out->ints.push_back(v);
        return Status::OK();
    }
  }

  Status EmitInt96(const std::uint8_t* p, Values* out) {
    std::int64_t nanos = LoadI64(p);
    std::int64_t days = static_cast<std::uint32_t>(LoadI32(p + 8));
    days = static_cast<std::int32_t>(days) - kJulianEpochDay;
    std::int64_t r;
    bool overflow;
    if (options_.keep_time_unit) {
      // Spark's definition, Java long arithmetic (wrapping):
      // (julian_day - 2440588) * 86400000000 + nanos_of_day / 1000.
      std::uint64_t us = static_cast<std::uint64_t>(days) * 86400000000ULL +
                         static_cast<std::uint64_t>(nanos / 1000);
      r = static_cast<std::int64_t>(us);
      overflow = false;
    } else {
      overflow = __builtin_mul_overflow(days, std::int64_t{86400000000000}, &r) ||
                 __builtin_add_overflow(r, nanos, &r);
    }
    if (overflow) {
      return Status::InvalidArgument(
          "INT96 timestamp (julian day " + std::to_string(days + kJulianEpochDay) +
          ") is outside int64 " + (options_.keep_time_unit ? "microseconds" : "nanoseconds"));
    }
    out->ints.push_back(r);
    return Status::OK();
  }

  Status EmitBytes(const std::uint8_t* p, std::size_t len, Values* out) {
    switch (plan_.conv) {
      case Conv::kDecimalBytes:
        if (len > 128) return Status::NotSupported("decimal of " + std::to_string(len) + " bytes");
        out->strings.push_back(DecimalText(p, len, plan_.scale));
        return Status::OK();
      case Conv::kFloat16: {
        std::uint16_t h = static_cast<std::uint16_t>(p[0] | (p[1] << 8));
        out->doubles.push_back(HalfToDouble(h));
        return Status::OK();
      }
      case Conv::kUuid:
        out->strings.push_back(UuidText(p));
        return Status::OK();
      default:
        out->strings.emplace_back(reinterpret_cast<const char*>(p), len);
        return Status::OK();
    }
  }

  // n fixed-width values laid out as PLAIN.
  Status EmitFixed(const std::uint8_t* p, std::size_t n, Values* out) {
    if (n == 0) return Status::OK();  // p may be null (empty buffers)
    switch (plan_.physical) {
      case kInt32:
        if (plan_.conv == Conv::kI32 || plan_.conv == Conv::kDate) {
          out->ints.reserve(out->ints.size() + n);
          for (std::size_t i = 0; i < n; ++i) out->ints.push_back(LoadI32(p + 4 * i));
          return Status::OK();
        }
        for (std::size_t i = 0; i < n; ++i) MH_RETURN_IF_ERROR(EmitI32(LoadI32(p + 4 * i), out));
        return Status::OK();
      case kInt64:
        if (plan_.conv == Conv::kI64 || plan_.conv == Conv::kU64) {
          std::size_t old = out->ints.size();
          out->ints.resize(old + n);
          std::memcpy(out->ints.data() + old, p, 8 * n);
          return Status::OK();
        }
        for (std::size_t i = 0; i < n; ++i) MH_RETURN_IF_ERROR(EmitI64(LoadI64(p + 8 * i), out));
        return Status::OK();
      case kInt96:
        for (std::size_t i = 0; i < n; ++i) MH_RETURN_IF_ERROR(EmitInt96(p + 12 * i, out));
        return Status::OK();
      case kFloat: {
        out->doubles.reserve(out->doubles.size() + n);
        for (std::size_t i = 0; i < n; ++i) {
          float f;
          std::memcpy(&f, p + 4 * i, 4);
          out->doubles.push_back(f);
        }
        return Status::OK();
      }
      case kDouble: {
        std::size_t old = out->doubles.size();
        out->doubles.resize(old + n);
        std::memcpy(out->doubles.data() + old, p, 8 * n);
        return Status::OK();
      }
      case kFixedLenByteArray: {
        std::size_t w = static_cast<std::size_t>(plan_.type_length);
        for (std::size_t i = 0; i < n; ++i) MH_RETURN_IF_ERROR(EmitBytes(p + w * i, w, out));
        return Status::OK();
      }
      default:
        return Status::Internal("fixed-width decode of a variable-width type");
    }
  }

  Status EmitBools(const std::uint32_t* bits, std::size_t n, Values* out) {
    for (std::size_t i = 0; i < n; ++i) out->ints.push_back(bits[i] ? 1 : 0);
    return Status::OK();
  }

  Status DecodePlain(const std::uint8_t* p, std::size_t size, std::size_t n, Values* out) {
    if (plan_.physical == kBoolean) {
      if ((n + 7) / 8 > size) return Status::Corruption("values run past the page");
      for (std::size_t i = 0; i < n; ++i) out->ints.push_back((p[i / 8] >> (i % 8)) & 1);
      return Status::OK();
    }
    if (plan_.physical == kByteArray) {
      if (n > size / 4) return Status::Corruption("values run past the page");
      std::size_t pos = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (size - pos < 4) return Status::Corruption("values run past the page");
        std::uint32_t len = static_cast<std::uint32_t>(LoadI32(p + pos));
        pos += 4;
        if (len > size - pos) return Status::Corruption("byte array length past the page");
        MH_RETURN_IF_ERROR(EmitBytes(p + pos, len, out));
        pos += len;
      }
      return Status::OK();
    }
    std::size_t w = FixedWidth(plan_);
    if (w == 0 || n > size / w) return Status::Corruption("values run past the page");
    return EmitFixed(p, n, out);
  }

  Status DecodeValues(std::int32_t encoding, const std::uint8_t* p, std::size_t size, std::size_t n,
                      Values* out) {
    auto unsupported = [&] {
      return Status::NotSupported("column '" + plan_.name + "': encoding " +
                                  EncodingName(encoding) + " on " +
                                  PhysicalTypeName(plan_.physical) + " is not supported");
    };
    switch (encoding) {
      case kPlain:
        return DecodePlain(p, size, n, out);
      case kPlainDictionary:
      case kRleDictionary: {
        if (!has_dict_) return Status::Corruption("dictionary-encoded page without a dictionary");
        if (n == 0) return Status::OK();
        if (size < 1) return Status::Corruption("missing index bit width");
        int bw = p[0];
        if (bw > 32) return Status::Corruption("index bit width " + std::to_string(bw));
        index_buf_.resize(n);
        RleDecoder dec(p + 1, size - 1, bw);
        MH_RETURN_IF_ERROR(dec.Get(index_buf_.data(), n));
        std::size_t dict_size = dict_.Size(plan_.store);
        for (std::size_t i = 0; i < n; ++i) {
          if (index_buf_[i] >= dict_size) {
            return Status::Corruption("dictionary index " + std::to_string(index_buf_[i]) +
                                      " out of range (" + std::to_string(dict_size) + " entries)");
          }
        }
        switch (plan_.store) {
          case Store::kInts:
            for (std::size_t i = 0; i < n; ++i) out->ints.push_back(dict_.ints[index_buf_[i]]);
            break;
          case Store::kDoubles:
            for (std::size_t i = 0; i < n; ++i)
              out->doubles.push_back(dict_.doubles[index_buf_[i]]);
            break;
          case Store::kStrings:
            for (std::size_t i = 0; i < n; ++i)
              out->strings.push_back(dict_.strings[index_buf_[i]]);
            break;
        }
        return Status::OK();
      }
      case kRle: {
        if (plan_.physical != kBoolean) return unsupported();
        if (size < 4) return Status::Corruption("truncated length");
        std::uint32_t len = static_cast<std::uint32_t>(LoadI32(p));
        if (len > size - 4) return Status::Corruption("length past the page");
        index_buf_.resize(n);
        RleDecoder dec(p + 4, len, 1);
        MH_RETURN_IF_ERROR(dec.Get(index_buf_.data(), n));
        return EmitBools(index_buf_.data(), n, out);
      }
      case kDeltaBinaryPacked: {
        if (plan_.physical != kInt32 && plan_.physical != kInt64) return unsupported();
        if (n == 0 && size == 0) return Status::OK();
        DeltaBinaryPackedDecoder dec;
        MH_RETURN_IF_ERROR(dec.Init(p, size));
        if (dec.total_values() < n) return Status::Corruption("fewer values than non-null rows");
        delta_buf_.resize(n);
        MH_RETURN_IF_ERROR(dec.Get(delta_buf_.data(), n));
        for (std::size_t i = 0; i < n; ++i) {
          if (plan_.physical == kInt32) {
            MH_RETURN_IF_ERROR(EmitI32(static_cast<std::int32_t>(delta_buf_[i]), out));
          } else {
            MH_RETURN_IF_ERROR(EmitI64(delta_buf_[i], out));
          }
        }
        return Status::OK();
      }
      case kDeltaLengthByteArray: {
        if (plan_.physical != kByteArray) return unsupported();
        if (n == 0 && size == 0) return Status::OK();
        std::size_t consumed = 0;
        MH_RETURN_IF_ERROR(DecodeLengths(p, size, n, &lengths_, &consumed));
        std::size_t pos = consumed;
        for (std::size_t i = 0; i < n; ++i) {
          std::int64_t len = lengths_[i];
          if (len < 0 || static_cast<std::uint64_t>(len) > size - pos) {
            return Status::Corruption("byte array length past the page");
          }
          MH_RETURN_IF_ERROR(EmitBytes(p + pos, static_cast<std::size_t>(len), out));
          pos += static_cast<std::size_t>(len);
        }
        return Status::OK();
      }
      case kDeltaByteArray: {
        if (plan_.physical != kByteArray && plan_.physical != kFixedLenByteArray) {
          return unsupported();
        }
        if (n == 0 && size == 0) return Status::OK();
        std::size_t consumed = 0;
        std::vector<std::int64_t> prefixes;
        MH_RETURN_IF_ERROR(DecodeLengths(p, size, n, &prefixes, &consumed));
        std::size_t pos = consumed;
        std::size_t consumed2 = 0;
        MH_RETURN_IF_ERROR(DecodeLengths(p + pos, size - pos, n, &lengths_, &consumed2));
        pos += consumed2;
        std::string prev, cur;
        for (std::size_t i = 0; i < n; ++i) {
          std::int64_t pre = prefixes[i], len = lengths_[i];
          if (pre < 0 || static_cast<std::uint64_t>(pre) > prev.size()) {
            return Status::Corruption("prefix length " + std::to_string(pre) + " too long");
          }
          if (len < 0 || static_cast<std::uint64_t>(len) > size - pos) {
            return Status::Corruption("suffix length past the page");
          }
          cur.assign(prev, 0, static_cast<std::size_t>(pre));
          cur.append(reinterpret_cast<const char*>(p + pos), static_cast<std::size_t>(len));
          pos += static_cast<std::size_t>(len);
          if (plan_.physical == kFixedLenByteArray &&
              cur.size() != static_cast<std::size_t>(plan_.type_length)) {
            return Status::Corruption("value length differs from the fixed length");
          }
          MH_RETURN_IF_ERROR(
              EmitBytes(reinterpret_cast<const std::uint8_t*>(cur.data()), cur.size(), out));
          prev.swap(cur);
        }
        return Status::OK();
      }
      case kByteStreamSplit: {
        std::size_t w = FixedWidth(plan_);
        if (w == 0 || plan_.physical == kInt96) return unsupported();
        if (n > size / w) return Status::Corruption("values run past the page");
        split_buf_.resize(n * w);
        for (std::size_t b = 0; b < w; ++b) {
          const std::uint8_t* stream = p + b * n;
          for (std::size_t i = 0; i < n; ++i) split_buf_[i * w + b] = stream[i];
        }
        return EmitFixed(split_buf_.data(), n, out);
      }
      default:
        return unsupported();
    }
  }

  // DELTA_BINARY_PACKED lengths: exactly n values expected (the header may
  // not announce more than n).
  Status DecodeLengths(const std::uint8_t* p, std::size_t size, std::size_t n,
                       std::vector<std::int64_t>* out, std::size_t* consumed) {
    DeltaBinaryPackedDecoder dec;
    MH_RETURN_IF_ERROR(dec.Init(p, size));
    if (dec.total_values() != n) {
      return Status::Corruption("length count " + std::to_string(dec.total_values()) +
                                " differs from " + std::to_string(n) + " values");
    }
    out->resize(n);
    MH_RETURN_IF_ERROR(dec.Get(out->data(), n));
    *consumed = dec.consumed();
    return Status::OK();
  }

  ColumnPlan plan_;
  const ParquetReadOptions& options_;
  std::string_view chunk_;     // the column chunk being read
  std::string chunk_storage_;  // its bytes, when the source has no view
  std::int64_t chunk_offset_ = 0;
  std::size_t chunk_pos_ = 0;
  std::int32_t codec_ = 0;
  std::int64_t rows_left_in_chunk_ = 0;
  bool has_dict_ = false;
  Values dict_;
  // The current data page.
  std::vector<std::uint8_t> page_valid_;
  Values page_values_;
  std::size_t page_rows_ = 0, page_pos_ = 0, value_pos_ = 0;
  // Scratch.
  std::vector<std::uint32_t> level_buf_, index_buf_;
  std::vector<std::int64_t> delta_buf_, lengths_;
  std::vector<std::uint8_t> split_buf_;
  std::string page_buf_;
  // The current page's PLAIN values in page_buf_ (or the chunk), when
  // RawPlain(); else null and the values are in page_values_.
  const std::uint8_t* raw_values_ = nullptr;
};

// A top-level field of the schema.
struct TopField {
  int element = 0;  // index in FileMetaData::schema
  int first_leaf = 0;
  int num_leaves = 0;
  bool nested = false;
};

Status WalkSchema(const std::vector<SchemaElement>& schema, std::size_t index, int depth,
                  std::size_t* next, int* leaves) {
  if (depth > 64) return Status::Corruption("schema nested too deeply");
  if (index >= schema.size()) return Status::Corruption("schema ends inside a group");
  const SchemaElement& e = schema[index];
  if (e.num_children < 0) return Status::Corruption("negative num_children in the schema");
  if (e.has_type && e.num_children == 0) {
    *leaves += 1;
    *next = index + 1;
    return Status::OK();
  }
  if (static_cast<std::size_t>(e.num_children) > schema.size()) {
    return Status::Corruption("num_children larger than the schema");
  }
  std::size_t j = index + 1;
  for (std::int32_t c = 0; c < e.num_children; ++c) {
    MH_RETURN_IF_ERROR(WalkSchema(schema, j, depth + 1, &j, leaves));
  }
  *next = j;
  return Status::OK();
}

struct OpenFile {
  std::unique_ptr<Source> source;
  FileMetaData meta;
  std::int64_t footer_start = 0;
  std::vector<TopField> fields;
  int num_leaves = 0;
};

Status ReadFooter(OpenFile* f) {
  Source& src = *f->source;
  const std::string& name = src.name();
  std::int64_t size = src.size();
  if (size < 12) {
    return Status::Corruption(name + ": " + std::to_string(size) +
                              " bytes is too small for a Parquet file (truncated?)");
  }
  std::string tail;
  MH_RETURN_IF_ERROR(src.Read(size - 8, 8, &tail));
  if (tail.compare(4, 4, "PARE") == 0) {
    return Status::NotSupported(name + ": encrypted files (encrypted footer) are not supported");
  }
  if (tail.compare(4, 4, "PAR1") != 0) {
    return Status::Corruption(name + ": no Parquet magic at offset " + std::to_string(size - 4) +
                              " (truncated or not Parquet)");
  }
  std::string head;
  MH_RETURN_IF_ERROR(src.Read(0, 4, &head));
  if (head != "PAR1") return Status::Corruption(name + ": no Parquet magic at offset 0");
  std::int64_t footer_len =
      static_cast<std::uint32_t>(LoadI32(reinterpret_cast<const std::uint8_t*>(tail.data())));
  if (footer_len > size - 12 || footer_len > kMaxFooterBytes) {
    return Status::Corruption(name + ": footer length " + std::to_string(footer_len) +
                              " at offset " + std::to_string(size - 8) + " exceeds the file");
  }
  f->footer_start = size - 8 - footer_len;
  std::string footer;
  MH_RETURN_IF_ERROR(src.Read(f->footer_start, static_cast<std::size_t>(footer_len), &footer));
  Status s = ParseFileMetaData(reinterpret_cast<const std::uint8_t*>(footer.data()), footer.size(),
                               f->footer_start, &f->meta);
  if (!s.ok()) return Status::Corruption(name + ": footer: " + s.message());
  const auto& schema = f->meta.schema;
  if (schema.empty()) return Status::Corruption(name + ": footer: empty schema");
  if (schema[0].num_children < 0 ||
      static_cast<std::size_t>(schema[0].num_children) > schema.size()) {
    return Status::Corruption(name + ": footer: invalid root num_children");
  }
  std::size_t j = 1;
  for (std::int32_t c = 0; c < schema[0].num_children; ++c) {
    TopField t;
    t.element = static_cast<int>(j);
    t.first_leaf = f->num_leaves;
    int leaves = 0;
    s = WalkSchema(schema, j, 1, &j, &leaves);
    if (!s.ok()) return Status::Corruption(name + ": footer: " + s.message());
    const SchemaElement& e = schema[static_cast<std::size_t>(t.element)];
    t.num_leaves = leaves;
    t.nested = !e.has_type || e.num_children > 0 || e.repetition == kRepeated;
    f->num_leaves += leaves;
    f->fields.push_back(t);
  }
  if (j != schema.size()) {
    return Status::Corruption(name + ": footer: schema has elements outside the root");
  }
  if (f->meta.num_rows < 0) return Status::Corruption(name + ": footer: negative num_rows");
  for (std::size_t g = 0; g < f->meta.row_groups.size(); ++g) {
    const RowGroup& rg = f->meta.row_groups[g];
    if (rg.columns.size() != static_cast<std::size_t>(f->num_leaves)) {
      return Status::Corruption(name + ": footer: row group " + std::to_string(g) + " has " +
                                std::to_string(rg.columns.size()) + " column chunks, schema has " +
                                std::to_string(f->num_leaves) + " columns");
    }
    if (rg.num_rows < 0) {
      return Status::Corruption(name + ": footer: row group " + std::to_string(g) +
                                " has negative num_rows");
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<OpenFile>> Open(std::unique_ptr<Source> source) {
  auto f = std::make_unique<OpenFile>();
  f->source = std::move(source);
  MH_RETURN_IF_ERROR(ReadFooter(f.get()));
  return f;
}

class ParquetTableReader : public TableReader {
 public:
  ParquetTableReader(std::unique_ptr<OpenFile> file, ParquetReadOptions options)
      : file_(std::move(file)), options_(std::move(options)) {}

  Status Init() {
    const std::string& name = file_->source->name();
    if (options_.batch_rows == 0) return Status::InvalidArgument("batch_rows must be at least 1");
    std::vector<int> chosen;
    if (options_.columns.empty()) {
      for (std::size_t i = 0; i < file_->fields.size(); ++i) chosen.push_back(static_cast<int>(i));
    } else {
      for (const std::string& c : options_.columns) {
        int found = -1;
        for (std::size_t i = 0; i < file_->fields.size(); ++i) {
          if (file_->meta.schema[static_cast<std::size_t>(file_->fields[i].element)].name == c) {
            found = static_cast<int>(i);
            break;
          }
        }
        if (found < 0) return Status::InvalidArgument(name + ": no column named '" + c + "'");
        chosen.push_back(found);
      }
    }
    for (int i : chosen) {
      const TopField& t = file_->fields[static_cast<std::size_t>(i)];
      const SchemaElement& e = file_->meta.schema[static_cast<std::size_t>(t.element)];
      if (t.nested) {
        return Status::NotSupported(
            name + ": column '" + e.name + "': nested columns (" +
            (e.repetition == kRepeated && e.has_type ? "repeated field" : "group, list or map") +
            ") are not supported; project flat columns with --columns");
      }
      ColumnPlan plan;
      Status s = MakePlan(e, options_.keep_time_unit, &plan);
      if (!s.ok()) return s.WithContext(name);
      plan.leaf = t.first_leaf;
      // Check every chunk of this column up front.
      for (std::size_t g = 0; g < file_->meta.row_groups.size(); ++g) {
        const ColumnChunk& cc =
            file_->meta.row_groups[g].columns[static_cast<std::size_t>(plan.leaf)];
        std::string where = name + ": row group " + std::to_string(g) + ": column '" + e.name + "'";
        if (cc.encrypted || file_->meta.encrypted) {
          return Status::NotSupported(where + ": encrypted column chunks are not supported");
        }
        if (!cc.has_meta_data) return Status::Corruption(where + ": column chunk without metadata");
        if (!cc.file_path.empty()) {
          return Status::NotSupported(where + ": column data in another file ('" + cc.file_path +
                                      "') is not supported");
        }
        const ColumnMetaData& m = cc.meta_data;
        if (m.type != e.type) {
          return Status::Corruption(where + ": chunk type " + PhysicalTypeName(m.type) +
                                    " differs from the schema's " + PhysicalTypeName(e.type));
        }
        if (m.codec != kUncompressed && m.codec != kSnappy && m.codec != kGzip &&
            m.codec != kZstd && m.codec != kLz4Raw) {
          std::string extra =
              m.codec == kLz4 ? " (the deprecated Hadoop LZ4; LZ4_RAW is supported)" : "";
          return Status::NotSupported(where + ": unsupported codec " + CodecName(m.codec) + extra);
        }
        std::int64_t start, end;
        ChunkRange(m, &start, &end);
        if (file_->meta.row_groups[g].num_rows == 0) continue;  // nothing is read
        if (m.total_compressed_size < 0 || start < 4 || end < start || end > file_->footer_start) {
          return Status::Corruption(where + ": column chunk [" + std::to_string(start) + ", " +
                                    std::to_string(end) + ") lies outside the data of the file");
        }
      }
      readers_.push_back(std::make_unique<ColumnReader>(std::move(plan), options_));
      infos_.push_back(readers_.back()->plan().info);
    }
    return Status::OK();
  }

  const std::vector<TableColumnInfo>& columns() const override { return infos_; }

  Result<bool> Next(TableBatch* batch) override {
    batch->Reset(rows_read_, infos_);
    if (failed_) return Status::Internal("reader used after an error");
    while (rg_rows_left_ == 0) {
      if (next_rg_ >= file_->meta.row_groups.size()) return true;
      Status s = StartRowGroup(next_rg_++);
      if (!s.ok()) {
        failed_ = true;
        return s;
      }
    }
    std::size_t n = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(options_.batch_rows), rg_rows_left_));
    // Columns decode independently: large batches are split across threads
    // by column (thread t takes columns t, t + T, ...); the first failing
    // column in column order is reported, as when decoding in order.
    const std::size_t columns = readers_.size();
    std::size_t threads = options_.threads > 0 ? static_cast<std::size_t>(options_.threads)
                                               : std::max(1u, std::thread::hardware_concurrency());
    if (n < kMinParallelRows) threads = 1;
    threads = std::min(threads, columns);
    const bool load = chunks_pending_;
    chunks_pending_ = false;
    std::vector<Status> loaded(columns, Status::OK());
    std::vector<Status> status(columns, Status::OK());
    auto decode = [&](std::size_t t) {
      for (std::size_t j = t; j < columns; j += threads) {
        if (load) {
          loaded[j] = LoadChunk(j);
          if (!loaded[j].ok()) return;
        }
        status[j] = readers_[j]->Read(n, &batch->columns[j]);
        if (!status[j].ok()) return;
      }
    };
    std::vector<std::thread> pool;
    pool.reserve(threads > 0 ? threads - 1 : 0);
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(decode, t);
    if (threads > 0) decode(0);
    for (std::thread& th : pool) th.join();
    for (std::size_t j = 0; j < columns; ++j) {
      if (!loaded[j].ok()) {  // as the source says it (file and offset)
        failed_ = true;
        return loaded[j];
      }
    }
    for (std::size_t j = 0; j < columns; ++j) {
      if (!status[j].ok()) {
        failed_ = true;
        return status[j].WithContext(file_->source->name() + ": row group " +
                                     std::to_string(next_rg_ - 1) + ": column '" +
                                     readers_[j]->plan().name + "'");
      }
    }
    rg_rows_left_ -= static_cast<std::int64_t>(n);
    rows_read_ += static_cast<std::int64_t>(n);
    batch->rows = n;
    return true;
  }

 private:
  static void ChunkRange(const ColumnMetaData& m, std::int64_t* start, std::int64_t* end) {
    *start = m.data_page_offset;
    if (m.has_dictionary_page_offset && m.dictionary_page_offset > 0 &&
        m.dictionary_page_offset < m.data_page_offset) {
      *start = m.dictionary_page_offset;
    }
    if (__builtin_add_overflow(*start, m.total_compressed_size, end)) *end = -1;
  }

  // Starts row group g; its column chunks are read by the next batch's
  // decoding (LoadChunk), on the decoding threads.
  Status StartRowGroup(std::size_t g) {
    const RowGroup& rg = file_->meta.row_groups[g];
    rg_rows_left_ = rg.num_rows;
    current_rg_ = g;
    chunks_pending_ = rg.num_rows > 0;
    return Status::OK();
  }

  // Reads column j's chunk of the current row group into its reader.
  Status LoadChunk(std::size_t j) {
    const RowGroup& rg = file_->meta.row_groups[current_rg_];
    ColumnReader& r = *readers_[j];
    const ColumnMetaData& m = rg.columns[static_cast<std::size_t>(r.plan().leaf)].meta_data;
    std::int64_t start, end;
    ChunkRange(m, &start, &end);
    const std::size_t n = static_cast<std::size_t>(end - start);
    std::string_view view = file_->source->View(start, n);
    std::string bytes;
    if (view.size() != n || n == 0) {
      view = {};
      bytes = r.TakeChunkStorage();
      MH_RETURN_IF_ERROR(file_->source->Read(start, n, &bytes));
    }
    r.StartChunk(view, std::move(bytes), start, m.codec, rg.num_rows);
    return Status::OK();
  }

  // Batches of fewer rows decode their columns on the calling thread.
  static constexpr std::size_t kMinParallelRows = 16384;

  std::unique_ptr<OpenFile> file_;
  ParquetReadOptions options_;
  std::vector<std::unique_ptr<ColumnReader>> readers_;
  std::vector<TableColumnInfo> infos_;
  std::size_t next_rg_ = 0;
  std::size_t current_rg_ = 0;
  bool chunks_pending_ = false;  // the current row group's chunks are not read yet
  std::int64_t rg_rows_left_ = 0;
  std::int64_t rows_read_ = 0;
  bool failed_ = false;
};

Result<std::unique_ptr<TableReader>> OpenFromSource(std::unique_ptr<Source> source,
                                                    const ParquetReadOptions& options) {
  MH_ASSIGN_OR_RETURN(std::unique_ptr<OpenFile> file, Open(std::move(source)));
  auto reader = std::make_unique<ParquetTableReader>(std::move(file), options);
  MH_RETURN_IF_ERROR(reader->Init());
  return std::unique_ptr<TableReader>(std::move(reader));
}

std::string RepetitionName(const SchemaElement& e) {
  if (!e.has_repetition) return "REQUIRED";
  switch (e.repetition) {
    case kRequired:
      return "REQUIRED";
    case kOptional:
      return "OPTIONAL";
    case kRepeated:
      return "REPEATED";
    default:
      return "UNKNOWN(" + std::to_string(e.repetition) + ")";
  }
}

ParquetFileInfo MakeInfo(const OpenFile& f) {
  ParquetFileInfo info;
  info.created_by = f.meta.created_by;
  info.format_version = f.meta.version;
  info.num_rows = f.meta.num_rows;
  for (const TopField& t : f.fields) {
    const SchemaElement& e = f.meta.schema[static_cast<std::size_t>(t.element)];
    ParquetColumnSchema c;
    c.name = e.name;
    c.physical_type = e.has_type ? PhysicalTypeName(e.type) : "GROUP";
    c.type_length = e.type == kFixedLenByteArray ? e.type_length : 0;
    c.repetition = RepetitionName(e);
    c.logical_type = LogicalTypeName(e.logical);
    c.converted_type = e.has_converted_type ? ConvertedTypeName(e.converted_type) : "";
    c.nested = t.nested;
    info.columns.push_back(std::move(c));
  }
  for (const RowGroup& rg : f.meta.row_groups) {
    ParquetRowGroupInfo r;
    r.num_rows = rg.num_rows;
    for (const ColumnChunk& cc : rg.columns) {
      ParquetChunkInfo ci;
      const ColumnMetaData& m = cc.meta_data;
      for (std::size_t i = 0; i < m.path.size(); ++i) ci.column += (i ? "." : "") + m.path[i];
      ci.codec = cc.has_meta_data ? CodecName(m.codec) : "ENCRYPTED";
      for (std::int32_t e : m.encodings) ci.encodings.push_back(EncodingName(e));
      ci.num_values = m.num_values;
      ci.compressed_bytes = m.total_compressed_size;
      ci.uncompressed_bytes = m.total_uncompressed_size;
      ci.has_null_count = m.has_statistics && m.statistics.has_null_count;
      ci.null_count = m.statistics.null_count;
      r.chunks.push_back(std::move(ci));
    }
    info.row_groups.push_back(std::move(r));
  }
  for (const KeyValue& kv : f.meta.key_value_metadata) {
    info.key_value_metadata.emplace_back(kv.key, kv.value);
  }
  return info;
}

}  // namespace

bool LooksLikeParquetFile(const std::string& path) {
  if (EndsWith(AsciiLower(path), ".parquet")) {
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, 4) || std::string_view(magic, 4) == "PAR1") return static_cast<bool>(in);
  if (!in.seekg(-4, std::ios::end) || !in.read(magic, 4)) return false;
  return std::string_view(magic, 4) == "PAR1";
}

Result<std::unique_ptr<TableReader>> OpenParquetTable(const std::string& path,
                                                      const ParquetReadOptions& options) {
  MH_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenFileSource(path));
  return OpenFromSource(std::move(source), options);
}

Result<std::unique_ptr<TableReader>> OpenParquetTableFromBuffer(std::string bytes,
                                                                const ParquetReadOptions& options) {
  return OpenFromSource(MakeBufferSource(std::move(bytes), options.source_name), options);
}

Result<ParquetFileInfo> ReadParquetInfo(const std::string& path) {
  MH_ASSIGN_OR_RETURN(std::unique_ptr<Source> source, OpenFileSource(path));
  MH_ASSIGN_OR_RETURN(std::unique_ptr<OpenFile> f, Open(std::move(source)));
  return MakeInfo(*f);
}

Result<ParquetFileInfo> ReadParquetInfoFromBuffer(std::string bytes, const std::string& name) {
  MH_ASSIGN_OR_RETURN(std::unique_ptr<OpenFile> f, Open(MakeBufferSource(std::move(bytes), name)));
  return MakeInfo(*f);
}

}  // namespace mh::parquet
