#include "sink/sqlite/alarm_store.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include <sqlite3.h>

#include "log/log.h"
#include "sink/sqlite/internal/alarm_sql.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink {

using internal::BindReal;
using internal::BindText;
using internal::ColumnText;
using internal::Db;
using internal::SqliteError;
using internal::Stmt;
using internal::StmtResetter;

namespace {}  // namespace

struct AlarmStore::Impl {
  std::string path;
  std::size_t max_outbox_events = 0;
  std::mutex mu;  // guards db, every statement and registered
  Db db;
  // Destinations registered by this connection (a write, so done once).
  std::set<std::string> registered;
  Stmt begin, commit, rollback;
  Stmt open_alarm, close_alarm, ack_alarm;
  Stmt insert_event, count_events, drop_oldest;
  Stmt register_destination, pending, set_cursor, prune, outbox_size;

  Status Prepare() {
    MH_ASSIGN_OR_RETURN(begin, Stmt::Prepare(db, "BEGIN IMMEDIATE"));
    MH_ASSIGN_OR_RETURN(commit, Stmt::Prepare(db, "COMMIT"));
    MH_ASSIGN_OR_RETURN(rollback, Stmt::Prepare(db, "ROLLBACK"));
    // ?1 id ?2 machine ?3 start ?4 end ?5 peak ?6 baseline ?7 explanation_json
    // ?8 explanation_text. min() of a NULL peak is NULL in SQLite, hence
    // the coalesce: a known peak is never replaced by an unknown one.
    MH_ASSIGN_OR_RETURN(
        open_alarm,
        Stmt::Prepare(db,
                      "INSERT INTO alarms(id, machine_id, start_ns, end_ns, peak_score, "
                      "baseline_version, explanation_json, explanation_text) "
                      "VALUES(?1, ?2, ?3, 0, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET "
                      "peak_score = coalesce(min(alarms.peak_score, excluded.peak_score), "
                      "alarms.peak_score, excluded.peak_score)"));
    MH_ASSIGN_OR_RETURN(
        close_alarm,
        Stmt::Prepare(db,
                      "INSERT INTO alarms(id, machine_id, start_ns, end_ns, peak_score, "
                      "baseline_version, explanation_json, explanation_text) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET "
                      "end_ns = iif(alarms.end_ns = 0, excluded.end_ns, alarms.end_ns), "
                      "peak_score = coalesce(min(alarms.peak_score, excluded.peak_score), "
                      "alarms.peak_score, excluded.peak_score), "
                      "explanation_json = iif(excluded.explanation_json = '', "
                      "alarms.explanation_json, excluded.explanation_json), "
                      "explanation_text = iif(excluded.explanation_text = '', "
                      "alarms.explanation_text, excluded.explanation_text)"));
    MH_ASSIGN_OR_RETURN(ack_alarm, Stmt::Prepare(db,
                                                 "UPDATE alarms SET acked_by = ?2, acked_ns = ?3 "
                                                 "WHERE id = ?1 AND acked_ns = 0"));
    MH_ASSIGN_OR_RETURN(insert_event,
                        Stmt::Prepare(db,
                                      "INSERT OR IGNORE INTO alarm_outbox(event_id, alarm_id, "
                                      "machine_id, kind, created_ns, payload) "
                                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    MH_ASSIGN_OR_RETURN(count_events, Stmt::Prepare(db, "SELECT count(*) FROM alarm_outbox"));
    MH_ASSIGN_OR_RETURN(drop_oldest,
                        Stmt::Prepare(db,
                                      "DELETE FROM alarm_outbox WHERE seq IN (SELECT seq FROM "
                                      "alarm_outbox ORDER BY seq LIMIT ?1)"));
    MH_ASSIGN_OR_RETURN(register_destination,
                        Stmt::Prepare(db,
                                      "INSERT OR IGNORE INTO alarm_outbox_cursors(destination, "
                                      "seq) VALUES(?1, 0)"));
    MH_ASSIGN_OR_RETURN(pending,
                        Stmt::Prepare(db,
                                      "SELECT seq, event_id, alarm_id, machine_id, kind, payload "
                                      "FROM alarm_outbox WHERE seq > (SELECT seq FROM "
                                      "alarm_outbox_cursors WHERE destination = ?1) "
                                      "ORDER BY seq LIMIT ?2"));
    MH_ASSIGN_OR_RETURN(set_cursor,
                        Stmt::Prepare(db,
                                      "INSERT INTO alarm_outbox_cursors(destination, seq) "
                                      "VALUES(?1, ?2) ON CONFLICT(destination) DO UPDATE SET "
                                      "seq = max(seq, excluded.seq)"));
    MH_ASSIGN_OR_RETURN(prune, Stmt::Prepare(db,
                                             "DELETE FROM alarm_outbox WHERE seq <= (SELECT "
                                             "min(seq) FROM alarm_outbox_cursors)"));
    MH_ASSIGN_OR_RETURN(outbox_size, Stmt::Prepare(db, "SELECT count(*) FROM alarm_outbox"));
    return Status::OK();
  }

  Status Step(sqlite3_stmt* s, const char* what) {
    StmtResetter reset(s);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": " + what);
    return Status::OK();
  }

  Result<std::int64_t> Count(sqlite3_stmt* s) {
    StmtResetter reset(s);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": counting outbox");
    return static_cast<std::int64_t>(sqlite3_column_int64(s, 0));
  }

