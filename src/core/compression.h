// Decompression of whole in-memory buffers with Debian's zlib, libbz2 and
// liblzma and libzstd: the one place machine-health decodes zlib, gzip, bz2,
// xz, legacy .lzma and zstd data (compressed joblib models, Parquet GZIP and
// ZSTD pages, waveform snapshots) and compresses gzip (the dashboard's HTTP
// responses) and zstd.
//
// The output is always bounded: a stream that would decompress to more than
// the caller's limit (a "zip bomb") stops with Corruption as soon as the
// limit is passed, having allocated at most the limit. Concatenated streams
// (`cat a.gz b.gz`, multi-stream bz2/xz) decode as one, as Python's gzip, bz2
// and lzma modules read them; zero bytes after the last stream are ignored.
//
// Thread safety: free functions without shared state.
#ifndef MH_CORE_COMPRESSION_H_
#define MH_CORE_COMPRESSION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mh {

enum class Compression : std::uint8_t {
  kNone = 0,
  kZlib = 1,   // RFC 1950 (Python's zlib.compress; joblib's compress=N)
  kGzip = 2,   // RFC 1952 (also accepts a zlib header: zlib detects it)
  kBzip2 = 3,  // "BZh"
  kXz = 4,     // .xz container ("\xfd7zXZ")
  kLzma = 5,   // legacy .lzma ("lzma_alone", Python's FORMAT_ALONE)
  kZstd = 6,   // Zstandard frames (RFC 8878)
};

// "none", "zlib", "gzip", "bz2", "xz", "lzma" or "zstd".
std::string_view CompressionName(Compression compression);

// The format announced by the first bytes of `bytes`: gzip "\x1f\x8b", bz2
// "BZh" and a level digit, the xz magic, legacy lzma "]\0" (the usual
// properties byte lc=3 lp=0 pb=2, then the low byte of a preset's dictionary
// size; joblib tests the same prefix), zlib (0x78 and a valid header check);
// kNone otherwise (zstd is never detected: joblib does not write it). A Python pickle (0x80 ...) is
// never taken for compressed data.
Compression DetectCompression(std::string_view bytes);

struct DecompressOptions {
  // The output limit: more decompressed bytes are Corruption ("... exceeds
  // the limit of N bytes"). Memory used is at most this plus the codec's own
  // state (liblzma's is capped at max_codec_memory_bytes).
  std::size_t max_output_bytes = std::size_t{1} << 30;
  // Expected output size, when known: reserved at once (never above the
  // limit) instead of growing the buffer.
  std::size_t size_hint = 0;
  // When a stream ends with exactly max_output_bytes produced, ignore the
  // rest of the input (Parquet pages may carry padding after the data).
  bool stop_when_full = false;
  // Added to the input offsets named in messages (e.g. a container header's
  // length, so that offsets are those of the file).
  std::size_t offset_base = 0;
  // Memory the xz/lzma decoder may use for its dictionary (xz -9 needs 65
  // MiB); a stream asking for more is Corruption.
  std::uint64_t max_codec_memory_bytes = std::uint64_t{256} << 20;
};

// Decompresses all of `input` (one or more concatenated streams of
// `compression`). Errors (messages start with the codec's name):
//   Corruption "<codec>: decompressed data exceeds the limit of N bytes" for
//     a bomb; "<codec>: truncated stream at input offset X (N bytes
//     decompressed)"; "<codec>: corrupt data at input offset X: <reason>";
//   InvalidArgument for kNone; Internal if the library cannot start.
Result<std::string> Decompress(Compression compression, std::string_view input,
                               const DecompressOptions& options = {});

// Compresses `input` as one frame of `compression` at `level` (zstd: 1..19,
// 3 is zstd's default; gzip: 1..9, one RFC 1952 member, InvalidArgument
// outside 1..9). Only kZstd and kGzip are written (NotSupported otherwise);
// Internal if the library fails. Inputs above 4 GiB are not supported.
Result<std::string> Compress(Compression compression, std::string_view input, int level = 3);

}  // namespace mh

#endif  // MH_CORE_COMPRESSION_H_
