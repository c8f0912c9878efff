#include "codec/snapshot.h"

#include <utility>

#include "codec/waveform_binary.h"
#include "core/compression.h"

namespace mh::codec {

Result<std::string> EncodeSnapshot(std::string_view sensor_id, std::int64_t timestamp_ns,
                                   double fs_hz, std::span<const std::string> names,
                                   std::span<const std::span<const double>> channels) {
  WaveformHeader header;
  header.sensor_id = std::string(sensor_id);
  header.has_timestamp = true;
  header.timestamp_ns = timestamp_ns;
  header.fs_hz = fs_hz;
  header.type = SampleType::kFloat32;
  std::vector<std::vector<double>> copies;
  copies.reserve(channels.size());
  for (std::span<const double> c : channels) copies.emplace_back(c.begin(), c.end());
  std::string record;
  MH_RETURN_IF_ERROR(AppendWaveformBinary(header, names, copies, kMaxWaveformSamples, &record)
                         .WithContext("snapshot"));
  return Compress(Compression::kZstd, record, 3);
}

Result<SnapshotSamples> DecodeSnapshot(std::string_view blob, std::string_view what) {
  const std::string where(what);
  DecompressOptions options;
  options.max_output_bytes = kMaxSnapshotBytes;
  Result<std::string> record = Decompress(Compression::kZstd, blob, options);
  if (!record.ok()) return Status::Corruption(where + ": " + record.status().message());
  WaveformRecord parsed;
  Status s = ParseWaveformBinary(*record, kMaxWaveformSamples, kMaxSnapshotBytes, &parsed);
  if (!s.ok()) return Status::Corruption(where + ": " + s.message());
  if (parsed.type != SampleType::kFloat32 || !parsed.has_timestamp) {
    return Status::Corruption(where + ": not a float32 snapshot record with a time");
  }
  SnapshotSamples out;
  out.sensor_id = std::string(parsed.sensor_id);
  out.timestamp_ns = parsed.timestamp_ns;
  out.fs_hz = parsed.fs_hz;
  out.samples.resize(parsed.channel_names.size());
  for (std::size_t c = 0; c < parsed.channel_names.size(); ++c) {
    out.channels.emplace_back(parsed.channel_names[c]);
    out.samples[c].resize(parsed.samples);
    s = DecodeWaveformChannel(*record, parsed, c, out.samples[c].data());
    if (!s.ok()) return Status::Corruption(where + ": " + s.message());
  }
  return out;
}

}  // namespace mh::codec
