// Private helpers shared by the SQLite sink and reader: RAII handles for a
// connection and a prepared statement, Status conversion and the schema.
// Only src/sink/sqlite/ may include this header.
//
// Thread safety: a Db or Stmt is used by one thread at a time.
#ifndef MH_SINK_SQLITE_INTERNAL_SQLITE_UTIL_H_
#define MH_SINK_SQLITE_INTERNAL_SQLITE_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mh::sink::internal {

// The schema version this build writes (meta.schema_version). Versions 1
// (no alarm tables), 2 (no baselines, no scores.baseline_version) and 3 (one
// `features` row per feature) are migrated to this version in place by every
// read-write open (MigrateSchema, MigrateToV4 in windows_v4.h); read-only
// opens refuse them (Unavailable) until then.
inline constexpr int kSchemaVersion = 4;
inline constexpr int kOldestSchemaVersion = 1;
// meta.application of every machine-health database.
inline constexpr std::string_view kApplication = "machine-health";
// How long a statement waits for a lock held by another connection.
inline constexpr int kBusyTimeoutMs = 5000;

// Owns an open sqlite3 connection; closes it on destruction.
class Db {
 public:
  Db() = default;
  explicit Db(sqlite3* db) : db_(db) {}
  Db(Db&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  sqlite3* get() const { return db_; }
  // Gives up ownership (after the caller closed the connection itself).
  sqlite3* Release() {
    sqlite3* db = db_;
    db_ = nullptr;
    return db;
  }
  // Runs one or more statements without results. IOError with context.
  Status Exec(const char* sql, std::string_view context);
  // The connection's last error message ("" if none).
  std::string ErrorMessage() const;

 private:
  sqlite3* db_ = nullptr;
};

// Owns a prepared statement; finalizes it on destruction.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Prepares `sql` on `db` (persistent). IOError naming the statement.
  static Result<Stmt> Prepare(const Db& db, const char* sql);
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement (and clears its bindings) when it goes out of scope, so
// that no read transaction stays open between calls.
class StmtResetter {
 public:
  explicit StmtResetter(sqlite3_stmt* stmt) : stmt_(stmt) {}
  StmtResetter(const StmtResetter&) = delete;
  StmtResetter& operator=(const StmtResetter&) = delete;
  ~StmtResetter();

 private:
  sqlite3_stmt* stmt_;
};

// Status for SQLite result code `rc` on `db`: Corruption for SQLITE_CORRUPT
// and SQLITE_NOTADB, Unavailable for SQLITE_BUSY/LOCKED, IOError otherwise.
// The message is "<context>: <sqlite message>".
Status SqliteError(sqlite3* db, int rc, std::string_view context);

// Checks that `db` holds a machine-health database of a version in
// [kOldestSchemaVersion, kSchemaVersion] and returns the version. `path` is
// used in messages. Corruption if it does not (another application's or an
// empty database, or another schema version).
Result<int> CheckSchema(const Db& db, const std::string& path);

// Creates the schema (tables and meta rows) in the current transaction.
Status CreateSchema(Db& db, const std::string& path);

// Brings a database of an older schema version (or one whose migration was
// interrupted) up to kSchemaVersion in place (MigrateToV4: a sequence of
// BEGIN IMMEDIATE transactions, each re-reading the state, so two processes
// never migrate the same rows and a kill leaves a resumable file). Existing
// data is kept. A database already at kSchemaVersion is left as is.
Status MigrateSchema(Db& db, const std::string& path);

// The version-4 tables and views (docs/database.md); part of CreateSchema
// and of the migration. WindowViews(): the CREATE VIEW statements of
// `scores` and `features` (the blob decoded by DecodeIeeeSql).
extern const char* const kWindowTables;
std::string WindowViews();
// What versions 2 and 3 added (alarm tables; baseline tables).
extern const char* const kAlarmTables;
extern const char* const kBaselineTables;

// A plain-SQL expression (SQLite >= 3.31, no math functions) for the IEEE-754
// little-endian value of `width` bytes (4: float32, 8: float64) at 1-based
// byte `offset_expr` of the blob `blob_expr`: NULL for NaN/infinity and when
// the blob is too short. Exact, subnormals and signed zeros included.
std::string DecodeIeeeSql(const std::string& blob_expr, const std::string& offset_expr, int width);

// Opens (creating if absent) the database at `path` for writing, as the
// SQLite sink and the alarm store do: WAL journal, synchronous=NORMAL, busy
// timeout, schema created (new file) or checked and migrated (existing
// file). Errors as documented for OpenSqliteSink (sqlite_sink.h); a file this
// call created is removed again on failure.
Result<Db> OpenWritable(const std::string& path);

// Opens the existing database at `path` read-only, as SqliteReader does:
// busy timeout, schema checked (never migrated). NotFound "<path>: no such
// database" if the file does not exist; Corruption if it is not a
// machine-health database or has another schema version; Unavailable if it
// is of an older version or mid-migration (a read-write open converts it);
// IOError if it cannot be opened.
Result<Db> OpenReadOnly(const std::string& path);

// True if the database has no tables at all (a new file).
Result<bool> IsEmptyDatabase(const Db& db, const std::string& path);

// Statement helpers: binds text (not copied: it must outlive the step),
// binds a double or NULL for NaN, reads a text column ("" for NULL).
void BindText(sqlite3_stmt* s, int index, const std::string& text);
void BindReal(sqlite3_stmt* s, int index, double value);
std::string ColumnText(sqlite3_stmt* s, int col);

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_SQLITE_UTIL_H_
