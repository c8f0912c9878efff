// Fuzz target for the Parquet reader: opens the input as a Parquet file from
// memory, reads every batch (bounded), and reads its metadata. Any crash,
// sanitizer report, hang or huge allocation is a bug; errors are expected.
#include <cstddef>
#include <cstdint>
#include <string>

#include "parquet/parquet_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  {
    mh::parquet::ParquetReadOptions options;
    options.batch_rows = 100;
    options.source_name = "fuzz.parquet";
    auto reader = mh::parquet::OpenParquetTableFromBuffer(bytes, options);
    if (reader.ok()) {
      mh::TableBatch batch;
      for (int i = 0; i < 100000; ++i) {
        auto more = (*reader)->Next(&batch);
        if (!more.ok() || batch.rows == 0) break;
      }
    }
  }
  {
    mh::parquet::ParquetReadOptions options;
    options.keep_time_unit = true;
    options.verify_crc = false;  // reach the decoders behind corrupted pages
    options.batch_rows = 7;
    auto reader = mh::parquet::OpenParquetTableFromBuffer(bytes, options);
    if (reader.ok()) {
      mh::TableBatch batch;
      for (int i = 0; i < 100000; ++i) {
        auto more = (*reader)->Next(&batch);
        if (!more.ok() || batch.rows == 0) break;
      }
    }
  }
  auto info = mh::parquet::ReadParquetInfoFromBuffer(std::move(bytes), "fuzz.parquet");
  (void)info;
  return 0;
}
