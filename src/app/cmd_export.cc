// machine-health export: writes what a database holds for one machine out as
// rows (docs/database.md, "Export").
//
//   machine-health export [--db PATH] --machine M [--from T] [--to T]
//                         [--what windows|rollups|snapshots] [--tier 1m|1h]
//                         [--snapshot ID] --out FILE|- [--format F]
//
// --what windows (default): one row per stored window (scores, state,
// baseline version and every feature by name); rollups: one row per bucket
// of --tier with count, min/mean/max of the score, the RMS and each feature;
// snapshots: one row per sample of every waveform snapshot (or only
// --snapshot ID): snapshot id, kind, alarm id, the sample's event time and
// one column per channel. --out picks CSV, Parquet or JSON Lines by extension
// (docs/output-formats.md). The database is opened read-only.
//
// Exit codes: 0 ok (also when nothing matched: a header-only file); 1 no
// such database or machine, unreadable data; 2 usage error.
#include <cmath>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/output_options.h"
#include "core/time_util.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "export";
constexpr const char* kDefaultDb = "machine-health.db";  // as `run`

struct ExportArgs {
  std::string db = kDefaultDb;
  std::string machine;
  std::string from;
  std::string to;
  std::string what = "windows";
  std::string tier = "1m";
  std::int64_t snapshot = 0;
  OutputArgs output;
};

int Fail(CommandIo& io, const std::string& message) {
  PrintError(io, kCommand, message);
  return kExitFailure;
}

TableColumn Column(std::string name, ValueKind kind, std::size_t reserve) {
  TableColumn c;
  c.info = {std::move(name), kind, 9};
  c.valid.reserve(reserve);
  return c;
}

void Push(TableColumn& c, std::int64_t v) {
  c.valid.push_back(1);
  c.ints.push_back(v);
}
void Push(TableColumn& c, double v) {
  c.valid.push_back(std::isfinite(v) ? 1 : 0);
  c.doubles.push_back(std::isfinite(v) ? v : 0);
}
void Push(TableColumn& c, const std::string& v, bool valid = true) {
  c.valid.push_back(valid ? 1 : 0);
  c.strings.push_back(v);
}

// One batch per snapshot: its samples, a row each.
int ExportSnapshots(sink::SqliteReader& reader, const ExportArgs& args, std::int64_t from_ns,
                    std::int64_t to_ns, CommandIo& io) {
  std::vector<sink::SnapshotInfo> list;
  if (args.snapshot > 0) {
    auto one = reader.Snapshot(args.snapshot);
    if (!one.ok()) return Fail(io, one.status().message());
    if (one->info.machine_id != args.machine) {
      return Fail(io, "snapshot " + std::to_string(args.snapshot) + " is of machine '" +
                          one->info.machine_id + "', not '" + args.machine + "'");
    }
    list.push_back(one->info);
  } else {
    auto all =
        reader.Snapshots(args.machine, from_ns, to_ns, std::numeric_limits<std::size_t>::max());
    if (!all.ok()) return Fail(io, all.status().message());
    list = std::move(*all);
  }
  std::unique_ptr<tableio::TableOutput> out;
  std::vector<std::string> channels;
  std::size_t rows = 0;
  for (const sink::SnapshotInfo& info : list) {
    auto snap = reader.Snapshot(info.id);
    if (!snap.ok()) return Fail(io, snap.status().message());
    const codec::SnapshotSamples& s = snap->samples;
    if (out == nullptr) {
      channels = s.channels;
      std::vector<TableColumnInfo> schema = {
          {"snapshot_id", ValueKind::kInt, 9},     {"machine_id", ValueKind::kString, 9},
          {"kind", ValueKind::kString, 9},         {"alarm_id", ValueKind::kString, 9},
          {"timestamp", ValueKind::kTimestamp, 9}, {"sample", ValueKind::kInt, 9}};
      for (const std::string& c : channels) schema.push_back({c, ValueKind::kDouble, 9});
      auto opened = OpenOutput(args.output, schema, io.out);
      if (!opened.ok()) return Fail(io, opened.status().message());
      out = std::move(*opened);
    } else if (s.channels != channels) {
      return Fail(io, "snapshot " + std::to_string(info.id) +
                          " has other channels than the first one; export it alone with "
                          "--snapshot " +
                          std::to_string(info.id));
    }
    const std::size_t n = s.samples.empty() ? 0 : s.samples[0].size();
    TableBatch batch;
    batch.rows = n;
    TableColumn id = Column("snapshot_id", ValueKind::kInt, n);
    TableColumn machine = Column("machine_id", ValueKind::kString, n);
    TableColumn kind = Column("kind", ValueKind::kString, n);
    TableColumn alarm = Column("alarm_id", ValueKind::kString, n);
    TableColumn t = Column("timestamp", ValueKind::kTimestamp, n);
    TableColumn k = Column("sample", ValueKind::kInt, n);
    for (std::size_t i = 0; i < n; ++i) {
      Push(id, info.id);
      Push(machine, info.machine_id);
      Push(kind, info.kind);
      Push(alarm, info.alarm_id, !info.alarm_id.empty());
      // The sample's event time: the window start plus i / fs, to the ns.
      Push(t, s.timestamp_ns +
                  static_cast<std::int64_t>(std::llround(static_cast<double>(i) * 1e9 / s.fs_hz)));
      Push(k, static_cast<std::int64_t>(i));
    }
    batch.columns = {std::move(id),    std::move(machine), std::move(kind),
                     std::move(alarm), std::move(t),       std::move(k)};
    for (std::size_t c = 0; c < channels.size(); ++c) {
      TableColumn v = Column(channels[c], ValueKind::kDouble, n);
      for (double x : s.samples[c]) Push(v, x);
      batch.columns.push_back(std::move(v));
    }
    Status w = out->Write(batch);
    if (!w.ok()) return Fail(io, w.message());
    rows += n;
  }
  if (out == nullptr) {
    // Nothing matched: the header of an empty snapshot export.
    std::vector<TableColumnInfo> schema = {
        {"snapshot_id", ValueKind::kInt, 9},     {"machine_id", ValueKind::kString, 9},
        {"kind", ValueKind::kString, 9},         {"alarm_id", ValueKind::kString, 9},
        {"timestamp", ValueKind::kTimestamp, 9}, {"sample", ValueKind::kInt, 9}};
    auto opened = OpenOutput(args.output, schema, io.out);
    if (!opened.ok()) return Fail(io, opened.status().message());
    out = std::move(*opened);
  }
  Status closed = out->Close();
  if (!closed.ok()) return Fail(io, closed.message());
  if (args.output.out != "-") {
    io.err << "exported " << list.size() << " snapshots (" << rows << " rows) of '" << args.machine
           << "' -> " << args.output.out << "\n";
  }
  return kExitOk;
}

