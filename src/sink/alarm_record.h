// AlarmRecord and AlarmEvent: one alarm of one machine as the database stores
// it, and what happened to it (opened, acknowledged, closed). Plain value
// types shared by the alarm stage (which raises events), the SQLite store
// (sink/sqlite/alarm_store.h), the HTTP API and the notifiers (notify/).
// The JSON form of both is defined here, once (docs/alarms.md).
#ifndef MH_SINK_ALARM_RECORD_H_
#define MH_SINK_ALARM_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mh::sink {

struct AlarmRecord {
  // Stable id given by the caller (the alarm stage); the same alarm keeps it
  // from open to close, so replays of its events update one row.
  std::string alarm_id;
  std::string machine_id;
  std::int64_t start_ns = 0;  // event time of the window that opened it, ns since epoch
  std::int64_t end_ns = 0;    // event time of the window that closed it; 0 while open
  // Lowest decision_function seen during the alarm (lower = more anomalous).
  double peak_score = 0;
  std::int64_t baseline_version = 0;  // version of the baseline that scored it
  std::string explanation_json;       // opaque JSON text (features, ISO zone, bearing evidence)
  std::string explanation_text;       // one line for people
  std::string acked_by;               // who acknowledged it; "" if nobody
  std::int64_t acked_ns = 0;          // when (wall clock, ns since epoch); 0 = not acknowledged
};

// Serialized (as text in JSON, as the number in nothing): values are fixed.
enum class AlarmEventKind : std::uint8_t { kOpened = 0, kAcknowledged = 1, kClosed = 2 };

// "opened", "acknowledged", "closed".
const char* AlarmEventKindName(AlarmEventKind kind);
// The inverse of AlarmEventKindName; InvalidArgument for anything else.
Result<AlarmEventKind> ParseAlarmEventKind(std::string_view name);

struct AlarmEvent {
  AlarmEventKind kind = AlarmEventKind::kOpened;
  AlarmRecord alarm;          // the alarm as known when the event happened
  std::int64_t event_ns = 0;  // when it happened (event time for open/close, wall time for ack)
};

// Which alarms a listing returns (sink/sqlite: SqliteReader::Alarms,
// AlarmStore::List). Newest first (start_ns descending, then id).
struct AlarmFilter {
  std::string machine_id;  // only this machine; "" = every machine
  bool open_only = false;  // only alarms not closed yet (end_ns == 0)
  // Only alarms overlapping [from_ns, to_ns): start_ns < to_ns and (open or
  // end_ns >= from_ns). Event time, ns since epoch.
  std::int64_t from_ns = INT64_MIN;
  std::int64_t to_ns = INT64_MAX;
  std::size_t limit = 1000;  // at most this many (the newest)
};

// "<alarm_id>:<kind>", e.g. "m3-1790000000000000000:opened": one id per event
// of an alarm, so receivers can drop duplicates (delivery is at least once).
std::string AlarmEventId(const AlarmEvent& event);

// The alarm as a JSON object (stable keys, docs/alarms.md):
// {"id","machine","open","start_ns","start","end_ns","end","peak_score",
//  "baseline_version","explanation","explanation_text","acked","acked_by",
//  "acked_ns","acked_at"}. "end"/"end_ns" are null while open, the "acked_*"
// values null when not acknowledged; "explanation" is explanation_json
// parsed (null if empty or not valid JSON); NaN/Inf peak_score is null.
std::string AlarmRecordJson(const AlarmRecord& alarm);

// The event as a JSON object: {"event_id","kind","event_ns","event_time",
// "alarm": AlarmRecordJson}.
std::string AlarmEventJson(const AlarmEvent& event);

}  // namespace mh::sink

#endif  // MH_SINK_ALARM_RECORD_H_
