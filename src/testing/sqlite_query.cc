#include "testing/sqlite_query.h"

#include <sqlite3.h>

namespace mh::testing {
namespace {

// Runs `sql` on a read-only connection and calls `row` for each result row
// (until it returns false); false when the database or statement fails.
template <typename RowFn>
bool ForEachRow(const std::string& db_path, const std::string& sql, RowFn row) {
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(conn);
    return false;
  }
  sqlite3_busy_timeout(conn, 5000);
  sqlite3_stmt* stmt = nullptr;
  bool ok = sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK;
  while (ok) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      ok = false;
      break;
    }
    if (!row(stmt)) break;
  }
  sqlite3_finalize(stmt);
  sqlite3_close(conn);
  return ok;
}

}  // namespace

std::int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  std::int64_t value = -1;
  ForEachRow(db_path, sql, [&](sqlite3_stmt* stmt) {
    value = sqlite3_column_int64(stmt, 0);
    return false;
  });
  return value;
}

std::string QueryText(const std::string& db_path, const std::string& sql) {
  std::string text;
  ForEachRow(db_path, sql, [&](sqlite3_stmt* stmt) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    if (t != nullptr) text = reinterpret_cast<const char*>(t);
    return false;
  });
  return text;
}

std::vector<std::int64_t> QueryInts(const std::string& db_path, const std::string& sql) {
  std::vector<std::int64_t> values;
  if (!ForEachRow(db_path, sql, [&](sqlite3_stmt* stmt) {
        values.push_back(sqlite3_column_int64(stmt, 0));
        return true;
      })) {
    values.clear();
  }
  return values;
}

}  // namespace mh::testing
