// Waveform snapshots: the raw samples of one window, kept compressed by the
// store (an alarm's peak window, a machine's periodic sample of its recent
// past) so that its spectrum and envelope spectrum can be drawn afterwards.
//
// A snapshot blob is one zstd frame (core/compression.h) holding one binary
// waveform record (codec/waveform_binary.h) with float32 samples: the same
// record a sensor may send, so the format is written down once
// (docs/transports.md, "Binary waveform payload"; docs/database.md,
// "Waveform snapshots").
//
// Thread safety: free functions and plain values.
#ifndef MH_CODEC_SNAPSHOT_H_
#define MH_CODEC_SNAPSHOT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh::codec {

// Largest decompressed snapshot accepted by DecodeSnapshot (a window of up
// to 2^20 samples on 8 channels at float32, with room for the names).
inline constexpr std::size_t kMaxSnapshotBytes = std::size_t{40} << 20;

struct SnapshotSamples {
  std::string sensor_id;              // the machine
  std::int64_t timestamp_ns = 0;      // event time of the first sample
  double fs_hz = 0;                   // sampling rate
  std::vector<std::string> channels;  // channel names
  // Samples per channel (physical units, float32 precision widened).
  std::vector<std::vector<double>> samples;
};

// Encodes the window `channels` (one span per name, equal lengths, finite
// values) as a snapshot blob. InvalidArgument as AppendWaveformBinary
// (naming the field, channel and sample); Internal if zstd fails.
Result<std::string> EncodeSnapshot(std::string_view sensor_id, std::int64_t timestamp_ns,
                                   double fs_hz, std::span<const std::string> names,
                                   std::span<const std::span<const double>> channels);

// Decodes a blob written by EncodeSnapshot. Corruption naming `what` (e.g.
// "snapshot 12") for a blob that is not zstd, decompresses past
// kMaxSnapshotBytes, or does not hold a valid float32 waveform record.
Result<SnapshotSamples> DecodeSnapshot(std::string_view blob, std::string_view what);

}  // namespace mh::codec

#endif  // MH_CODEC_SNAPSHOT_H_
