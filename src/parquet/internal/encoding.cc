#include "parquet/internal/encoding.h"

#include <cstring>

namespace mh::parquet::internal {

std::uint64_t ReadBitsLsb(const std::uint8_t* data, std::size_t bit, int bit_width) {
  if (bit_width == 0) return 0;
  std::size_t byte = bit >> 3;
  int shift = static_cast<int>(bit & 7);
  std::uint64_t v = 0;
  int got = 0;
  while (got < bit_width) {
    std::uint64_t b = static_cast<std::uint64_t>(data[byte++]) >> shift;
    v |= b << got;
    got += 8 - shift;
    shift = 0;
  }
  if (bit_width < 64) v &= (std::uint64_t{1} << bit_width) - 1;
  return v;
}

int BitWidth(std::uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

Status RleDecoder::NextRun() {
  std::uint64_t header = 0;
  int shift = 0;
  while (true) {
    if (pos_ >= size_) return Status::Corruption("rle: data ends before the values");
    std::uint8_t b = data_[pos_++];
    if (shift > 56) return Status::Corruption("rle: run header too long");
    header |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
  }
  if (header & 1) {
    std::uint64_t groups = header >> 1;
    std::size_t avail = size_ - pos_;
    // A last run may be cut short of its groups by the end of the data.
    std::uint64_t bytes = groups * static_cast<std::uint64_t>(bit_width_);
    if (groups > (std::uint64_t{1} << 40)) return Status::Corruption("rle: run too long");
    std::uint64_t values = groups * 8;
    if (bytes > avail) {
      values = bit_width_ == 0 ? values : (avail * 8) / static_cast<std::uint64_t>(bit_width_);
      bytes = avail;
    }
    packed_ = data_ + pos_;
    packed_bit_ = 0;
    packed_left_ = values;
    pos_ += static_cast<std::size_t>(bytes);
    if (packed_left_ == 0 && groups != 0) return Status::Corruption("rle: empty bit-packed run");
  } else {
    rle_left_ = header >> 1;
    int bytes = (bit_width_ + 7) / 8;
    if (size_ - pos_ < static_cast<std::size_t>(bytes)) {
      return Status::Corruption("rle: truncated run value");
    }
    std::uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint32_t>(data_[pos_ + i]) << (8 * i);
    pos_ += bytes;
    if (bit_width_ < 32 && (v >> bit_width_) != 0) {
      return Status::Corruption("rle: run value wider than the bit width");
    }
    rle_value_ = v;
  }
  return Status::OK();
}

Status RleDecoder::Get(std::uint32_t* out, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    if (rle_left_ > 0) {
      std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(rle_left_, n - i));
      for (std::size_t j = 0; j < k; ++j) out[i + j] = rle_value_;
      rle_left_ -= k;
      i += k;
    } else if (packed_left_ > 0) {
      std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(packed_left_, n - i));
      for (std::size_t j = 0; j < k; ++j) {
        out[i + j] = static_cast<std::uint32_t>(ReadBitsLsb(packed_, packed_bit_, bit_width_));
        packed_bit_ += bit_width_;
      }
      packed_left_ -= k;
      i += k;
    } else {
      MH_RETURN_IF_ERROR(NextRun());
    }
  }
  return Status::OK();
}

Status DeltaBinaryPackedDecoder::ReadVarint(std::uint64_t* v) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= size_) return Status::Corruption("delta: truncated header");
    std::uint8_t b = data_[pos_++];
    if (shift == 63 && (b & 0x7e) != 0) return Status::Corruption("delta: varint too long");
    value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = value;
      return Status::OK();
    }
  }
  return Status::Corruption("delta: varint too long");
}

Status DeltaBinaryPackedDecoder::Init(const std::uint8_t* data, std::size_t size) {
  data_ = data;
  size_ = size;
  pos_ = 0;
  std::uint64_t first = 0;
  MH_RETURN_IF_ERROR(ReadVarint(&block_size_));
  MH_RETURN_IF_ERROR(ReadVarint(&miniblocks_));
  MH_RETURN_IF_ERROR(ReadVarint(&total_));
  MH_RETURN_IF_ERROR(ReadVarint(&first));
  if (block_size_ == 0 || block_size_ % 128 != 0 || block_size_ > (1u << 20) || miniblocks_ == 0 ||
      block_size_ % miniblocks_ != 0 || (block_size_ / miniblocks_) % 32 != 0) {
    return Status::Corruption("delta: invalid block size " + std::to_string(block_size_) + " / " +
                              std::to_string(miniblocks_) + " miniblocks");
  }
  per_miniblock_ = block_size_ / miniblocks_;
  last_ = (first >> 1) ^ (~(first & 1) + 1);
  emitted_ = 0;
  in_block_ = false;
  mb_left_ = 0;
  return Status::OK();
}