  // Runs `body` in one write transaction; rolls back if it fails.
  template <typename F>
  Status InTransaction(F&& body) {
    MH_RETURN_IF_ERROR(Step(begin.get(), "begin transaction"));
    Status s = body();
    if (s.ok()) s = Step(commit.get(), "commit");
    if (!s.ok()) (void)Step(rollback.get(), "rollback");
    return s;
  }

  void BindAlarm(sqlite3_stmt* s, const AlarmRecord& a, std::int64_t end_ns) {
    BindText(s, 1, a.alarm_id);
    BindText(s, 2, a.machine_id);
    sqlite3_bind_int64(s, 3, a.start_ns);
    sqlite3_bind_int64(s, 4, end_ns);
    BindReal(s, 5, a.peak_score);
    sqlite3_bind_int64(s, 6, a.baseline_version);
    BindText(s, 7, a.explanation_json);
    BindText(s, 8, a.explanation_text);
  }

  // Appends the event (the alarm as stored now) to the outbox unless its id
  // is there already; keeps the outbox within max_outbox_events.
  Status Enqueue(AlarmEventKind kind, const std::string& alarm_id, std::int64_t event_ns) {
    MH_ASSIGN_OR_RETURN(AlarmRecord stored, internal::QueryAlarm(db, path, alarm_id));
    AlarmEvent event{kind, std::move(stored), event_ns};
    const std::string event_id = AlarmEventId(event);
    const std::string payload = AlarmEventJson(event);
    sqlite3_stmt* s = insert_event.get();
    {
      StmtResetter reset(s);
      BindText(s, 1, event_id);
      BindText(s, 2, event.alarm.alarm_id);
      BindText(s, 3, event.alarm.machine_id);
      sqlite3_bind_text(s, 4, AlarmEventKindName(kind), -1, SQLITE_STATIC);
      sqlite3_bind_int64(s, 5, event_ns);
      BindText(s, 6, payload);
      int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": insert into alarm_outbox");
      if (sqlite3_changes(db.get()) == 0) return Status::OK();  // a replay: already queued
    }
    MH_ASSIGN_OR_RETURN(std::int64_t n, Count(count_events.get()));
    const auto bound = static_cast<std::int64_t>(max_outbox_events);
    if (n > bound) {
      sqlite3_stmt* d = drop_oldest.get();
      sqlite3_bind_int64(d, 1, n - bound);
      MH_RETURN_IF_ERROR(Step(d, "trimming alarm_outbox"));
      log::Warn("alarms", path + ": outbox full (" + std::to_string(bound) + " events): dropped " +
                              std::to_string(n - bound) + " oldest undelivered notification(s)");
    }
    return Status::OK();
  }

  // Stores one event. Whether it is news (and so notified) is decided from
  // the alarm row as stored before it, not from the outbox, whose delivered
  // events are deleted: a replayed opened event of a stored alarm, or a
  // replayed closed event of a closed one, is not notified again.
  Status RecordOne(const AlarmEvent& e) {
    const AlarmRecord& a = e.alarm;
    if (e.kind == AlarmEventKind::kAcknowledged) {
      return AcknowledgeLocked(a.alarm_id, a.acked_by, a.acked_ns != 0 ? a.acked_ns : e.event_ns)
          .status();
    }
    auto before = internal::QueryAlarm(db, path, a.alarm_id);
    if (!before.ok() && !before.status().IsNotFound()) return before.status();
    const bool known = before.ok();
    if (e.kind == AlarmEventKind::kOpened) {
      sqlite3_stmt* s = open_alarm.get();
      BindAlarm(s, a, 0);
      MH_RETURN_IF_ERROR(Step(s, "upsert into alarms"));
      return known ? Status::OK() : Enqueue(e.kind, a.alarm_id, e.event_ns);
    }
    if (e.kind == AlarmEventKind::kClosed) {
      sqlite3_stmt* s = close_alarm.get();
      BindAlarm(s, a, a.end_ns != 0 ? a.end_ns : e.event_ns);
      MH_RETURN_IF_ERROR(Step(s, "upsert into alarms"));
      const bool was_open = !known || before->end_ns == 0;
      return was_open ? Enqueue(e.kind, a.alarm_id, e.event_ns) : Status::OK();
    }
    return Status::InvalidArgument("unknown alarm event kind");
  }

  // Caller holds mu and an open transaction.
  Result<AckResult> AcknowledgeLocked(const std::string& id, const std::string& by,
                                      std::int64_t at_ns) {
    MH_ASSIGN_OR_RETURN(AlarmRecord before, internal::QueryAlarm(db, path, id));
    if (before.acked_ns != 0) return AckResult{std::move(before), true};
    sqlite3_stmt* s = ack_alarm.get();
    BindText(s, 1, id);
    BindText(s, 2, by);
    sqlite3_bind_int64(s, 3, at_ns);
    MH_RETURN_IF_ERROR(Step(s, "acknowledging alarm"));
    MH_RETURN_IF_ERROR(Enqueue(AlarmEventKind::kAcknowledged, id, at_ns));
    MH_ASSIGN_OR_RETURN(AlarmRecord after, internal::QueryAlarm(db, path, id));
    return AckResult{std::move(after), false};
  }
};

