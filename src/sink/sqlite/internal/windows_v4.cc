#include "sink/sqlite/internal/windows_v4.h"

#include <cfloat>
#include <cmath>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "log/log.h"
#include "sink/sqlite/internal/rollup.h"
#include "sink/sqlite/internal/snapshot_sql.h"

namespace mh::sink::internal {

const char* const kWindowTables = R"sql(
CREATE TABLE machine_keys(key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE feature_sets(id INTEGER PRIMARY KEY, names TEXT NOT NULL UNIQUE);
CREATE TABLE feature_set_columns(
  set_id INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY(set_id, idx)) WITHOUT ROWID;
CREATE TABLE windows(
  machine INTEGER NOT NULL,
  t_ns INTEGER NOT NULL,
  score REAL, score_samples REAL,
  anomaly INTEGER,
  state INTEGER NOT NULL,
  state_score REAL, rms REAL,
  baseline_version INTEGER NOT NULL DEFAULT 0,
  feature_set INTEGER NOT NULL,
  features BLOB NOT NULL,
  model INTEGER,
  PRIMARY KEY(machine, t_ns)) WITHOUT ROWID;
)sql"
                                  "\n"
                                  R"sql(
CREATE TABLE models(
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  loaded_ns INTEGER NOT NULL);
)sql";

// `scores` names the state; `features` decodes the float32 at column idx of
// the blob in plain SQL (DecodeIeeeSql, the same decoder as the rollup
// views'), so that it works without SQLite's math functions.
namespace {
// `scores` names the model by its version (the first 12 hex digits of its
// SHA-256), NULL for windows no model file scored.
const char* const kScoresView =
    "CREATE VIEW scores AS SELECT k.id AS machine_id, w.t_ns, w.score, w.score_samples, "
    "w.anomaly, CASE w.state WHEN 0 THEN 'learning' WHEN 1 THEN 'normal' ELSE 'anomalous' "
    "END AS state, w.state_score, w.rms, w.baseline_version, substr(m.sha256, 1, 12) AS "
    "model_version FROM windows w JOIN machine_keys k ON k.key = w.machine LEFT JOIN models m "
    "ON m.id = w.model;\n";
}  // namespace

std::string WindowViews() {
  return std::string(kScoresView) +
         "CREATE VIEW features AS SELECT k.id AS machine_id, w.t_ns, c.name, " +
         DecodeIeeeSql("w.features", "4 * c.idx + 1", 4) +
         " AS value FROM windows w JOIN machine_keys k ON k.key = w.machine JOIN "
         "feature_set_columns c ON c.set_id = w.feature_set;";
}

void EncodeFeatures(std::span<const double> values, std::string* out) {
  const std::size_t at = out->size();
  out->resize(at + 4 * values.size());
  unsigned char* p = reinterpret_cast<unsigned char*>(out->data()) + at;
  for (double v : values) {
    const float f = v > FLT_MAX ? FLT_MAX : v < -FLT_MAX ? -FLT_MAX : static_cast<float>(v);
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    p[0] = static_cast<unsigned char>(bits);
    p[1] = static_cast<unsigned char>(bits >> 8);
    p[2] = static_cast<unsigned char>(bits >> 16);
    p[3] = static_cast<unsigned char>(bits >> 24);
    p += 4;
  }
}

std::string FeatureSetKey(const std::vector<std::string>& names) {
  std::string key;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) key += '\n';
    key += names[i];
  }
  return key;
}

namespace {

// Steps a statement to its end; resets it. IOError/Unavailable with context.
Status StepDone(const Db& db, sqlite3_stmt* s, const std::string& context) {
  StmtResetter reset(s);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, context);
  return Status::OK();
}

// The first column of the first row as an integer; `found` false if none.
Result<std::int64_t> StepInt(const Db& db, sqlite3_stmt* s, const std::string& context,
                             bool* found) {
  StmtResetter reset(s);
  const int rc = sqlite3_step(s);
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW) return static_cast<std::int64_t>(sqlite3_column_int64(s, 0));
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, context);
  return 0;
}

}  // namespace

