// machine-health alarms: list and acknowledge the alarms in a machine-health
// database (docs/alarms.md).
//
//   machine-health alarms list [--db PATH] [--machine M] [--open] [--from T] [--to T]
//                              [--limit N] [--json]
//   machine-health alarms ack ALARM_ID --by NAME [--db PATH]
//
// --db defaults to run's default, machine-health.db in the current folder.
// `list` reads the database read-only (as `serve` does), newest alarm first;
// text is one line per alarm, --json a JSON array of alarm objects (the
// same keys as GET /api/alarms). `ack` records who acknowledged the alarm
// and when (now); an alarm acknowledged before keeps its first
// acknowledgement (reported, exit 0). The acknowledgement is queued in the
// database's notification outbox, which the notifiers of a running
// `machine-health run` deliver.
//
// Exit codes: 0 ok; 1 no such database, unknown alarm id, unreadable
// database; 2 usage error (missing or bad option).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/time_range_option.h"
#include "core/time_util.h"
#include "sink/alarm_record.h"
#include "sink/sqlite/alarm_store.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::app {
namespace {

constexpr const char* kList = "alarms list";
constexpr const char* kAck = "alarms ack";
constexpr const char* kDefaultDb = "machine-health.db";  // as `run`

struct ListArgs {
  std::string db = kDefaultDb;
  std::string machine;
  bool open = false;
  TimeRangeText range;
  std::size_t limit = 1000;
  bool json = false;
};

struct AckArgs {
  std::string db = kDefaultDb;
  std::string id;
  std::string by;
};

std::string Peak(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

int RunList(const ListArgs& a, CommandIo& io) {
  sink::AlarmFilter filter;
  filter.machine_id = a.machine;
  filter.open_only = a.open;
  filter.limit = a.limit;
  auto range = ParseTimeRange(a.range);
  if (!range.ok()) return UsageError(io, kList, range.status().message());
  filter.from_ns = range->from_ns;
  filter.to_ns = range->to_ns;
  auto reader = sink::SqliteReader::Open(a.db);
  if (!reader.ok()) return ReportError(io, kList, reader.status());
  auto alarms = (*reader)->Alarms(filter);
  if (!alarms.ok()) return ReportError(io, kList, alarms.status());
  if (a.json) {
    io.out << "[";
    for (std::size_t i = 0; i < alarms->size(); ++i) {
      io.out << (i ? ",\n" : "\n") << sink::AlarmRecordJson((*alarms)[i]);
    }
    io.out << (alarms->empty() ? "]\n" : "\n]\n");
    return kExitOk;
  }
  if (alarms->empty()) {
    io.out << "no alarms\n";
    return kExitOk;
  }
  for (const sink::AlarmRecord& r : *alarms) {
    io.out << r.alarm_id << "  " << r.machine_id << "  " << (r.end_ns == 0 ? "open" : "closed")
           << "  " << FormatRfc3339(r.start_ns, 3) << " .. "
           << (r.end_ns == 0 ? std::string("now") : FormatRfc3339(r.end_ns, 3)) << "  peak "
           << Peak(r.peak_score) << "  baseline v" << r.baseline_version << "  "
           << (r.acked_ns == 0 ? std::string("not acknowledged")
                               : "acked by " + r.acked_by + " " + FormatRfc3339(r.acked_ns, 0));
    if (!r.explanation_text.empty()) io.out << "  " << r.explanation_text;
    io.out << "\n";
  }
  return kExitOk;
}

int RunAck(const AckArgs& a, CommandIo& io) {
  if (a.by.empty()) return UsageError(io, kAck, "--by: empty name");
  std::error_code ec;
  // Never create a database just to find the alarm missing in it.
  if (!std::filesystem::exists(a.db, ec)) {
    return ReportError(io, kAck, Status::NotFound(a.db + ": no such database"));
  }
  auto store = sink::AlarmStore::Open({a.db});
  if (!store.ok()) return ReportError(io, kAck, store.status());
  auto result = (*store)->Acknowledge(a.id, a.by, WallNowNs());
  if (!result.ok()) return ReportError(io, kAck, result.status().WithContext(a.db));
  const sink::AlarmRecord& r = result->alarm;
  if (result->already_acknowledged) {
    io.out << r.alarm_id << " was already acknowledged by " << r.acked_by << " at "
           << FormatRfc3339(r.acked_ns, 3) << " (kept)\n";
  } else {
    io.out << "acknowledged " << r.alarm_id << " (" << r.machine_id << ") by " << r.acked_by
           << " at " << FormatRfc3339(r.acked_ns, 3) << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddAlarmsCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("alarms", "List and acknowledge alarms in a database");
  sub->require_subcommand(1);

  auto list = std::make_shared<ListArgs>();
  CLI::App* ls = sub->add_subcommand("list", "List alarms, newest first");
  ls->add_option("--db", list->db, "SQLite database written by 'machine-health run'")
      ->capture_default_str();
  ls->add_option("--machine", list->machine, "only this machine");
  ls->add_flag("--open", list->open, "only alarms that are still open");
  AddTimeRangeOptions(*ls, &list->range,
                      "only alarms overlapping [FROM, TO): RFC 3339 time or epoch milliseconds");
  ls->add_option("--limit", list->limit, "at most this many (the newest)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  ls->add_flag("--json", list->json, "print a JSON array instead of text");
  ls->callback([&io, &action, list] { action = [&io, list] { return RunList(*list, io); }; });

  auto ack = std::make_shared<AckArgs>();
  CLI::App* ak = sub->add_subcommand("ack", "Acknowledge an alarm (who and now)");
  ak->add_option("alarm_id", ack->id, "id of the alarm (see 'alarms list')")->required();
  ak->add_option("--by", ack->by, "who acknowledges it")->required();
  ak->add_option("--db", ack->db, "SQLite database written by 'machine-health run'")
      ->capture_default_str();
  ak->callback([&io, &action, ack] { action = [&io, ack] { return RunAck(*ack, io); }; });
}

}  // namespace mh::app
