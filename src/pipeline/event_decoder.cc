#include "pipeline/event_decoder.h"

#include <cmath>

#include <simdjson.h>

#include "codec/waveform_binary.h"
#include "core/time_util.h"

namespace mh::pipeline {
namespace {

const char* TypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "array";
    case T::OBJECT:
      return "object";
    case T::STRING:
      return "string";
    case T::BOOL:
      return "bool";
    case T::NULL_VALUE:
      return "null";
    default:
      return "number";
  }
}

bool IsNumber(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  return t == T::INT64 || t == T::UINT64 || t == T::DOUBLE;
}

double AsDouble(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64:
      return static_cast<double>(int64_t(e));
    case simdjson::dom::element_type::UINT64:
      return static_cast<double>(uint64_t(e));
    default:
      return double(e);
  }
}

std::string Quote(std::string_view key) {
  std::string out = "member '";
  out.append(key.substr(0, 80));
  out += "'";
  return out;
}

}  // namespace

struct EventDecoder::Impl {
  simdjson::dom::parser parser;
  // Binary payloads: the parsed record, and the channel names copied so that
  // the event's views outlive the caller's payload buffer.
  codec::WaveformRecord record;
  std::string names;
};

EventDecoder::EventDecoder() : impl_(std::make_unique<Impl>()) {}
EventDecoder::~EventDecoder() = default;

const double* DecodedEvent::FindFeature(std::string_view key) const {
  for (std::size_t i = 0; i < feature_keys.size(); ++i) {
    if (feature_keys[i] == key) return &feature_values[i];
  }
  return nullptr;
}

const char* DecodedEvent::NonNumericType(std::string_view key) const {
  for (const auto& [k, type] : non_numeric) {
    if (k == key) return type;
  }
  return nullptr;
}

Result<std::int64_t> EpochSecondsToNs(double seconds) {
  if (!std::isfinite(seconds) || seconds < -9.2e9 || seconds > 9.2e9) {
    return Status::InvalidArgument("timestamp out of range");
  }
  const double whole = std::floor(seconds);
  const double frac = seconds - whole;  // exact
  const auto us = static_cast<std::int64_t>(std::llround(frac * 1e6));
  return static_cast<std::int64_t>(whole) * 1000000000 + us * 1000;
}

static_assert(kDecodePadding >= simdjson::SIMDJSON_PADDING);

