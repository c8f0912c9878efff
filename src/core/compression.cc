#include "core/compression.h"

#include <algorithm>
#include <climits>
#include <memory>

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

namespace mh {

namespace {

// One codec's streaming decoder behind one shape, so that the output bound,
// truncation and concatenation rules below are written once.
enum class Step : std::uint8_t { kProgress = 0, kStreamEnd = 1, kError = 2 };

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Starts a fresh stream (the first or a concatenated one). False with
  // *error set if the library cannot start.
  virtual bool Start(std::string* error) = 0;
  // Decodes from [*in, *in + *in_left) into [*out, *out + *out_left),
  // advancing both. kError sets *error to the library's reason.
  virtual Step Run(const std::uint8_t** in, std::size_t* in_left, std::uint8_t** out,
                   std::size_t* out_left, std::string* error) = 0;
};

// zlib and bzlib count in unsigned int: feed them at most this per call.
constexpr std::size_t kMaxChunk = UINT_MAX;

class ZlibDecoder final : public Decoder {
 public:
  explicit ZlibDecoder(int window_bits) : window_bits_(window_bits) {}
  ~ZlibDecoder() override { End(); }
  bool Start(std::string* error) override {
    End();
    zs_ = z_stream{};
    if (inflateInit2(&zs_, window_bits_) != Z_OK) {
      *error = "inflateInit failed";
      return false;
    }
    started_ = true;
    return true;
  }
  Step Run(const std::uint8_t** in, std::size_t* in_left, std::uint8_t** out, std::size_t* out_left,
           std::string* error) override {
    const uInt in_n = static_cast<uInt>(std::min(*in_left, kMaxChunk));
    const uInt out_n = static_cast<uInt>(std::min(*out_left, kMaxChunk));
    zs_.next_in = const_cast<Bytef*>(*in);
    zs_.avail_in = in_n;
    zs_.next_out = *out;
    zs_.avail_out = out_n;
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    *in += in_n - zs_.avail_in;
    *in_left -= in_n - zs_.avail_in;
    *out += out_n - zs_.avail_out;
    *out_left -= out_n - zs_.avail_out;
    if (rc == Z_STREAM_END) return Step::kStreamEnd;
    if (rc == Z_OK || rc == Z_BUF_ERROR) return Step::kProgress;  // BUF: no progress possible
    *error = zs_.msg != nullptr ? zs_.msg : "inflate error " + std::to_string(rc);
    return Step::kError;
  }

 private:
  void End() {
    if (started_) inflateEnd(&zs_);
    started_ = false;
  }
  int window_bits_;
  z_stream zs_{};
  bool started_ = false;
};

class Bzip2Decoder final : public Decoder {
 public:
  ~Bzip2Decoder() override { End(); }
  bool Start(std::string* error) override {
    End();
    bs_ = bz_stream{};
    if (BZ2_bzDecompressInit(&bs_, 0, 0) != BZ_OK) {
      *error = "BZ2_bzDecompressInit failed";
      return false;
    }
    started_ = true;
    return true;
  }
  Step Run(const std::uint8_t** in, std::size_t* in_left, std::uint8_t** out, std::size_t* out_left,
           std::string* error) override {
    const unsigned in_n = static_cast<unsigned>(std::min(*in_left, kMaxChunk));
    const unsigned out_n = static_cast<unsigned>(std::min(*out_left, kMaxChunk));
    bs_.next_in = const_cast<char*>(reinterpret_cast<const char*>(*in));
    bs_.avail_in = in_n;
    bs_.next_out = reinterpret_cast<char*>(*out);
    bs_.avail_out = out_n;
    const int rc = BZ2_bzDecompress(&bs_);
    *in += in_n - bs_.avail_in;
    *in_left -= in_n - bs_.avail_in;
    *out += out_n - bs_.avail_out;
    *out_left -= out_n - bs_.avail_out;
    if (rc == BZ_STREAM_END) return Step::kStreamEnd;
    if (rc == BZ_OK) return Step::kProgress;
    *error = rc == BZ_DATA_ERROR_MAGIC ? "not a bz2 stream (bad magic)"
             : rc == BZ_DATA_ERROR     ? "data integrity error"
             : rc == BZ_MEM_ERROR      ? "out of memory"
                                       : "BZ2_bzDecompress error " + std::to_string(rc);
    return Step::kError;
  }

