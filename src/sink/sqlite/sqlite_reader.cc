#include "sink/sqlite/sqlite_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "codec/snapshot.h"
#include "sink/sqlite/internal/alarm_sql.h"
#include "sink/sqlite/internal/baseline_sql.h"
#include "sink/sqlite/internal/rollup.h"
#include "sink/sqlite/internal/rollup_series.h"
#include "sink/sqlite/internal/snapshot_sql.h"
#include "sink/sqlite/internal/sqlite_util.h"
#include "sink/sqlite/internal/windows_v4.h"
#include "sink/window_record.h"

namespace mh::sink {

using internal::Db;
using internal::SqliteError;
using internal::Stmt;
using internal::StmtResetter;

struct SqliteReader::Impl {
  std::string path;
  std::mutex mu;  // guards db, every statement and sets
  Db db;
  Stmt machines;
  Stmt machine;
  Stmt machine_key;
  Stmt latest_set;
  Stmt windows_after;
  internal::FeatureSetNames sets;

  Status Prepare() {
    MH_ASSIGN_OR_RETURN(machines, Stmt::Prepare(db,
                                                "SELECT id, state, state_score, threshold, "
                                                "updated_ns, windows FROM machines ORDER BY id"));
    MH_ASSIGN_OR_RETURN(machine, Stmt::Prepare(db,
                                               "SELECT id, state, state_score, threshold, "
                                               "updated_ns, windows FROM machines WHERE id = ?1"));
    MH_ASSIGN_OR_RETURN(machine_key,
                        Stmt::Prepare(db, "SELECT key FROM machine_keys WHERE id = ?1"));
    // The feature set (and values) of the machine's latest window: one seek
    // at the end of the machine's primary-key range.
    MH_ASSIGN_OR_RETURN(latest_set, Stmt::Prepare(db,
                                                  "SELECT feature_set, features FROM windows WHERE "
                                                  "machine = ?1 ORDER BY t_ns DESC LIMIT 1"));
    MH_ASSIGN_OR_RETURN(windows_after,
                        Stmt::Prepare(db,
                                      "SELECT t_ns, score, state_score, rms, state, "
                                      "baseline_version FROM windows WHERE machine = ?1 AND "
                                      "t_ns > ?2 ORDER BY t_ns LIMIT ?3"));
    return Status::OK();
  }

  // The machine's key; -1 if it has no stored window. Caller holds mu.
  Result<std::int64_t> KeyLocked(const std::string& id) {
    sqlite3_stmt* s = machine_key.get();
    StmtResetter reset(s);
    internal::BindText(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return static_cast<std::int64_t>(sqlite3_column_int64(s, 0));
    if (rc == SQLITE_DONE) return -1;
    return SqliteError(db.get(), rc, path + ": reading machine keys");
  }

  // Names of the feature set of the machine's latest window (none if the
  // machine has no window). Caller holds mu.
  Result<std::vector<std::string>> LatestNamesLocked(std::int64_t key) {
    if (key < 0) return std::vector<std::string>{};
    std::int64_t set;
    {
      sqlite3_stmt* s = latest_set.get();
      StmtResetter reset(s);
      sqlite3_bind_int64(s, 1, key);
      int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return std::vector<std::string>{};
      if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading windows");
      set = sqlite3_column_int64(s, 0);
    }
    MH_ASSIGN_OR_RETURN(const std::vector<std::string>* names, sets.Get(db, path, set));
    return *names;
  }

  static double ColumnReal(sqlite3_stmt* s, int col) {
    return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
  }

  static std::string ColumnText(sqlite3_stmt* s, int col) { return internal::ColumnText(s, col); }

  static MachineSummary ReadMachine(sqlite3_stmt* s) {
    MachineSummary m;
    m.id = ColumnText(s, 0);
    m.state = ColumnText(s, 1);
    m.score = ColumnReal(s, 2);
    m.threshold = ColumnReal(s, 3);
    m.updated_ns = sqlite3_column_int64(s, 4);
    m.windows = sqlite3_column_int64(s, 5);
    return m;
  }

  // Caller holds mu.
  Result<MachineSummary> MachineLocked(const std::string& id) {
    sqlite3_stmt* s = machine.get();
    StmtResetter reset(s);
    sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return ReadMachine(s);
    if (rc == SQLITE_DONE) return Status::NotFound("unknown machine '" + id + "'");
    return SqliteError(db.get(), rc, path + ": reading machines");
  }
};

SqliteReader::SqliteReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteReader::~SqliteReader() = default;

Result<std::unique_ptr<SqliteReader>> SqliteReader::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  MH_ASSIGN_OR_RETURN(impl->db, internal::OpenReadOnly(path));
  MH_RETURN_IF_ERROR(impl->Prepare());
  return std::unique_ptr<SqliteReader>(new SqliteReader(std::move(impl)));
}

Result<std::vector<MachineSummary>> SqliteReader::Machines() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  sqlite3_stmt* s = impl_->machines.get();
  StmtResetter reset(s);
  std::vector<MachineSummary> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(Impl::ReadMachine(s));
  if (rc != SQLITE_DONE)
    return SqliteError(impl_->db.get(), rc, impl_->path + ": reading machines");
  return out;
}

