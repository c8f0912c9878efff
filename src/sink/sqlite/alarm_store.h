// AlarmStore: alarms and their notification outbox in the machine-health
// SQLite database (tables `alarms`, `alarm_outbox`, `alarm_outbox_cursors`,
// docs/database.md). The write side of alarms: the alarm stage records
// opened/closed events, people acknowledge (CLI, HTTP API), and the
// notification dispatcher (notify/dispatcher.h) reads the outbox.
//
// Every change that should be notified writes its event into the outbox in
// the same transaction (a transactional outbox): an event is stored if and
// only if the alarm change is, whichever process made it, and survives
// restarts until every destination has delivered it.
//
// Thread safety: all methods may be called from several threads at once
// (serialized on one read-write connection). Other processes may read and
// write the same file (WAL; a writer waits up to 5 s for another's lock).
#ifndef MH_SINK_SQLITE_ALARM_STORE_H_
#define MH_SINK_SQLITE_ALARM_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "sink/alarm_record.h"

namespace mh::sink {

struct AlarmStoreOptions {
  // Database file; created with the schema if absent, migrated from schema
  // versions 1 and 2 if older (see OpenSqliteSink).
  std::string path = "machine-health.db";
  // Most events the outbox keeps. When a new event would exceed it, the
  // oldest events are dropped (logged as a warning with their count):
  // a destination that is down for very long loses its oldest notifications
  // rather than the database growing without bound.
  std::size_t max_outbox_events = 10000;
};

// An event waiting in the outbox.
struct OutboxEntry {
  std::int64_t seq = 0;  // increasing, never reused
  std::string event_id;  // AlarmEventId: "<alarm_id>:<kind>"
  std::string alarm_id;
  std::string machine_id;
  AlarmEventKind kind = AlarmEventKind::kOpened;
  std::string payload;  // AlarmEventJson of the event, the alarm as stored after it
};

// A stored scored window, as the alarm stage saw it (ResumeWindows).
struct StoredScore {
  std::int64_t t_ns = 0;   // scores.t_ns: window start
  double score = 0;        // scores.score: decision_function
  bool anomalous = false;  // scores.anomaly
};

// The outcome of Acknowledge.
struct AckResult {
  AlarmRecord alarm;                  // the alarm after the call
  bool already_acknowledged = false;  // true: an earlier ack was kept, nothing changed
};

class AlarmStore {
 public:
  // Opens (or creates) the database for writing. Errors as OpenSqliteSink:
  // InvalidArgument (empty path), Corruption (not a machine-health database,
  // unknown schema version), IOError (cannot create or open).
  static Result<std::unique_ptr<AlarmStore>> Open(const AlarmStoreOptions& options);

  AlarmStore(const AlarmStore&) = delete;
  AlarmStore& operator=(const AlarmStore&) = delete;
  ~AlarmStore();

  // Stores `events` in one transaction (all or nothing), in order:
  // - opened: inserts the alarm (machine, start, peak, baseline version,
  //   explanation); for an alarm already stored only lowers peak_score.
  // - closed: sets end_ns (alarm.end_ns, or event_ns if 0), lowers
  //   peak_score and replaces the explanation when the event carries one;
  //   inserts the whole record if the alarm is not stored yet.
  // - acknowledged: as Acknowledge(alarm.acked_by, alarm.acked_ns or
  //   event_ns) (an earlier ack is kept).
  // Acks in opened/closed events are ignored: the database's ack stands.
  // Each event not stored before (by event id) is appended to the outbox;
  // an event stored before (an at-least-once replay) changes nothing and is
  // not notified again.
  // InvalidArgument (storing nothing) for an empty alarm or machine id, or
  // an acknowledged event without acked_by; NotFound (storing nothing) for
  // an acknowledged event of an alarm that is not stored (nor opened earlier
  // in the same call); IOError/Unavailable from SQLite.
  Status Record(std::span<const AlarmEvent> events);

  // Acknowledges alarm `alarm_id` by `by` at `at_ns` (wall clock, ns since
  // epoch) and appends an "acknowledged" event to the outbox. An alarm
  // acknowledged before keeps its first acknowledgement: the result says
  // already_acknowledged and nothing is written (no second notification).
  // Open and closed alarms can both be acknowledged.
  // NotFound "unknown alarm '<id>'"; InvalidArgument for an empty `by` or
  // at_ns <= 0; IOError/Unavailable from SQLite.
  Result<AckResult> Acknowledge(const std::string& alarm_id, const std::string& by,
                                std::int64_t at_ns);

  // As SqliteReader::Alarms / Alarm, on this connection.
  Result<std::vector<AlarmRecord>> List(const AlarmFilter& filter);
  Result<AlarmRecord> Get(const std::string& alarm_id);

  // The scored windows (scores rows with a score) a restarted alarm stage
  // replays to continue where it stopped, oldest first: with an open alarm
  // of the machine (end_ns 0, the latest if several), every window from its
  // start on, so the replay reopens the same alarm (same id, same counts);
  // otherwise the last `max_recent` windows after the latest closed alarm's
  // end (a close resets the K-of-N history). Empty for an unknown machine.
  // IOError/Unavailable from SQLite.
  Result<std::vector<StoredScore>> ResumeWindows(const std::string& machine_id,
                                                 std::size_t max_recent);
  // Outbox, per destination (a stable name such as "webhook:https://host/x";
  // never holds a secret). Up to `limit` events not yet delivered to
  // `destination`, oldest first. The first call for a destination registers
  // it: from then on events are kept until it has delivered them too.
  Result<std::vector<OutboxEntry>> Pending(const std::string& destination, std::size_t limit);
  // Everything up to `seq` is delivered to `destination`. Events that every
  // registered destination has delivered are deleted.
  Status MarkDelivered(const std::string& destination, std::int64_t seq);
  // Number of events in the outbox (delivered or not to some destination).
  Result<std::int64_t> OutboxSize();

 private:
  struct Impl;
  explicit AlarmStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::sink

#endif  // MH_SINK_SQLITE_ALARM_STORE_H_
