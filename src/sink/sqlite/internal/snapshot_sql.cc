#include "sink/sqlite/internal/snapshot_sql.h"

#include <cmath>

#include <sqlite3.h>

namespace mh::sink::internal {

const char* const kSnapshotTables = R"sql(
CREATE TABLE snapshots(
  id INTEGER PRIMARY KEY,
  machine_id TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  alarm_id TEXT,
  score REAL,
  fs_hz REAL NOT NULL,
  samples INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE INDEX snapshots_by_machine ON snapshots(machine_id, t_ns);
CREATE UNIQUE INDEX snapshots_by_alarm ON snapshots(alarm_id) WHERE alarm_id IS NOT NULL;
)sql";

namespace {

Status Step(sqlite3* db, sqlite3_stmt* stmt, const std::string& what) {
  StmtResetter reset(stmt);
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, what);
  return Status::OK();
}

SnapshotInfo ReadInfo(sqlite3_stmt* s) {
  SnapshotInfo info;
  info.id = sqlite3_column_int64(s, 0);
  info.machine_id = ColumnText(s, 1);
  info.t_ns = sqlite3_column_int64(s, 2);
  info.kind = ColumnText(s, 3);
  info.alarm_id = ColumnText(s, 4);
  info.score = sqlite3_column_type(s, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 5);
  info.fs_hz = sqlite3_column_double(s, 6);
  info.samples = sqlite3_column_int64(s, 7);
  info.bytes = sqlite3_column_int64(s, 8);
  return info;
}

constexpr const char* kInfoColumns =
    "id, machine_id, t_ns, kind, alarm_id, score, fs_hz, samples, length(data)";

}  // namespace

Status SnapshotWriter::Prepare(const Db& db, const std::string& path) {
  path_ = path;
  db_ = db.get();
  MH_ASSIGN_OR_RETURN(periodic_, Stmt::Prepare(db,
                                               "INSERT INTO snapshots(machine_id, t_ns, kind, "
                                               "alarm_id, score, fs_hz, samples, data) "
                                               "VALUES(?1, ?2, 'periodic', NULL, ?3, ?4, ?5, ?6)"));
  MH_ASSIGN_OR_RETURN(alarm_,
                      Stmt::Prepare(db,
                                    "INSERT INTO snapshots(machine_id, t_ns, kind, alarm_id, "
                                    "score, fs_hz, samples, data) "
                                    "VALUES(?1, ?2, 'alarm', ?7, ?3, ?4, ?5, ?6) "
                                    "ON CONFLICT(alarm_id) WHERE alarm_id IS NOT NULL DO UPDATE "
                                    "SET machine_id = excluded.machine_id, t_ns = excluded.t_ns, "
                                    "score = excluded.score, fs_hz = excluded.fs_hz, "
                                    "samples = excluded.samples, data = excluded.data"));
  return Status::OK();
}

void SnapshotWriter::Reset() {
  periodic_ = Stmt();
  alarm_ = Stmt();
}

Status SnapshotWriter::Insert(sqlite3_stmt* s, const std::string& machine_id,
                              const WaveformSnapshot& snap, bool periodic) {
  BindText(s, 1, machine_id);
  sqlite3_bind_int64(s, 2, snap.window_start_ns);
  BindReal(s, 3, snap.score);
  sqlite3_bind_double(s, 4, snap.fs_hz);
  sqlite3_bind_int64(s, 5, snap.samples);
  sqlite3_bind_blob(s, 6, snap.blob.data(), static_cast<int>(snap.blob.size()), SQLITE_STATIC);
  if (!periodic) BindText(s, 7, snap.alarm_id);
  return Step(db_, s,
              path_ + ": machine '" + machine_id + "': storing the snapshot of window " +
                  std::to_string(snap.window_start_ns));
}

