// The compact binary waveform payload: one sensor's snapshot of samples in a
// small versioned little-endian record, the alternative to the JSON waveform
// event (pipeline/event_decoder.h) that decodes at memory speed. The format,
// byte by byte, is in docs/transports.md ("Binary waveform payload"):
//
//   magic "\x89MHW" | version 1 | sample type | flags | reserved 0 |
//   u32 channels | u32 samples per channel | f64 fs | i64 event time ns |
//   f64 scale | u16 + sensor id | per channel u16 + name |
//   samples, channel after channel (planar)
//
// The first byte (0x89) is never the first byte of a JSON text or of UTF-8,
// so a decoder tells the two forms apart by it (IsWaveformBinary).
//
// A source that cannot turn its input into a waveform (a damaged file in a
// dir: source) sends an error record instead, "\x89MHX" followed by the
// reason as UTF-8 text: the decoder rejects it with that reason, so the event
// goes to dead letters naming the file (ParseWaveformBinary).
//
// This is the one place of the codec: the encoder (tests, bench, dir source)
// and the parser (pipeline::EventDecoder) live here.
//
// Thread safety: free functions and plain values.
#ifndef MH_CODEC_WAVEFORM_BINARY_H_
#define MH_CODEC_WAVEFORM_BINARY_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mh::codec {

inline constexpr std::uint8_t kWaveformBinaryVersion = 1;
inline constexpr std::size_t kWaveformBinaryHeaderBytes = 40;  // up to the sensor id
inline constexpr std::size_t kMaxBinaryChannels = 256;
// Most samples per channel of one waveform event, in either form
// (pipeline::kMaxSamplesPerChannel is this value).
inline constexpr std::size_t kMaxWaveformSamples = std::size_t{1} << 22;
// Largest event payload, in either form (pipeline::kMaxEventBytes is this
// value).
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{64} << 20;

// Serialized (byte 5): explicit values.
enum class SampleType : std::uint8_t { kInt16 = 1, kFloat32 = 2, kFloat64 = 3 };

// Bytes per sample of `type`.
constexpr std::size_t SampleBytes(SampleType type) {
  return type == SampleType::kInt16 ? 2 : type == SampleType::kFloat32 ? 4 : 8;
}

// What the encoder writes besides the samples.
struct WaveformHeader {
  std::string sensor_id;          // non-empty UTF-8, at most 65535 bytes
  bool has_timestamp = false;     // false: the event carries no time
  std::int64_t timestamp_ns = 0;  // event time of the first sample, ns since the epoch
  double fs_hz = 0;               // sampling rate, finite and > 0
  SampleType type = SampleType::kFloat64;
  // kInt16 only: physical value = raw * scale (finite, > 0). Must be 1 for
  // the float types.
  double scale = 1;
};

// True when `payload` starts with the magic of a waveform record or of an
// error record ("\x89MHW" or "\x89MHX").
bool IsWaveformBinary(std::string_view payload);

// Appends one record to *out. `channels` hold physical values, one vector per
// name in `names`, all of the same length (1..samples limit). kFloat64 keeps
// them exactly; kFloat32 rounds to the nearest float; kInt16 stores
// round(v / scale), which must fit in int16. InvalidArgument naming the
// field, channel and sample for anything the decoder would refuse (empty or
// bad UTF-8 names, unequal lengths, a non-finite sample, a value outside the
// type's range, a record larger than kMaxPayloadBytes); *out is then
// unchanged.
Status AppendWaveformBinary(const WaveformHeader& header, std::span<const std::string> names,
                            std::span<const std::vector<double>> channels,
                            std::size_t max_samples_per_channel, std::string* out);

// Appends an error record carrying `reason` (at most 4096 bytes are kept;
// a longer or invalid UTF-8 reason is quoted by QuoteForMessage).
void AppendWaveformError(std::string_view reason, std::string* out);

// A parsed record: the header fields and where the samples are. Views point
// into the payload given to ParseWaveformBinary.
struct WaveformRecord {
  SampleType type = SampleType::kFloat64;
  std::string_view sensor_id;
  bool has_timestamp = false;
  std::int64_t timestamp_ns = 0;
  double fs_hz = 0;
  double scale = 1;
  std::uint32_t samples = 0;  // per channel
  std::vector<std::string_view> channel_names;
  std::size_t samples_offset = 0;  // byte offset of channel 0's first sample
};

// Checks everything but the sample values: magic, version, type, flags,
// counts against the limits (`max_samples_per_channel`, `max_bytes` for the
// whole payload), fs, scale, id and names (non-empty, UTF-8, unique names)
// and that the payload size is exactly what the counts say. An error record
// gives InvalidArgument with its reason. Other errors are InvalidArgument
// "binary waveform: byte N: FIELD: what is wrong".
Status ParseWaveformBinary(std::string_view payload, std::size_t max_samples_per_channel,
                           std::size_t max_bytes, WaveformRecord* record);

// Converts channel `c` of a parsed record into `out` (record.samples values,
// physical units). InvalidArgument naming the channel, sample and byte
// offset for a NaN or infinite float sample.
Status DecodeWaveformChannel(std::string_view payload, const WaveformRecord& record, std::size_t c,
                             double* out);

}  // namespace mh::codec

#endif  // MH_CODEC_WAVEFORM_BINARY_H_
