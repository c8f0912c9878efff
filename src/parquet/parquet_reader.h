// Parquet reader: opens a Parquet file (or bytes in memory) as a TableReader
// that streams row group by row group, and reads the file's metadata for
// `machine-health cat --schema`.
//
// Scope: flat schemas (top-level primitive columns, REQUIRED or OPTIONAL);
// physical types BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE, BYTE_ARRAY,
// FIXED_LEN_BYTE_ARRAY; codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW;
// encodings PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, RLE, BIT_PACKED (levels),
// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY,
// BYTE_STREAM_SPLIT; data pages v1 and v2; page CRCs verified when present.
// Refused with NotSupported naming the column and feature: nested columns
// (groups, lists, maps, REPEATED fields), encryption, the deprecated LZ4
// codec, BROTLI, LZO. See docs/parquet.md.
//
// Value mapping (TableColumnInfo::kind): BOOLEAN -> kBool; INT32/INT64 (and
// INT(8..64)) -> kInt; UINT(64) -> kUInt64, smaller unsigned -> kInt;
// FLOAT/DOUBLE/FLOAT16 -> kDouble; STRING/ENUM/JSON/UUID -> kString;
// other BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY -> kBinary; DECIMAL -> kDecimal
// (exact text); DATE -> kDate; TIME -> kTime; TIMESTAMP and INT96 ->
// kTimestamp. Null entries hold 0, NaN or "" in the value vector.
//
// Thread safety: a reader is used by one thread at a time.
#ifndef MH_PARQUET_PARQUET_READER_H_
#define MH_PARQUET_PARQUET_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/table.h"

namespace mh::parquet {

struct ParquetReadOptions {
  // Columns to read, in this order; empty reads every column in file order.
  // A name that is not a column is InvalidArgument. Only these columns'
  // pages are read and decoded.
  std::vector<std::string> columns;
  // Rows per TableBatch (>= 1); a batch never spans two row groups.
  std::size_t batch_rows = 65536;
  // false: kTimestamp and kTime ints are nanoseconds, as table.h says (a
  // value outside int64 nanoseconds, e.g. year 9999, is InvalidArgument).
  // true: they stay in the file's unit, given by fraction_digits (3 ms,
  // 6 us, 9 ns; INT96 is reported in microseconds, fraction_digits 6). Used
  // by printers (cat) that must show any representable instant.
  bool keep_time_unit = false;
  // Verify page CRC-32s when pages carry them (Corruption on mismatch).
  bool verify_crc = true;
  // Threads decoding the columns of a batch of at least 16384 rows (by
  // column; 0 = all cores). The batches do not depend on it.
  int threads = 1;
  // Name used in messages for OpenParquetTableFromBuffer.
  std::string source_name = "<buffer>";
};

// True if `path` is to be read as Parquet: its first or last four bytes are
// the "PAR1" magic, or its name ends in ".parquet" (any case). Either magic
// or the name is enough, so that a truncated file or one whose header or
// footer is damaged is reported by the Parquet reader (as Corruption naming
// the damage), never read as text. False for what cannot be read (no such
// file, a directory without the extension).
bool LooksLikeParquetFile(const std::string& path);

// Opens a Parquet file. The footer and schema are read and checked here;
// pages are read lazily, one row group at a time. Errors: NotFound/IOError
// (file), Corruption (bad magic, footer, offsets; message names the file and
// byte offset), NotSupported (feature outside the scope; names the column),
// InvalidArgument (unknown projected column, batch_rows 0).
Result<std::unique_ptr<TableReader>> OpenParquetTable(const std::string& path,
                                                      const ParquetReadOptions& options);

// The same over bytes in memory (fuzzing, HTTP bodies); messages name
// options.source_name.
Result<std::unique_ptr<TableReader>> OpenParquetTableFromBuffer(std::string bytes,
                                                                const ParquetReadOptions& options);

// One column of the file's schema, as `cat --schema` prints it.
struct ParquetColumnSchema {
  std::string name;              // top-level field name
  std::string physical_type;     // "INT64", "BYTE_ARRAY", ... ("GROUP" for groups)
  std::int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY only
  std::string repetition;        // "REQUIRED", "OPTIONAL", "REPEATED"
  std::string logical_type;      // e.g. "TIMESTAMP(MICROS,UTC)", "" if none
  std::string converted_type;    // e.g. "UTF8", "" if none
  bool nested = false;           // a group or REPEATED field (not readable)
};

// One column chunk of a row group.
struct ParquetChunkInfo {
  std::string column;                   // dotted path in the schema
  std::string codec;                    // "SNAPPY", ...
  std::vector<std::string> encodings;   // as listed in the footer
  std::int64_t num_values = 0;          // values (rows, for flat columns)
  std::int64_t compressed_bytes = 0;    // total_compressed_size from the footer
  std::int64_t uncompressed_bytes = 0;  // total_uncompressed_size from the footer
  bool has_null_count = false;          // statistics carry a null count
  std::int64_t null_count = 0;
};

// One row group: its row count and one chunk per leaf column (file order).
struct ParquetRowGroupInfo {
  std::int64_t num_rows = 0;
  std::vector<ParquetChunkInfo> chunks;
};

// The footer of a file, decoded.
struct ParquetFileInfo {
  std::string created_by;                       // writer identification, "" if absent
  std::int32_t format_version = 0;              // FileMetaData.version
  std::int64_t num_rows = 0;                    // rows in the file, per the footer
  std::vector<ParquetColumnSchema> columns;     // top-level fields, file order
  std::vector<ParquetRowGroupInfo> row_groups;  // file order
  std::vector<std::pair<std::string, std::string>> key_value_metadata;  // (key, value)
};

// Reads and decodes the footer only. Errors as for OpenParquetTable, except
// that nested columns and unsupported codecs are described, not refused.
Result<ParquetFileInfo> ReadParquetInfo(const std::string& path);
// The same over bytes in memory; messages name `name`.
Result<ParquetFileInfo> ReadParquetInfoFromBuffer(std::string bytes, const std::string& name);

}  // namespace mh::parquet

#endif  // MH_PARQUET_PARQUET_READER_H_
