#include "sink/sqlite/internal/sqlite_util.h"

#include <string>

#include <sqlite3.h>

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

Status CheckSchema(const Db& db, const std::string& path) {
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
  if (!have_version || version != std::to_string(kSchemaVersion)) {
    return Status::Corruption(path + ": schema version '" + version +
                              "' is not supported (expected " + std::to_string(kSchemaVersion) +
                              ")");
  }
  return Status::OK();
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
CREATE TABLE scores(
  machine_id TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  score REAL,
  score_samples REAL,
  anomaly INTEGER,
  state TEXT,
  state_score REAL,
  rms REAL,
  PRIMARY KEY(machine_id, t_ns)) WITHOUT ROWID;
CREATE TABLE features(
  machine_id TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY(machine_id, t_ns, name)) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('application', 'machine-health');
)sql";
  MH_RETURN_IF_ERROR(db.Exec(kSchema, path + ": creating schema"));
  std::string version = "INSERT INTO meta(key, value) VALUES('schema_version', '" +
                        std::to_string(kSchemaVersion) + "')";
  return db.Exec(version.c_str(), path + ": creating schema");
}

}  // namespace mh::sink::internal
