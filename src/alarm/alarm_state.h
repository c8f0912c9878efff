// AlarmTrackerState: everything an AlarmTracker remembers, as a plain value
// the pipeline stores (database row, checkpoint) so that a restarted pipeline
// resumes a machine mid-alarm, plus a compact one-line text form of it.
// Format and meaning: docs/alarms.md ("Saved state").
//
// Thread safety: plain values and pure functions.
#ifndef MH_ALARM_ALARM_STATE_H_
#define MH_ALARM_ALARM_STATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh::alarm {

// A machine's alarm state after a window. Serialized: explicit values.
enum class AlarmState : std::uint8_t {
  kNormal = 0,
  kAlarm = 1,
};

// "normal" or "alarm".
const char* AlarmStateName(AlarmState state);

// One window as remembered in the K-of-N history.
struct WindowMark {
  std::int64_t window_start_ns = 0;  // event time of the window's first sample
  double score = 0;                  // decision_function: lower = more anomalous
  bool anomalous = false;            // score below the machine's threshold
};

// The alarm that is open (AlarmState::kAlarm). Its id is derived, not stored:
// AlarmId(machine_id, start_ns).
struct OpenAlarm {
  // Onset: start of the earliest anomalous window among the last N when the
  // alarm opened (the first piece of evidence).
  std::int64_t start_ns = 0;
  // Start of the window after which the state became kAlarm (the K-th
  // anomalous one).
  std::int64_t opened_ns = 0;
  // Lowest score from the onset on, and the start of its window.
  double peak_score = 0;
  std::int64_t peak_window_ns = 0;
  // Windows seen from the onset on (both included), and how many were
  // anomalous.
  std::int64_t windows = 0;
  std::int64_t anomalous_windows = 0;
  // Start of the last anomalous window.
  std::int64_t last_anomalous_ns = 0;
  // Consecutive normal windows at the end (closes at AlarmRule::m).
  std::int64_t normal_run = 0;
};

// What AlarmTracker::Save returns and AlarmTracker::Restore takes.
struct AlarmTrackerState {
  // Start of the last window accepted; nullopt before the first.
  std::optional<std::int64_t> last_window_ns;
  // The last windows since the last reset (start, gap, close), oldest first,
  // at most AlarmRule::n; empty while an alarm is open.
  std::vector<WindowMark> history;
  // The open alarm; nullopt in AlarmState::kNormal.
  std::optional<OpenAlarm> alarm;
};

// One line of printable ASCII, no spaces, that DecodeTrackerState reads back
// to an equal state (scores round-trip exactly).
// "mhalarm1;L=<last|->;H=<ns>:<score>:<0|1>,...;A=<fields|->"
std::string EncodeTrackerState(const AlarmTrackerState& state);

// Parses EncodeTrackerState's text. Corruption naming the field for anything
// else (unknown version, bad number, non-finite score, missing field).
Result<AlarmTrackerState> DecodeTrackerState(std::string_view text);

// The stable id of an alarm: "<machine_id>@<start_ns>". A replay of the same
// windows gives the same id, so notifications can be deduplicated.
std::string AlarmId(std::string_view machine_id, std::int64_t start_ns);

}  // namespace mh::alarm

#endif  // MH_ALARM_ALARM_STATE_H_
