#include "sink/sqlite/internal/retention.h"

#include <algorithm>
#include <vector>

#include <sqlite3.h>
#include <sys/stat.h>

#include "sink/sqlite/internal/rollup.h"

namespace mh::sink::internal {
namespace {

constexpr std::int64_t kMinute = 60 * kNanosPerSecond;
constexpr std::int64_t kHour = 60 * kMinute;
// By size, the newest windows and rollups are never deleted: a full budget
// keeps at least this much of the recent past.
constexpr std::int64_t kKeepWindows = 10 * kMinute;
constexpr std::int64_t kKeepRollups = 2 * kHour;
// Size pruning starts above the high mark and goes on down to the low mark
// (fractions of max_db_size), so that it runs in bursts, not every batch.
constexpr double kHighMark = 0.90;
constexpr double kLowMark = 0.85;

std::uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace

Result<Pruner> Pruner::Create(Db& db, std::string path, const RetentionPolicy& policy) {
  Pruner p;
  p.path_ = std::move(path);
  p.db_ = &db;
  p.policy_ = policy;
  if (p.policy_.rows_per_transaction < 1) p.policy_.rows_per_transaction = 1;
  if (policy.max_db_size > 0) {
    // The WAL counts against the budget: checkpoint it (and truncate it after
    // a reset) at 2 % of the budget, at most SQLite's default 4 MB.
    MH_ASSIGN_OR_RETURN(std::int64_t page_size, p.QueryInt("PRAGMA page_size", 4096));
    const std::uint64_t wal =
        std::clamp<std::uint64_t>(policy.max_db_size / 50, 16 * 4096, 4u << 20);
    const std::string sql =
        "PRAGMA wal_autocheckpoint=" +
        std::to_string(std::max<std::int64_t>(4, static_cast<std::int64_t>(wal) / page_size)) +
        "; PRAGMA journal_size_limit=" + std::to_string(wal);
    MH_RETURN_IF_ERROR(db.Exec(sql.c_str(), p.path_ + ": setting wal limits"));
  }
  return p;
}

Result<std::int64_t> Pruner::QueryInt(const char* sql, std::int64_t if_null) {
  MH_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(*db_, sql));
  int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return if_null;
  if (rc != SQLITE_ROW) return SqliteError(db_->get(), rc, path_ + ": " + sql);
  if (sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL) return if_null;
  return sqlite3_column_int64(stmt.get(), 0);
}

Result<DbSize> Pruner::Size() {
  MH_ASSIGN_OR_RETURN(std::int64_t pages, QueryInt("PRAGMA page_count", 0));
  MH_ASSIGN_OR_RETURN(std::int64_t free_pages, QueryInt("PRAGMA freelist_count", 0));
  MH_ASSIGN_OR_RETURN(std::int64_t page_size, QueryInt("PRAGMA page_size", 4096));
  DbSize s;
  s.file = static_cast<std::uint64_t>(pages * page_size);
  s.used = static_cast<std::uint64_t>((pages - free_pages) * page_size);
  s.wal = FileSize(path_ + "-wal");
  return s;
}

bool Pruner::OverBudget(const DbSize& size, bool started) const {
  const double budget = static_cast<double>(policy_.max_db_size);
  const double now = static_cast<double>(size.used + size.wal);
  return now > budget * (started ? kLowMark : kHighMark);
}

Result<std::int64_t> Pruner::DeleteOldest(const std::string& context, const char* delete_sql,
                                          std::int64_t tier, std::int64_t cutoff_ns,
                                          std::int64_t limit, const char* after_sql) {
  MH_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE", context));
  auto body = [&]() -> Result<std::int64_t> {
    std::vector<std::int64_t> machines;
    {
      MH_ASSIGN_OR_RETURN(Stmt keys, Stmt::Prepare(*db_, "SELECT key FROM machine_keys"));
      int rc;
      while ((rc = sqlite3_step(keys.get())) == SQLITE_ROW) {
        machines.push_back(sqlite3_column_int64(keys.get(), 0));
      }
      if (rc != SQLITE_DONE) return SqliteError(db_->get(), rc, context);
    }
    if (machines.empty()) return 0;
    // One transaction stays within `limit` rows however many machines there
    // are; the machine to start with rotates, so that all lose their oldest.
    std::rotate(machines.begin(), machines.begin() + (rotation_++ % machines.size()),
                machines.end());
    MH_ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(*db_, delete_sql));
    std::int64_t deleted = 0;
    for (std::int64_t m : machines) {
      if (deleted >= limit) break;
      StmtResetter reset(del.get());
      sqlite3_bind_int64(del.get(), 1, m);
      sqlite3_bind_int64(del.get(), 2, cutoff_ns);
      sqlite3_bind_int64(del.get(), 3, limit - deleted);
      if (sqlite3_bind_parameter_count(del.get()) >= 4) sqlite3_bind_int64(del.get(), 4, tier);
      int rc = sqlite3_step(del.get());
      if (rc != SQLITE_DONE) return SqliteError(db_->get(), rc, context);
      deleted += sqlite3_changes(db_->get());
    }
    if (deleted > 0 && after_sql != nullptr) {
      MH_ASSIGN_OR_RETURN(Stmt after, Stmt::Prepare(*db_, after_sql));
      sqlite3_bind_int64(after.get(), 1, cutoff_ns);
      int rc = sqlite3_step(after.get());
      if (rc != SQLITE_DONE) return SqliteError(db_->get(), rc, context);
    }
    MH_RETURN_IF_ERROR(db_->Exec("COMMIT", context));
    return deleted;
  };
  auto result = body();
  if (!result.ok()) (void)db_->Exec("ROLLBACK", context);
  return result;
}

