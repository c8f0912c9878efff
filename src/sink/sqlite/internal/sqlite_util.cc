#include "sink/sqlite/internal/sqlite_util.h"

#include <cmath>
#include <cstdio>
#include <string>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/sqlite/internal/rollup.h"
#include "sink/sqlite/internal/snapshot_sql.h"
#include "sink/sqlite/internal/windows_v4.h"

namespace mh::sink::internal {

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

Db::~Db() {
  // close_v2 defers the close until every statement is finalized, so the
  // order of member destruction does not matter.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Db::Exec(const char* sql, std::string_view context) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, context);
  return Status::OK();
}

std::string Db::ErrorMessage() const { return db_ ? sqlite3_errmsg(db_) : ""; }

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Result<Stmt> Stmt::Prepare(const Db& db, const char* sql) {
  Stmt stmt;
  int rc = sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt.stmt_, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(db.get(), rc, std::string("preparing '") + sql + "'");
  }
  return stmt;
}

StmtResetter::~StmtResetter() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Status SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(msg);
    default:
      return Status::IOError(msg);
  }
}

Result<bool> IsEmptyDatabase(const Db& db, const std::string& path) {
  MH_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, "SELECT count(*) FROM sqlite_schema"));
  int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading schema");
  return sqlite3_column_int64(stmt.get(), 0) == 0;
}

Result<int> CheckSchema(const Db& db, const std::string& path) {
  const std::string not_ours = path + ": not a machine-health database";
  {
    MH_ASSIGN_OR_RETURN(
        Stmt has_meta,
        Stmt::Prepare(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'"));
    int rc = sqlite3_step(has_meta.get());
    if (rc == SQLITE_DONE) return Status::Corruption(not_ours + " (no meta table)");
    if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading schema");
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db.get(), "SELECT key, value FROM meta", -1, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return Status::Corruption(not_ours + " (meta: " + sqlite3_errmsg(db.get()) + ")");
  }
  std::string application;
  std::string version;
  bool have_application = false;
  bool have_version = false;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    const unsigned char* key = sqlite3_column_text(raw, 0);
    const unsigned char* value = sqlite3_column_text(raw, 1);
    if (key == nullptr || value == nullptr) continue;
    std::string k(reinterpret_cast<const char*>(key));
    std::string v(reinterpret_cast<const char*>(value));
    if (k == "application") {
      application = v;
      have_application = true;
    } else if (k == "schema_version") {
      version = v;
      have_version = true;
    }
  }
  sqlite3_finalize(raw);
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading meta");
  if (!have_application || application != kApplication) {
    return Status::Corruption(not_ours + " (meta.application is '" + application + "')");
  }
  for (int v = kOldestSchemaVersion; have_version && v <= kSchemaVersion; ++v) {
    if (version == std::to_string(v)) return v;
  }
  return Status::Corruption(path + ": schema version '" + version +
                            "' is not supported (expected " + std::to_string(kOldestSchemaVersion) +
                            " to " + std::to_string(kSchemaVersion) + ")");
}

// What version 2 adds to version 1: alarms and the notification outbox
// (docs/database.md). Also part of a new database's schema.
const char* const kAlarmTables = R"sql(
CREATE TABLE alarms(
  id TEXT PRIMARY KEY,
  machine_id TEXT NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL DEFAULT 0,
  peak_score REAL,
  baseline_version INTEGER NOT NULL DEFAULT 0,
  explanation_json TEXT NOT NULL DEFAULT '',
  explanation_text TEXT NOT NULL DEFAULT '',
  acked_by TEXT NOT NULL DEFAULT '',
  acked_ns INTEGER NOT NULL DEFAULT 0);
CREATE INDEX alarms_by_machine ON alarms(machine_id, start_ns);
CREATE TABLE alarm_outbox(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  alarm_id TEXT NOT NULL,
  machine_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  payload TEXT NOT NULL);
CREATE TABLE alarm_outbox_cursors(
  destination TEXT PRIMARY KEY,
  seq INTEGER NOT NULL);
)sql";

// What version 3 adds to version 2: stored baselines and their change
// sequence (docs/database.md). Also part of a new database's schema.
const char* const kBaselineTables = R"sql(
CREATE TABLE baselines(
  machine_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_ns INTEGER NOT NULL,
  origin TEXT NOT NULL,
  model BLOB NOT NULL,
  threshold REAL,
  threshold_rule TEXT NOT NULL,
  threshold_q REAL NOT NULL,
  threshold_margin REAL NOT NULL,
  threshold_z REAL NOT NULL,
  trained_from_ns INTEGER NOT NULL,
  trained_to_ns INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  feature_names TEXT NOT NULL,
  feature_stats TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(machine_id, version)) WITHOUT ROWID;
