// The Parquet footer and page header structures (the subset of
// parquet.thrift that machine-health reads and writes), their decoding from
// and encoding to the Thrift compact protocol.
//
// Thread safety: plain values.
#ifndef MH_PARQUET_INTERNAL_FORMAT_H_
#define MH_PARQUET_INTERNAL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace mh::parquet::internal {

// Enum values from parquet.thrift (serialized: never renumber).
enum PhysicalType : std::int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};
enum Repetition : std::int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
enum ConvertedType : std::int32_t {
  kCtUtf8 = 0,
  kCtMap = 1,
  kCtMapKeyValue = 2,
  kCtList = 3,
  kCtEnum = 4,
  kCtDecimal = 5,
  kCtDate = 6,
  kCtTimeMillis = 7,
  kCtTimeMicros = 8,
  kCtTimestampMillis = 9,
  kCtTimestampMicros = 10,
  kCtUint8 = 11,
  kCtUint16 = 12,
  kCtUint32 = 13,
  kCtUint64 = 14,
  kCtInt8 = 15,
  kCtInt16 = 16,
  kCtInt32 = 17,
  kCtInt64 = 18,
  kCtJson = 19,
  kCtBson = 20,
  kCtInterval = 21,
};
enum Codec : std::int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};
enum Encoding : std::int32_t {
  kPlain = 0,
  kGroupVarInt = 1,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};
enum PageType : std::int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3
};
// Members of the LogicalType union (field ids), 0 = absent.
enum LogicalKind : std::int32_t {
  kLtNone = 0,
  kLtString = 1,
  kLtMap = 2,
  kLtList = 3,
  kLtEnum = 4,
  kLtDecimal = 5,
  kLtDate = 6,
  kLtTime = 7,
  kLtTimestamp = 8,
  kLtInteger = 10,
  kLtNull = 11,
  kLtJson = 12,
  kLtBson = 13,
  kLtUuid = 14,
  kLtFloat16 = 15,
};
// TimeUnit union members.
enum TimeUnit : std::int32_t { kUnitNone = 0, kMillis = 1, kMicros = 2, kNanos = 3 };

struct LogicalType {
  std::int32_t kind = kLtNone;            // a LogicalKind, or an unknown field id
  std::int32_t scale = 0, precision = 0;  // decimal
  bool utc = false;                       // time, timestamp
  std::int32_t unit = kUnitNone;          // time, timestamp
  std::int32_t bit_width = 0;             // integer
  bool is_signed = true;                  // integer
};

struct SchemaElement {
  bool has_type = false;
  std::int32_t type = 0;
  std::int32_t type_length = 0;
  bool has_repetition = false;
  std::int32_t repetition = kRequired;
  std::string name;
  std::int32_t num_children = 0;
  bool has_converted_type = false;
  std::int32_t converted_type = 0;
  std::int32_t scale = 0, precision = 0;
  LogicalType logical;
};

struct Statistics {
  bool has_min = false, has_max = false, has_null_count = false;
  std::string min, max;  // plain-encoded (min_value/max_value, else legacy min/max)
  std::int64_t null_count = 0;
};

struct ColumnMetaData {
  std::int32_t type = 0;
  std::vector<std::int32_t> encodings;
  std::vector<std::string> path;
  std::int32_t codec = kUncompressed;
  std::int64_t num_values = 0;
  std::int64_t total_uncompressed_size = 0;
  std::int64_t total_compressed_size = 0;
  std::int64_t data_page_offset = 0;
  bool has_dictionary_page_offset = false;
  std::int64_t dictionary_page_offset = 0;
  bool has_statistics = false;
  Statistics statistics;
};

struct ColumnChunk {
  std::string file_path;
  bool has_meta_data = false;
  ColumnMetaData meta_data;
  bool encrypted = false;  // crypto_metadata or encrypted_column_metadata set
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  std::int64_t total_byte_size = 0;
  std::int64_t num_rows = 0;
};

struct KeyValue {
  std::string key, value;
};

struct FileMetaData {
  std::int32_t version = 0;
  std::vector<SchemaElement> schema;
  std::int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<KeyValue> key_value_metadata;
  std::string created_by;
  bool encrypted = false;  // encryption_algorithm set (plaintext footer mode)
};

struct PageHeader {
  std::int32_t type = -1;
  std::int32_t uncompressed_page_size = -1;
  std::int32_t compressed_page_size = -1;
  bool has_crc = false;
  std::uint32_t crc = 0;
  // DataPageHeader (v1) / DictionaryPageHeader / DataPageHeaderV2.
  bool has_data = false, has_dictionary = false, has_data_v2 = false;
  std::int32_t num_values = -1;
  std::int32_t encoding = -1;
  std::int32_t definition_level_encoding = kRle;
  std::int32_t repetition_level_encoding = kRle;
  std::int32_t num_nulls = 0, num_rows = 0;                                           // v2
  std::int32_t definition_levels_byte_length = 0, repetition_levels_byte_length = 0;  // v2
  bool is_compressed = true;                                                          // v2
};

// Decodes a FileMetaData from the footer bytes. `base_offset` is the footer's
// offset in the file, used in error messages. Corruption on malformed input.
Status ParseFileMetaData(const std::uint8_t* data, std::size_t size, std::int64_t base_offset,
                         FileMetaData* out);
// Decodes one PageHeader; sets *header_size to the bytes it took.
Status ParsePageHeader(const std::uint8_t* data, std::size_t size, std::int64_t base_offset,
                       PageHeader* out, std::size_t* header_size);

// Encoders for the writer.
void SerializeFileMetaData(const FileMetaData& meta, std::string* out);
void SerializePageHeader(const PageHeader& header, std::string* out);

// Names for messages and `cat --schema` ("SNAPPY", "RLE_DICTIONARY", ...);
// unknown values render as "UNKNOWN(<n>)".
std::string PhysicalTypeName(std::int32_t type);
std::string CodecName(std::int32_t codec);
std::string EncodingName(std::int32_t encoding);
std::string ConvertedTypeName(std::int32_t converted_type);
std::string LogicalTypeName(const LogicalType& logical);

}  // namespace mh::parquet::internal

#endif  // MH_PARQUET_INTERNAL_FORMAT_H_
