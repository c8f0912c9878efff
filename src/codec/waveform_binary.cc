#include "codec/waveform_binary.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/strings.h"

namespace mh::codec {
namespace {

// The format is little-endian; samples are copied with memcpy, which is that
// only on a little-endian host (every target machine-health is built for).
static_assert(std::endian::native == std::endian::little,
              "waveform_binary.cc assumes a little-endian host");

constexpr char kMagic[4] = {'\x89', 'M', 'H', 'W'};
constexpr char kErrorMagic[4] = {'\x89', 'M', 'H', 'X'};
constexpr std::uint8_t kFlagTimestamp = 1;
constexpr std::size_t kMaxErrorBytes = 4096;

template <typename T>
void Put(T value, std::string* out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

template <typename T>
T Get(std::string_view p, std::size_t offset) {
  T v;
  std::memcpy(&v, p.data() + offset, sizeof(T));
  return v;
}

Status Bad(std::size_t offset, std::string_view field, const std::string& what) {
  return Status::InvalidArgument("binary waveform: byte " + std::to_string(offset) + ": " +
                                 std::string(field) + ": " + what);
}

Status EncodeError(const std::string& what) {
  return Status::InvalidArgument("binary waveform encoder: " + what);
}

Status CheckText(std::string_view text, std::string_view field) {
  if (text.empty()) return EncodeError(std::string(field) + " is empty");
  if (text.size() > 0xffff) return EncodeError(std::string(field) + " longer than 65535 bytes");
  if (FindInvalidUtf8(text) >= 0) {
    return EncodeError(std::string(field) + " " + QuoteForMessage(text) + " is not valid UTF-8");
  }
  return Status::OK();
}

// True when the IEEE 754 bits of a double are NaN or infinite.
inline bool NonFiniteBits(std::uint64_t bits) {
  constexpr std::uint64_t kExp = 0x7ff0000000000000ull;
  return (bits & kExp) == kExp;
}

}  // namespace

bool IsWaveformBinary(std::string_view payload) {
  return payload.size() >= 4 && (std::memcmp(payload.data(), kMagic, 4) == 0 ||
                                 std::memcmp(payload.data(), kErrorMagic, 4) == 0);
}

Status AppendWaveformBinary(const WaveformHeader& h, std::span<const std::string> names,
                            std::span<const std::vector<double>> channels,
                            std::size_t max_samples_per_channel, std::string* out) {
  MH_RETURN_IF_ERROR(CheckText(h.sensor_id, "sensor id"));
  if (names.empty() || names.size() > kMaxBinaryChannels) {
    return EncodeError(std::to_string(names.size()) + " channels, expected 1.." +
                       std::to_string(kMaxBinaryChannels));
  }
  if (channels.size() != names.size()) {
    return EncodeError(std::to_string(names.size()) + " names for " +
                       std::to_string(channels.size()) + " channels");
  }
  const std::size_t n = channels[0].size();
  if (n == 0 || n > max_samples_per_channel) {
    return EncodeError(std::to_string(n) + " samples per channel, expected 1.." +
                       std::to_string(max_samples_per_channel));
  }
  for (std::size_t c = 0; c < names.size(); ++c) {
    MH_RETURN_IF_ERROR(CheckText(names[c], "channel name"));
    for (std::size_t k = 0; k < c; ++k) {
      if (names[k] == names[c])
        return EncodeError("duplicate channel " + QuoteForMessage(names[c]));
    }
    if (channels[c].size() != n) {
      return EncodeError("channel " + QuoteForMessage(names[c]) + " has " +
                         std::to_string(channels[c].size()) + " samples, channel " +
                         QuoteForMessage(names[0]) + " " + std::to_string(n));
    }
  }
  if (!(h.fs_hz > 0) || !std::isfinite(h.fs_hz)) {
    return EncodeError("fs " + FormatDouble(h.fs_hz) + " is not a finite number > 0");
  }
  const bool int16 = h.type == SampleType::kInt16;
  if (h.type != SampleType::kInt16 && h.type != SampleType::kFloat32 &&
      h.type != SampleType::kFloat64) {
    return EncodeError("unknown sample type");
  }
  if (int16 ? !(h.scale > 0) || !std::isfinite(h.scale * 32768.0) : h.scale != 1) {
    return EncodeError("scale " + FormatDouble(h.scale) +
                       (int16 ? " must be finite and > 0" : " must be 1 for float samples"));
  }

  std::size_t bytes = kWaveformBinaryHeaderBytes + 2 + h.sensor_id.size();
  for (const std::string& name : names) bytes += 2 + name.size();
  bytes += names.size() * n * SampleBytes(h.type);  // <= 256 x max x 8: no overflow
  if (bytes > kMaxPayloadBytes) {
    return EncodeError(std::to_string(names.size()) + " x " + std::to_string(n) +
                       " samples make a record of " + std::to_string(bytes) +
                       " bytes, more than the limit of " + std::to_string(kMaxPayloadBytes));
  }

  const std::size_t start = out->size();
  out->append(kMagic, 4);
  Put<std::uint8_t>(kWaveformBinaryVersion, out);
  Put<std::uint8_t>(static_cast<std::uint8_t>(h.type), out);
  Put<std::uint8_t>(h.has_timestamp ? kFlagTimestamp : 0, out);
  Put<std::uint8_t>(0, out);
  Put<std::uint32_t>(static_cast<std::uint32_t>(names.size()), out);
  Put<std::uint32_t>(static_cast<std::uint32_t>(n), out);
  Put<double>(h.fs_hz, out);
  Put<std::int64_t>(h.has_timestamp ? h.timestamp_ns : 0, out);
  Put<double>(h.scale, out);
  Put<std::uint16_t>(static_cast<std::uint16_t>(h.sensor_id.size()), out);
  out->append(h.sensor_id);
  for (const std::string& name : names) {
    Put<std::uint16_t>(static_cast<std::uint16_t>(name.size()), out);
    out->append(name);
  }
  const std::size_t width = SampleBytes(h.type);
  std::size_t pos = out->size();
  out->resize(pos + names.size() * n * width);
  char* dst = out->data() + pos;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const std::vector<double>& ch = channels[c];
    auto bad = [&](std::size_t k, const std::string& what) {
      out->resize(start);
      return EncodeError("channel " + QuoteForMessage(names[c]) + ": sample " + std::to_string(k) +
                         ": " + FormatDouble(ch[k]) + " " + what);
    };
    for (std::size_t k = 0; k < n; ++k) {
      if (!std::isfinite(ch[k])) return bad(k, "is not a finite number");
    }
    switch (h.type) {
      case SampleType::kFloat64:
        std::memcpy(dst, ch.data(), n * 8);
        break;
      case SampleType::kFloat32:
        for (std::size_t k = 0; k < n; ++k) {
          const auto f = static_cast<float>(ch[k]);
          if (!std::isfinite(f)) return bad(k, "is outside the float32 range");
          std::memcpy(dst + k * 4, &f, 4);
        }
        break;
      case SampleType::kInt16:
        for (std::size_t k = 0; k < n; ++k) {
          const double raw = std::nearbyint(ch[k] / h.scale);
          if (!(raw >= -32768 && raw <= 32767)) {
            return bad(k, "/ scale " + FormatDouble(h.scale) + " does not fit in int16");
          }
          const auto v = static_cast<std::int16_t>(raw);
          std::memcpy(dst + k * 2, &v, 2);
        }
        break;
    }
    dst += n * width;
  }
  return Status::OK();
}

void AppendWaveformError(std::string_view reason, std::string* out) {
  out->append(kErrorMagic, 4);
  if (reason.size() > kMaxErrorBytes || FindInvalidUtf8(reason) >= 0) {
    // Quoted and escaped; at most 4 * max + 40 bytes: <= kMaxErrorBytes.
    out->append(QuoteForMessage(reason, (kMaxErrorBytes - 40) / 4));
  } else {
    out->append(reason);
  }
}

Status ParseWaveformBinary(std::string_view p, std::size_t max_samples_per_channel,
                           std::size_t max_bytes, WaveformRecord* r) {
  r->channel_names.clear();
  if (p.size() >= 4 && std::memcmp(p.data(), kErrorMagic, 4) == 0) {
    std::string_view reason = p.substr(4);
    if (FindInvalidUtf8(reason) >= 0 || reason.size() > kMaxErrorBytes) {
      return Status::InvalidArgument("source error: " + QuoteForMessage(reason, 400));
    }
    return Status::InvalidArgument("source error: " + std::string(reason));
  }
  if (p.size() < 4 || std::memcmp(p.data(), kMagic, 4) != 0) {
    return Bad(0, "magic", "not \\x89MHW");
  }
  if (p.size() > max_bytes) {
    return Bad(
        0, "size",
        std::to_string(p.size()) + " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  if (p.size() < kWaveformBinaryHeaderBytes + 2) {
    return Bad(p.size(), "header",
               "truncated: " + std::to_string(p.size()) + " bytes, the header is " +
                   std::to_string(kWaveformBinaryHeaderBytes + 2));
  }
  const auto version = Get<std::uint8_t>(p, 4);
  if (version != kWaveformBinaryVersion) {
    return Bad(4, "version", std::to_string(version) + ", expected 1");
  }
  const auto type = Get<std::uint8_t>(p, 5);
  if (type < 1 || type > 3) {
    return Bad(5, "sample type",
               std::to_string(type) + ", expected 1 (int16), 2 (float32) or 3 (float64)");
  }
  r->type = static_cast<SampleType>(type);
  const auto flags = Get<std::uint8_t>(p, 6);
  if ((flags & ~kFlagTimestamp) != 0) return Bad(6, "flags", "unknown bits set");
  if (Get<std::uint8_t>(p, 7) != 0) return Bad(7, "reserved", "not 0");
  const auto channels = Get<std::uint32_t>(p, 8);
  if (channels == 0 || channels > kMaxBinaryChannels) {
    return Bad(8, "channel count",
               std::to_string(channels) + ", expected 1.." + std::to_string(kMaxBinaryChannels));
  }
  r->samples = Get<std::uint32_t>(p, 12);
  if (r->samples == 0 || r->samples > max_samples_per_channel) {
    return Bad(
        12, "samples per channel",
        std::to_string(r->samples) + ", expected 1.." + std::to_string(max_samples_per_channel));
  }
  r->fs_hz = Get<double>(p, 16);
  if (!(r->fs_hz > 0) || !std::isfinite(r->fs_hz)) {
    return Bad(16, "fs", FormatDouble(r->fs_hz) + ", expected a finite number > 0");
  }
  r->has_timestamp = (flags & kFlagTimestamp) != 0;
  r->timestamp_ns = Get<std::int64_t>(p, 24);
  if (!r->has_timestamp && r->timestamp_ns != 0) {
    return Bad(24, "event time", "not 0 while flag bit 0 (has event time) is clear");
  }
  r->scale = Get<double>(p, 32);
  if (r->type == SampleType::kInt16) {
    if (!(r->scale > 0) || !std::isfinite(r->scale * 32768.0)) {
      return Bad(32, "scale", FormatDouble(r->scale) + ", expected a finite number > 0");
    }
  } else if (r->scale != 1) {
    return Bad(32, "scale", FormatDouble(r->scale) + ", expected 1 for float samples");
  }

  // Length-prefixed texts: the sensor id, then one name per channel.
  std::size_t pos = kWaveformBinaryHeaderBytes;
  auto text = [&](std::string_view field, std::string_view* out) -> Status {
    if (p.size() - pos < 2) return Bad(pos, field, "truncated length");
    const auto len = Get<std::uint16_t>(p, pos);
    if (len == 0) return Bad(pos, field, "empty");
    if (p.size() - pos - 2 < len) {
      return Bad(pos, field,
                 "length " + std::to_string(len) + " runs past the end (" +
                     std::to_string(p.size() - pos - 2) + " bytes left)");
    }
    *out = p.substr(pos + 2, len);
    const std::ptrdiff_t bad = FindInvalidUtf8(*out);
    if (bad >= 0) {
      return Bad(pos + 2 + static_cast<std::size_t>(bad), field, "not valid UTF-8");
    }
    pos += 2 + len;
    return Status::OK();
  };
  MH_RETURN_IF_ERROR(text("sensor id", &r->sensor_id));
  for (std::uint32_t c = 0; c < channels; ++c) {
    const std::size_t at = pos;
    const std::string field = "channel " + std::to_string(c) + " name";
    std::string_view name;
    MH_RETURN_IF_ERROR(text(field, &name));
    for (const std::string_view other : r->channel_names) {
      if (other == name) return Bad(at, field, "duplicate " + QuoteForMessage(name));
    }
    r->channel_names.push_back(name);
  }
  // channels <= 256 and samples <= the limit: the product cannot overflow.
  const std::uint64_t sample_bytes = std::uint64_t{channels} * r->samples * SampleBytes(r->type);
  const std::uint64_t left = p.size() - pos;
  if (left != sample_bytes) {
    return Bad(pos, "samples",
               std::to_string(channels) + " x " + std::to_string(r->samples) + " samples need " +
                   std::to_string(sample_bytes) + " bytes, " + std::to_string(left) +
                   (left < sample_bytes ? " left (truncated)" : " left (trailing bytes)"));
  }
  r->samples_offset = pos;
  return Status::OK();
}

Status DecodeWaveformChannel(std::string_view p, const WaveformRecord& r, std::size_t c,
                             double* out) {
  const std::size_t n = r.samples;
  const std::size_t width = SampleBytes(r.type);
  const std::size_t base = r.samples_offset + c * n * width;
  const char* src = p.data() + base;
  auto bad = [&](std::size_t k) {
    return Bad(base + k * width,
               "channel " + QuoteForMessage(r.channel_names[c]) + " sample " + std::to_string(k),
               "not a finite number");
  };
  switch (r.type) {
    case SampleType::kFloat64: {
      std::memcpy(out, src, n * 8);
      // One branch-free pass (vectorized); the first bad sample is looked
      // for only when there is one.
      std::uint64_t any = 0;
      for (std::size_t k = 0; k < n; ++k) {
        any |= NonFiniteBits(std::bit_cast<std::uint64_t>(out[k]));
      }
      if (any) {
        for (std::size_t k = 0; k < n; ++k) {
          if (!std::isfinite(out[k])) return bad(k);
        }
      }
      break;
    }
    case SampleType::kFloat32: {
      std::uint32_t any = 0;
      for (std::size_t k = 0; k < n; ++k) {
        std::uint32_t bits;
        std::memcpy(&bits, src + k * 4, 4);
        any |= (bits & 0x7f800000u) == 0x7f800000u;
        out[k] = static_cast<double>(std::bit_cast<float>(bits));
      }
      if (any) {
        for (std::size_t k = 0; k < n; ++k) {
          if (!std::isfinite(out[k])) return bad(k);
        }
      }
      break;
    }
    case SampleType::kInt16: {
      const double scale = r.scale;
      for (std::size_t k = 0; k < n; ++k) {
        std::int16_t v;
        std::memcpy(&v, src + k * 2, 2);
        out[k] = static_cast<double>(v) * scale;
      }
      break;
    }
  }
  return Status::OK();
}

}  // namespace mh::codec
