#include "alarm/alarm_state.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/strings.h"

namespace mh::alarm {
namespace {

constexpr std::string_view kMagic = "mhalarm1";

Status Bad(std::string_view field, std::string_view text) {
  return Status::Corruption("alarm state: field " + std::string(field) + ": bad value " +
                            QuoteForMessage(text));
}

Result<std::int64_t> Int(std::string_view field, std::string_view text) {
  auto v = ParseInt(text);
  if (!v.ok()) return Bad(field, text);
  return *v;
}

Result<double> Score(std::string_view field, std::string_view text) {
  double v = 0;
  if (ParseDoubleExact(text, &v) != DoubleParse::kOk || !std::isfinite(v)) {
    return Bad(field, text);
  }
  return v;
}

// "<key>=<value>" -> value; Corruption when the key differs.
Result<std::string_view> Field(std::string_view part, std::string_view key) {
  if (part.size() < key.size() + 1 || part.substr(0, key.size()) != key ||
      part[key.size()] != '=') {
    return Status::Corruption("alarm state: expected field " + std::string(key) + ", got " +
                              QuoteForMessage(part));
  }
  return part.substr(key.size() + 1);
}

}  // namespace

const char* AlarmStateName(AlarmState state) {
  return state == AlarmState::kAlarm ? "alarm" : "normal";
}

std::string AlarmId(std::string_view machine_id, std::int64_t start_ns) {
  std::string id(machine_id);
  id += '@';
  id += std::to_string(start_ns);
  return id;
}

std::string EncodeTrackerState(const AlarmTrackerState& state) {
  std::string s(kMagic);
  s += ";L=";
  s += state.last_window_ns ? std::to_string(*state.last_window_ns) : "-";
  s += ";H=";
  for (std::size_t i = 0; i < state.history.size(); ++i) {
    const WindowMark& w = state.history[i];
    if (i > 0) s += ',';
    s += std::to_string(w.window_start_ns) + ':' + FormatDouble(w.score) + ':' +
         (w.anomalous ? '1' : '0');
  }
  s += ";A=";
  if (!state.alarm) {
    s += '-';
  } else {
    const OpenAlarm& a = *state.alarm;
    s += std::to_string(a.start_ns) + ':' + std::to_string(a.opened_ns) + ':' +
         FormatDouble(a.peak_score) + ':' + std::to_string(a.peak_window_ns) + ':' +
         std::to_string(a.windows) + ':' + std::to_string(a.anomalous_windows) + ':' +
         std::to_string(a.last_anomalous_ns) + ':' + std::to_string(a.normal_run);
  }
  return s;
}

Result<AlarmTrackerState> DecodeTrackerState(std::string_view text) {
  const std::vector<std::string> parts = Split(text, ';');
  if (parts.empty() || parts[0] != kMagic) {
    return Status::Corruption("alarm state: expected '" + std::string(kMagic) + ";...', got " +
                              QuoteForMessage(text));
  }
  if (parts.size() != 4) {
    return Status::Corruption("alarm state: expected 4 fields, got " +
                              std::to_string(parts.size()));
  }
  AlarmTrackerState s;
  MH_ASSIGN_OR_RETURN(std::string_view last, Field(parts[1], "L"));
  if (last != "-") {
    MH_ASSIGN_OR_RETURN(s.last_window_ns, Int("L", last));
  }
  MH_ASSIGN_OR_RETURN(std::string_view history, Field(parts[2], "H"));
  if (!history.empty()) {
    for (const std::string& item : Split(history, ',')) {
      const std::vector<std::string> f = Split(item, ':');
      if (f.size() != 3 || (f[2] != "0" && f[2] != "1")) return Bad("H", item);
      WindowMark w;
      MH_ASSIGN_OR_RETURN(w.window_start_ns, Int("H", f[0]));
      MH_ASSIGN_OR_RETURN(w.score, Score("H", f[1]));
      w.anomalous = f[2] == "1";
      s.history.push_back(w);
    }
  }
  MH_ASSIGN_OR_RETURN(std::string_view alarm, Field(parts[3], "A"));
  if (alarm != "-") {
    const std::vector<std::string> f = Split(alarm, ':');
    if (f.size() != 8) return Bad("A", alarm);
    OpenAlarm a;
    MH_ASSIGN_OR_RETURN(a.start_ns, Int("A", f[0]));
    MH_ASSIGN_OR_RETURN(a.opened_ns, Int("A", f[1]));
    MH_ASSIGN_OR_RETURN(a.peak_score, Score("A", f[2]));
    MH_ASSIGN_OR_RETURN(a.peak_window_ns, Int("A", f[3]));
    MH_ASSIGN_OR_RETURN(a.windows, Int("A", f[4]));
    MH_ASSIGN_OR_RETURN(a.anomalous_windows, Int("A", f[5]));
    MH_ASSIGN_OR_RETURN(a.last_anomalous_ns, Int("A", f[6]));
    MH_ASSIGN_OR_RETURN(a.normal_run, Int("A", f[7]));
    s.alarm = a;
  }
  return s;
}

}  // namespace mh::alarm
