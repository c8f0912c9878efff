// Private: the alarm queries shared by SqliteReader (read-only) and
// AlarmStore (read-write), so that both list and read alarms the same way.
// Only src/sink/sqlite/ may include this header.
//
// Thread safety: as Db (one thread at a time per connection).
#ifndef MH_SINK_SQLITE_INTERNAL_ALARM_SQL_H_
#define MH_SINK_SQLITE_INTERNAL_ALARM_SQL_H_

#include <string>
#include <vector>

#include "core/result.h"
#include "sink/alarm_record.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink::internal {

// Whether the `alarms` table exists (false for a schema version 1 file that
// no writer has migrated yet).
Result<bool> HasAlarmTables(const Db& db, const std::string& path);

// Alarms matching `filter`, newest first (start_ns descending, then id).
// Empty when the database has no alarm tables yet.
Result<std::vector<AlarmRecord>> QueryAlarms(const Db& db, const std::string& path,
                                             const AlarmFilter& filter);

// One alarm. NotFound "unknown alarm '<id>'" if no alarm has this id.
Result<AlarmRecord> QueryAlarm(const Db& db, const std::string& path, const std::string& id);

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_ALARM_SQL_H_
