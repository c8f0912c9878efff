#include "sink/influxdb/line_protocol.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "core/check.h"

namespace mh::sink::influxdb {
namespace {

// InfluxDB's timestamp range (the two extreme int64 values are reserved).
constexpr std::int64_t kMinTimestampNs = std::numeric_limits<std::int64_t>::min() + 2;
constexpr std::int64_t kMaxTimestampNs = std::numeric_limits<std::int64_t>::max() - 1;

bool HasNewline(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// Appends `text` with a backslash before each character of `specials`, and
// backslashes handled as the file comment of line_protocol.h says.
bool AppendEscaped(std::string_view text, std::string_view specials, std::string* out) {
  if (text.empty() || HasNewline(text)) return false;
  // `specials` is ", " or ",= " (the callers below): test those characters
  // directly instead of searching `specials` once per character.
  const bool escape_equals = specials.find('=') != std::string_view::npos;
  const auto needs_escape = [escape_equals](char c) {
    return c == ',' || c == ' ' || (escape_equals && c == '=');
  };
  // Fast path: nothing to escape (the usual case: ids and feature names).
  bool plain = true;
  for (char c : text) {
    if (c == '\\' || needs_escape(c)) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out->append(text);
    return true;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      const bool last = i + 1 == text.size();
      if (last || text[i + 1] == '\\' || needs_escape(text[i + 1])) out->push_back('\\');
    } else if (needs_escape(c)) {
      out->push_back('\\');
    }
    out->push_back(c);
  }
  return true;
}

}  // namespace

bool AppendMeasurement(std::string_view name, std::string* out) {
  return AppendEscaped(name, ", ", out);
}

bool AppendKeyOrTagValue(std::string_view text, std::string* out) {
  return AppendEscaped(text, ",= ", out);
}

bool AppendStringFieldValue(std::string_view text, std::string* out) {
  if (HasNewline(text)) return false;
  out->push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
  return true;
}

void AppendFloat(double value, std::string* out) {
  MH_CHECK(std::isfinite(value));
  char buf[32];
  // Without a format argument, to_chars gives the shortest text that reads
  // back to the same double (fixed or scientific, whichever is shorter).
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  MH_CHECK(ec == std::errc());
  out->append(buf, end);
}

void LineEncoder::Begin(std::string_view measurement) {
  if (open_) out_->resize(line_start_);
  line_start_ = out_->size();
  fields_ = 0;
  open_ = true;
  error_ = Status::OK();
  if (!measurement.empty() && measurement.front() == '#') {
    Fail("measurement name starting with '#' (it would read as a comment)");
  } else if (!AppendMeasurement(measurement, out_)) {
    Fail("empty measurement name or one with a newline");
  }
}

void LineEncoder::Fail(std::string_view what) {
  if (error_.ok()) error_ = Status::InvalidArgument("line protocol: " + std::string(what));
}

void LineEncoder::AddTag(std::string_view key, std::string_view value) {
  MH_CHECK(open_ && fields_ == 0);  // tags come before fields
  out_->push_back(',');
  if (!AppendKeyOrTagValue(key, out_)) Fail("empty tag key or one with a newline");
  out_->push_back('=');
  if (!AppendKeyOrTagValue(value, out_)) {
    Fail("tag '" + std::string(key.substr(0, 64)) + "': empty value or one with a newline");
  }
}

void LineEncoder::AddFieldKey(std::string_view key) {
  MH_CHECK(open_);
  out_->push_back(fields_ == 0 ? ' ' : ',');
  ++fields_;
  if (!AppendKeyOrTagValue(key, out_)) Fail("empty field key or one with a newline");
  out_->push_back('=');
}

void LineEncoder::AddFloat(std::string_view key, double value) {
  if (!std::isfinite(value)) {
    // Skipped, but its key is still checked so that a record is refused or
    // accepted whatever its values are.
    MH_CHECK(open_);
    if (key.empty() || HasNewline(key)) Fail("empty field key or one with a newline");
    return;
  }
  AddFieldKey(key);
  AppendFloat(value, out_);
}

void LineEncoder::AddInt(std::string_view key, std::int64_t value) {
  AddFieldKey(key);
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  MH_CHECK(ec == std::errc());
  out_->append(buf, end);
  out_->push_back('i');
}

void LineEncoder::AddBool(std::string_view key, bool value) {
  AddFieldKey(key);
  out_->append(value ? "true" : "false");
}

void LineEncoder::AddString(std::string_view key, std::string_view value) {
  AddFieldKey(key);
  if (!AppendStringFieldValue(value, out_)) {
    Fail("field '" + std::string(key.substr(0, 64)) + "': string value with a newline");
  }
}

Result<bool> LineEncoder::End(std::int64_t timestamp_ns) {
  MH_CHECK(open_);
  open_ = false;
  if (error_.ok() && (timestamp_ns < kMinTimestampNs || timestamp_ns > kMaxTimestampNs)) {
    Fail("timestamp " + std::to_string(timestamp_ns) + " ns is out of range");
  }
  if (!error_.ok()) {
    out_->resize(line_start_);
    return error_;
  }
  if (fields_ == 0) {
    out_->resize(line_start_);
    return false;
  }
  out_->push_back(' ');
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, timestamp_ns);
  MH_CHECK(ec == std::errc());
  out_->append(buf, end);
  out_->push_back('\n');
  return true;
}

Result<EncodedLines> AppendWindowRecord(const WindowRecord& record, std::string* out) {
  if (record.machine_id.empty()) return Status::InvalidArgument("record without a machine id");
  if (record.feature_names == nullptr) {
    return Status::InvalidArgument("record of '" + record.machine_id + "' has no feature names");
  }
  const auto& names = *record.feature_names;
  if (names.size() != record.features.size()) {
    return Status::InvalidArgument("record of '" + record.machine_id + "' has " +
                                   std::to_string(record.features.size()) + " features for " +
                                   std::to_string(names.size()) + " names");
  }
  const std::size_t start = out->size();
  EncodedLines lines;
  LineEncoder encoder(out);
  const auto count = [&](const Result<bool>& written) -> Status {
    if (!written.ok()) {
      out->resize(start);
      return written.status().WithContext("record of '" + record.machine_id + "'");
    }
    ++(*written ? lines.written : lines.skipped);
    return Status::OK();
  };
  if (std::isfinite(record.score)) {
    encoder.Begin(kScoreMeasurement);
    encoder.AddTag(kScoreTag, record.machine_id);
    if (record.model != nullptr && !record.model->version.empty()) {
      encoder.AddTag(kModelVersionTag, record.model->version);
    }
    encoder.AddFloat("score", record.score);
    encoder.AddFloat("score_samples", record.score_samples);
    encoder.AddBool("anomaly", record.anomaly);
    encoder.AddFloat("threshold", record.threshold);
    MH_RETURN_IF_ERROR(count(encoder.End(record.window_start_ns)));
  }
  encoder.Begin(kFeatureMeasurement);
  encoder.AddTag(kFeatureTag, record.machine_id);
  for (std::size_t i = 0; i < names.size(); ++i) encoder.AddFloat(names[i], record.features[i]);
  MH_RETURN_IF_ERROR(count(encoder.End(record.window_start_ns)));
  return lines;
}

}  // namespace mh::sink::influxdb
