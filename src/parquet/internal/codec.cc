#include "parquet/internal/codec.h"

#include <climits>
#include <memory>

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet/internal/format.h"

namespace mh::parquet::internal {

namespace {

Status Inflate(const std::uint8_t* data, std::size_t size, std::size_t expected_size,
               std::string* out) {
  out->resize(expected_size);
  std::size_t in_pos = 0, out_pos = 0;
  // Concatenated gzip members: restart the inflater after each stream end.
  while (in_pos < size) {
    z_stream zs{};
    // 15 + 32: zlib or gzip header, detected automatically.
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Internal("gzip: inflateInit failed");
    zs.next_in = const_cast<Bytef*>(data + in_pos);
    zs.avail_in = static_cast<uInt>(std::min<std::size_t>(size - in_pos, UINT_MAX));
    int rc = Z_OK;
    while (true) {
      char dummy = 0;
      std::size_t room = expected_size - out_pos;
      zs.next_out = room > 0 ? reinterpret_cast<Bytef*>(out->data() + out_pos)
                             : reinterpret_cast<Bytef*>(&dummy);
      zs.avail_out = room > 0 ? static_cast<uInt>(std::min<std::size_t>(room, UINT_MAX)) : 1;
      uInt before = zs.avail_out;
      rc = inflate(&zs, Z_NO_FLUSH);
      std::size_t produced = before - zs.avail_out;
      if (room == 0 && produced > 0) {
        inflateEnd(&zs);
        return Status::Corruption("gzip: data larger than the page's uncompressed size");
      }
      out_pos += produced;
      if (rc == Z_STREAM_END) break;
      if (rc != Z_OK) {
        inflateEnd(&zs);
        return Status::Corruption("gzip: invalid compressed data");
      }
      if (zs.avail_in == 0 && produced == 0) {
        inflateEnd(&zs);
        return Status::Corruption("gzip: truncated compressed data");
      }
    }
    in_pos = static_cast<std::size_t>(reinterpret_cast<const std::uint8_t*>(zs.next_in) - data);
    inflateEnd(&zs);
    if (out_pos == expected_size) break;  // trailing padding after the last member
  }
  if (out_pos != expected_size) {
    return Status::Corruption("gzip: decompressed " + std::to_string(out_pos) +
                              " bytes, expected " + std::to_string(expected_size));
  }
  return Status::OK();
}

}  // namespace

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
    case kGzip:
      return Inflate(data, size, expected_size, out);
    case kZstd: {
      unsigned long long declared = ZSTD_getFrameContentSize(data, size);
      if (declared == ZSTD_CONTENTSIZE_ERROR) return Status::Corruption("zstd: invalid frame");
      if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != expected_size) {
        return Status::Corruption("zstd: frame size differs from the page's uncompressed size");
      }
      out->resize(expected_size);
      std::size_t n = ZSTD_decompress(out->data(), expected_size, data, size);
      if (ZSTD_isError(n) || n != expected_size) {
        return Status::Corruption(std::string("zstd: ") +
                                  (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short output"));
      }
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
      out->resize(ZSTD_compressBound(in.size()));
      std::size_t n = ZSTD_compress(out->data(), out->size(), in.data(), in.size(), 3);
      if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
      out->resize(n);
      return Status::OK();
    }
    default:
      return Status::NotSupported("writer: unsupported codec " + CodecName(codec));
  }
}

std::uint32_t Crc32(const std::uint8_t* data, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    uInt chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

}  // namespace mh::parquet::internal
