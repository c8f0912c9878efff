// Page compression codecs (Debian's snappy, zlib, zstd and lz4 libraries).
//
// Thread safety: free functions without shared state.
#ifndef MH_PARQUET_INTERNAL_CODEC_H_
#define MH_PARQUET_INTERNAL_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace mh::parquet::internal {

// Decompresses `size` bytes with `codec` (a Codec value) into exactly
// `expected_size` bytes in *out. Corruption when the data does not decode to
// that size; NotSupported for codecs other than UNCOMPRESSED, SNAPPY, GZIP,
// ZSTD and LZ4_RAW. Never allocates more than `expected_size` (plus small
// constant buffers), so callers bound memory by checking expected_size.
Status Decompress(std::int32_t codec, const std::uint8_t* data, std::size_t size,
                  std::size_t expected_size, std::string* out);

// Compresses with UNCOMPRESSED, SNAPPY or ZSTD (NotSupported otherwise).
Status Compress(std::int32_t codec, const std::string& in, std::string* out);

// CRC-32 (the zlib/IEEE polynomial) used for page checksums.
std::uint32_t Crc32(const std::uint8_t* data, std::size_t size);

}  // namespace mh::parquet::internal

#endif  // MH_PARQUET_INTERNAL_CODEC_H_