Result<MachineSummary> SqliteReader::Machine(const std::string& id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->MachineLocked(id);
}

Result<Series> SqliteReader::GetSeries(const std::string& machine, const std::string& metric,
                                       std::int64_t from_ns, std::int64_t to_ns,
                                       std::size_t max_points) {
  if (max_points == 0) return Status::InvalidArgument("max points must be at least 1");
  if (from_ns > to_ns) return Status::InvalidArgument("from is after to");
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
  const bool feature = metric != "score" && metric != "rms" && metric != "state_score" &&
                       metric != "baseline_version";
  MH_ASSIGN_OR_RETURN(const std::int64_t key, impl_->KeyLocked(machine));
  if (feature) {
    MH_ASSIGN_OR_RETURN(std::vector<std::string> latest, impl_->LatestNamesLocked(key));
    if (std::find(latest.begin(), latest.end(), metric) == latest.end()) {
      return Status::InvalidArgument(
          "unknown metric '" + metric + "' for machine '" + machine +
          "' (expected score, rms, state_score, baseline_version or a feature name)");
    }
  }
  // Windows, or rollups for long or pruned ranges (internal/rollup_series.h).
  return internal::ReadSeriesV4(impl_->db, impl_->path, key, metric, from_ns, to_ns, max_points);
}

Result<std::vector<WindowPoint>> SqliteReader::WindowsAfter(const std::string& machine,
                                                            std::int64_t after_ns,
                                                            std::size_t limit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_ASSIGN_OR_RETURN(const std::int64_t key, impl_->KeyLocked(machine));
  std::vector<WindowPoint> out;
  if (key < 0) {  // no window stored: a machine without windows, or unknown
    MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
    return out;
  }
  if (limit == 0) return out;
  sqlite3_stmt* s = impl_->windows_after.get();
  StmtResetter reset(s);
  sqlite3_bind_int64(s, 1, key);
  sqlite3_bind_int64(s, 2, after_ns);
  sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(std::min<std::size_t>(limit, INT64_MAX)));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    WindowPoint w;
    w.t_ns = sqlite3_column_int64(s, 0);
    w.score = Impl::ColumnReal(s, 1);
    w.state_score = Impl::ColumnReal(s, 2);
    w.rms = Impl::ColumnReal(s, 3);
    w.state = MachineStateName(static_cast<MachineState>(sqlite3_column_int(s, 4)));
    w.baseline_version = sqlite3_column_int64(s, 5);
    out.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE) return SqliteError(impl_->db.get(), rc, impl_->path + ": reading windows");
  return out;
}

