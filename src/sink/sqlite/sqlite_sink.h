// SQLite sink: stores scored windows in a local SQLite database that the
// dashboard (`machine-health serve`, see sqlite_reader.h) reads while the
// pipeline writes. The schema is documented in docs/database.md.
//
// Thread safety: as for every Sink, Write() and Close() are called from one
// thread at a time. Other processes and SqliteReader may read concurrently
// (the database is in WAL mode).
#ifndef MH_SINK_SQLITE_SQLITE_SINK_H_
#define MH_SINK_SQLITE_SQLITE_SINK_H_

#include <memory>
#include <string>

#include "core/result.h"
#include "sink/sink.h"

namespace mh::sink {

struct SqliteOptions {
  // Database file; created with the schema if absent.
  std::string path = "machine-health.db";
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
