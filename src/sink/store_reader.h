// StoreReader: what the dashboard and its JSON API (src/http) read of a
// store of windows, whatever keeps them: the embedded SQLite database
// (sink/sqlite/sqlite_reader.h, every call) or InfluxDB
// (sink/influxdb/influxdb_reader.h: machines, scores and features; no
// alarms, baselines or snapshots, which only the embedded store keeps).
// The contract of each call is SqliteReader's; a store without a kind of
// record answers as an empty database would (empty lists, NotFound for one).
//
// Thread safety: every method may be called from several threads at once.
#ifndef MH_SINK_STORE_READER_H_
#define MH_SINK_STORE_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "codec/snapshot.h"
#include "core/result.h"
#include "sink/alarm_record.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/snapshot_record.h"

namespace mh::sink {

// One row of the `machines` table: a machine's state after its latest window.
struct MachineSummary {
  std::string id;               // machine id, e.g. "m1"
  std::string state;            // "learning", "normal" or "anomalous"
  double score = 0;             // latest state_score (NaN while learning / unknown)
  double threshold = 0;         // decision_function threshold (NaN if unknown)
  std::int64_t updated_ns = 0;  // event time (window start) of the latest window, ns since epoch
  std::int64_t windows = 0;     // number of windows stored for the machine
};

// One stored window as the live stream reports it (StoreReader::WindowsAfter).
struct WindowPoint {
  std::int64_t t_ns = 0;              // event time (window start), ns since epoch
  double score = 0;                   // decision_function (NaN while learning)
  double state_score = 0;             // NaN if not stored
  double rms = 0;                     // vector RMS, g (NaN if not stored)
  std::string state;                  // "learning", "normal" or "anomalous"
  std::int64_t baseline_version = 0;  // 0 while learning
};

// A stored waveform snapshot with its samples.
struct StoredSnapshot {
  SnapshotInfo info;
  codec::SnapshotSamples samples;
};

// A time series: t_ns[i] (ns since epoch, increasing) and v[i] (NaN where the
// stored value is NULL, e.g. the score of a window scored while learning).
struct Series {
  std::vector<std::int64_t> t_ns;
  std::vector<double> v;
};

class StoreReader {
 public:
  virtual ~StoreReader() = default;
  virtual Result<std::vector<MachineSummary>> Machines() = 0;
  virtual Result<MachineSummary> Machine(const std::string& id) = 0;
  virtual Result<Series> GetSeries(const std::string& machine, const std::string& metric,
                                   std::int64_t from_ns, std::int64_t to_ns,
                                   std::size_t max_points) = 0;
  virtual Result<std::vector<WindowPoint>> WindowsAfter(const std::string& machine,
                                                        std::int64_t after_ns,
                                                        std::size_t limit) = 0;
  virtual Result<std::vector<std::string>> FeatureNames(const std::string& machine) = 0;
  // The features of `machine`'s latest window named `prefix` + '_' +
  // channel (e.g. "velocity_rms": velocity_rms_ax, ...), name and value, in
  // the window's order; none when it has no such feature. NotFound for an
  // unknown machine.
  virtual Result<std::vector<std::pair<std::string, double>>> LatestFeatures(
      const std::string& machine, const std::string& prefix) = 0;
  virtual Result<std::vector<AlarmRecord>> Alarms(const AlarmFilter& filter) = 0;
  virtual Result<AlarmRecord> Alarm(const std::string& alarm_id) = 0;
  virtual Result<std::vector<BaselineInfo>> Baselines(const std::string& machine_id = "") = 0;
  virtual Result<StoredBaseline> Baseline(const std::string& machine_id,
                                          std::int64_t version = 0) = 0;
  virtual Result<std::vector<SnapshotInfo>> Snapshots(const std::string& machine_id,
                                                      std::int64_t from_ns, std::int64_t to_ns,
                                                      std::size_t limit = 1000) = 0;
  virtual Result<StoredSnapshot> Snapshot(std::int64_t id) = 0;
};

}  // namespace mh::sink

#endif  // MH_SINK_STORE_READER_H_
