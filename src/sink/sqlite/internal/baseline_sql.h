// Private: the baseline queries shared by SqliteReader (read-only) and
// BaselineStore (read-write), so that both list and read baselines the same
// way. Only src/sink/sqlite/ may include this header.
//
// Thread safety: as Db (one thread at a time per connection).
#ifndef MH_SINK_SQLITE_INTERNAL_BASELINE_SQL_H_
#define MH_SINK_SQLITE_INTERNAL_BASELINE_SQL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink::internal {

// Whether the `baselines` table exists (false for a schema version 1 or 2
// file that no writer has migrated yet).
Result<bool> HasBaselineTables(const Db& db, const std::string& path);

// Baselines of `machine_id` (all machines if empty), by machine then
// version. Empty when the database has no baseline tables yet.
Result<std::vector<BaselineInfo>> QueryBaselines(const Db& db, const std::string& path,
                                                 const std::string& machine_id);

// One version (0 = the active one) with its model (parsed) and stats.
// NotFound "machine 'm1' has no baseline version 3" / "machine 'm1' has no
// active baseline"; Corruption for a stored model that does not parse.
Result<StoredBaseline> QueryBaseline(const Db& db, const std::string& path,
                                     const std::string& machine_id, std::int64_t version);

// The JSON text stored in baselines.feature_names / feature_stats, and back
// (Corruption naming `context` for malformed text).
std::string FeatureNamesToJson(const std::vector<std::string>& names);
std::string FeatureStatsToJson(const score::FeatureStats& stats);
Result<std::vector<std::string>> FeatureNamesFromJson(const std::string& text,
                                                      const std::string& context);
Result<score::FeatureStats> FeatureStatsFromJson(const std::string& text,
                                                 const std::string& context);

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_BASELINE_SQL_H_