Status WindowKeys::PrepareLocked(Db& db) {
  if (find_machine_.get() != nullptr) return Status::OK();
  MH_ASSIGN_OR_RETURN(find_machine_,
                      Stmt::Prepare(db, "SELECT key FROM machine_keys WHERE id = ?1"));
  MH_ASSIGN_OR_RETURN(insert_machine_,
                      Stmt::Prepare(db, "INSERT INTO machine_keys(id) VALUES(?1)"));
  MH_ASSIGN_OR_RETURN(find_set_, Stmt::Prepare(db, "SELECT id FROM feature_sets WHERE names = ?1"));
  MH_ASSIGN_OR_RETURN(insert_set_, Stmt::Prepare(db, "INSERT INTO feature_sets(names) VALUES(?1)"));
  MH_ASSIGN_OR_RETURN(insert_column_, Stmt::Prepare(db,
                                                    "INSERT INTO feature_set_columns(set_id, idx, "
                                                    "name) VALUES(?1, ?2, ?3)"));
  return Status::OK();
}

Result<std::int64_t> WindowKeys::Machine(Db& db, const std::string& path, const std::string& id) {
  auto it = machines_.find(id);
  if (it != machines_.end()) return it->second;
  MH_RETURN_IF_ERROR(PrepareLocked(db));
  const std::string context = path + ": machine key of '" + id + "'";
  bool found = false;
  BindText(find_machine_.get(), 1, id);
  MH_ASSIGN_OR_RETURN(std::int64_t key, StepInt(db, find_machine_.get(), context, &found));
  if (!found) {
    BindText(insert_machine_.get(), 1, id);
    MH_RETURN_IF_ERROR(StepDone(db, insert_machine_.get(), context));
    key = sqlite3_last_insert_rowid(db.get());
  }
  machines_.emplace(id, key);
  return key;
}

Result<std::int64_t> WindowKeys::FeatureSet(
    Db& db, const std::string& path, const std::shared_ptr<const std::vector<std::string>>& names) {
  auto it = by_pointer_.find(names.get());
  if (it != by_pointer_.end()) return it->second.second;
  MH_ASSIGN_OR_RETURN(std::int64_t id, FeatureSet(db, path, *names));
  by_pointer_.emplace(names.get(), std::make_pair(names, id));
  return id;
}

Result<std::int64_t> WindowKeys::FeatureSet(Db& db, const std::string& path,
                                            const std::vector<std::string>& names) {
  std::string key = FeatureSetKey(names);
  auto it = sets_.find(key);
  if (it != sets_.end()) return it->second;
  MH_RETURN_IF_ERROR(PrepareLocked(db));
  const std::string context = path + ": feature set of " + std::to_string(names.size()) + " names";
  bool found = false;
  BindText(find_set_.get(), 1, key);
  MH_ASSIGN_OR_RETURN(std::int64_t id, StepInt(db, find_set_.get(), context, &found));
  if (!found) {
    BindText(insert_set_.get(), 1, key);
    MH_RETURN_IF_ERROR(StepDone(db, insert_set_.get(), context));
    id = sqlite3_last_insert_rowid(db.get());
    for (std::size_t i = 0; i < names.size(); ++i) {
      sqlite3_bind_int64(insert_column_.get(), 1, id);
      sqlite3_bind_int64(insert_column_.get(), 2, static_cast<sqlite3_int64>(i));
      BindText(insert_column_.get(), 3, names[i]);
      MH_RETURN_IF_ERROR(StepDone(db, insert_column_.get(), context));
    }
  }
  sets_.emplace(std::move(key), id);
  return id;
}

void WindowKeys::Forget() {
  machines_.clear();
  sets_.clear();
  by_pointer_.clear();
}

Result<const std::vector<std::string>*> FeatureSetNames::Get(const Db& db, const std::string& path,
                                                             std::int64_t id) {
  auto it = sets_.find(id);
  if (it != sets_.end()) return &it->second;
  MH_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db, "SELECT name FROM feature_set_columns WHERE set_id = ?1 ORDER BY idx"));
  sqlite3_bind_int64(s.get(), 1, id);
  std::vector<std::string> names;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) names.push_back(ColumnText(s.get(), 0));
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading feature sets");
  if (names.empty()) {
    // A set of no features has no column rows: tell it from a missing set.
    MH_ASSIGN_OR_RETURN(Stmt e, Stmt::Prepare(db, "SELECT 1 FROM feature_sets WHERE id = ?1"));
    sqlite3_bind_int64(e.get(), 1, id);
    rc = sqlite3_step(e.get());
    if (rc == SQLITE_DONE) {
      return Status::NotFound(path + ": no feature set " + std::to_string(id));
    }
    if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading feature sets");
  }
  return &sets_.emplace(id, std::move(names)).first->second;
}

