#include "replay/event_json.h"

#include <charconv>
#include <cmath>

#include "core/check.h"

namespace mh::replay {

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  std::size_t run = 0;  // start of the pending run of plain bytes
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, sizeof(esc));
      }
    }
  }
  out->append(text.substr(run));
  out->push_back('"');
}

void AppendJsonNumber(double value, std::string* out) {
  MH_CHECK(std::isfinite(value));
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  MH_CHECK(ec == std::errc());
  out->append(buf, ptr);
}

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
