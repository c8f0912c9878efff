// EventDecoder: parses one event (a transport message's JSON payload) into
// plain values, for the streaming scorer. The prototype's event JSON is
// accepted unchanged:
//   feature event   {"sensor_id": "sim-1", "timestamp": 1761519890.5,
//                    "feature_1": 0.12, ..., "feature_N": -0.3}
//   waveform event  {"device_id"|"sensor_id"|"id": "m1", "fs": 6400,
//                    "ax": [...], "ay": [...], "az": [...], "timestamp": ...}
// Rules (docs/streaming.md):
// - The payload must be one JSON object (UTF-8, at most kMaxEventBytes).
// - Sensor id: "sensor_id", else "device_id", else "id"; a string or an
//   integer; required and non-empty.
// - "timestamp": seconds since the Unix epoch as a number (fraction allowed;
//   rounded to the microsecond), or an RFC 3339 string. Optional here: the
//   scorer falls back to the transport's timestamp.
// - A "fs" member makes it a waveform event: fs is a number > 0, and every
//   member whose value is an array is a channel of numbers, all of the same
//   length (1..kMaxSamplesPerChannel); at least one channel.
// - Otherwise every other member whose value is a number is a feature. Members
//   with other values (string, bool, null, object, array) are recorded in
//   non_numeric so that the scorer can say why a feature it needs is unusable;
//   they are not an error by themselves.
// Errors are InvalidArgument with a reason naming the member ("member 'ax':
// sample 17 is not a number"); the caller sends the event to dead letters.
// A payload starting with the binary magic (0x89 "MHW", codec/waveform_binary.h,
// docs/transports.md) is a binary waveform event and fills the same waveform
// fields (kind, sensor_id, timestamp, fs_hz, channel_names, channels); its
// errors name the field and byte offset. A binary error record (0x89 "MHX",
// sent by a dir: source for a file it cannot read) is InvalidArgument
// "source error: <reason>".
//
// Thread safety: one decoder per thread. The event returned by Decode (its
// string views) stays valid until the next Decode call.
#ifndef MH_PIPELINE_EVENT_DECODER_H_
#define MH_PIPELINE_EVENT_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codec/waveform_binary.h"
#include "core/result.h"
#include "core/status.h"

namespace mh::pipeline {

inline constexpr std::size_t kMaxEventBytes = codec::kMaxPayloadBytes;
inline constexpr std::size_t kMaxSamplesPerChannel = codec::kMaxWaveformSamples;
// Readable bytes past the end of a payload that let Decode parse in place
// (simdjson's SIMDJSON_PADDING; transport::kPayloadPadding provides them).
inline constexpr std::size_t kDecodePadding = 64;

// Serialized in metrics and dead letters: explicit values.
enum class EventKind : std::uint8_t { kFeatures = 1, kWaveform = 2 };

struct DecodedEvent {
  EventKind kind = EventKind::kFeatures;
  // A binary waveform event (it has no other members than its channels).
  bool binary = false;
  std::string sensor_id;
  bool has_timestamp = false;
  std::int64_t timestamp_ns = 0;  // valid when has_timestamp

  // Feature events: numeric members other than the id and timestamp, in
  // document order.
  std::vector<std::string_view> feature_keys;
  std::vector<double> feature_values;
  // Members of any event that are neither numbers nor used: key and JSON type
  // name ("string", "null", ...).
  std::vector<std::pair<std::string_view, const char*>> non_numeric;

  // Waveform events.
  double fs_hz = 0;
  std::vector<std::string_view> channel_names;
  // channels[i] holds channel_names[i] for i < channel_names.size(); entries
  // beyond are scratch kept for their capacity.
  std::vector<std::vector<double>> channels;

  // Looks up a feature value by key; nullptr when absent.
  const double* FindFeature(std::string_view key) const;
  // The JSON type of a non-numeric member, nullptr when none has that key.
  const char* NonNumericType(std::string_view key) const;
};

class EventDecoder {
 public:
  EventDecoder();
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // Decodes `payload`; on success event() holds it. `readable`: how many
  // bytes from payload.data() may be read (>= payload.size(), e.g. a
  // std::string's capacity()); with kDecodePadding or more beyond the payload
  // it is parsed in place, else copied into a padded buffer first. What those
  // bytes hold does not matter.
  Status Decode(std::string_view payload, std::size_t readable = 0);
  const DecodedEvent& event() const { return event_; }

 private:
  Status DecodeBinary(std::string_view payload);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  DecodedEvent event_;
};

// Seconds since the epoch (finite, within years 1678..2261) to ns, rounded to
// the microsecond so that the same text always gives the same instant.
Result<std::int64_t> EpochSecondsToNs(double seconds);

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_EVENT_DECODER_H_
