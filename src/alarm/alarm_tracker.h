// AlarmTracker: the alarm stage of one machine (source -> window -> features
// -> score -> alarm -> sinks). It takes the machine's scored windows one at a
// time, in event-time order, and decides its state by the rule "K of the last
// N windows anomalous opens an alarm; M consecutive normal windows close it",
// emitting an event when an alarm opens or closes. Pure logic, no I/O, no
// clock: time is the windows' event time. Rules and examples: docs/alarms.md.
//
// Thread safety: a tracker is a plain value; use one per machine from one
// thread at a time (copies are independent).
#ifndef MH_ALARM_ALARM_TRACKER_H_
#define MH_ALARM_ALARM_TRACKER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "alarm/alarm_state.h"
#include "core/result.h"
#include "core/status.h"

namespace mh::alarm {

// Largest AlarmRule::n and AlarmRule::m: 1000 windows.
inline constexpr int kMaxAlarmWindows = 1000;

// The alarm rule of a machine (the registry may override each field).
struct AlarmRule {
  // Opens when at least k of the last n windows are anomalous
  // (1 <= k <= n <= kMaxAlarmWindows).
  int k = 3;
  int n = 5;
  // Closes after m consecutive normal windows (1 <= m <= kMaxAlarmWindows).
  int m = 5;
  // Gap handling, ns between the starts of consecutive windows; 0 = off.
  // A longer silence clears the K-of-N history and the run of normal
  // windows, but does not close an open alarm (only m normal windows after
  // the gap do). A sensible value is n window hops (MaxGapForHop).
  std::int64_t max_gap_ns = 0;
};

// OK, or InvalidArgument naming the field ("alarm rule: k (6) must be <= n
// (5)").
Status ValidateAlarmRule(const AlarmRule& rule);

// n x hop_ns: a silence longer than the whole K-of-N span.
std::int64_t MaxGapForHop(const AlarmRule& rule, std::int64_t hop_ns);

// One scored window, the tracker's input.
struct ScoredWindow {
  std::int64_t window_start_ns = 0;  // event time of its first sample
  double score = 0;                  // decision_function: lower = more anomalous
  bool anomalous = false;            // score below the machine's threshold
};

// Serialized (sinks, notifications): explicit values.
enum class AlarmEventKind : std::uint8_t {
  kOpened = 0,
  kClosed = 1,
};

// An alarm opened or closed. Figures are those of OpenAlarm at that moment.
struct AlarmEvent {
  AlarmEventKind kind = AlarmEventKind::kOpened;
  std::string alarm_id;        // AlarmId(machine_id, start_ns)
  std::int64_t start_ns = 0;   // onset (OpenAlarm::start_ns)
  std::int64_t opened_ns = 0;  // window that opened it
  std::int64_t end_ns = 0;     // kClosed: start of the m-th normal window
  std::int64_t last_anomalous_ns = 0;
  double peak_score = 0;            // lowest score since the onset
  std::int64_t peak_window_ns = 0;  // its window
  std::int64_t windows = 0;         // since the onset, closing window included
  std::int64_t anomalous_windows = 0;
};

// The outcome of one window.
struct AlarmUpdate {
  AlarmState state = AlarmState::kNormal;  // after this window
  bool gap = false;                        // a gap (max_gap_ns) preceded it
  std::optional<AlarmEvent> event;         // at most one per window
};

class AlarmTracker {
 public:
  // A tracker in kNormal with no history. InvalidArgument for a bad rule.
  static Result<AlarmTracker> Create(std::string machine_id, const AlarmRule& rule);
  // A tracker that continues from `state` (from Save) exactly as the saved
  // one would. When the rule's n is now smaller than the saved history, the
  // oldest windows are dropped. InvalidArgument for a bad rule; Corruption
  // for an inconsistent state (history longer than kMaxAlarmWindows or out
  // of order, an alarm with a history, negative counts, times after
  // last_window_ns).
  static Result<AlarmTracker> Restore(std::string machine_id, const AlarmRule& rule,
                                      const AlarmTrackerState& state);

  // Takes the next window. InvalidArgument, state unchanged, for a
  // non-finite score or a window that does not start after the last one
  // accepted (a replayed duplicate can be skipped that way).
  Result<AlarmUpdate> Observe(const ScoredWindow& window);

  AlarmState state() const { return alarm_ ? AlarmState::kAlarm : AlarmState::kNormal; }
  // The open alarm, or nullopt.
  const std::optional<OpenAlarm>& open_alarm() const { return alarm_; }
  // Id of the open alarm ("" when normal).
  std::string open_alarm_id() const;
  // Anomalous windows among the history (0 while an alarm is open).
  int recent_anomalous() const { return recent_anomalous_; }
  const std::string& machine_id() const { return machine_id_; }
  const AlarmRule& rule() const { return rule_; }

  // Everything needed to Restore this tracker.
  AlarmTrackerState Save() const;

 private:
  AlarmTracker(std::string machine_id, const AlarmRule& rule);
  AlarmEvent MakeEvent(AlarmEventKind kind, std::int64_t end_ns) const;

  std::string machine_id_;
  AlarmRule rule_;
  std::optional<std::int64_t> last_window_ns_;
  std::deque<WindowMark> history_;  // kNormal: last <= n windows since a reset
  int recent_anomalous_ = 0;        // anomalous entries of history_
  std::optional<OpenAlarm> alarm_;
};

}  // namespace mh::alarm

#endif  // MH_ALARM_ALARM_TRACKER_H_