Status DeltaBinaryPackedDecoder::NextMiniblock() {
  if (!in_block_ || miniblock_index_ >= miniblocks_) {
    std::uint64_t md = 0;
    MH_RETURN_IF_ERROR(ReadVarint(&md));
    min_delta_ = (md >> 1) ^ (~(md & 1) + 1);
    if (size_ - pos_ < miniblocks_) return Status::Corruption("delta: truncated bit widths");
    widths_.assign(data_ + pos_, data_ + pos_ + miniblocks_);
    pos_ += static_cast<std::size_t>(miniblocks_);
    miniblock_index_ = 0;
    in_block_ = true;
  }
  int w = widths_[miniblock_index_++];
  if (w > 64) return Status::Corruption("delta: bit width " + std::to_string(w) + " above 64");
  std::size_t bytes = static_cast<std::size_t>(per_miniblock_ * w / 8);
  mb_width_ = w;
  mb_data_ = data_ + pos_;
  mb_avail_ = std::min(bytes, size_ - pos_);
  mb_bit_ = 0;
  mb_left_ = per_miniblock_;
  pos_ += mb_avail_;
  return Status::OK();
}

Status DeltaBinaryPackedDecoder::Get(std::int64_t* out, std::size_t n) {
  if (n > total_ - emitted_) return Status::Corruption("delta: fewer values than needed");
  for (std::size_t i = 0; i < n; ++i) {
    if (emitted_ > 0) {
      if (mb_left_ == 0) MH_RETURN_IF_ERROR(NextMiniblock());
      if ((mb_bit_ + mb_width_ + 7) / 8 > mb_avail_) {
        return Status::Corruption("delta: miniblock data ends early");
      }
      std::uint64_t v = ReadBitsLsb(mb_data_, mb_bit_, mb_width_);
      mb_bit_ += mb_width_;
      --mb_left_;
      last_ = last_ + min_delta_ + v;
    }
    out[i] = static_cast<std::int64_t>(last_);
    ++emitted_;
  }
  return Status::OK();
}

namespace {

void PutVarint(std::uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void FlushPacked(const std::vector<std::uint32_t>& pending, int bit_width, std::string* out) {
  if (pending.empty()) return;
  std::size_t groups = pending.size() / 8;
  PutVarint((static_cast<std::uint64_t>(groups) << 1) | 1, out);
  std::size_t start = out->size();
  out->resize(start + groups * bit_width, '\0');
  std::size_t bit = 0;
  for (std::uint32_t v : pending) {
    for (int b = 0; b < bit_width; ++b, ++bit) {
      if ((v >> b) & 1) (*out)[start + bit / 8] |= static_cast<char>(1 << (bit % 8));
    }
  }
}

}  // namespace

void RleEncode(const std::vector<std::uint32_t>& values, int bit_width, std::string* out) {
  std::vector<std::uint32_t> pending;
  std::size_t n = values.size();
  std::size_t i = 0;
  while (i < n) {
    std::size_t run = 1;
    while (i + run < n && values[i + run] == values[i]) ++run;
    if (run >= 8) {
      FlushPacked(pending, bit_width, out);
      pending.clear();
      PutVarint(static_cast<std::uint64_t>(run) << 1, out);
      for (int b = 0; b < (bit_width + 7) / 8; ++b) {
        out->push_back(static_cast<char>((values[i] >> (8 * b)) & 0xff));
      }
      i += run;
    } else {
      for (std::size_t j = 0; j < 8; ++j) pending.push_back(i + j < n ? values[i + j] : 0);
      i += 8;
    }
  }
  FlushPacked(pending, bit_width, out);
}

}  // namespace mh::parquet::internal
