// JSON encoding of replayed events, shared by every publisher (stdout now,
// Kafka/MQTT later). Pure functions: no I/O, no allocation beyond `out`.
//
// Feature event:  {"sensor_id":"sim-1","timestamp":1761519890.5,
//                  "feature_1":0.12,...}
// Waveform event: {"sensor_id":"sim-1","timestamp":1761519890.5,"fs":25600,
//                  "ax":[0.1,...],"ay":[...]}
// Numbers are the shortest decimal text that reads back to the same double
// (std::to_chars); keys appear in the order given. Encoders require finite
// numbers (checked): callers reject NaN and infinities as bad data first.
//
// Thread safety: pure functions.
#ifndef MH_REPLAY_EVENT_JSON_H_
#define MH_REPLAY_EVENT_JSON_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"

namespace mh::replay {

// A feature row. `keys` and `values` have the same length.
struct FeatureEvent {
  std::string_view sensor_id;
  double timestamp_s = 0;  // seconds since the Unix epoch
  std::span<const std::string> keys;
  std::span<const double> values;
};

// A window of raw samples: one array per channel, all of the same length.
struct WaveformEvent {
  std::string_view sensor_id;
  double timestamp_s = 0;  // seconds since the epoch of the window's first sample
  double fs_hz = 0;        // sampling rate
  std::span<const std::string> channels;
  std::span<const std::vector<double>> samples;  // samples[i] belongs to channels[i]
};

// JSON string literals: the one escaper in core/strings.h.
using ::mh::AppendJsonString;
// Finite doubles as JSON numbers: the one formatter in core/strings.h.
using ::mh::AppendJsonNumber;

// Appends one event as a single-line JSON object (no trailing newline).
void AppendFeatureEventJson(const FeatureEvent& event, std::string* out);

// The hot path of a replay: keys encoded once (EncodeFeatureKeys: `,"key":`
// each) instead of escaped per event. `encoded_keys` has one entry per value;
// event.keys is not used. Output identical to AppendFeatureEventJson.
std::vector<std::string> EncodeFeatureKeys(std::span<const std::string> keys);
void AppendFeatureEventJson(const FeatureEvent& event, std::span<const std::string> encoded_keys,
                            std::string* out);
void AppendWaveformEventJson(const WaveformEvent& event, std::string* out);

}  // namespace mh::replay

#endif  // MH_REPLAY_EVENT_JSON_H_