Result<std::vector<std::string>> SqliteReader::FeatureNames(const std::string& machine) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
  MH_ASSIGN_OR_RETURN(const std::int64_t key, impl_->KeyLocked(machine));
  MH_ASSIGN_OR_RETURN(std::vector<std::string> names, impl_->LatestNamesLocked(key));
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<std::pair<std::string, double>>> SqliteReader::LatestFeatures(
    const std::string& machine, const std::string& prefix) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
  MH_ASSIGN_OR_RETURN(const std::int64_t key, impl_->KeyLocked(machine));
  std::vector<std::pair<std::string, double>> out;
  if (key < 0) return out;
  sqlite3_stmt* s = impl_->latest_set.get();
  StmtResetter reset(s);
  sqlite3_bind_int64(s, 1, key);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return out;
  if (rc != SQLITE_ROW) return SqliteError(impl_->db.get(), rc, impl_->path + ": reading windows");
  MH_ASSIGN_OR_RETURN(const std::vector<std::string>* names,
                      impl_->sets.Get(impl_->db, impl_->path, sqlite3_column_int64(s, 0)));
  const void* blob = sqlite3_column_blob(s, 1);
  const std::size_t floats = static_cast<std::size_t>(sqlite3_column_bytes(s, 1)) / 4;
  for (std::size_t i = 0; i < names->size() && i < floats && blob != nullptr; ++i) {
    const std::string& name = (*names)[i];
    if (name.size() > prefix.size() + 1 && name.compare(0, prefix.size(), prefix) == 0 &&
        name[prefix.size()] == '_') {
      out.emplace_back(name, internal::DecodeFeature(blob, i));
    }
  }
  return out;
}

Result<std::vector<std::int64_t>> SqliteReader::WindowFeatureSets(const std::string& machine,
                                                                  std::int64_t from_ns,
                                                                  std::int64_t to_ns) {
  if (from_ns > to_ns) return Status::InvalidArgument("from is after to");
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
  MH_ASSIGN_OR_RETURN(const std::int64_t key, impl_->KeyLocked(machine));
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(impl_->db,
                                            "SELECT feature_set, min(t_ns) AS first FROM "
                                            "windows WHERE machine = ?1 AND t_ns >= ?2 AND t_ns "
                                            "< ?3 GROUP BY feature_set ORDER BY first, "
                                            "feature_set"));
  sqlite3_bind_int64(s.get(), 1, key);
  sqlite3_bind_int64(s.get(), 2, from_ns);
  sqlite3_bind_int64(s.get(), 3, to_ns);
  std::vector<std::int64_t> sets;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
    sets.push_back(sqlite3_column_int64(s.get(), 0));
  if (rc != SQLITE_DONE) return SqliteError(impl_->db.get(), rc, impl_->path + ": reading windows");
  return sets;
}

Result<std::vector<std::string>> SqliteReader::FeatureSet(std::int64_t id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_ASSIGN_OR_RETURN(const std::vector<std::string>* names,
                      impl_->sets.Get(impl_->db, impl_->path, id));
  return *names;
}

