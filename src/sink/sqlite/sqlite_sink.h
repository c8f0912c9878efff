// SQLite sink: stores scored windows in a local SQLite database that the
// dashboard (`machine-health serve`, see sqlite_reader.h) reads while the
// pipeline writes. The schema is documented in docs/database.md.
//
// Thread safety: as for every Sink, Write() and Close() are called from one
// thread at a time. Other processes and SqliteReader may read concurrently
// (the database is in WAL mode).
#ifndef MH_SINK_SQLITE_SQLITE_SINK_H_
#define MH_SINK_SQLITE_SQLITE_SINK_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "sink/sink.h"
#include "sink/sqlite/snapshot_record.h"

namespace mh::sink {

struct SqliteOptions {
  // Database file; created with the schema if absent.
  std::string path = "machine-health.db";

  // Retention (docs/database.md, "Retention"). Ages are event time relative
  // to the newest stored window, so a replay of old data keeps its history;
  // 0 keeps the data (until the size budget).
  //
  // Per-window data (features, scores): a week covers an alarm raised on a
  // Friday and looked at on Monday, and `baseline retrain` reads them.
  std::chrono::nanoseconds window_retention = std::chrono::hours(24 * 7);
  // 1-minute rollups: a quarter, the span of seasonal comparisons.
  std::chrono::nanoseconds rollup_1m_retention = std::chrono::hours(24 * 90);
  // 1-hour rollups: five years, the life of a bearing or a motor.
  std::chrono::nanoseconds rollup_1h_retention = std::chrono::hours(24 * 365 * 5);
  // Budget of the main file plus its WAL, bytes (0: unbounded). Near it, the
  // oldest per-window data go first, then the oldest 1-minute and 1-hour
  // rollups; alarms and baselines stay. The file stays within 5 % of it.
  // 20 GB fits the small disks (32 GB eMMC/SSD) the embedded box has.
  std::uint64_t max_db_size = 20'000'000'000;
  // Waveform snapshots (docs/database.md, "Waveform snapshots"): periodic
  // ones a week, alarm peaks a year, by event time.
  SnapshotRetention snapshot_retention{};
  // Rows deleted per pruning transaction: each holds the write lock for a
  // few milliseconds.
  std::int64_t prune_rows_per_transaction = 1000;
};

// Opens or creates the database at options.path: WAL journal,
// synchronous=NORMAL, schema created if the file is new, schema version
// checked otherwise.
//
// Errors: Corruption if the file is not a machine-health database (another
// application's SQLite file, not SQLite at all) or has another schema
// version; IOError naming the path if it cannot be created or opened (e.g. an
// unwritable directory); in that case no file that this call created is left
// behind.
//
// The returned sink's Write(batch) stores the batch in one transaction:
// one `windows` row per record, its features as a float32 blob against the
// record's feature set (a record for an already stored (machine, window
// start) replaces it; feature values beyond the float32 range are stored as
// +-FLT_MAX), and the
// `machines` row of each machine upserted from its latest record (a batch
// never moves a machine's row back in time). Write returns InvalidArgument,
// storing nothing, if a record has no machine id, a feature count different
// from its feature names, or a non-finite feature value; IOError or
// Unavailable (database locked) if SQLite fails. NaN scores, state scores and
// RMS are stored as NULL. After Close(), Write returns Internal.
Result<std::unique_ptr<Sink>> OpenSqliteSink(const SqliteOptions& options);

}  // namespace mh::sink

#endif  // MH_SINK_SQLITE_SQLITE_SINK_H_
