#include "sink/alarm_record.h"

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "core/time_util.h"

namespace mh::sink {
namespace {

using nlohmann::json;

json RecordObject(const AlarmRecord& a) {
  json explanation = nullptr;
  if (!a.explanation_json.empty()) {
    explanation = json::parse(a.explanation_json, nullptr, /*allow_exceptions=*/false);
    if (explanation.is_discarded()) explanation = nullptr;
  }
  const bool open = a.end_ns == 0;
  const bool acked = a.acked_ns != 0;
  return json{
      {"id", a.alarm_id},
      {"machine", a.machine_id},
      {"open", open},
      {"start_ns", a.start_ns},
      {"start", FormatRfc3339(a.start_ns, 3)},
      {"end_ns", open ? json(nullptr) : json(a.end_ns)},
      {"end", open ? json(nullptr) : json(FormatRfc3339(a.end_ns, 3))},
      {"peak_score", std::isfinite(a.peak_score) ? json(a.peak_score) : json(nullptr)},
      {"baseline_version", a.baseline_version},
      {"explanation", std::move(explanation)},
      {"explanation_text", a.explanation_text},
      {"acked", acked},
      {"acked_by", acked ? json(a.acked_by) : json(nullptr)},
      {"acked_ns", acked ? json(a.acked_ns) : json(nullptr)},
      {"acked_at", acked ? json(FormatRfc3339(a.acked_ns, 3)) : json(nullptr)},
  };
}

std::string Dump(const json& j) {
  // Replace invalid UTF-8 (e.g. in an id) instead of throwing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

const char* AlarmEventKindName(AlarmEventKind kind) {
  switch (kind) {
    case AlarmEventKind::kOpened:
      return "opened";
    case AlarmEventKind::kAcknowledged:
      return "acknowledged";
    case AlarmEventKind::kClosed:
      return "closed";
  }
  return "unknown";
}

Result<AlarmEventKind> ParseAlarmEventKind(std::string_view name) {
  for (AlarmEventKind k :
       {AlarmEventKind::kOpened, AlarmEventKind::kAcknowledged, AlarmEventKind::kClosed}) {
    if (name == AlarmEventKindName(k)) return k;
  }
  return Status::InvalidArgument("unknown alarm event kind '" + std::string(name) +
                                 "' (expected opened, acknowledged or closed)");
}

std::string AlarmEventId(const AlarmEvent& event) {
  return event.alarm.alarm_id + ":" + AlarmEventKindName(event.kind);
}

std::string AlarmRecordJson(const AlarmRecord& alarm) { return Dump(RecordObject(alarm)); }

std::string AlarmEventJson(const AlarmEvent& event) {
  return Dump(json{{"event_id", AlarmEventId(event)},
                   {"kind", AlarmEventKindName(event.kind)},
                   {"event_ns", event.event_ns},
                   {"event_time", FormatRfc3339(event.event_ns, 3)},
                   {"alarm", RecordObject(event.alarm)}});
}

}  // namespace mh::sink
