// Line protocol: a pure encoder of the InfluxDB line protocol (no I/O), and
// the machine-health schema on top of it (WindowRecord -> `anomaly_score` and
// `signal_features` lines, docs/influxdb.md).
//
// Escaping, per the line protocol reference:
//   measurement                      ',' ' '        -> "\," "\ "
//   tag key, tag value, field key    ',' '=' ' '    -> "\," "\=" "\ "
//   string field value               '"' '\'        -> "\"" "\\"  (inside double quotes)
// A backslash in a measurement, tag or field key is written as is when an
// ordinary character follows it (a literal backslash for every parser), and
// doubled when it comes before another backslash or an escaped character or
// ends the text (InfluxDB 2.x and VictoriaMetrics read "\\" as one backslash;
// InfluxDB 1.x keeps both, and cannot store a trailing backslash at all).
// Refused (InvalidArgument, the line is not written): a newline (CR or LF)
// anywhere (line protocol cannot carry one), an empty measurement, key or tag
// value, a measurement starting with '#' (it would read as a comment) and a
// timestamp outside InfluxDB's range.
// Values: floats as the shortest decimal that reads back to the same double
// ("0.1", "-1.5e-05", "3"); non-finite floats are skipped (never "NaN");
// integers with an "i" suffix; booleans "true"/"false"; timestamps in ns.
//
// Thread safety: a LineEncoder is used by one thread at a time; the free
// functions are reentrant.
#ifndef MH_SINK_INFLUXDB_LINE_PROTOCOL_H_
#define MH_SINK_INFLUXDB_LINE_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "sink/window_record.h"

namespace mh::sink::influxdb {

// Appends lines to a string, one point at a time:
//   encoder.Begin("m"); encoder.AddTag("k", "v"); encoder.AddFloat("f", 1.5);
//   auto written = encoder.End(timestamp_ns);
// Tags come before fields (checked) and are written in the order given.
class LineEncoder {
 public:
  // `out` is not owned and must outlive the encoder; lines are appended.
  explicit LineEncoder(std::string* out) : out_(out) {}

  // Starts a line. A line begun and not ended is discarded by the next Begin.
  void Begin(std::string_view measurement);
  void AddTag(std::string_view key, std::string_view value);
  // Skipped (nothing written) when `value` is NaN or infinite.
  void AddFloat(std::string_view key, double value);
  void AddInt(std::string_view key, std::int64_t value);
  void AddBool(std::string_view key, bool value);
  void AddString(std::string_view key, std::string_view value);
  // Ends the line with " <timestamp_ns>\n". Returns true when the line was
  // appended, false when it had no field left (all skipped as non-finite) and
  // was removed again; InvalidArgument naming the element (the line removed)
  // for anything line protocol cannot carry (see the file comment).
  Result<bool> End(std::int64_t timestamp_ns);

 private:
  void AddFieldKey(std::string_view key);
  void Fail(std::string_view what);

  std::string* out_;
  std::size_t line_start_ = 0;
  int fields_ = 0;
  bool open_ = false;
  Status error_;  // first problem of the current line
};

// Escaping of one element, appended to `out`; false (nothing appended) when
// the text is empty or holds a newline.
bool AppendMeasurement(std::string_view name, std::string* out);
bool AppendKeyOrTagValue(std::string_view text, std::string* out);
// The quoted, escaped string field value; false when it holds a newline.
bool AppendStringFieldValue(std::string_view text, std::string* out);
// Shortest round-trip decimal of a finite `value` (checked).
void AppendFloat(double value, std::string* out);

// The machine-health schema (names kept from the prototype for Grafana).
inline constexpr std::string_view kScoreMeasurement = "anomaly_score";
inline constexpr std::string_view kScoreTag = "sensor_id";
inline constexpr std::string_view kFeatureMeasurement = "signal_features";
inline constexpr std::string_view kFeatureTag = "device_id";
// Tag of score lines scored by a known model file (WindowRecord::model).
inline constexpr std::string_view kModelVersionTag = "model_version";

struct EncodedLines {
  int written = 0;  // lines appended
  int skipped = 0;  // lines left out because they had no finite field
};

// Appends the lines of one record, both stamped with record.window_start_ns
// (event time), the same record giving byte-identical lines:
//   anomaly_score,sensor_id=<machine>[,model_version=<v>] score=..,score_samples=..,
//     anomaly=..,threshold=.. <ns>
//     (only when record.score is finite; non-finite fields skipped; the
//     model_version tag only when record.model has a version)
//   signal_features,device_id=<machine> <feature>=<value>,... <ns>
//     (one field per feature, non-finite values skipped; the line is skipped
//     and counted when no feature value is finite)
// InvalidArgument (nothing appended) when the record has no machine id, no
// feature names, a feature count different from its names, or anything the
// encoder refuses (a newline in the machine id or a feature name, ...).
Result<EncodedLines> AppendWindowRecord(const WindowRecord& record, std::string* out);

}  // namespace mh::sink::influxdb

#endif  // MH_SINK_INFLUXDB_LINE_PROTOCOL_H_
