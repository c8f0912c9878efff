#include "sink/sqlite/internal/alarm_sql.h"

#include <cmath>
#include <string>

#include <sqlite3.h>

namespace mh::sink::internal {
namespace {

constexpr const char* kColumns =
    "SELECT id, machine_id, start_ns, end_ns, peak_score, baseline_version, explanation_json, "
    "explanation_text, acked_by, acked_ns FROM alarms ";

AlarmRecord ReadAlarm(sqlite3_stmt* s) {
  AlarmRecord a;
  a.alarm_id = ColumnText(s, 0);
  a.machine_id = ColumnText(s, 1);
  a.start_ns = sqlite3_column_int64(s, 2);
  a.end_ns = sqlite3_column_int64(s, 3);
  a.peak_score = sqlite3_column_type(s, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 4);
  a.baseline_version = sqlite3_column_int64(s, 5);
  a.explanation_json = ColumnText(s, 6);
  a.explanation_text = ColumnText(s, 7);
  a.acked_by = ColumnText(s, 8);
  a.acked_ns = sqlite3_column_int64(s, 9);
  return a;
}

}  // namespace

Result<bool> HasAlarmTables(const Db& db, const std::string& path) {
  MH_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'alarms'"));
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db.get(), rc, path + ": reading schema");
}

Result<std::vector<AlarmRecord>> QueryAlarms(const Db& db, const std::string& path,
                                             const AlarmFilter& filter) {
  MH_ASSIGN_OR_RETURN(bool has_tables, HasAlarmTables(db, path));
  std::vector<AlarmRecord> out;
  if (!has_tables || filter.limit == 0) return out;
  const std::string sql = std::string(kColumns) +
                          "WHERE (?1 = '' OR machine_id = ?1) AND (?2 = 0 OR end_ns = 0) "
                          "AND start_ns < ?4 AND (end_ns = 0 OR end_ns >= ?3) "
                          "ORDER BY start_ns DESC, id LIMIT ?5";
  MH_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, sql.c_str()));
  sqlite3_stmt* s = stmt.get();
  BindText(s, 1, filter.machine_id);
  sqlite3_bind_int(s, 2, filter.open_only ? 1 : 0);
  sqlite3_bind_int64(s, 3, filter.from_ns);
  sqlite3_bind_int64(s, 4, filter.to_ns);
  sqlite3_bind_int64(s, 5,
                     static_cast<sqlite3_int64>(std::min<std::size_t>(filter.limit, INT64_MAX)));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ReadAlarm(s));
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading alarms");
  return out;
}

Result<AlarmRecord> QueryAlarm(const Db& db, const std::string& path, const std::string& id) {
  MH_ASSIGN_OR_RETURN(bool has_tables, HasAlarmTables(db, path));
  if (!has_tables) return Status::NotFound("unknown alarm '" + id + "'");
  const std::string sql = std::string(kColumns) + "WHERE id = ?1";
  MH_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, sql.c_str()));
  BindText(stmt.get(), 1, id);
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_ROW) return ReadAlarm(stmt.get());
  if (rc == SQLITE_DONE) return Status::NotFound("unknown alarm '" + id + "'");
  return SqliteError(db.get(), rc, path + ": reading alarms");
}

}  // namespace mh::sink::internal
