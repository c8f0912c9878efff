// Parquet writer for what machine-health produces (simulated signals,
// features, scores): a flat schema of OPTIONAL columns, written row group by
// row group to "<path>.tmp-<pid>" and renamed to `path` by Close().
//
// Column kinds and their Parquet types: kDouble -> DOUBLE; kInt -> INT64;
// kString -> BYTE_ARRAY STRING; kBool -> BOOLEAN; kTimestamp -> INT64
// TIMESTAMP(isAdjustedToUTC=true) in NANOS (fraction_digits 9) or MICROS
// (fraction_digits 6; nanosecond values must then be whole microseconds).
// Strings are dictionary-encoded (RLE_DICTIONARY) while the dictionary stays
// small, everything else PLAIN; data pages v1 with CRC-32; column statistics
// (min/max/null_count) in the footer.
//
// Thread safety: one thread at a time.
#ifndef MH_PARQUET_PARQUET_WRITER_H_
#define MH_PARQUET_PARQUET_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/table.h"

namespace mh::parquet {

// Values are the Parquet CompressionCodec ids.
enum class ParquetCodec : std::uint8_t { kUncompressed = 0, kSnappy = 1, kZstd = 6 };

struct ParquetWriteOptions {
  // --- Layout ---
  ParquetCodec codec = ParquetCodec::kSnappy;
  std::size_t row_group_rows = 1 << 20;  // rows per row group (>= 1)
  std::size_t page_rows = 1 << 16;       // rows per data page (>= 1)
  // --- Encoding ---
  bool dictionary = true;                        // dictionary-encode string columns
  std::size_t max_dictionary_entries = 1 << 16;  // above this, a chunk falls back to PLAIN
  bool page_crc = true;                          // write page CRC-32s
  // --- Types ---
  // isAdjustedToUTC of TIMESTAMP columns. true (instants in UTC) is what
  // machine-health means; note that DuckDB reads TIMESTAMP(NANOS, UTC) as
  // TIMESTAMP WITH TIME ZONE and so truncates it to microseconds, while
  // false keeps nanoseconds there (TIMESTAMP_NS).
  bool timestamps_adjusted_to_utc = true;
  // --- Metadata ---
  std::string created_by = "machine-health";
};

class ParquetWriter {
 public:
  // Creates the temporary file next to `path`. InvalidArgument for an empty
  // schema, duplicate or empty names, unsupported kinds or fraction digits,
  // zero row_group_rows/page_rows; IOError when the file cannot be created.
  static Result<std::unique_ptr<ParquetWriter>> Create(const std::string& path,
                                                       const std::vector<TableColumnInfo>& schema,
                                                       const ParquetWriteOptions& options);
  // Removes the temporary file unless Close() succeeded.
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  // Appends the rows of `batch`, whose columns must match the schema (same
  // count, names and kinds; vectors of `rows` entries). InvalidArgument on a
  // mismatch; IOError on write failure. Full row groups are written out.
  Status Write(const TableBatch& batch);
  // Writes the last row group and the footer, then renames the file into
  // place. After Close, Write and Close are errors.
  Status Close();

 private:
  class Impl;
  explicit ParquetWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::parquet

#endif  // MH_PARQUET_PARQUET_WRITER_H_
