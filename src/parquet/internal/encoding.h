// Parquet value and level encodings that are more than a memcpy: the
// RLE/bit-packed hybrid (levels, dictionary indices, booleans) and
// DELTA_BINARY_PACKED, plus the hybrid encoder used by the writer.
//
// Thread safety: instances are used by one thread at a time.
#ifndef MH_PARQUET_INTERNAL_ENCODING_H_
#define MH_PARQUET_INTERNAL_ENCODING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace mh::parquet::internal {

// Reads `bit_width` bits (0..64) at bit offset `bit` of `data`, least
// significant bit first. The caller checks the bytes exist.
std::uint64_t ReadBitsLsb(const std::uint8_t* data, std::size_t bit, int bit_width);

// Decoder for the RLE/bit-packed hybrid of unsigned values of width 0..32.
// Errors are Corruption (data ends before the requested values).
class RleDecoder {
 public:
  RleDecoder(const std::uint8_t* data, std::size_t size, int bit_width)
      : data_(data), size_(size), bit_width_(bit_width) {}
  // Decodes the next `n` values.
  Status Get(std::uint32_t* out, std::size_t n);

 private:
  Status NextRun();

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  int bit_width_;
  std::uint64_t rle_left_ = 0;
  std::uint32_t rle_value_ = 0;
  std::uint64_t packed_left_ = 0;
  const std::uint8_t* packed_ = nullptr;
  std::size_t packed_bit_ = 0;
};

// DELTA_BINARY_PACKED decoder (64-bit arithmetic, wrapping, as the format
// specifies; 32-bit columns truncate the results).
class DeltaBinaryPackedDecoder {
 public:
  // Reads the header; Corruption if it is malformed.
  Status Init(const std::uint8_t* data, std::size_t size);
  // Values announced by the header.
  std::uint64_t total_values() const { return total_; }
  // Decodes the next `n` values (n <= values left).
  Status Get(std::int64_t* out, std::size_t n);
  // Bytes used so far (after decoding every value: the encoded size).
  std::size_t consumed() const { return pos_; }

 private:
  Status NextMiniblock();
  Status ReadVarint(std::uint64_t* v);

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t pos_ = 0;
  std::uint64_t block_size_ = 0, miniblocks_ = 0, per_miniblock_ = 0;
  std::uint64_t total_ = 0, emitted_ = 0;
  std::uint64_t last_ = 0, min_delta_ = 0;
  std::vector<std::uint8_t> widths_;
  std::uint64_t miniblock_index_ = 0;  // within the current block
  bool in_block_ = false;
  std::uint64_t mb_left_ = 0;
  int mb_width_ = 0;
  const std::uint8_t* mb_data_ = nullptr;
  std::size_t mb_avail_ = 0;  // bytes of the miniblock present in the data
  std::size_t mb_bit_ = 0;
};

// Appends the RLE/bit-packed hybrid encoding of `values` (width bit_width).
void RleEncode(const std::vector<std::uint32_t>& values, int bit_width, std::string* out);

// Bits needed for values up to max_value.
int BitWidth(std::uint64_t max_value);

}  // namespace mh::parquet::internal

#endif  // MH_PARQUET_INTERNAL_ENCODING_H_
