#include "pipeline/snapshot_picker.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "codec/snapshot.h"

namespace mh::pipeline {

Status ValidateSnapshotOptions(const SnapshotOptions& options) {
  if (options.periodic_ns < 0) return Status::InvalidArgument("--snapshot-every must be >= 0");
  return Status::OK();
}

SnapshotPicker::SnapshotPicker(const SnapshotOptions& options, std::string machine_id,
                               std::vector<std::string> channels)
    : options_(options), machine_id_(std::move(machine_id)), channels_(std::move(channels)) {}

Status SnapshotPicker::Attach(std::int64_t t_ns, double fs_hz,
                              std::span<const std::span<const double>> channels, bool periodic,
                              const std::string& alarm_id, double score,
                              sink::WindowRecord* record) const {
  Result<std::string> blob = codec::EncodeSnapshot(machine_id_, t_ns, fs_hz, channels_, channels);
  if (!blob.ok()) {
    return Status(blob.status())
        .WithContext("machine '" + machine_id_ + "': window " + std::to_string(t_ns));
  }
  auto snap = std::make_shared<sink::WaveformSnapshot>();
  snap->window_start_ns = t_ns;
  snap->periodic = periodic;
  snap->alarm_id = alarm_id;
  snap->score = score;
  snap->fs_hz = fs_hz;
  snap->samples = channels.empty() ? 0 : static_cast<std::uint32_t>(channels[0].size());
  snap->blob = std::move(*blob);
  record->snapshots.push_back(std::move(snap));
  return Status::OK();
}

Status SnapshotPicker::Pick(const window::Window& w,
                            const std::optional<alarm::AlarmUpdate>& update,
                            const alarm::AlarmTracker& tracker, sink::WindowRecord* record) {
  ++windows_;
  const std::int64_t t = w.start_ns;
  std::string peak_of;  // the alarm whose peak this window is
  if (options_.alarm_peaks && update.has_value()) {
    const std::optional<alarm::OpenAlarm>& open = tracker.open_alarm();
    const bool opened =
        update->event.has_value() && update->event->kind == alarm::AlarmEventKind::kOpened;
    if (opened) {
      const alarm::AlarmEvent& e = *update->event;
      if (e.peak_window_ns == t) {
        peak_of = e.alarm_id;
      } else {
        // The peak came among the onset windows before this one.
        for (const Held& h : held_) {
          if (h.t_ns != e.peak_window_ns) continue;
          std::vector<std::span<const double>> spans(h.samples.begin(), h.samples.end());
          MH_RETURN_IF_ERROR(
              Attach(h.t_ns, w.fs_hz, spans, false, e.alarm_id, e.peak_score, record));
          break;
        }
      }
      held_.clear();
    } else if (open.has_value() && update->state == alarm::AlarmState::kAlarm) {
      if (open->peak_window_ns == t) peak_of = tracker.open_alarm_id();
    } else if (update->state == alarm::AlarmState::kNormal) {
      // Hold the anomalous windows of the last n: one may become the onset
      // peak of an alarm that opens later.
      const std::uint64_t n = static_cast<std::uint64_t>(tracker.rule().n);
      while (!held_.empty() && held_.front().index + n <= windows_) held_.pop_front();
      if (update->event.has_value() || update->gap) held_.clear();
      if (record->anomaly && std::isfinite(record->score)) {
        if (held_.size() == kMaxHeldWindows) {
          // Drop the least anomalous (highest score) held window.
          auto worst =
              std::max_element(held_.begin(), held_.end(),
                               [](const Held& a, const Held& b) { return a.score < b.score; });
          if (worst->score <= record->score) worst = held_.end();
          if (worst != held_.end()) held_.erase(worst);
        }
        if (held_.size() < kMaxHeldWindows) {
          Held h;
          h.t_ns = t;
          h.score = record->score;
          h.index = windows_;
          for (std::span<const double> c : w.channels) h.samples.emplace_back(c.begin(), c.end());
          held_.push_back(std::move(h));
        }
      }
    }
  }
  bool periodic = false;
  if (options_.periodic_ns > 0 && (!next_periodic_ns_ || t >= *next_periodic_ns_)) {
    periodic = true;
    const std::int64_t p = options_.periodic_ns;
    // The next multiple of the period after t (floor division for t < 0).
    const std::int64_t q = t / p - (t % p < 0 ? 1 : 0);
    next_periodic_ns_ = (q + 1) * p;
  }
  if (periodic || !peak_of.empty()) {
    MH_RETURN_IF_ERROR(Attach(t, w.fs_hz, w.channels, periodic, peak_of,
                              std::isfinite(record->score) ? record->score : NAN, record));
  }
  return Status::OK();
}

}  // namespace mh::pipeline