Status EventDecoder::Decode(std::string_view payload, std::size_t readable) {
  DecodedEvent& ev = event_;
  ev.kind = EventKind::kFeatures;
  ev.binary = false;
  ev.sensor_id.clear();
  ev.has_timestamp = false;
  ev.timestamp_ns = 0;
  ev.feature_keys.clear();
  ev.feature_values.clear();
  ev.non_numeric.clear();
  ev.fs_hz = 0;
  ev.channel_names.clear();
  std::size_t used_channels = 0;

  if (payload.size() > kMaxEventBytes) {
    return Status::InvalidArgument("event larger than 64 MiB");
  }
  if (codec::IsWaveformBinary(payload)) return DecodeBinary(payload);
  simdjson::dom::element root;
  const bool padded = readable >= payload.size() + kDecodePadding;
  if (auto err = impl_->parser.parse(payload.data(), payload.size(), !padded).get(root)) {
    return Status::InvalidArgument(std::string("not valid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get(obj)) return Status::InvalidArgument("event is not a JSON object");

  // First pass: identity, time and kind.
  std::string_view id_key;
  int id_rank = 99;  // sensor_id (0) beats device_id (1) beats id (2)
  simdjson::dom::element id_value;
  bool has_fs = false;
  for (auto field : obj) {
    const std::string_view key = field.key;
    int rank = 99;
    if (key == "sensor_id")
      rank = 0;
    else if (key == "device_id")
      rank = 1;
    else if (key == "id")
      rank = 2;
    if (rank < id_rank) {
      id_rank = rank;
      id_key = key;
      id_value = field.value;
    }
    if (key == "fs") {
      if (!IsNumber(field.value.type())) {
        return Status::InvalidArgument("member 'fs' is not a number");
      }
      ev.fs_hz = AsDouble(field.value);
      if (!(ev.fs_hz > 0) || !std::isfinite(ev.fs_hz)) {
        return Status::InvalidArgument("member 'fs' must be > 0");
      }
      has_fs = true;
    } else if (key == "timestamp") {
      if (IsNumber(field.value.type())) {
        auto ns = EpochSecondsToNs(AsDouble(field.value));
        if (!ns.ok()) return Status::InvalidArgument("member 'timestamp': out of range");
        ev.timestamp_ns = ns.value();
      } else if (field.value.type() == simdjson::dom::element_type::STRING) {
        auto ns = ParseInstant(std::string_view(field.value));
        if (!ns.ok()) {
          return Status::InvalidArgument("member 'timestamp': " + ns.status().message());
        }
        ev.timestamp_ns = ns.value();
      } else {
        return Status::InvalidArgument(std::string("member 'timestamp' is ") +
                                       TypeName(field.value.type()) +
                                       ", expected seconds since the epoch or an RFC 3339 string");
      }
      ev.has_timestamp = true;
    }
  }
  if (id_rank == 99) {
    return Status::InvalidArgument("no sensor id (member 'sensor_id', 'device_id' or 'id')");
  }
  switch (id_value.type()) {
    case simdjson::dom::element_type::STRING:
      ev.sensor_id = std::string_view(id_value);
      break;
    case simdjson::dom::element_type::INT64:
      ev.sensor_id = std::to_string(int64_t(id_value));
      break;
    case simdjson::dom::element_type::UINT64:
      ev.sensor_id = std::to_string(uint64_t(id_value));
      break;
    default:
      return Status::InvalidArgument(Quote(id_key) + " is " + TypeName(id_value.type()) +
                                     ", expected a string");
  }
  if (ev.sensor_id.empty()) return Status::InvalidArgument(Quote(id_key) + " is empty");
  ev.kind = has_fs ? EventKind::kWaveform : EventKind::kFeatures;

  // Second pass: values.
  std::size_t length = 0;
  for (auto field : obj) {
    const std::string_view key = field.key;
    if (key == "sensor_id" || key == "device_id" || key == "id" || key == "timestamp" ||
        key == "fs") {
      continue;
    }
    const auto type = field.value.type();
    if (has_fs && type == simdjson::dom::element_type::ARRAY) {
      simdjson::dom::array arr = field.value;
      const std::size_t n = arr.size();
      if (n == 0) return Status::InvalidArgument(Quote(key) + ": empty channel");
      if (n > kMaxSamplesPerChannel) {
        return Status::InvalidArgument(Quote(key) + ": more than " +
                                       std::to_string(kMaxSamplesPerChannel) + " samples");
      }
      if (used_channels > 0 && n != length) {
        return Status::InvalidArgument(
            Quote(key) + ": " + std::to_string(n) + " samples, but channel '" +
            std::string(ev.channel_names[0]) + "' has " + std::to_string(length));
      }
      length = n;
      if (ev.channels.size() <= used_channels) ev.channels.emplace_back();
      std::vector<double>& samples = ev.channels[used_channels];
      samples.resize(n);
      double* out = samples.data();
      for (simdjson::dom::element v : arr) {
        // get_double converts the tape's int64 and uint64 numbers too.
        if (v.get_double().get(*out)) {
          return Status::InvalidArgument(Quote(key) + ": sample " +
                                         std::to_string(out - samples.data()) + " is " +
                                         TypeName(v.type()) + ", not a number");
        }
        ++out;
      }
      ev.channel_names.push_back(key);
      ++used_channels;
    } else if (IsNumber(type)) {
      ev.feature_keys.push_back(key);
      ev.feature_values.push_back(AsDouble(field.value));
    } else {
      ev.non_numeric.emplace_back(key, TypeName(type));
    }
  }
  if (has_fs && used_channels == 0) {
    return Status::InvalidArgument("waveform event (member 'fs') without a channel array");
  }
  return Status::OK();
}

Status EventDecoder::DecodeBinary(std::string_view payload) {
  DecodedEvent& ev = event_;
  codec::WaveformRecord& r = impl_->record;
  MH_RETURN_IF_ERROR(
      codec::ParseWaveformBinary(payload, kMaxSamplesPerChannel, kMaxEventBytes, &r));
  std::string& names = impl_->names;
  names.clear();
  for (const std::string_view name : r.channel_names) names.append(name);
  const std::size_t n = r.samples;
  if (ev.channels.size() < r.channel_names.size()) ev.channels.resize(r.channel_names.size());
  for (std::size_t c = 0; c < r.channel_names.size(); ++c) {
    ev.channels[c].resize(n);
    MH_RETURN_IF_ERROR(codec::DecodeWaveformChannel(payload, r, c, ev.channels[c].data()));
  }
  std::size_t pos = 0;
  for (const std::string_view name : r.channel_names) {
    ev.channel_names.emplace_back(names.data() + pos, name.size());
    pos += name.size();
  }
  ev.kind = EventKind::kWaveform;
  ev.binary = true;
  ev.sensor_id = r.sensor_id;
  ev.has_timestamp = r.has_timestamp;
  ev.timestamp_ns = r.timestamp_ns;
  ev.fs_hz = r.fs_hz;
  return Status::OK();
}

}  // namespace mh::pipeline
