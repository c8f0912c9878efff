// Stored waveform snapshots (docs/database.md, "Waveform snapshots"): what
// SqliteReader lists and returns, and the retention the sink applies.
#ifndef MH_SINK_SQLITE_SNAPSHOT_RECORD_H_
#define MH_SINK_SQLITE_SNAPSHOT_RECORD_H_

#include <cstdint>
#include <string>

namespace mh::sink {

// One row of the `snapshots` table, without its samples.
struct SnapshotInfo {
  std::int64_t id = 0;  // snapshots.id
  std::string machine_id;
  std::int64_t t_ns = 0;  // start of the window whose samples these are
  std::string kind;       // "periodic" or "alarm"
  std::string alarm_id;   // kind "alarm": the alarm whose peak window it is
  double score = 0;       // the window's decision_function (NaN while learning)
  double fs_hz = 0;
  std::int64_t samples = 0;  // per channel
  std::int64_t bytes = 0;    // compressed size
};

// Snapshot retention by event time, relative to the newest stored snapshot
// of any machine; 0 = kept forever.
struct SnapshotRetention {
  std::int64_t periodic_ns = std::int64_t{7} * 86400 * 1'000'000'000;  // 7 days
  std::int64_t alarm_ns = std::int64_t{365} * 86400 * 1'000'000'000;   // a year
};

}  // namespace mh::sink

#endif  // MH_SINK_SQLITE_SNAPSHOT_RECORD_H_