CREATE TABLE baseline_changes(
  machine_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL);
CREATE INDEX baseline_changes_by_seq ON baseline_changes(seq);
)sql";

namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Removes `path` and its WAL/SHM companions (after a failed create).
void RemoveDatabaseFiles(const std::string& path) {
  ::unlink(path.c_str());
  ::unlink((path + "-wal").c_str());
  ::unlink((path + "-shm").c_str());
  ::unlink((path + "-journal").c_str());
}

Result<Db> OpenWritableFile(const std::string& path, bool created) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return Status::IOError(
        path + ": cannot open database: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  sqlite3_extended_result_codes(db.get(), 1);
  // The first statement reads the file header: a non-SQLite file fails here.
  MH_ASSIGN_OR_RETURN(bool empty, IsEmptyDatabase(db, path));
  if (!empty || !created) {
    // An existing file, even empty of tables, must already be ours: we never
    // add our schema to someone else's database.
    MH_RETURN_IF_ERROR(CheckSchema(db, path).status());
  }
  {
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode=WAL", -1, &s, nullptr);
    std::string mode;
    if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(s, 0);
      if (text != nullptr) mode = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(s);
    if (mode != "wal") {
      return Status::IOError(path + ": cannot enable WAL journal: " + db.ErrorMessage());
    }
  }
  MH_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=NORMAL", path + ": setting synchronous"));
  // A 16 MiB page cache (SQLite's default is 2 MiB): with hundreds of machines
  // the windows index no longer fits in 2 MiB and every insert re-reads its
  // pages from the OS (docs/benchmarks.md, issue 16). Pages are only
  // allocated as they are used.
  MH_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size=-16384", path + ": setting cache size"));
  if (empty && created) {
    MH_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", path + ": creating schema"));
    Status s = CreateSchema(db, path);
    if (s.ok()) s = db.Exec("COMMIT", path + ": creating schema");
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK", path);
      return s;
    }
  } else {
    MH_RETURN_IF_ERROR(MigrateSchema(db, path));
  }
  return db;
}

}  // namespace

Status MigrateSchema(Db& db, const std::string& path) {
  MH_RETURN_IF_ERROR(MigrateToV4(db, path));
  return AddModelVersions(db, path);
}

Result<Db> OpenWritable(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("sqlite: empty database path");
  const bool created = !FileExists(path);
  auto result = OpenWritableFile(path, created);
  if (!result.ok() && created) {
    RemoveDatabaseFiles(path);
    if (result.status().IsIOError() || result.status().IsUnavailable()) {
      return Status::IOError(result.status().message());
    }
  }
  return result;
}

Result<Db> OpenReadOnly(const std::string& path) {
  if (!FileExists(path)) return Status::NotFound(path + ": no such database");
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return Status::IOError(
        path + ": cannot open database: " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  sqlite3_extended_result_codes(raw, 1);
  MH_ASSIGN_OR_RETURN(int version, CheckSchema(db, path));
  MH_ASSIGN_OR_RETURN(bool migrating, MigrationInProgress(db, path));
  if (migrating) {
    return Status::Unavailable(path +
                               ": schema migration to version 4 in progress; open it with "
                               "machine-health run (or another writing command) to finish it");
  }
  if (version < kSchemaVersion) {
    return Status::Unavailable(path + ": schema version " + std::to_string(version) +
                               " must be migrated to version 4 first; open it once with "
                               "machine-health run (or another writing command) to convert it");
  }
  return db;
}

Status CreateSchema(Db& db, const std::string& path) {
  static const char* const kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE machines(
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  state_score REAL,
  threshold REAL,
  updated_ns INTEGER,
  windows INTEGER);
INSERT INTO meta(key, value) VALUES('application', 'machine-health');
)sql";
  const std::string context = path + ": creating schema";
  MH_RETURN_IF_ERROR(db.Exec(kSchema, context));
  MH_RETURN_IF_ERROR(db.Exec(kAlarmTables, context));
  MH_RETURN_IF_ERROR(db.Exec(kBaselineTables, context));
  MH_RETURN_IF_ERROR(db.Exec(kWindowTables, context));
  MH_RETURN_IF_ERROR(db.Exec(kRollupTable, context));
  MH_RETURN_IF_ERROR(db.Exec(WindowViews().c_str(), context));
  MH_RETURN_IF_ERROR(db.Exec(kSnapshotTables, context));
  MH_RETURN_IF_ERROR(db.Exec(RollupFeaturesView().c_str(), context));
  std::string version = "INSERT INTO meta(key, value) VALUES('schema_version', '" +
                        std::to_string(kSchemaVersion) + "')";
  return db.Exec(version.c_str(), context);
}

