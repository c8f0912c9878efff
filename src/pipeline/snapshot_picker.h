// SnapshotPicker: which windows of one machine keep their raw samples (the
// waveform snapshots the store keeps compressed, docs/database.md "Waveform
// snapshots"), decided after the score and alarm stages:
//
// - periodic: the first window at or after each multiple of
//   SnapshotOptions::periodic_ns of event time (every 10 minutes by default),
//   so the recent past of every machine can be looked at;
// - alarm peak: the window with the lowest score of each alarm (the alarm's
//   peak_window_ns). While an alarm is open, each new peak yields a snapshot
//   that replaces the alarm's earlier one in the store. The onset windows
//   before the window that opens an alarm are held (copies of the samples of
//   the anomalous windows among the alarm rule's last n, at most
//   kMaxHeldWindows), so the peak is found even when it came before the
//   opening window.
//
// The snapshots are attached to the WindowRecord of the window that yields
// them (WindowRecord::snapshots), already encoded (codec/snapshot.h), so
// that compression happens on the pipeline's threads, not in the store.
//
// Thread safety: none; one picker per machine, used with its MachinePipeline.
#ifndef MH_PIPELINE_SNAPSHOT_PICKER_H_
#define MH_PIPELINE_SNAPSHOT_PICKER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "alarm/alarm_tracker.h"
#include "core/status.h"
#include "sink/window_record.h"
#include "window/windower.h"

namespace mh::pipeline {

struct SnapshotOptions {
  // Event time between periodic snapshots of a machine; 0 = none.
  std::int64_t periodic_ns = std::int64_t{600} * 1'000'000'000;  // 10 minutes
  // Keep each alarm's peak window.
  bool alarm_peaks = true;
};

// InvalidArgument "--snapshot-every must be >= 0" for a negative period.
Status ValidateSnapshotOptions(const SnapshotOptions& options);

// Most anomalous windows held before an alarm opens.
inline constexpr std::size_t kMaxHeldWindows = 64;

class SnapshotPicker {
 public:
  SnapshotPicker(const SnapshotOptions& options, std::string machine_id,
                 std::vector<std::string> channels);

  // Takes window `w` after its scoring: `record` holds its score and
  // anomaly (NaN score while learning), `update` the alarm stage's outcome
  // (nullopt while learning), `tracker` the machine's alarm stage after the
  // window. Appends the window's snapshots to record->snapshots.
  // InvalidArgument if the samples cannot be encoded (non-finite values).
  Status Pick(const window::Window& w, const std::optional<alarm::AlarmUpdate>& update,
              const alarm::AlarmTracker& tracker, sink::WindowRecord* record);

  // Windows held for a possible alarm onset (for tests).
  std::size_t held() const { return held_.size(); }

 private:
  struct Held {
    std::int64_t t_ns = 0;
    double score = 0;
    std::uint64_t index = 0;  // window count when it was held
    std::vector<std::vector<double>> samples;
  };
  Status Attach(std::int64_t t_ns, double fs_hz, std::span<const std::span<const double>> channels,
                bool periodic, const std::string& alarm_id, double score,
                sink::WindowRecord* record) const;

  SnapshotOptions options_;
  std::string machine_id_;
  std::vector<std::string> channels_;
  std::optional<std::int64_t> next_periodic_ns_;
  std::uint64_t windows_ = 0;
  std::deque<Held> held_;
};

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_SNAPSHOT_PICKER_H_
