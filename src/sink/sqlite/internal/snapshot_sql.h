// Private: the `snapshots` table (docs/database.md, "Waveform snapshots"):
// its schema, the writes the SQLite sink makes in its batch transaction, the
// reader's queries and the retention pruning. Only src/sink/sqlite/ may
// include this header.
//
// Thread safety: as Db (one thread at a time per connection).
#ifndef MH_SINK_SQLITE_INTERNAL_SNAPSHOT_SQL_H_
#define MH_SINK_SQLITE_INTERNAL_SNAPSHOT_SQL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "sink/sqlite/internal/sqlite_util.h"
#include "sink/sqlite/snapshot_record.h"
#include "sink/window_record.h"

namespace mh::sink::internal {

// The table and its indexes (part of schema version 4).
extern const char* const kSnapshotTables;

// Writes snapshots inside the caller's transaction. A periodic snapshot is
// one row; an alarm snapshot replaces the alarm's earlier one (one row per
// alarm id); a snapshot that is both is stored as both rows.
class SnapshotWriter {
 public:
  Status Prepare(const Db& db, const std::string& path);
  Status Write(const std::string& machine_id, const WaveformSnapshot& snapshot);
  void Reset();  // finalizes the statements (before the connection closes)

 private:
  Status Insert(sqlite3_stmt* stmt, const std::string& machine_id, const WaveformSnapshot& s,
                bool periodic);
  std::string path_;
  sqlite3* db_ = nullptr;
  Stmt periodic_, alarm_;
};

// Whether the table exists (files before schema version 4 have none).
Result<bool> HasSnapshotTable(const Db& db, const std::string& path);

// Snapshots of `machine_id` with from_ns <= t_ns < to_ns, oldest first, at
// most `limit` (the newest `limit` when more match). Empty without the table.
Result<std::vector<SnapshotInfo>> QuerySnapshots(const Db& db, const std::string& path,
                                                 const std::string& machine_id,
                                                 std::int64_t from_ns, std::int64_t to_ns,
                                                 std::size_t limit);

// One snapshot and its blob (codec::EncodeSnapshot). NotFound "unknown
// snapshot N".
Result<SnapshotInfo> QuerySnapshot(const Db& db, const std::string& path, std::int64_t id,
                                   std::string* blob);

// Deletes at most `max_rows` snapshots older than the retention allows (in
// the caller's transaction, or in its own when none is open); returns how
// many were deleted.
Result<std::int64_t> PruneSnapshots(Db& db, const std::string& path,
                                    const SnapshotRetention& retention, std::int64_t max_rows);

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_SNAPSHOT_SQL_H_