Result<std::vector<StoredWindow>> SqliteReader::Windows(const std::string& machine,
                                                        std::int64_t from_ns, std::int64_t to_ns,
                                                        std::size_t limit) {
  if (from_ns > to_ns) return Status::InvalidArgument("from is after to");
  if (limit == 0) return Status::InvalidArgument("windows: limit must be at least 1");
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
  MH_ASSIGN_OR_RETURN(const std::int64_t key, impl_->KeyLocked(machine));
  // One statement, so that the page is one read transaction.
  MH_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(impl_->db,
                            "SELECT w.t_ns, w.score, w.score_samples, w.anomaly, w.state, "
                            "w.state_score, w.rms, w.baseline_version, b.threshold, "
                            "w.feature_set, w.features FROM windows w LEFT JOIN baselines b ON "
                            "b.machine_id = ?4 AND b.version = w.baseline_version WHERE "
                            "w.machine = ?1 AND w.t_ns >= ?2 AND w.t_ns < ?3 ORDER BY w.t_ns "
                            "LIMIT ?5"));
  sqlite3_stmt* q = s.get();
  sqlite3_bind_int64(q, 1, key);
  sqlite3_bind_int64(q, 2, from_ns);
  sqlite3_bind_int64(q, 3, to_ns);
  internal::BindText(q, 4, machine);
  sqlite3_bind_int64(q, 5, static_cast<sqlite3_int64>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<StoredWindow> out;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    StoredWindow w;
    w.t_ns = sqlite3_column_int64(q, 0);
    w.score = Impl::ColumnReal(q, 1);
    w.score_samples = Impl::ColumnReal(q, 2);
    w.anomaly = sqlite3_column_type(q, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 3);
    const int state = sqlite3_column_int(q, 4);
    w.state = state == 1   ? MachineState::kNormal
              : state == 2 ? MachineState::kAnomalous
                           : MachineState::kLearning;
    w.state_score = Impl::ColumnReal(q, 5);
    w.rms = Impl::ColumnReal(q, 6);
    w.baseline_version = sqlite3_column_int64(q, 7);
    w.threshold = Impl::ColumnReal(q, 8);
    w.feature_set = sqlite3_column_int64(q, 9);
    MH_ASSIGN_OR_RETURN(const std::vector<std::string>* names,
                        impl_->sets.Get(impl_->db, impl_->path, w.feature_set));
    const void* blob = sqlite3_column_blob(q, 10);
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(q, 10));
    if (bytes != 4 * names->size()) {
      return Status::Corruption(impl_->path + ": windows: machine '" + machine + "' t_ns " +
                                std::to_string(w.t_ns) + ": features blob of " +
                                std::to_string(bytes) + " bytes for a set of " +
                                std::to_string(names->size()) + " features");
    }
    w.features.resize(names->size());
    for (std::size_t i = 0; i < names->size(); ++i)
      w.features[i] = internal::DecodeFeature(blob, i);
    out.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE) return SqliteError(impl_->db.get(), rc, impl_->path + ": reading windows");
  return out;
}

namespace {

// One series of a bucket while its rows (one per feature set) are merged.
struct PointSum {
  std::int64_t count = 0;
  double min = NAN, max = NAN, sum = 0;
  std::int64_t anomalies = 0;

  void Add(std::int64_t n, double lo, double hi, double s) {
    if (n <= 0) return;
    min = count == 0 ? lo : std::min(min, lo);
    max = count == 0 ? hi : std::max(max, hi);
    sum += s;
    count += n;
  }
};

// Appends the merged series of one bucket to `out`.
void AppendBucket(std::int64_t bucket_ns, const std::vector<std::string>& order,
                  std::map<std::string, PointSum>& sums, std::vector<RollupPoint>* out) {
  for (const std::string& name : order) {
    const PointSum& p = sums[name];
    RollupPoint r;
    r.bucket_ns = bucket_ns;
    r.series = name;
    r.count = p.count;
    r.min = p.count ? p.min : NAN;
    r.max = p.count ? p.max : NAN;
    r.mean = p.count ? p.sum / static_cast<double>(p.count) : NAN;
    r.anomalies = p.anomalies;
    out->push_back(std::move(r));
  }
}

}  // namespace

