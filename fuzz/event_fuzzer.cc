// Fuzz target for the streaming event decoder (pipeline/event_decoder.h) and
// the stream scorer's handling of what it decodes: any bytes must give either
// a decoded event or an InvalidArgument reason, never a crash or unbounded
// allocation; a decoded event must satisfy the decoder's promises.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pipeline/event_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mh::pipeline::EventDecoder decoder;  // reused, as in the service
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  mh::Status s = decoder.Decode(payload);
  if (!s.ok()) {
    if (!s.IsInvalidArgument() || s.message().empty()) std::abort();
    return 0;
  }
  const mh::pipeline::DecodedEvent& e = decoder.event();
  if (e.sensor_id.empty()) std::abort();
  if (e.feature_keys.size() != e.feature_values.size()) std::abort();
  if (e.kind == mh::pipeline::EventKind::kWaveform) {
    if (!(e.fs_hz > 0) || e.channel_names.empty()) std::abort();
    const std::size_t n = e.channels[0].size();
    for (std::size_t c = 0; c < e.channel_names.size(); ++c) {
      if (e.channels[c].size() != n || n == 0) std::abort();
    }
  }
  for (double v : e.feature_values) {
    if (!std::isfinite(v)) std::abort();
  }
  return 0;
}