 private:
  void End() {
    if (started_) BZ2_bzDecompressEnd(&bs_);
    started_ = false;
  }
  bz_stream bs_{};
  bool started_ = false;
};

class LzmaDecoder final : public Decoder {
 public:
  LzmaDecoder(bool xz, std::uint64_t memlimit) : xz_(xz), memlimit_(memlimit) {}
  ~LzmaDecoder() override { lzma_end(&ls_); }
  bool Start(std::string* error) override {
    lzma_end(&ls_);
    ls_ = LZMA_STREAM_INIT;
    const lzma_ret rc =
        xz_ ? lzma_stream_decoder(&ls_, memlimit_, 0) : lzma_alone_decoder(&ls_, memlimit_);
    if (rc != LZMA_OK) {
      *error = "decoder initialisation failed (" + std::to_string(rc) + ")";
      return false;
    }
    return true;
  }
  Step Run(const std::uint8_t** in, std::size_t* in_left, std::uint8_t** out, std::size_t* out_left,
           std::string* error) override {
    ls_.next_in = *in;
    ls_.avail_in = *in_left;
    ls_.next_out = *out;
    ls_.avail_out = *out_left;
    const lzma_ret rc = lzma_code(&ls_, LZMA_RUN);
    *in += *in_left - ls_.avail_in;
    *in_left = ls_.avail_in;
    *out += *out_left - ls_.avail_out;
    *out_left = ls_.avail_out;
    switch (rc) {
      case LZMA_STREAM_END:
        return Step::kStreamEnd;
      case LZMA_OK:
      case LZMA_BUF_ERROR:
        return Step::kProgress;
      case LZMA_MEMLIMIT_ERROR:
        *error = "the stream needs more than " + std::to_string(memlimit_ >> 20) +
                 " MiB of decoder memory";
        return Step::kError;
      case LZMA_FORMAT_ERROR:
        *error = "unknown file format";
        return Step::kError;
      case LZMA_OPTIONS_ERROR:
        *error = "unsupported options";
        return Step::kError;
      case LZMA_DATA_ERROR:
        *error = "compressed data is corrupt";
        return Step::kError;
      case LZMA_MEM_ERROR:
        *error = "out of memory";
        return Step::kError;
      default:
        *error = "lzma_code error " + std::to_string(rc);
        return Step::kError;
    }
  }

 private:
  bool xz_;
  std::uint64_t memlimit_;
  lzma_stream ls_ = LZMA_STREAM_INIT;
};

class ZstdDecoder final : public Decoder {
 public:
  ~ZstdDecoder() override {
    if (ds_ != nullptr) ZSTD_freeDStream(ds_);
  }
  bool Start(std::string* error) override {
    if (ds_ == nullptr) ds_ = ZSTD_createDStream();
    if (ds_ == nullptr) {
      *error = "cannot allocate a decoder";
      return false;
    }
    std::size_t rc = ZSTD_initDStream(ds_);
    if (ZSTD_isError(rc)) {
      *error = ZSTD_getErrorName(rc);
      return false;
    }
    return true;
  }
  Step Run(const std::uint8_t** in, std::size_t* in_left, std::uint8_t** out, std::size_t* out_left,
           std::string* error) override {
    ZSTD_inBuffer ib{*in, *in_left, 0};
    ZSTD_outBuffer ob{*out, *out_left, 0};
    const std::size_t rc = ZSTD_decompressStream(ds_, &ob, &ib);
    *in += ib.pos;
    *in_left -= ib.pos;
    *out += ob.pos;
    *out_left -= ob.pos;
    if (ZSTD_isError(rc)) {
      *error = ZSTD_getErrorName(rc);
      return Step::kError;
    }
    return rc == 0 ? Step::kStreamEnd : Step::kProgress;
  }