void BindText(sqlite3_stmt* s, int index, const std::string& text) {
  sqlite3_bind_text(s, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void BindReal(sqlite3_stmt* s, int index, double value) {
  if (std::isnan(value)) {
    sqlite3_bind_null(s, index);
  } else {
    sqlite3_bind_double(s, index, value);
  }
}

std::string ColumnText(sqlite3_stmt* s, int col) {
  const unsigned char* text = sqlite3_column_text(s, col);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
              : std::string();
}

std::string DecodeIeeeSql(const std::string& blob_expr, const std::string& offset_expr, int width) {
  const bool f64 = width == 8;
  const int mant_bits = f64 ? 52 : 23;
  const int bias = f64 ? 1023 : 127;
  const int max_exp = f64 ? 2047 : 255;
  // Byte k (0 = least significant) as an integer, from its two hex digits.
  auto byte = [&](int k) {
    const std::string hx =
        "hex(substr(" + blob_expr + ", (" + offset_expr + ") + " + std::to_string(k) + ", 1))";
    return "((instr('0123456789ABCDEF', substr(" + hx +
           ", 1, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(" + hx + ", 2, 1)) - 1)";
  };
  std::string bytes = "SELECT ";
  for (int k = 0; k < width; ++k) {
    if (k > 0) bytes += ", ";
    bytes += byte(k) + " AS b" + std::to_string(k);
  }
  std::string sign, exponent, mantissa;
  if (f64) {
    sign = "(b7 >> 7)";
    exponent = "(((b7 & 127) << 4) | (b6 >> 4))";
    mantissa =
        "(((b6 & 15) << 48) | (b5 << 40) | (b4 << 32) | (b3 << 24) | (b2 << 16) | "
        "(b1 << 8) | b0)";
  } else {
    sign = "(b3 >> 7)";
    exponent = "(((b3 & 127) << 1) | (b2 >> 7))";
    mantissa = "(((b2 & 127) << 16) | (b1 << 8) | b0)";
  }
  // 2^p as a product of the powers 2^(+-2^i) of p's binary digits: exact, and
  // never an intermediate overflow (m * 2^p is a double).
  std::string power = "1.0";
  for (int i = 10; i >= 0; --i) {
    char pos[40], neg[40];
    std::snprintf(pos, sizeof pos, "%.17g", std::ldexp(1.0, 1 << i));
    std::snprintf(neg, sizeof neg, "%.17g", std::ldexp(1.0, -(1 << i)));
    const std::string bit = "((abs(p) >> " + std::to_string(i) + ") & 1) = 1";
    if ((1 << i) > 1023) {
      // 2^1024 is not a double: a positive p never has this digit.
      power += " * CASE WHEN " + bit + " THEN " + neg + " ELSE 1.0 END";
    } else {
      power += " * CASE WHEN " + bit + " THEN CASE WHEN p < 0 THEN " + neg + " ELSE " + pos +
               " END ELSE 1.0 END";
    }
  }
  const std::string fields =
      "SELECT " + sign + " AS s, " + exponent + " AS e, " + mantissa + " AS m FROM (" + bytes + ")";
  const std::string scaled = "SELECT s, e, CASE WHEN e = 0 THEN m ELSE m + (1 << " +
                             std::to_string(mant_bits) +
                             ") END AS m, CASE WHEN e = 0 THEN 1 ELSE e END - " +
                             std::to_string(bias + mant_bits) + " AS p FROM (" + fields + ")";
  return "(SELECT CASE WHEN length(" + blob_expr + ") < (" + offset_expr + ") + " +
         std::to_string(width - 1) + " OR e = " + std::to_string(max_exp) +
         " THEN NULL ELSE (1 - 2 * s) * CAST(m AS REAL) * " + power + " END FROM (" + scaled + "))";
}

}  // namespace mh::sink::internal
