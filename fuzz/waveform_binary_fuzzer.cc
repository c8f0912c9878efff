// Fuzz target for the binary waveform payload (codec/waveform_binary.h) as
// the pipeline decodes it (pipeline::EventDecoder): any bytes after the
// magic must give a decoded waveform or an InvalidArgument reason, never a
// crash or an allocation beyond the payload's own size; a decoded event keeps
// the decoder's promises, and a float64 record re-encodes to the same bytes.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "codec/waveform_binary.h"
#include "pipeline/event_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mh::pipeline::EventDecoder decoder;  // reused, as in the service
  // Inputs are taken after the magic, so the fuzzer spends its time on the
  // binary form (the JSON form has its own target, event).
  std::string payload = "\x89MHW";
  payload.append(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] == 'X') payload[3] = 'X';  // error records too
  mh::Status s = decoder.Decode(payload);
  if (!s.ok()) {
    if (!s.IsInvalidArgument() || s.message().empty()) std::abort();
    return 0;
  }
  const mh::pipeline::DecodedEvent& e = decoder.event();
  if (e.kind != mh::pipeline::EventKind::kWaveform || e.sensor_id.empty()) std::abort();
  if (!(e.fs_hz > 0) || !std::isfinite(e.fs_hz) || e.channel_names.empty()) std::abort();
  const std::size_t n = e.channels[0].size();
  if (n == 0 || n * e.channel_names.size() * 2 > payload.size()) std::abort();
  std::vector<std::string> names;
  std::vector<std::vector<double>> channels;
  for (std::size_t c = 0; c < e.channel_names.size(); ++c) {
    if (e.channels[c].size() != n) std::abort();
    for (double v : e.channels[c]) {
      if (!std::isfinite(v)) std::abort();
    }
    names.emplace_back(e.channel_names[c]);
    channels.push_back(e.channels[c]);
  }
  if (payload[5] == static_cast<char>(mh::codec::SampleType::kFloat64)) {
    mh::codec::WaveformHeader h;
    h.sensor_id = e.sensor_id;
    h.has_timestamp = e.has_timestamp;
    h.timestamp_ns = e.timestamp_ns;
    h.fs_hz = e.fs_hz;
    h.type = mh::codec::SampleType::kFloat64;
    std::string again;
    if (!mh::codec::AppendWaveformBinary(h, names, channels, mh::pipeline::kMaxSamplesPerChannel,
                                         &again)
             .ok() ||
        again != payload) {
      std::abort();
    }
  }
  return 0;
}