int RunExport(const ExportArgs& args, CommandIo& io) {
  auto format = ResolveOutputFormat(args.output);
  if (!format.ok()) return UsageError(io, kCommand, format.status().message());
  if (args.what != "windows" && args.what != "rollups" && args.what != "snapshots") {
    return UsageError(io, kCommand,
                      "--what: expected windows, rollups or snapshots, got '" + args.what + "'");
  }
  if (args.tier != "1m" && args.tier != "1h") {
    return UsageError(io, kCommand, "--tier: expected 1m or 1h, got '" + args.tier + "'");
  }
  if (args.snapshot != 0 && args.what != "snapshots") {
    return UsageError(io, kCommand, "--snapshot is for --what snapshots");
  }
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();
  for (const auto& [text, target] :
       {std::pair{&args.from, &from_ns}, std::pair{&args.to, &to_ns}}) {
    if (text->empty()) continue;
    auto t = ParseInstant(*text);
    if (!t.ok()) {
      return UsageError(
          io, kCommand,
          std::string(target == &from_ns ? "--from: " : "--to: ") + t.status().message());
    }
    *target = *t;
  }
  if (from_ns > to_ns) return UsageError(io, kCommand, "--from is after --to");
  auto reader = sink::SqliteReader::Open(args.db);
  if (!reader.ok()) return Fail(io, reader.status().message());
  auto machine = (*reader)->Machine(args.machine);
  if (!machine.ok()) return Fail(io, machine.status().message());
  if (args.what == "snapshots") return ExportSnapshots(**reader, args, from_ns, to_ns, io);
  return Fail(io, "--what " + args.what + ": not available yet");
}

}  // namespace

void AddExportCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* sub = root.add_subcommand(
      "export", "Write a machine's stored windows, rollups or waveform snapshots out as rows");
  sub->add_option("--db", args->db, "SQLite database written by 'machine-health run'")
      ->capture_default_str();
  sub->add_option("--machine", args->machine, "the machine")->required();
  sub->add_option("--from", args->from,
                  "only [FROM, TO) (window or bucket start): RFC 3339 time or epoch milliseconds");
  sub->add_option("--to", args->to, "see --from");
  sub->add_option("--what", args->what, "windows, rollups or snapshots")->capture_default_str();
  sub->add_option("--tier", args->tier, "rollup tier: 1m or 1h")->capture_default_str();
  sub->add_option("--snapshot", args->snapshot, "only this snapshot (--what snapshots)");
  AddOutputOptions(*sub, args->output, "rows", /*required=*/true);
  sub->callback([&io, &action, args] { action = [&io, args] { return RunExport(*args, io); }; });
}

}  // namespace mh::app
