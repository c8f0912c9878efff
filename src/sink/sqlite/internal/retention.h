// Retention (schema version 4): deletes per-window data and rollups older
// than their retention (event time relative to the newest stored window) and,
// when the file approaches max_db_size, the oldest per-window data first,
// then the oldest 1-minute and 1-hour rollups. Alarms, explanations and
// baselines are never deleted. Every deletion is a small transaction of at
// most rows_per_transaction rows (docs/database.md, "Retention").
// Only src/sink/sqlite/ may include this header.
//
// Thread safety: a Pruner is used by one thread at a time (the sink's, between
// its write transactions, on the sink's connection).
#ifndef MH_SINK_SQLITE_INTERNAL_RETENTION_H_
#define MH_SINK_SQLITE_INTERNAL_RETENTION_H_

#include <cstdint>
#include <string>

#include "core/result.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink::internal {

struct RetentionPolicy {
  std::int64_t window_retention_ns = 0;  // 0: windows are kept (until the size budget)
  std::int64_t rollup_1m_retention_ns = 0;
  std::int64_t rollup_1h_retention_ns = 0;
  std::uint64_t max_db_size = 0;  // bytes, main file + WAL; 0: unbounded
  std::int64_t rows_per_transaction = 1000;
};

// Size accounting of a database file, bytes.
struct DbSize {
  std::uint64_t used = 0;  // (page_count - freelist_count) * page_size
  std::uint64_t file = 0;  // page_count * page_size (the main file)
  std::uint64_t wal = 0;   // the -wal file
};

struct PruneStats {
  std::int64_t windows = 0;  // rows deleted
  std::int64_t rollups = 0;
  std::int64_t transactions = 0;
};

class Pruner {
 public:
  // Sets the WAL limits that the size budget needs on `db` (auto-checkpoint
  // and journal_size_limit at 2 % of max_db_size, at most 4 MB).
  static Result<Pruner> Create(Db& db, std::string path, const RetentionPolicy& policy);

  Pruner(Pruner&&) = default;
  Pruner& operator=(Pruner&&) = default;

  // Runs pruning transactions (outside any transaction of the caller's) until
  // nothing is due or about `row_allowance` rows were deleted. The newest
  // 10 minutes of windows and the newest hour of rollups are never deleted
  // by size. IOError/Unavailable if SQLite fails (nothing of the failed
  // transaction is deleted).
  Result<PruneStats> Run(std::int64_t row_allowance);

  Result<DbSize> Size();

  const RetentionPolicy& policy() const { return policy_; }

 private:
  Pruner() = default;
  Result<std::int64_t> QueryInt(const char* sql, std::int64_t if_null);
  // Deletes windows (table `windows`) or rollups of `tier` older than
  // `cutoff_ns`, at most `limit` rows, in one transaction. Returns rows.
  Result<std::int64_t> DeleteWindows(std::int64_t cutoff_ns, std::int64_t limit);
  Result<std::int64_t> DeleteRollups(std::int64_t tier, std::int64_t cutoff_ns, std::int64_t limit);
  // Both: `delete_sql` deletes one machine's oldest rows (?1 machine, ?2
  // cutoff, ?3 limit, ?4 `tier` when it has a fourth parameter), machine
  // after machine in rotation; `after_sql` (?1 cutoff; may be null) runs in
  // the same transaction when rows were deleted.
  Result<std::int64_t> DeleteOldest(const std::string& context, const char* delete_sql,
                                    std::int64_t tier, std::int64_t cutoff_ns, std::int64_t limit,
                                    const char* after_sql);
  bool OverBudget(const DbSize& size, bool started) const;

  std::string path_;
  Db* db_ = nullptr;
  RetentionPolicy policy_;
  bool size_pruning_ = false;  // between the high and the low mark
  std::size_t rotation_ = 0;   // first machine of the next deletion
};

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_RETENTION_H_
