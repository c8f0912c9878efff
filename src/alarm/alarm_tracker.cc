#include "alarm/alarm_tracker.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "core/strings.h"

namespace mh::alarm {

Status ValidateAlarmRule(const AlarmRule& rule) {
  const std::string max = std::to_string(kMaxAlarmWindows);
  if (rule.k < 1) {
    return Status::InvalidArgument("alarm rule: k (" + std::to_string(rule.k) + ") must be >= 1");
  }
  if (rule.n < 1 || rule.n > kMaxAlarmWindows) {
    return Status::InvalidArgument("alarm rule: n (" + std::to_string(rule.n) + ") must be in 1.." +
                                   max);
  }
  if (rule.k > rule.n) {
    return Status::InvalidArgument("alarm rule: k (" + std::to_string(rule.k) + ") must be <= n (" +
                                   std::to_string(rule.n) + ")");
  }
  if (rule.m < 1 || rule.m > kMaxAlarmWindows) {
    return Status::InvalidArgument("alarm rule: m (" + std::to_string(rule.m) + ") must be in 1.." +
                                   max);
  }
  if (rule.max_gap_ns < 0) {
    return Status::InvalidArgument("alarm rule: max_gap_ns (" + std::to_string(rule.max_gap_ns) +
                                   ") must be >= 0 (0 = no gap handling)");
  }
  return Status::OK();
}

std::int64_t MaxGapForHop(const AlarmRule& rule, std::int64_t hop_ns) {
  if (hop_ns <= 0 || rule.n <= 0) return 0;
  if (hop_ns > std::numeric_limits<std::int64_t>::max() / rule.n) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return hop_ns * rule.n;
}

AlarmTracker::AlarmTracker(std::string machine_id, const AlarmRule& rule)
    : machine_id_(std::move(machine_id)), rule_(rule) {}

Result<AlarmTracker> AlarmTracker::Create(std::string machine_id, const AlarmRule& rule) {
  MH_RETURN_IF_ERROR(ValidateAlarmRule(rule));
  return AlarmTracker(std::move(machine_id), rule);
}

Result<AlarmTracker> AlarmTracker::Restore(std::string machine_id, const AlarmRule& rule,
                                           const AlarmTrackerState& state) {
  MH_RETURN_IF_ERROR(ValidateAlarmRule(rule));
  const auto bad = [&](const std::string& what) {
    return Status::Corruption("alarm state of machine " + QuoteForMessage(machine_id) + ": " +
                              what);
  };
  if (state.history.size() > static_cast<std::size_t>(kMaxAlarmWindows)) {
    return bad("history of " + std::to_string(state.history.size()) + " windows, more than " +
               std::to_string(kMaxAlarmWindows));
  }
  if (!state.history.empty() && state.alarm) {
    return bad("a history while an alarm is open");
  }
  if (!state.last_window_ns && (!state.history.empty() || state.alarm)) {
    return bad("windows remembered but no last window");
  }
  for (std::size_t i = 0; i < state.history.size(); ++i) {
    const WindowMark& w = state.history[i];
    if (!std::isfinite(w.score)) return bad("history window " + std::to_string(i) + ": no score");
    if (i > 0 && w.window_start_ns <= state.history[i - 1].window_start_ns) {
      return bad("history window " + std::to_string(i) + " is not after the one before");
    }
    if (w.window_start_ns > *state.last_window_ns) {
      return bad("history window " + std::to_string(i) + " is after the last window");
    }
  }
  if (state.alarm) {
    const OpenAlarm& a = *state.alarm;
    if (!std::isfinite(a.peak_score)) return bad("open alarm: peak score is not finite");
    if (a.windows < 1 || a.anomalous_windows < 1 || a.anomalous_windows > a.windows ||
        a.normal_run < 0 || a.normal_run > a.windows - a.anomalous_windows) {
      return bad("open alarm: inconsistent window counts");
    }
    if (a.start_ns > a.opened_ns || a.opened_ns > *state.last_window_ns ||
        a.last_anomalous_ns > *state.last_window_ns || a.peak_window_ns > *state.last_window_ns) {
      return bad("open alarm: times out of order");
    }
  }
  AlarmTracker t(std::move(machine_id), rule);
  t.last_window_ns_ = state.last_window_ns;
  t.alarm_ = state.alarm;
  // A rule with a smaller n keeps the newest n windows.
  const std::size_t keep = std::min(state.history.size(), static_cast<std::size_t>(rule.n));
  t.history_.assign(state.history.end() - static_cast<std::ptrdiff_t>(keep), state.history.end());
  for (const WindowMark& w : t.history_) t.recent_anomalous_ += w.anomalous ? 1 : 0;
  return t;
}

std::string AlarmTracker::open_alarm_id() const {
  return alarm_ ? AlarmId(machine_id_, alarm_->start_ns) : std::string();
}

AlarmTrackerState AlarmTracker::Save() const {
  AlarmTrackerState s;
  s.last_window_ns = last_window_ns_;
  s.history.assign(history_.begin(), history_.end());
  s.alarm = alarm_;
  return s;
}

AlarmEvent AlarmTracker::MakeEvent(AlarmEventKind kind, std::int64_t end_ns) const {
  const OpenAlarm& a = *alarm_;
  AlarmEvent e;
  e.kind = kind;
  e.alarm_id = AlarmId(machine_id_, a.start_ns);
  e.start_ns = a.start_ns;
  e.opened_ns = a.opened_ns;
  e.end_ns = end_ns;
  e.last_anomalous_ns = a.last_anomalous_ns;
  e.peak_score = a.peak_score;
  e.peak_window_ns = a.peak_window_ns;
  e.windows = a.windows;
  e.anomalous_windows = a.anomalous_windows;
  return e;
}

Result<AlarmUpdate> AlarmTracker::Observe(const ScoredWindow& window) {
  if (!std::isfinite(window.score)) {
    return Status::InvalidArgument("alarm: machine " + QuoteForMessage(machine_id_) +
                                   ": window at " + std::to_string(window.window_start_ns) +
                                   " ns: score is not finite");
  }
  if (last_window_ns_ && window.window_start_ns <= *last_window_ns_) {
    return Status::InvalidArgument("alarm: machine " + QuoteForMessage(machine_id_) +
                                   ": window at " + std::to_string(window.window_start_ns) +
                                   " ns does not start after the last one at " +
                                   std::to_string(*last_window_ns_) + " ns");
  }
  AlarmUpdate update;
  // Overflow-safe: both are int64 and start > last, so compare as unsigned.
  if (rule_.max_gap_ns > 0 && last_window_ns_ &&
      static_cast<std::uint64_t>(window.window_start_ns) -
              static_cast<std::uint64_t>(*last_window_ns_) >
          static_cast<std::uint64_t>(rule_.max_gap_ns)) {
    update.gap = true;
    history_.clear();
    recent_anomalous_ = 0;
    // Normal windows before the silence do not count towards closing: the
    // m that close an alarm are consecutive in time as well.
    if (alarm_) alarm_->normal_run = 0;
  }
  last_window_ns_ = window.window_start_ns;

  if (alarm_) {
    OpenAlarm& a = *alarm_;
    ++a.windows;
    if (window.score < a.peak_score) {
      a.peak_score = window.score;
      a.peak_window_ns = window.window_start_ns;
    }
    if (window.anomalous) {
      ++a.anomalous_windows;
      a.last_anomalous_ns = window.window_start_ns;
      a.normal_run = 0;
    } else {
      ++a.normal_run;
    }
    if (a.normal_run >= rule_.m) {
      update.event = MakeEvent(AlarmEventKind::kClosed, window.window_start_ns);
      alarm_.reset();
      // The K-of-N history starts empty after a close (it is not kept while
      // the alarm is open), so old evidence cannot reopen it at once.
    }
    update.state = state();
    return update;
  }

  history_.push_back({window.window_start_ns, window.score, window.anomalous});
  if (window.anomalous) ++recent_anomalous_;
  if (history_.size() > static_cast<std::size_t>(rule_.n)) {
    if (history_.front().anomalous) --recent_anomalous_;
    history_.pop_front();
  }
  if (recent_anomalous_ >= rule_.k) {
    OpenAlarm a;
    std::size_t onset = 0;
    while (!history_[onset].anomalous) ++onset;
    a.start_ns = history_[onset].window_start_ns;
    a.opened_ns = window.window_start_ns;
    a.peak_score = history_[onset].score;
    a.peak_window_ns = history_[onset].window_start_ns;
    for (std::size_t i = onset; i < history_.size(); ++i) {
      const WindowMark& w = history_[i];
      ++a.windows;
      if (w.score < a.peak_score) {
        a.peak_score = w.score;
        a.peak_window_ns = w.window_start_ns;
      }
      if (w.anomalous) {
        ++a.anomalous_windows;
        a.last_anomalous_ns = w.window_start_ns;
        a.normal_run = 0;
      } else {
        ++a.normal_run;
      }
    }
    alarm_ = a;
    history_.clear();
    recent_anomalous_ = 0;
    update.event = MakeEvent(AlarmEventKind::kOpened, 0);
  }
  update.state = state();
  return update;
}

}  // namespace mh::alarm
