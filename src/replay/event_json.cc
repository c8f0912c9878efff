#include "replay/event_json.h"

#include <charconv>
#include <cmath>

#include "core/check.h"

namespace mh::replay {

namespace {
void AppendHead(std::string_view sensor_id, double timestamp_s, std::string* out) {
  out->append("{\"sensor_id\":");
  AppendJsonString(sensor_id, out);
  out->append(",\"timestamp\":");
  AppendJsonNumber(timestamp_s, out);
}
}  // namespace

void AppendFeatureEventJson(const FeatureEvent& event, std::string* out) {
  MH_CHECK(event.keys.size() == event.values.size());
  AppendHead(event.sensor_id, event.timestamp_s, out);
  for (std::size_t i = 0; i < event.keys.size(); ++i) {
    out->push_back(',');
    AppendJsonString(event.keys[i], out);
    out->push_back(':');
    AppendJsonNumber(event.values[i], out);
  }
  out->push_back('}');
}

std::vector<std::string> EncodeFeatureKeys(std::span<const std::string> keys) {
  std::vector<std::string> encoded;
  encoded.reserve(keys.size());
  for (const std::string& key : keys) {
    std::string& e = encoded.emplace_back(",");
    AppendJsonString(key, &e);
    e.push_back(':');
  }
  return encoded;
}

void AppendFeatureEventJson(const FeatureEvent& event, std::span<const std::string> encoded_keys,
                            std::string* out) {
  MH_CHECK(encoded_keys.size() == event.values.size());
  AppendHead(event.sensor_id, event.timestamp_s, out);
  for (std::size_t i = 0; i < encoded_keys.size(); ++i) {
    out->append(encoded_keys[i]);
    AppendJsonNumber(event.values[i], out);
  }
  out->push_back('}');
}

void AppendWaveformEventJson(const WaveformEvent& event, std::string* out) {
  MH_CHECK(event.channels.size() == event.samples.size());
  AppendHead(event.sensor_id, event.timestamp_s, out);
  out->append(",\"fs\":");
  AppendJsonNumber(event.fs_hz, out);
  for (std::size_t i = 0; i < event.channels.size(); ++i) {
    out->push_back(',');
    AppendJsonString(event.channels[i], out);
    out->append(":[");
    for (std::size_t k = 0; k < event.samples[i].size(); ++k) {
      if (k > 0) out->push_back(',');
      AppendJsonNumber(event.samples[i][k], out);
    }
    out->push_back(']');
  }
  out->push_back('}');
}

}  // namespace mh::replay