Status SnapshotWriter::Write(const std::string& machine_id, const WaveformSnapshot& snap) {
  if (snap.periodic) MH_RETURN_IF_ERROR(Insert(periodic_.get(), machine_id, snap, true));
  if (!snap.alarm_id.empty()) MH_RETURN_IF_ERROR(Insert(alarm_.get(), machine_id, snap, false));
  return Status::OK();
}

Result<bool> HasSnapshotTable(const Db& db, const std::string& path) {
  MH_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'snapshots'"));
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db.get(), rc, path + ": reading schema");
}

Result<std::vector<SnapshotInfo>> QuerySnapshots(const Db& db, const std::string& path,
                                                 const std::string& machine_id,
                                                 std::int64_t from_ns, std::int64_t to_ns,
                                                 std::size_t limit) {
  std::vector<SnapshotInfo> out;
  MH_ASSIGN_OR_RETURN(bool has, HasSnapshotTable(db, path));
  if (!has || limit == 0) return out;
  // The newest `limit`, returned oldest first.
  const std::string sql = std::string("SELECT * FROM (SELECT ") + kInfoColumns +
                          " FROM snapshots WHERE machine_id = ?1 AND t_ns >= ?2 AND t_ns < ?3 "
                          "ORDER BY t_ns DESC, id DESC LIMIT ?4) ORDER BY t_ns, id";
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db, sql.c_str()));
  BindText(s.get(), 1, machine_id);
  sqlite3_bind_int64(s.get(), 2, from_ns);
  sqlite3_bind_int64(s.get(), 3, to_ns);
  sqlite3_bind_int64(s.get(), 4,
                     static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(ReadInfo(s.get()));
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading snapshots");
  return out;
}

Result<SnapshotInfo> QuerySnapshot(const Db& db, const std::string& path, std::int64_t id,
                                   std::string* blob) {
  MH_ASSIGN_OR_RETURN(bool has, HasSnapshotTable(db, path));
  if (!has) return Status::NotFound("unknown snapshot " + std::to_string(id));
  const std::string sql =
      std::string("SELECT ") + kInfoColumns + ", data FROM snapshots WHERE id = ?1";
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db, sql.c_str()));
  sqlite3_bind_int64(s.get(), 1, id);
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return Status::NotFound("unknown snapshot " + std::to_string(id));
  if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading snapshot");
  SnapshotInfo info = ReadInfo(s.get());
  if (blob != nullptr) {
    const void* data = sqlite3_column_blob(s.get(), 9);
    blob->assign(static_cast<const char*>(data),
                 static_cast<std::size_t>(sqlite3_column_bytes(s.get(), 9)));
  }
  return info;
}

Result<std::int64_t> PruneSnapshots(Db& db, const std::string& path,
                                    const SnapshotRetention& retention, std::int64_t max_rows) {
  MH_ASSIGN_OR_RETURN(bool has, HasSnapshotTable(db, path));
  if (!has || max_rows <= 0) return std::int64_t{0};
  MH_ASSIGN_OR_RETURN(
      Stmt del,
      Stmt::Prepare(
          db,
          "DELETE FROM snapshots WHERE id IN (SELECT id FROM snapshots WHERE "
          "(kind = 'periodic' AND ?1 > 0 AND t_ns < (SELECT max(t_ns) FROM snapshots) - ?1) "
          "OR (kind = 'alarm' AND ?2 > 0 AND t_ns < (SELECT max(t_ns) FROM snapshots) - ?2) "
          "ORDER BY t_ns LIMIT ?3)"));
  sqlite3_bind_int64(del.get(), 1, retention.periodic_ns);
  sqlite3_bind_int64(del.get(), 2, retention.alarm_ns);
  sqlite3_bind_int64(del.get(), 3, max_rows);
  MH_RETURN_IF_ERROR(Step(db.get(), del.get(), path + ": pruning snapshots"));
  return static_cast<std::int64_t>(sqlite3_changes(db.get()));
}

}  // namespace mh::sink::internal
