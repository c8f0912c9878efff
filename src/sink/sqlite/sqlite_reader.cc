#include "sink/sqlite/sqlite_reader.h"

#include <cmath>
#include <mutex>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "codec/snapshot.h"
#include "sink/sqlite/internal/alarm_sql.h"
#include "sink/sqlite/internal/baseline_sql.h"
#include "sink/sqlite/internal/snapshot_sql.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink {

using internal::Db;
using internal::SqliteError;
using internal::Stmt;
using internal::StmtResetter;

struct SqliteReader::Impl {
  std::string path;
  int schema_version = 0;
  std::mutex mu;  // guards db and every statement
  Db db;
  Stmt machines;
  Stmt machine;
  Stmt series_score;
  Stmt series_rms;
  Stmt series_state_score;
  Stmt series_baseline_version;
  Stmt series_feature;
  Stmt has_feature;
  Stmt latest_features;

  Status Prepare() {
    MH_ASSIGN_OR_RETURN(machines, Stmt::Prepare(db,
                                                "SELECT id, state, state_score, threshold, "
                                                "updated_ns, windows FROM machines ORDER BY id"));
    MH_ASSIGN_OR_RETURN(machine, Stmt::Prepare(db,
                                               "SELECT id, state, state_score, threshold, "
                                               "updated_ns, windows FROM machines WHERE id = ?1"));
    const char* kScores =
        "FROM scores WHERE machine_id = ?1 AND t_ns >= ?2 AND t_ns < ?3 ORDER BY t_ns";
    MH_ASSIGN_OR_RETURN(series_score,
                        Stmt::Prepare(db, (std::string("SELECT t_ns, score ") + kScores).c_str()));
    MH_ASSIGN_OR_RETURN(series_rms,
                        Stmt::Prepare(db, (std::string("SELECT t_ns, rms ") + kScores).c_str()));
    MH_ASSIGN_OR_RETURN(
        series_state_score,
        Stmt::Prepare(db, (std::string("SELECT t_ns, state_score ") + kScores).c_str()));
    // Before schema version 3 no window recorded its baseline: 0 ("not known").
    MH_ASSIGN_OR_RETURN(
        series_baseline_version,
        Stmt::Prepare(db, (std::string(schema_version >= 3 ? "SELECT t_ns, baseline_version "
                                                           : "SELECT t_ns, 0 ") +
                           kScores)
                              .c_str()));
    MH_ASSIGN_OR_RETURN(series_feature,
                        Stmt::Prepare(db,
                                      "SELECT t_ns, value FROM features WHERE machine_id = ?1 "
                                      "AND name = ?4 AND t_ns >= ?2 AND t_ns < ?3 ORDER BY t_ns"));
    MH_ASSIGN_OR_RETURN(
        has_feature,
        Stmt::Prepare(db,
                      "SELECT 1 FROM features WHERE machine_id = ?1 AND name = ?2 AND t_ns = "
                      "(SELECT max(t_ns) FROM features WHERE machine_id = ?1)"));
    // Feature names come from the machine's latest window: with the primary
    // key (machine_id, t_ns, name) that is one index seek, not a scan.
    MH_ASSIGN_OR_RETURN(latest_features,
                        Stmt::Prepare(db,
                                      "SELECT name FROM features WHERE machine_id = ?1 AND t_ns = "
                                      "(SELECT max(t_ns) FROM features WHERE machine_id = ?1) "
                                      "ORDER BY name"));
    return Status::OK();
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
  MH_ASSIGN_OR_RETURN(impl->db, internal::OpenReadOnly(path, &impl->schema_version));
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
  sqlite3_stmt* s;
  bool feature = false;
  if (metric == "score") {
    s = impl_->series_score.get();
  } else if (metric == "rms") {
    s = impl_->series_rms.get();
  } else if (metric == "state_score") {
    s = impl_->series_state_score.get();
  } else if (metric == "baseline_version") {
    s = impl_->series_baseline_version.get();
  } else {
    s = impl_->series_feature.get();
    feature = true;
  }
  if (feature) {
    sqlite3_stmt* h = impl_->has_feature.get();
    StmtResetter reset(h);
    sqlite3_bind_text(h, 1, machine.data(), static_cast<int>(machine.size()), SQLITE_STATIC);
    sqlite3_bind_text(h, 2, metric.data(), static_cast<int>(metric.size()), SQLITE_STATIC);
    int rc = sqlite3_step(h);
    if (rc == SQLITE_DONE) {
      return Status::InvalidArgument(
          "unknown metric '" + metric + "' for machine '" + machine +
          "' (expected score, rms, state_score, baseline_version or a feature name)");
    }
    if (rc != SQLITE_ROW) {
      return SqliteError(impl_->db.get(), rc, impl_->path + ": reading features");
    }
  }
  Series all;
  {
    StmtResetter reset(s);
    sqlite3_bind_text(s, 1, machine.data(), static_cast<int>(machine.size()), SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, from_ns);
    sqlite3_bind_int64(s, 3, to_ns);
    if (feature) {
      sqlite3_bind_text(s, 4, metric.data(), static_cast<int>(metric.size()), SQLITE_STATIC);
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      all.t_ns.push_back(sqlite3_column_int64(s, 0));
      all.v.push_back(Impl::ColumnReal(s, 1));
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(impl_->db.get(), rc, impl_->path + ": reading " + metric);
    }
  }
  const std::size_t n = all.t_ns.size();
  if (n <= max_points) return all;
  Series out;
  out.t_ns.reserve(max_points);
  out.v.reserve(max_points);
  if (max_points == 1) {
    out.t_ns.push_back(all.t_ns.back());
    out.v.push_back(all.v.back());
    return out;
  }
  // Index i*(n-1)/(m-1): strictly increasing because n > m, first 0, last n-1.
  // (The product cannot overflow: both factors are bounded by what fits in memory.)
  for (std::size_t i = 0; i < max_points; ++i) {
    std::size_t k = i * (n - 1) / (max_points - 1);
    out.t_ns.push_back(all.t_ns[k]);
    out.v.push_back(all.v[k]);
  }
  return out;
}

Result<std::vector<std::string>> SqliteReader::FeatureNames(const std::string& machine) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MH_RETURN_IF_ERROR(impl_->MachineLocked(machine).status());
  std::vector<std::string> names;
  sqlite3_stmt* s = impl_->latest_features.get();
  StmtResetter reset(s);
  sqlite3_bind_text(s, 1, machine.data(), static_cast<int>(machine.size()), SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) names.push_back(Impl::ColumnText(s, 0));
  if (rc != SQLITE_DONE) {
    return SqliteError(impl_->db.get(), rc, impl_->path + ": reading features");
  }
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