 private:
  ZSTD_DStream* ds_ = nullptr;
};

std::unique_ptr<Decoder> MakeDecoder(Compression c, const DecompressOptions& options) {
  switch (c) {
    case Compression::kZlib:
      return std::make_unique<ZlibDecoder>(15);
    case Compression::kGzip:
      return std::make_unique<ZlibDecoder>(15 + 32);  // gzip or zlib header
    case Compression::kBzip2:
      return std::make_unique<Bzip2Decoder>();
    case Compression::kXz:
      return std::make_unique<LzmaDecoder>(true, options.max_codec_memory_bytes);
    case Compression::kLzma:
      return std::make_unique<LzmaDecoder>(false, options.max_codec_memory_bytes);
    case Compression::kZstd:
      return std::make_unique<ZstdDecoder>();
    case Compression::kNone:
      break;
  }
  return nullptr;
}

// One gzip member (RFC 1952) of `input` at zlib `level` (1..9).
Result<std::string> CompressGzip(std::string_view input, int level) {
  if (level < 1 || level > 9) {
    return Status::InvalidArgument("compress: gzip level " + std::to_string(level) +
                                   " is not in 1..9");
  }
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("gzip: cannot start the compressor");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(input.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END)
    return Status::Internal("gzip: compression failed (" + std::to_string(rc) + ")");
  return out;
}

}  // namespace

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kZlib:
      return "zlib";
    case Compression::kGzip:
      return "gzip";
    case Compression::kBzip2:
      return "bz2";
    case Compression::kXz:
      return "xz";
    case Compression::kLzma:
      return "lzma";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Compression DetectCompression(std::string_view bytes) {
  auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  if (bytes.size() >= 2 && at(0) == 0x1f && at(1) == 0x8b) return Compression::kGzip;
  if (bytes.size() >= 4 && bytes.substr(0, 3) == "BZh" && at(3) >= '1' && at(3) <= '9') {
    return Compression::kBzip2;
  }
  if (bytes.size() >= 6 && bytes.substr(0, 6) == std::string_view("\xfd"
                                                                  "7zXZ\0",
                                                                  6)) {
    return Compression::kXz;
  }
  if (bytes.size() >= 2 && at(0) == ']' && at(1) == 0) {
    return Compression::kLzma;
  }
  // zlib: CM 8 with a 32 KiB window, no preset dictionary, FCHECK valid.
  if (bytes.size() >= 2 && at(0) == 0x78 && (at(1) & 0x20) == 0 &&
      (at(0) * 256 + at(1)) % 31 == 0) {
    return Compression::kZlib;
  }
  return Compression::kNone;
}

Result<std::string> Decompress(Compression compression, std::string_view input,
                               const DecompressOptions& options) {
  const std::string name(CompressionName(compression));
  std::unique_ptr<Decoder> decoder = MakeDecoder(compression, options);
  if (decoder == nullptr) return Status::InvalidArgument("decompress: no compression given");
  const std::size_t limit = options.max_output_bytes;
  const auto* const begin = reinterpret_cast<const std::uint8_t*>(input.data());
  const std::uint8_t* in = begin;
  std::size_t in_left = input.size();
  auto offset = [&] { return std::to_string(options.offset_base + (in - begin)); };

  std::string out;
  // Grow geometrically from the hint (or a few times the input), never past
  // the limit: a bomb fails having allocated at most `limit`.
  std::size_t capacity =
      options.size_hint > 0 ? options.size_hint : std::max<std::size_t>(input.size() * 4, 4096);
  out.resize(std::min(capacity, limit));
  std::size_t produced = 0;
  std::string error;
  if (!decoder->Start(&error)) return Status::Internal(name + ": " + error);
  while (true) {
    if (produced == out.size() && out.size() < limit) {
      out.resize(std::min(limit, std::max<std::size_t>(out.size() * 2, 4096)));
    }
    std::uint8_t spill = 0;  // room for one byte past the limit, to detect a bomb
    const bool full = produced == out.size();
    std::uint8_t* out_ptr = full ? &spill : reinterpret_cast<std::uint8_t*>(out.data()) + produced;
    std::uint8_t* const out_start = out_ptr;
    std::size_t out_left = full ? 1 : out.size() - produced;
    const std::size_t in_before = in_left;
    const Step step = decoder->Run(&in, &in_left, &out_ptr, &out_left, &error);
    const std::size_t made = static_cast<std::size_t>(out_ptr - out_start);
    if (full && made > 0) {
      return Status::Corruption(name + ": decompressed data exceeds the limit of " +
                                std::to_string(limit) + " bytes (at input offset " + offset() +
                                ")");
    }
    produced += made;
    if (step == Step::kError) {
      return Status::Corruption(name + ": corrupt data at input offset " + offset() + ": " + error);
    }
    if (step == Step::kStreamEnd) {
      if (options.stop_when_full && produced == limit) break;
      // Zero padding after a stream is ignored; anything else is another stream.
      while (in_left > 0 && *in == 0) {
        ++in;
        --in_left;
      }
      if (in_left == 0) break;
      if (!decoder->Start(&error)) return Status::Internal(name + ": " + error);
      continue;
    }
    // No progress with all input consumed (or none consumable) while there
    // was room for output: the stream stops before its end.
    if (made == 0 && (in_left == 0 || in_left == in_before)) {
      return Status::Corruption(name + ": truncated stream at input offset " + offset() + " (" +
                                std::to_string(produced) + " bytes decompressed)");
    }
  }
  out.resize(produced);
  return out;
}

Result<std::string> Compress(Compression compression, std::string_view input, int level) {
  if (compression == Compression::kGzip) return CompressGzip(input, level);
  if (compression != Compression::kZstd) {
    return Status::NotSupported("compress: " + std::string(CompressionName(compression)) +
                                " is not written by machine-health (only gzip and zstd)");
  }
  std::string out(ZSTD_compressBound(input.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

}  // namespace mh