Result<std::vector<RollupPoint>> SqliteReader::Rollups(const std::string& machine,
                                                       std::int64_t tier_s, std::int64_t from_ns,
                                                       std::int64_t to_ns,
                                                       std::size_t max_buckets) {
  if (tier_s != internal::kRollupTiers[0] && tier_s != internal::kRollupTiers[1]) {
    return Status::InvalidArgument("rollups: no tier of " + std::to_string(tier_s) +
                                   " s (expected 60 or 3600)");
  }
  if (from_ns > to_ns) return Status::InvalidArgument("from is after to");
  if (max_buckets == 0) return Status::InvalidArgument("rollups: max buckets must be at least 1");
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
  MH_ASSIGN_OR_RETURN(const std::int64_t key, impl_->KeyLocked(machine));
  MH_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(impl_->db, (std::string("SELECT bucket_ns, feature_set, ") +
                                        internal::kRollupAggregateColumns +
                                        " FROM rollups WHERE tier = ?1 AND machine = ?2 AND "
                                        "bucket_ns >= ?3 AND bucket_ns < ?4 ORDER BY bucket_ns, "
                                        "feature_set")
                                           .c_str()));
  sqlite3_stmt* q = s.get();
  sqlite3_bind_int64(q, 1, tier_s);
  sqlite3_bind_int64(q, 2, key);
  sqlite3_bind_int64(q, 3, from_ns);
  sqlite3_bind_int64(q, 4, to_ns);
  std::vector<RollupPoint> out;
  std::size_t buckets = 0;
  std::int64_t bucket = 0;
  std::vector<std::string> order;  // of the current bucket's series
  std::map<std::string, PointSum> sums;
  internal::RollupAggregate a;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const std::int64_t b = sqlite3_column_int64(q, 0);
    const std::int64_t set = sqlite3_column_int64(q, 1);
    if (buckets == 0 || b != bucket) {
      if (buckets > 0) AppendBucket(bucket, order, sums, &out);
      if (buckets == max_buckets) break;
      ++buckets;
      bucket = b;
      order = {"score", "rms"};
      sums.clear();
    }
    const std::string context = impl_->path + ": rollups: machine '" + machine + "' tier " +
                                std::to_string(tier_s) + " bucket " + std::to_string(b);
    if (!internal::ReadAggregate(q, 2, &a)) {
      return Status::Corruption(context + ": feature blobs of unequal length");
    }
    MH_ASSIGN_OR_RETURN(const std::vector<std::string>* names,
                        impl_->sets.Get(impl_->db, impl_->path, set));
    if (a.feat_min.size() != names->size()) {
      return Status::Corruption(context + ": " + std::to_string(a.feat_min.size()) +
                                " feature values for a set of " + std::to_string(names->size()));
    }
    PointSum& score = sums["score"];
    score.Add(a.score_count, a.score_min, a.score_max, a.score_sum);
    score.anomalies += a.anomalies;
    sums["rms"].Add(a.rms_count ? a.count : 0, a.rms_min, a.rms_max, a.rms_sum);
    for (std::size_t i = 0; i < names->size(); ++i) {
      // A feature named like a fixed series keeps its own row.
      const std::string& stored = (*names)[i];
      const std::string name = stored == "score" || stored == "rms" ? "feature." + stored : stored;
      auto [it, added] = sums.try_emplace(name);
      if (added) order.push_back(name);
      it->second.Add(a.count, a.feat_min[i], a.feat_max[i], a.feat_sum[i]);
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return SqliteError(impl_->db.get(), rc, impl_->path + ": reading rollups");
  }
  if (rc == SQLITE_DONE && buckets > 0) AppendBucket(bucket, order, sums, &out);
  return out;
}

Result<std::vector<AlarmRecord>> SqliteReader::Alarms(const AlarmFilter& filter) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return internal::QueryAlarms(impl_->db, impl_->path, filter);
}

Result<AlarmRecord> SqliteReader::Alarm(const std::string& alarm_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return internal::QueryAlarm(impl_->db, impl_->path, alarm_id);
}

Result<std::vector<BaselineInfo>> SqliteReader::Baselines(const std::string& machine_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return internal::QueryBaselines(impl_->db, impl_->path, machine_id);
}

Result<StoredBaseline> SqliteReader::Baseline(const std::string& machine_id, std::int64_t version) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return internal::QueryBaseline(impl_->db, impl_->path, machine_id, version);
}

Result<std::vector<SnapshotInfo>> SqliteReader::Snapshots(const std::string& machine_id,
                                                          std::int64_t from_ns, std::int64_t to_ns,
                                                          std::size_t limit) {
  if (from_ns > to_ns) return Status::InvalidArgument("snapshots: from is after to");
  std::lock_guard<std::mutex> lock(impl_->mu);
  return internal::QuerySnapshots(impl_->db, impl_->path, machine_id, from_ns, to_ns, limit);
}

Result<StoredSnapshot> SqliteReader::Snapshot(std::int64_t id) {
  StoredSnapshot out;
  std::string blob;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    MH_ASSIGN_OR_RETURN(out.info, internal::QuerySnapshot(impl_->db, impl_->path, id, &blob));
  }
  // Decoded outside the lock: other readers need not wait for zstd.
  MH_ASSIGN_OR_RETURN(
      out.samples, codec::DecodeSnapshot(blob, impl_->path + ": snapshot " + std::to_string(id)));
  return out;
}

}  // namespace mh::sink