Result<bool> MigrationInProgress(const Db& db, const std::string& path) {
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db, "SELECT 1 FROM meta WHERE key = 'migration'"));
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading meta");
  return false;
}

namespace {

// A transaction that rolls back unless committed.
class Transaction {
 public:
  Transaction(Db& db, std::string context) : db_(db), context_(std::move(context)) {}
  ~Transaction() {
    if (open_) (void)db_.Exec("ROLLBACK", context_);
  }
  Status Begin() {
    MH_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE", context_));
    open_ = true;
    return Status::OK();
  }
  Status Commit() {
    MH_RETURN_IF_ERROR(db_.Exec("COMMIT", context_));
    open_ = false;
    return Status::OK();
  }

 private:
  Db& db_;
  std::string context_;
  bool open_ = false;
};

std::int64_t StateValue(const std::string& name) {
  if (name == "normal") return 1;
  if (name == "anomalous") return 2;
  return 0;  // "learning", or NULL in a version-1 file
}

// First transaction: old tables renamed, version-4 tables created. Returns
// false if there is nothing to do (already version 4, no migration).
Result<bool> StartMigration(Db& db, const std::string& path, const std::string& context) {
  Transaction tx(db, context);
  MH_RETURN_IF_ERROR(tx.Begin());
  // Another process may have started or finished while we waited for the lock.
  MH_ASSIGN_OR_RETURN(int now, CheckSchema(db, path));
  MH_ASSIGN_OR_RETURN(bool migrating, MigrationInProgress(db, path));
  if (migrating) return true;
  if (now == kSchemaVersion) return false;
  if (now == 1) MH_RETURN_IF_ERROR(db.Exec(kAlarmTables, context));
  if (now <= 2) {
    // Old rows get baseline_version 0 ("not known"), as windows scored
    // while learning.
    MH_RETURN_IF_ERROR(db.Exec(
        "ALTER TABLE scores ADD COLUMN baseline_version INTEGER NOT NULL DEFAULT 0", context));
    MH_RETURN_IF_ERROR(db.Exec(kBaselineTables, context));
  }
  MH_RETURN_IF_ERROR(db.Exec("ALTER TABLE scores RENAME TO scores_v3", context));
  MH_RETURN_IF_ERROR(db.Exec("ALTER TABLE features RENAME TO features_v3", context));
  MH_RETURN_IF_ERROR(db.Exec(kWindowTables, context));
  MH_RETURN_IF_ERROR(db.Exec(kSnapshotTables, context));
  MH_RETURN_IF_ERROR(db.Exec(kRollupTable, context));
  MH_RETURN_IF_ERROR(db.Exec("INSERT INTO meta(key, value) VALUES('migration', 'v4')", context));
  MH_RETURN_IF_ERROR(tx.Commit());
  return true;
}

// Moves up to `chunk` windows from scores_v3/features_v3 to windows in one
// transaction. Returns the number moved (0: none left).
Result<std::int64_t> MoveChunk(Db& db, const std::string& path, const std::string& context,
                               std::int64_t chunk, WindowKeys& keys) {
  Transaction tx(db, context);
  MH_RETURN_IF_ERROR(tx.Begin());
  MH_ASSIGN_OR_RETURN(bool migrating, MigrationInProgress(db, path));
  if (!migrating) return 0;  // another process finished it
  MH_ASSIGN_OR_RETURN(Stmt rows, Stmt::Prepare(db,
                                               "SELECT machine_id, t_ns, score, score_samples, "
                                               "anomaly, state, state_score, rms, "
                                               "baseline_version FROM scores_v3 ORDER BY "
                                               "machine_id, t_ns LIMIT ?1"));
  MH_ASSIGN_OR_RETURN(Stmt feats, Stmt::Prepare(db,
                                                "SELECT name, value FROM features_v3 WHERE "
                                                "machine_id = ?1 AND t_ns = ?2 ORDER BY name"));
  MH_ASSIGN_OR_RETURN(Stmt insert, Stmt::Prepare(db,
                                                 "INSERT OR REPLACE INTO windows(machine, t_ns, "
                                                 "score, score_samples, anomaly, state, "
                                                 "state_score, rms, baseline_version, "
                                                 "feature_set, features) VALUES(?1, ?2, ?3, ?4, "
                                                 "?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  MH_ASSIGN_OR_RETURN(
      Stmt del_score,
      Stmt::Prepare(db, "DELETE FROM scores_v3 WHERE machine_id = ?1 AND t_ns = ?2"));
  MH_ASSIGN_OR_RETURN(
      Stmt del_feats,
      Stmt::Prepare(db, "DELETE FROM features_v3 WHERE machine_id = ?1 AND t_ns = ?2"));
  // Read the chunk's keys first (deleting while the select runs is undefined).
  struct Row {
    std::string machine;
    std::int64_t t_ns;
    double v[4];  // score, score_samples, state_score, rms (NaN for NULL)
    int anomaly;  // -1 for NULL
    std::string state;
    std::int64_t baseline_version;
  };
  std::vector<Row> batch;
  sqlite3_bind_int64(rows.get(), 1, chunk);
  int rc;
  auto real = [](sqlite3_stmt* s, int c) {
    return sqlite3_column_type(s, c) == SQLITE_NULL ? NAN : sqlite3_column_double(s, c);
  };
  while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
    sqlite3_stmt* s = rows.get();
    batch.push_back({ColumnText(s, 0),
                     sqlite3_column_int64(s, 1),
                     {real(s, 2), real(s, 3), real(s, 6), real(s, 7)},
                     sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 4),
                     ColumnText(s, 5),
                     sqlite3_column_int64(s, 8)});
  }
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, context + ": reading scores_v3");
  std::vector<std::string> names;
  std::vector<double> values;
  std::string blob;
  // The moved windows' rollups, in the same transaction (rollup.h).
  MH_ASSIGN_OR_RETURN(RollupWriter rollups, RollupWriter::Create(db, path));
  std::vector<float> stored;
  for (const Row& r : batch) {
    names.clear();
    values.clear();
    {
      StmtResetter reset(feats.get());
      BindText(feats.get(), 1, r.machine);
      sqlite3_bind_int64(feats.get(), 2, r.t_ns);
      while ((rc = sqlite3_step(feats.get())) == SQLITE_ROW) {
        names.push_back(ColumnText(feats.get(), 0));
        values.push_back(sqlite3_column_double(feats.get(), 1));
      }
      if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, context + ": reading features_v3");
    }
    MH_ASSIGN_OR_RETURN(std::int64_t machine, keys.Machine(db, path, r.machine));
    MH_ASSIGN_OR_RETURN(std::int64_t set, keys.FeatureSet(db, path, names));
    blob.clear();
    EncodeFeatures(values, &blob);
    sqlite3_stmt* s = insert.get();
    sqlite3_bind_int64(s, 1, machine);
    sqlite3_bind_int64(s, 2, r.t_ns);
    BindReal(s, 3, r.v[0]);
    BindReal(s, 4, r.v[1]);
    if (r.anomaly < 0) {
      sqlite3_bind_null(s, 5);
    } else {
      sqlite3_bind_int(s, 5, r.anomaly);
    }
    sqlite3_bind_int64(s, 6, StateValue(r.state));
    BindReal(s, 7, r.v[2]);
    BindReal(s, 8, r.v[3]);
    sqlite3_bind_int64(s, 9, r.baseline_version);
    sqlite3_bind_int64(s, 10, set);
    sqlite3_bind_blob(s, 11, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
    MH_RETURN_IF_ERROR(StepDone(db, s, context + ": inserting into windows"));
    (void)DecodeFloat32(blob.data(), blob.size(), &stored);
    rollups.Add(RollupWindow{machine, set, r.t_ns, r.v[0], r.anomaly == 1, r.v[3], stored},
                /*replaced=*/false);
    for (Stmt* d : {&del_score, &del_feats}) {
      BindText(d->get(), 1, r.machine);
      sqlite3_bind_int64(d->get(), 2, r.t_ns);
      MH_RETURN_IF_ERROR(StepDone(db, d->get(), context + ": deleting moved rows"));
    }
  }
  MH_RETURN_IF_ERROR(rollups.Flush());
  MH_RETURN_IF_ERROR(tx.Commit());
  return static_cast<std::int64_t>(batch.size());
}

