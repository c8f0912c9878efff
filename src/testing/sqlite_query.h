// Test-only: one-value queries of a SQLite database that another process
// (machine-health run) may be writing (WAL): each call opens the file read
// only, runs the statement and closes it.
#ifndef MH_TESTING_SQLITE_QUERY_H_
#define MH_TESTING_SQLITE_QUERY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mh::testing {

// The integer in the first column of the first row of `sql`; -1 when the
// database cannot be opened, the statement fails (e.g. no such table yet) or
// returns no row.
std::int64_t QueryInt(const std::string& db_path, const std::string& sql);
// As QueryInt, the first row's first column as text ("" as the failure).
std::string QueryText(const std::string& db_path, const std::string& sql);
// The first column of every row, as integers (empty on failure).
std::vector<std::int64_t> QueryInts(const std::string& db_path, const std::string& sql);

}  // namespace mh::testing

#endif  // MH_TESTING_SQLITE_QUERY_H_
