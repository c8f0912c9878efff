#include "sink/sqlite/sqlite_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "codec/snapshot.h"
#include "sink/sqlite/internal/alarm_sql.h"
#include "sink/sqlite/internal/baseline_sql.h"
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
    // The feature set of the machine's latest window: one seek at the end of
    // the machine's primary-key range.
    MH_ASSIGN_OR_RETURN(latest_set, Stmt::Prepare(db,
                                                  "SELECT feature_set FROM windows WHERE machine "
                                                  "= ?1 ORDER BY t_ns DESC LIMIT 1"));
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