// Last transaction: old tables dropped, views created, version 4.
Status FinishMigration(Db& db, const std::string& path, const std::string& context) {
  Transaction tx(db, context);
  MH_RETURN_IF_ERROR(tx.Begin());
  MH_ASSIGN_OR_RETURN(bool migrating, MigrationInProgress(db, path));
  if (!migrating) return Status::OK();
  {
    // Feature rows without a scores row (never written by the sink) are not
    // windows; they are dropped with the table. Count them for the log.
    MH_ASSIGN_OR_RETURN(Stmt left, Stmt::Prepare(db, "SELECT count(*) FROM features_v3"));
    bool found = false;
    MH_ASSIGN_OR_RETURN(std::int64_t orphans, StepInt(db, left.get(), context, &found));
    if (orphans > 0) {
      log::Warn("sqlite", path + ": " + std::to_string(orphans) +
                              " feature values without a window dropped by the migration");
    }
  }
  MH_RETURN_IF_ERROR(db.Exec("DROP TABLE scores_v3; DROP TABLE features_v3", context));
  MH_RETURN_IF_ERROR(db.Exec(WindowViews().c_str(), context));
  MH_RETURN_IF_ERROR(db.Exec(RollupFeaturesView().c_str(), context));
  const std::string set = "UPDATE meta SET value = '" + std::to_string(kSchemaVersion) +
                          "' WHERE key = 'schema_version'; DELETE FROM meta WHERE key = "
                          "'migration'";
  MH_RETURN_IF_ERROR(db.Exec(set.c_str(), context));
  return tx.Commit();
}

}  // namespace