AlarmStore::AlarmStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AlarmStore::~AlarmStore() = default;

Result<std::unique_ptr<AlarmStore>> AlarmStore::Open(const AlarmStoreOptions& options) {
  if (options.max_outbox_events == 0) {
    return Status::InvalidArgument("alarm store: max_outbox_events must be at least 1");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = options.path;
  impl->max_outbox_events = options.max_outbox_events;
  MH_ASSIGN_OR_RETURN(impl->db, internal::OpenWritable(options.path));
  MH_RETURN_IF_ERROR(impl->Prepare());
  return std::unique_ptr<AlarmStore>(new AlarmStore(std::move(impl)));
}

Status AlarmStore::Record(std::span<const AlarmEvent> events) {
  for (const AlarmEvent& e : events) {
    const std::string where =
        impl_->path + ": alarm '" + e.alarm.alarm_id + "' " + AlarmEventKindName(e.kind);
    if (e.alarm.alarm_id.empty()) return Status::InvalidArgument(where + ": empty alarm id");
    if (e.alarm.machine_id.empty()) return Status::InvalidArgument(where + ": empty machine id");
    if (e.kind == AlarmEventKind::kAcknowledged && e.alarm.acked_by.empty()) {
      return Status::InvalidArgument(where + ": empty acked_by");
    }
  }
  if (events.empty()) return Status::OK();
  std::lock_guard lock(impl_->mu);
  return impl_->InTransaction([&]() -> Status {
    for (const AlarmEvent& e : events) MH_RETURN_IF_ERROR(impl_->RecordOne(e));
    return Status::OK();
  });
}

Result<AckResult> AlarmStore::Acknowledge(const std::string& alarm_id, const std::string& by,
                                          std::int64_t at_ns) {
  if (by.empty()) return Status::InvalidArgument("acknowledging '" + alarm_id + "': empty name");
  if (at_ns <= 0) {
    return Status::InvalidArgument("acknowledging '" + alarm_id + "': time must be positive");
  }
  std::lock_guard lock(impl_->mu);
  AckResult result;
  Status s = impl_->InTransaction([&]() -> Status {
    MH_ASSIGN_OR_RETURN(result, impl_->AcknowledgeLocked(alarm_id, by, at_ns));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return result;
}

Result<std::vector<AlarmRecord>> AlarmStore::List(const AlarmFilter& filter) {
  std::lock_guard lock(impl_->mu);
  return internal::QueryAlarms(impl_->db, impl_->path, filter);
}

Result<AlarmRecord> AlarmStore::Get(const std::string& alarm_id) {
  std::lock_guard lock(impl_->mu);
  return internal::QueryAlarm(impl_->db, impl_->path, alarm_id);
}

Result<std::vector<StoredScore>> AlarmStore::ResumeWindows(const std::string& machine_id,
                                                           std::size_t max_recent) {
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  // One read transaction, so the alarm and the windows agree.
  MH_RETURN_IF_ERROR(m.db.Exec("BEGIN", "resuming alarms"));
  struct EndRead {
    Db& db;
    ~EndRead() { (void)db.Exec("COMMIT", "resuming alarms"); }
  } end_read{m.db};
  // Replay from the open alarm's start (inclusive) or after the latest
  // close (exclusive); from the first window when the machine has no alarm.
  bool open = false;
  std::int64_t since = INT64_MIN;
  {
    MH_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(m.db,
                                              "SELECT end_ns = 0, CASE WHEN end_ns = 0 THEN "
                                              "start_ns ELSE end_ns END AS t FROM alarms WHERE "
                                              "machine_id = ?1 ORDER BY end_ns = 0 DESC, t DESC "
                                              "LIMIT 1"));
    BindText(q.get(), 1, machine_id);
    const int rc = sqlite3_step(q.get());
    if (rc == SQLITE_ROW) {
      open = sqlite3_column_int(q.get(), 0) != 0;
      since = sqlite3_column_int64(q.get(), 1);
    } else if (rc != SQLITE_DONE) {
      return SqliteError(m.db.get(), rc, m.path + ": reading alarms of '" + machine_id + "'");
    }
  }
  const char* sql = open ? "SELECT t_ns, score, anomaly FROM windows WHERE machine = (SELECT key "
                           "FROM machine_keys WHERE id = ?1) AND t_ns >= ?2 AND score IS NOT NULL "
                           "AND anomaly IS NOT NULL ORDER BY t_ns"
                         : "SELECT t_ns, score, anomaly FROM windows WHERE machine = (SELECT key "
                           "FROM machine_keys WHERE id = ?1) AND t_ns > ?2 AND score IS NOT NULL "
                           "AND anomaly IS NOT NULL ORDER BY t_ns DESC LIMIT ?3";
  MH_ASSIGN_OR_RETURN(Stmt q, Stmt::Prepare(m.db, sql));
  BindText(q.get(), 1, machine_id);
  sqlite3_bind_int64(q.get(), 2, since);
  if (!open) {
    sqlite3_bind_int64(q.get(), 3,
                       static_cast<sqlite3_int64>(std::min<std::size_t>(max_recent, INT64_MAX)));
  }
  std::vector<StoredScore> out;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    out.push_back({sqlite3_column_int64(q.get(), 0), sqlite3_column_double(q.get(), 1),
                   sqlite3_column_int(q.get(), 2) != 0});
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(m.db.get(), rc, m.path + ": reading windows of '" + machine_id + "'");
  }
  if (!open) std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<OutboxEntry>> AlarmStore::Pending(const std::string& destination,
                                                     std::size_t limit) {
  if (destination.empty()) return Status::InvalidArgument("outbox: empty destination name");
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  if (m.registered.count(destination) == 0) {
    sqlite3_stmt* r = m.register_destination.get();
    BindText(r, 1, destination);
    MH_RETURN_IF_ERROR(m.Step(r, "registering outbox destination"));
    m.registered.insert(destination);
  }
  sqlite3_stmt* s = m.pending.get();
  StmtResetter reset(s);
  BindText(s, 1, destination);
  sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<OutboxEntry> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    OutboxEntry e;
    e.seq = sqlite3_column_int64(s, 0);
    e.event_id = ColumnText(s, 1);
    e.alarm_id = ColumnText(s, 2);
    e.machine_id = ColumnText(s, 3);
    auto kind = ParseAlarmEventKind(ColumnText(s, 4));
    if (!kind.ok()) {
      return Status::Corruption(m.path + ": alarm_outbox seq " + std::to_string(e.seq) + ": " +
                                kind.status().message());
    }
    e.kind = *kind;
    e.payload = ColumnText(s, 5);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return SqliteError(m.db.get(), rc, m.path + ": reading alarm_outbox");
  return out;
}

Status AlarmStore::MarkDelivered(const std::string& destination, std::int64_t seq) {
  if (destination.empty()) return Status::InvalidArgument("outbox: empty destination name");
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  return m.InTransaction([&]() -> Status {
    sqlite3_stmt* c = m.set_cursor.get();
    BindText(c, 1, destination);
    sqlite3_bind_int64(c, 2, seq);
    MH_RETURN_IF_ERROR(m.Step(c, "updating alarm_outbox_cursors"));
    return m.Step(m.prune.get(), "pruning alarm_outbox");
  });
}

Result<std::int64_t> AlarmStore::OutboxSize() {
  std::lock_guard lock(impl_->mu);
  return impl_->Count(impl_->outbox_size.get());
}

}  // namespace mh::sink