Result<std::int64_t> Pruner::DeleteWindows(std::int64_t cutoff_ns, std::int64_t limit) {
  // The rollups of a bucket before this cut can no longer be recomputed
  // from its windows (rollup.h): the cut is remembered.
  return DeleteOldest(path_ + ": pruning windows",
                      "DELETE FROM windows WHERE machine = ?1 AND t_ns IN (SELECT t_ns FROM "
                      "windows WHERE machine = ?1 AND t_ns < ?2 ORDER BY t_ns LIMIT ?3)",
                      0, cutoff_ns, limit,
                      "INSERT INTO meta(key, value) VALUES('windows_pruned_before', ?1) ON "
                      "CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), "
                      "CAST(excluded.value AS INTEGER))");
}

Result<std::int64_t> Pruner::DeleteRollups(std::int64_t tier, std::int64_t cutoff_ns,
                                           std::int64_t limit) {
  return DeleteOldest(path_ + ": pruning rollups",
                      "DELETE FROM rollups WHERE tier = ?4 AND machine = ?1 AND bucket_ns IN "
                      "(SELECT bucket_ns FROM rollups WHERE tier = ?4 AND machine = ?1 AND "
                      "bucket_ns < ?2 ORDER BY bucket_ns LIMIT ?3)",
                      tier, cutoff_ns, limit, nullptr);
}

Result<PruneStats> Pruner::Run(std::int64_t row_allowance) {
  PruneStats stats;
  auto left = [&] { return row_allowance - stats.windows - stats.rollups; };
  auto chunk = [&] { return std::min(policy_.rows_per_transaction, left()); };
  MH_ASSIGN_OR_RETURN(
      std::int64_t newest,
      QueryInt("SELECT max((SELECT max(t_ns) FROM windows WHERE machine = k.key)) FROM "
               "machine_keys k",
               INT64_MIN));
  if (newest == INT64_MIN) return stats;  // nothing stored yet
  const char* kOldestWindow =
      "SELECT min((SELECT min(t_ns) FROM windows WHERE machine = k.key)) FROM machine_keys k";
  const char* kOldestRollup[] = {
      "SELECT min((SELECT min(bucket_ns) FROM rollups WHERE tier = 60 AND machine = k.key)) "
      "FROM machine_keys k",
      "SELECT min((SELECT min(bucket_ns) FROM rollups WHERE tier = 3600 AND machine = k.key)) "
      "FROM machine_keys k"};
  const std::int64_t rollup_retention[] = {policy_.rollup_1m_retention_ns,
                                           policy_.rollup_1h_retention_ns};

  // By age.
  if (policy_.window_retention_ns > 0) {
    MH_ASSIGN_OR_RETURN(std::int64_t oldest, QueryInt(kOldestWindow, INT64_MAX));
    const std::int64_t cutoff = newest - policy_.window_retention_ns;
    while (oldest < cutoff && left() > 0) {
      MH_ASSIGN_OR_RETURN(std::int64_t n, DeleteWindows(cutoff, chunk()));
      ++stats.transactions;
      stats.windows += n;
      if (n == 0) break;
    }
  }
  for (int t = 0; t < 2; ++t) {
    if (rollup_retention[t] <= 0) continue;
    MH_ASSIGN_OR_RETURN(std::int64_t oldest, QueryInt(kOldestRollup[t], INT64_MAX));
    const std::int64_t cutoff = newest - rollup_retention[t];
    while (oldest < cutoff && left() > 0) {
      MH_ASSIGN_OR_RETURN(std::int64_t n, DeleteRollups(kRollupTiers[t], cutoff, chunk()));
      ++stats.transactions;
      stats.rollups += n;
      if (n == 0) break;
    }
  }

  // By size: the oldest windows, then the oldest 1-minute, then 1-hour rollups.
  if (policy_.max_db_size == 0) return stats;
  while (left() > 0) {
    MH_ASSIGN_OR_RETURN(DbSize size, Size());
    if (!OverBudget(size, size_pruning_)) {
      size_pruning_ = false;
      break;
    }
    size_pruning_ = true;
    // Steps of 1/64 of what is stored, so the oldest go first even across
    // machines, and at least one bucket of the tier.
    auto step_cutoff = [&](std::int64_t oldest, std::int64_t keep, std::int64_t min_step) {
      return std::min(newest - keep, oldest + std::max(min_step, (newest - oldest) / 64));
    };
    MH_ASSIGN_OR_RETURN(std::int64_t oldest_window, QueryInt(kOldestWindow, INT64_MAX));
    std::int64_t n = 0;
    if (oldest_window < newest - kKeepWindows) {
      MH_ASSIGN_OR_RETURN(
          n, DeleteWindows(step_cutoff(oldest_window, kKeepWindows, kNanosPerSecond), chunk()));
      stats.windows += n;
    } else {
      for (int t = 0; t < 2 && n == 0; ++t) {
        MH_ASSIGN_OR_RETURN(std::int64_t oldest, QueryInt(kOldestRollup[t], INT64_MAX));
        if (oldest >= newest - kKeepRollups) continue;
        const std::int64_t width = kRollupTiers[t] * kNanosPerSecond;
        MH_ASSIGN_OR_RETURN(
            n, DeleteRollups(kRollupTiers[t], step_cutoff(oldest, kKeepRollups, width), chunk()));
        stats.rollups += n;
      }
    }
    ++stats.transactions;
    if (n == 0) break;  // only what is never deleted by size is left
  }
  // Keep the WAL within its share of the budget: copy it back now (passive:
  // never waits for a reader), so the next write restarts it from the top.
  MH_ASSIGN_OR_RETURN(DbSize size, Size());
  if (size.wal > policy_.max_db_size / 50) {
    (void)sqlite3_wal_checkpoint_v2(db_->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                    nullptr);
  }
  return stats;
}

}  // namespace mh::sink::internal