Status AddModelVersions(Db& db, const std::string& path) {
  const char* const kHasModels =
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'models'";
  const std::string context = path + ": adding the models table";
  bool found = false;
  {
    MH_ASSIGN_OR_RETURN(Stmt has, Stmt::Prepare(db, kHasModels));
    MH_ASSIGN_OR_RETURN(std::int64_t n, StepInt(db, has.get(), context, &found));
    if (n > 0) return Status::OK();
  }
  Transaction tx(db, context);
  MH_RETURN_IF_ERROR(tx.Begin());
  {
    // Another process may have added it while we waited for the lock.
    MH_ASSIGN_OR_RETURN(Stmt has, Stmt::Prepare(db, kHasModels));
    MH_ASSIGN_OR_RETURN(std::int64_t n, StepInt(db, has.get(), context, &found));
    if (n > 0) return Status::OK();
  }
  MH_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE models(id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, source TEXT NOT "
      "NULL, loaded_ns INTEGER NOT NULL); ALTER TABLE windows ADD COLUMN model INTEGER; DROP "
      "VIEW scores",
      context));
  MH_RETURN_IF_ERROR(db.Exec(kScoresView, context));
  MH_RETURN_IF_ERROR(tx.Commit());
  log::Info("sqlite", context + ": done (windows.model, scores.model_version)");
  return Status::OK();
}

Status MigrateToV4(Db& db, const std::string& path, const MigrationOptions& options) {
  MH_ASSIGN_OR_RETURN(int version, CheckSchema(db, path));
  MH_ASSIGN_OR_RETURN(bool migrating, MigrationInProgress(db, path));
  if (version == kSchemaVersion && !migrating) return Status::OK();
  const std::string context =
      path + ": migrating schema from version " + std::to_string(version) + " to 4";
  MH_ASSIGN_OR_RETURN(bool started, StartMigration(db, path, context));
  if (!started) return Status::OK();
  log::Info("sqlite", context + (migrating ? ": resuming" : ": started"));
  if (options.progress) options.progress(0);
  WindowKeys keys;
  std::int64_t moved = 0;
  std::int64_t logged = 0;
  const std::int64_t chunk = options.chunk_windows > 0 ? options.chunk_windows : 2000;
  while (true) {
    auto n = MoveChunk(db, path, context, chunk, keys);
    if (!n.ok()) {
      keys.Forget();
      return n.status();
    }
    if (*n == 0) break;
    moved += *n;
    if (options.progress) options.progress(moved);
    if (moved - logged >= 100000) {
      log::Info("sqlite", context + ": " + std::to_string(moved) + " windows moved");
      logged = moved;
    }
  }
  MH_RETURN_IF_ERROR(FinishMigration(db, path, context));
  log::Info("sqlite", context + ": done (" + std::to_string(moved) + " windows moved by this run)");
  return Status::OK();
}

}  // namespace mh::sink::internal
