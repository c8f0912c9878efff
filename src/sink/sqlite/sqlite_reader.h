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
#include "sink/store_reader.h"
#include "sink/window_record.h"

namespace mh::sink {

// One stored window of a machine (the `windows` row) with the threshold of
// the baseline that scored it: what `machine-health export --what windows`
// writes.
struct StoredWindow {
  std::int64_t t_ns = 0;                         // event time: window start, ns since the epoch
  double score = 0;                              // decision_function; NaN while learning
  double score_samples = 0;                      // score_samples; NaN while learning
  int anomaly = -1;                              // 1 anomalous, 0 not, -1 while learning (NULL)
  MachineState state = MachineState::kLearning;  // the machine's state after it
  double state_score = 0;                        // NaN while learning
  double rms = 0;                                // vector RMS, g; NaN if unknown
  std::int64_t baseline_version = 0;             // 0 while learning
  // baselines.threshold of (machine, baseline_version); NaN for version 0,
  // a NULL threshold, or a baseline no longer stored.
  double threshold = 0;
  std::int64_t feature_set = 0;  // feature_sets.id: names from FeatureSet()
  std::vector<double> features;  // the stored float32 values widened, in the set's order
};

// One series of one rollup bucket of a machine: the windows with event time
// in [bucket_ns, bucket_ns + tier), over every feature set stored in the
// bucket (a feature in several sets is merged exactly).
struct RollupPoint {
  std::int64_t bucket_ns = 0;
  std::string series;      // "score", "rms" or a feature name ("feature.score", "feature.rms" for
                           // features of those names)
  std::int64_t count = 0;  // windows with a value (score: scored, not learning)
  double min = 0, mean = 0, max = 0;  // NaN when count == 0
  std::int64_t anomalies = 0;         // "score": windows with anomaly = 1; else 0
};

class SqliteReader final : public StoreReader {
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
  ~SqliteReader() override;

  // Every machine, sorted by id (byte order). IOError/Unavailable on failure.
  Result<std::vector<MachineSummary>> Machines() override;

  // One machine. NotFound if no machine has this id.
  Result<MachineSummary> Machine(const std::string& id) override;

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
                           std::int64_t from_ns, std::int64_t to_ns,
                           std::size_t max_points) override;

  // The windows of `machine` with t > after_ns, oldest first, at most
  // `limit` (one range seek on the windows' primary key). NotFound for an
  // unknown machine; IOError/Unavailable if SQLite fails.
  Result<std::vector<WindowPoint>> WindowsAfter(const std::string& machine, std::int64_t after_ns,
                                                std::size_t limit) override;

  // Names of the features of `machine`'s latest window (sorted; the
  // pipeline stores the same features for every window). NotFound for an
  // unknown machine.
  Result<std::vector<std::string>> FeatureNames(const std::string& machine) override;

  // See StoreReader: one primary-key seek of the latest window.
  Result<std::vector<std::pair<std::string, double>>> LatestFeatures(
      const std::string& machine, const std::string& prefix) override;

  // The feature sets of `machine`'s windows with from_ns <= t < to_ns, in
  // the order of their first window in the range (reads every window of the
  // range, without decoding).
  // NotFound for an unknown machine; InvalidArgument for from_ns > to_ns.
  Result<std::vector<std::int64_t>> WindowFeatureSets(const std::string& machine,
                                                      std::int64_t from_ns, std::int64_t to_ns);
  // The names of feature set `id` in blob order. NotFound if there is none.
  Result<std::vector<std::string>> FeatureSet(std::int64_t id);

  // The first `limit` (>= 1) windows of `machine` with from_ns <= t < to_ns,
  // oldest first; page on with from_ns = the last t_ns + 1. NotFound for an
  // unknown machine; InvalidArgument for from_ns > to_ns or limit 0;
  // Corruption (naming the file, machine and t_ns) for a features blob that
  // does not fit its feature set.
  Result<std::vector<StoredWindow>> Windows(const std::string& machine, std::int64_t from_ns,
                                            std::int64_t to_ns, std::size_t limit);

  // The rollups of `machine` in tier `tier_s` (60 or 3600 seconds) with
  // bucket start from_ns <= bucket_ns < to_ns, oldest first, of at most
  // `max_buckets` (>= 1) buckets; page on with from_ns = the last bucket_ns +
  // 1. Per bucket: "score", "rms", then each feature in the order of the
  // bucket's feature sets (by id, then blob order). "rms" counts every
  // window of a row whose rms_min is not NULL (the count of windows with an
  // RMS is not stored; the pipeline gives every window one). NotFound for an
  // unknown machine; InvalidArgument for another tier, from_ns > to_ns or
  // max_buckets 0; Corruption for a damaged row.
  Result<std::vector<RollupPoint>> Rollups(const std::string& machine, std::int64_t tier_s,
                                           std::int64_t from_ns, std::int64_t to_ns,
                                           std::size_t max_buckets);

  // Alarms matching `filter`, newest first (see AlarmFilter). A database of
  // schema version 1 (no alarm table yet) has none. IOError/Unavailable if
  // SQLite fails.
  Result<std::vector<AlarmRecord>> Alarms(const AlarmFilter& filter) override;

  // One alarm. NotFound "unknown alarm '<id>'".
  Result<AlarmRecord> Alarm(const std::string& alarm_id) override;

  // As BaselineStore::List / Get, read-only. A database before schema
  // version 3 has no baselines.
  Result<std::vector<BaselineInfo>> Baselines(const std::string& machine_id = "") override;
  Result<StoredBaseline> Baseline(const std::string& machine_id, std::int64_t version = 0) override;

  // The waveform snapshots of `machine_id` with from_ns <= t < to_ns
  // (docs/database.md, "Waveform snapshots"), oldest first, the newest
  // `limit` when more match; none before schema version 4. InvalidArgument
  // for from_ns > to_ns.
  Result<std::vector<SnapshotInfo>> Snapshots(const std::string& machine_id, std::int64_t from_ns,
                                              std::int64_t to_ns,
                                              std::size_t limit = 1000) override;
  // One snapshot with its samples decoded. NotFound "unknown snapshot N";
  // Corruption naming the file and snapshot for a damaged blob.
  Result<StoredSnapshot> Snapshot(std::int64_t id) override;

 private:
  struct Impl;
  explicit SqliteReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::sink

#endif  // MH_SINK_SQLITE_SQLITE_READER_H_
