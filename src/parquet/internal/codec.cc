#include "parquet/internal/codec.h"

#include <algorithm>
#include <climits>
#include <memory>
#include <string_view>
#include <utility>

#include <isa-l/crc.h>
#include <lz4.h>
#include <snappy.h>

#include "core/compression.h"
#include "parquet/internal/format.h"

namespace mh::parquet::internal {

Status Decompress(std::int32_t codec, const std::uint8_t* data, std::size_t size,
                  std::size_t expected_size, std::string* out) {
  switch (codec) {
    case kUncompressed:
      if (size != expected_size) {
        return Status::Corruption("uncompressed page size " + std::to_string(size) +
                                  " differs from " + std::to_string(expected_size));
      }
      out->assign(reinterpret_cast<const char*>(data), size);
      return Status::OK();
    case kSnappy: {
      std::size_t len = 0;
      if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(data), size, &len) ||
          len != expected_size) {
        return Status::Corruption("snappy: invalid data or wrong uncompressed length");
      }
      out->resize(expected_size);
      if (!snappy::RawUncompress(reinterpret_cast<const char*>(data), size, out->data())) {
        return Status::Corruption("snappy: invalid compressed data");
      }
      return Status::OK();
    }
    case kGzip: {
      // core/compression.h: bounded by the page's size, padding after the
      // last gzip member ignored.
      DecompressOptions options;
      options.max_output_bytes = expected_size;
      options.size_hint = expected_size;
      options.stop_when_full = true;
      Result<std::string> inflated = mh::Decompress(
          Compression::kGzip, std::string_view(reinterpret_cast<const char*>(data), size), options);
      if (!inflated.ok()) return inflated.status();
      if (inflated->size() != expected_size) {
        return Status::Corruption("gzip: decompressed " + std::to_string(inflated->size()) +
                                  " bytes, expected " + std::to_string(expected_size));
      }
      *out = std::move(*inflated);
      return Status::OK();
    }
    case kZstd: {
      // core/compression.h: bounded by the page's size.
      DecompressOptions options;
      options.max_output_bytes = expected_size;
      options.size_hint = expected_size;
      options.stop_when_full = true;
      Result<std::string> inflated = mh::Decompress(
          Compression::kZstd, std::string_view(reinterpret_cast<const char*>(data), size), options);
      if (!inflated.ok()) return inflated.status();
      if (inflated->size() != expected_size) {
        return Status::Corruption("zstd: decompressed " + std::to_string(inflated->size()) +
                                  " bytes, expected " + std::to_string(expected_size));
      }
      *out = std::move(*inflated);
      return Status::OK();
    }
    case kLz4Raw: {
      if (size > INT_MAX || expected_size > INT_MAX)
        return Status::Corruption("lz4: page too large");
      out->resize(expected_size);
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(data), out->data(),
                                  static_cast<int>(size), static_cast<int>(expected_size));
      if (n < 0 || static_cast<std::size_t>(n) != expected_size) {
        return Status::Corruption("lz4_raw: invalid compressed data");
      }
      return Status::OK();
    }
    default:
      return Status::NotSupported("unsupported codec " + CodecName(codec));
  }
}

Status Compress(std::int32_t codec, const std::string& in, std::string* out) {
  switch (codec) {
    case kUncompressed:
      *out = in;
      return Status::OK();
    case kSnappy:
      out->clear();
      snappy::Compress(in.data(), in.size(), out);
      return Status::OK();
    case kZstd: {
      MH_ASSIGN_OR_RETURN(*out, mh::Compress(Compression::kZstd, in, 3));
      return Status::OK();
    }
    default:
      return Status::NotSupported("writer: unsupported codec " + CodecName(codec));
  }
}

std::uint32_t Crc32(const std::uint8_t* data, std::size_t size) {
  // ISA-L's reflected CRC-32 (gzip's, = zlib's crc32), with the CPU's
  // carry-less multiply: several times zlib's speed on page-sized buffers.
  return crc32_gzip_refl(0, data, size);
}

}  // namespace mh::parquet::internal
