// SqliteReader: the read side of the SQLite sink's database, used by the HTTP
// API. Opens the database read-only; a pipeline may write it at the same time
// from another process (WAL), and every call sees the latest committed
// batches.
//
// Thread safety: all methods may be called from several threads at once
// (calls are serialized on one connection; each is a short query).
#ifndef MH_SINK_SQLITE_SQLITE_READER_H_
#define MH_SINK_SQLITE_SQLITE_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "codec/snapshot.h"
#include "core/result.h"
#include "sink/alarm_record.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/snapshot_record.h"

namespace mh::sink {

// One row of the `machines` table: a machine's state after its latest window.
struct MachineSummary {
  std::string id;           // machine id, e.g. "m1"
  std::string state;        // "learning", "normal" or "anomalous"
  double score = 0;         // latest state_score (NaN while learning / unknown)
  double threshold = 0;     // decision_function threshold (NaN if unknown)
  std::int64_t updated_ns;  // event time (window start) of the latest window, ns since epoch
  std::int64_t windows;     // number of windows stored for the machine
};

// One stored window as the live stream reports it (SqliteReader::WindowsAfter).
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

class SqliteReader {
 public:
  // Opens the database at `path` read-only (schema version 4; a reader
  // never migrates). NotFound ("<path>: no such database") if the file does
  // not exist; Corruption if it is not a machine-health database or has
  // another schema version; Unavailable if it is of version 1 to 3 or
  // mid-migration (a writer, e.g. `machine-health run`, converts it);
  // IOError if it cannot be opened.
  static Result<std::unique_ptr<SqliteReader>> Open(const std::string& path);

  SqliteReader(const SqliteReader&) = delete;
  SqliteReader& operator=(const SqliteReader&) = delete;
  ~SqliteReader();

  // Every machine, sorted by id (byte order). IOError/Unavailable on failure.
  Result<std::vector<MachineSummary>> Machines();

  // One machine. NotFound if no machine has this id.
  Result<MachineSummary> Machine(const std::string& id);

  // The points of `metric` for `machine` with from_ns <= t < to_ns, ordered
  // by time. metric: "score" (decision_function), "rms" (vector RMS, g),
  // "state_score", "baseline_version" (the version of the baseline that
  // scored the window; 0 while learning and for windows stored before schema
  // version 3), or a stored feature name (e.g. "kurtosis_ax"; float32
  // precision, widened to double).
  //
  // If more than max_points points fall in the range, they are evenly
  // decimated to exactly max_points: the first and the latest point are
  // always kept, the others taken at equal index steps in between (all
  // points of the range are read, so ask for bounded ranges).
  //
  // Errors: NotFound for an unknown machine; InvalidArgument for an unknown
  // metric (not one of the three above and not a feature of the machine's
  // latest window), for max_points == 0 or from_ns > to_ns; IOError/Unavailable
  // if SQLite fails.
  Result<Series> GetSeries(const std::string& machine, const std::string& metric,
                           std::int64_t from_ns, std::int64_t to_ns, std::size_t max_points);

  // The windows of `machine` with t > after_ns, oldest first, at most
  // `limit` (one range seek on the windows' primary key). NotFound for an
  // unknown machine; IOError/Unavailable if SQLite fails.
  Result<std::vector<WindowPoint>> WindowsAfter(const std::string& machine, std::int64_t after_ns,
                                                std::size_t limit);

  // Names of the features of `machine`'s latest window (sorted; the
  // pipeline stores the same features for every window). NotFound for an
  // unknown machine.
  Result<std::vector<std::string>> FeatureNames(const std::string& machine);

  // Alarms matching `filter`, newest first (see AlarmFilter). A database of
  // schema version 1 (no alarm table yet) has none. IOError/Unavailable if
  // SQLite fails.
  Result<std::vector<AlarmRecord>> Alarms(const AlarmFilter& filter);

  // One alarm. NotFound "unknown alarm '<id>'".
  Result<AlarmRecord> Alarm(const std::string& alarm_id);

  // As BaselineStore::List / Get, read-only. A database before schema
  // version 3 has no baselines.
  Result<std::vector<BaselineInfo>> Baselines(const std::string& machine_id = "");
  Result<StoredBaseline> Baseline(const std::string& machine_id, std::int64_t version = 0);

  // The waveform snapshots of `machine_id` with from_ns <= t < to_ns
  // (docs/database.md, "Waveform snapshots"), oldest first, the newest
  // `limit` when more match; none before schema version 4. InvalidArgument
  // for from_ns > to_ns.
  Result<std::vector<SnapshotInfo>> Snapshots(const std::string& machine_id, std::int64_t from_ns,
                                              std::int64_t to_ns, std::size_t limit = 1000);
  // One snapshot with its samples decoded. NotFound "unknown snapshot N";
  // Corruption naming the file and snapshot for a damaged blob.
  Result<StoredSnapshot> Snapshot(std::int64_t id);

 private:
  struct Impl;
  explicit SqliteReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::sink

#endif  // MH_SINK_SQLITE_SQLITE_READER_H_
