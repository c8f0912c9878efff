// machine-health export: writes what a database holds for one machine out as
// rows (docs/database.md, "Export").
//
//   machine-health export [--db PATH] --machine M [--from T] [--to T]
//                         [--what windows|rollups|snapshots] [--resolution 1m|1h]
//                         [--snapshot ID] --out FILE|- [--format F]
//
// --what windows (default): one row per stored window (scores, state,
// threshold, baseline version and every feature by name); rollups: one row
// per bucket of --resolution and series (score, rms, each feature) with
// count, min, mean and max (a long layout: docs/database.md, "Export");
// snapshots: one row per sample of every waveform snapshot (or only
// --snapshot ID): snapshot id, kind, alarm id, the sample's event time and
// one column per channel. [--from, --to) bounds the window start, the bucket
// start or the snapshot's window start. --out picks CSV, TSV, Parquet or JSON
// Lines by extension (docs/output-formats.md). The database is opened
// read-only; windows and rollups are read and written in pages, so memory
// does not grow with the range.
//
// Exit codes: 0 ok (also when nothing matched: a header-only file); 1 no
// such database or machine, unreadable data; 2 usage error.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/output_options.h"
#include "app/time_range_option.h"
#include "core/time_util.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "export";
constexpr const char* kDefaultDb = "machine-health.db";  // as `run`

struct ExportArgs {
  std::string db = kDefaultDb;
  std::string machine;
  TimeRangeText range;
  std::string what = "windows";
  std::string resolution = "1m";
  bool resolution_given = false;
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

// Rows per page read from the database and written as one batch.
constexpr std::size_t kPageWindows = 4096;
constexpr std::size_t kPageBuckets = 256;

// The fixed columns of --what windows; a feature of one of these names is
// written as "feature.<name>".
const std::vector<TableColumnInfo>& WindowColumns() {
  static const std::vector<TableColumnInfo> columns = {
      {"timestamp", ValueKind::kTimestamp, 9},  {"machine_id", ValueKind::kString, 9},
      {"score", ValueKind::kDouble, 9},         {"score_samples", ValueKind::kDouble, 9},
      {"anomaly", ValueKind::kInt, 9},          {"state", ValueKind::kString, 9},
      {"state_score", ValueKind::kDouble, 9},   {"threshold", ValueKind::kDouble, 9},
      {"baseline_version", ValueKind::kInt, 9}, {"rms", ValueKind::kDouble, 9}};
  return columns;
}

void PushNull(TableColumn& c) {
  c.valid.push_back(0);
  if (c.info.kind == ValueKind::kDouble) {
    c.doubles.push_back(0);
  } else if (c.info.kind == ValueKind::kString) {
    c.strings.emplace_back();
  } else {
    c.ints.push_back(0);
  }
}

void Report(CommandIo& io, const ExportArgs& args, std::size_t rows, const std::string& what) {
  if (args.output.out != "-") {
    io.err << "exported " << rows << " " << what << " of '" << args.machine << "' -> "
           << args.output.out << "\n";
  }
}

// Writes a time range page by page, one batch per page, and closes `out`:
// `fetch(cursor)` reads the page from `cursor` on (Result<std::vector<T>>,
// in time order), `time_of(item)` is an item's time and `fill(item, columns)`
// appends its row. Rows written, or the error.
template <typename Fetch, typename TimeOf, typename Fill>
Result<std::size_t> WritePages(tableio::TableOutput& out,
                               const std::vector<TableColumnInfo>& schema, std::int64_t from_ns,
                               std::int64_t to_ns, Fetch fetch, TimeOf time_of, Fill fill) {
  std::size_t rows = 0;
  std::int64_t cursor = from_ns;
  while (cursor < to_ns) {
    auto page = fetch(cursor);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    const std::size_t n = page->size();
    TableBatch batch;
    batch.rows = n;
    for (const TableColumnInfo& info : schema)
      batch.columns.push_back(Column(info.name, info.kind, n));
    for (const auto& item : *page) fill(item, batch.columns);
    MH_RETURN_IF_ERROR(out.Write(batch));
    rows += n;
    const std::int64_t last = time_of(page->back());
    if (last == std::numeric_limits<std::int64_t>::max()) break;
    cursor = last + 1;
  }
  MH_RETURN_IF_ERROR(out.Close());
  return rows;
}

// The fixed columns, then the feature columns: the names of the range's
// feature sets (in the order of their first window, each in its blob order)
// without repeats; a window
// gets null in the columns its set lacks.
int ExportWindows(sink::SqliteReader& reader, const ExportArgs& args, std::int64_t from_ns,
                  std::int64_t to_ns, CommandIo& io) {
  auto sets = reader.WindowFeatureSets(args.machine, from_ns, to_ns);
  if (!sets.ok()) return Fail(io, sets.status().message());
  std::vector<TableColumnInfo> schema = WindowColumns();
  const std::size_t fixed = schema.size();
  std::vector<std::string> features;
  std::map<std::int64_t, std::vector<std::size_t>> set_columns;
  for (std::int64_t set : *sets) {
    auto names = reader.FeatureSet(set);
    if (!names.ok()) return Fail(io, names.status().message());
    std::vector<std::size_t>& cols = set_columns[set];
    for (const std::string& stored : *names) {
      std::string name = stored;
      for (std::size_t j = 0; j < fixed; ++j) {
        if (schema[j].name == stored) name = "feature." + stored;
      }
      auto at = std::find(features.begin(), features.end(), name);
      if (at == features.end()) {
        features.push_back(name);
        schema.push_back({name, ValueKind::kDouble, 9});
        at = features.end() - 1;
      }
      cols.push_back(static_cast<std::size_t>(at - features.begin()));
    }
  }
  auto opened = OpenOutput(args.output, schema, io.out);
  if (!opened.ok()) return Fail(io, opened.status().message());
  std::unique_ptr<tableio::TableOutput> out = std::move(*opened);
  std::vector<double> row(features.size());
  std::vector<std::uint8_t> has(features.size());
  auto rows = WritePages(
      *out, schema, from_ns, to_ns,
      [&](std::int64_t cursor) {
        return reader.Windows(args.machine, cursor, to_ns, kPageWindows);
      },
      [](const sink::StoredWindow& w) { return w.t_ns; },
      [&](const sink::StoredWindow& w, std::vector<TableColumn>& c) {
        Push(c[0], w.t_ns);
        Push(c[1], args.machine);
        Push(c[2], w.score);
        Push(c[3], w.score_samples);
        if (w.anomaly < 0) {
          PushNull(c[4]);
        } else {
          Push(c[4], static_cast<std::int64_t>(w.anomaly));
        }
        Push(c[5], std::string(sink::MachineStateName(w.state)));
        Push(c[6], w.state_score);
        Push(c[7], w.threshold);
        Push(c[8], w.baseline_version);
        Push(c[9], w.rms);
        // A window written after WindowFeatureSets (a pipeline writing) may
        // have a set the schema lacks: its features are then null.
        std::fill(has.begin(), has.end(), 0);
        auto cols = set_columns.find(w.feature_set);
        if (cols != set_columns.end() && cols->second.size() == w.features.size()) {
          for (std::size_t i = 0; i < w.features.size(); ++i) {
            row[cols->second[i]] = w.features[i];
            has[cols->second[i]] = 1;
          }
        }
        for (std::size_t f = 0; f < features.size(); ++f) {
          if (has[f]) {
            Push(c[fixed + f], row[f]);
          } else {
            PushNull(c[fixed + f]);
          }
        }
      });
  if (!rows.ok()) return Fail(io, rows.status().message());
  Report(io, args, *rows, "windows");
  return kExitOk;
}

// Long layout: one row per (bucket, series).
int ExportRollups(sink::SqliteReader& reader, const ExportArgs& args, std::int64_t from_ns,
                  std::int64_t to_ns, CommandIo& io) {
  const std::int64_t tier_s = args.resolution == "1h" ? 3600 : 60;
  const std::vector<TableColumnInfo> schema = {{"bucket_start", ValueKind::kTimestamp, 9},
                                               {"machine_id", ValueKind::kString, 9},
                                               {"resolution", ValueKind::kString, 9},
                                               {"series", ValueKind::kString, 9},
                                               {"count", ValueKind::kInt, 9},
                                               {"min", ValueKind::kDouble, 9},
                                               {"mean", ValueKind::kDouble, 9},
                                               {"max", ValueKind::kDouble, 9},
                                               {"anomalies", ValueKind::kInt, 9}};
  auto opened = OpenOutput(args.output, schema, io.out);
  if (!opened.ok()) return Fail(io, opened.status().message());
  std::unique_ptr<tableio::TableOutput> out = std::move(*opened);
  auto rows = WritePages(
      *out, schema, from_ns, to_ns,
      [&](std::int64_t cursor) {
        return reader.Rollups(args.machine, tier_s, cursor, to_ns, kPageBuckets);
      },
      [](const sink::RollupPoint& p) { return p.bucket_ns; },
      [&](const sink::RollupPoint& p, std::vector<TableColumn>& c) {
        Push(c[0], p.bucket_ns);
        Push(c[1], args.machine);
        Push(c[2], args.resolution);
        Push(c[3], p.series);
        Push(c[4], p.count);
        Push(c[5], p.min);
        Push(c[6], p.mean);
        Push(c[7], p.max);
        if (p.series == "score") {
          Push(c[8], p.anomalies);
        } else {
          PushNull(c[8]);
        }
      });
  if (!rows.ok()) return Fail(io, rows.status().message());
  Report(io, args, *rows, "rollup rows");
  return kExitOk;
}

// "unknown machine 'x'" with the machines the database has.
std::string UnknownMachine(sink::SqliteReader& reader, const std::string& message) {
  auto all = reader.Machines();
  if (!all.ok()) return message;
  if (all->empty()) return message + " (the database has no machines yet)";
  std::string list;
  constexpr std::size_t kMax = 20;
  for (std::size_t i = 0; i < all->size() && i < kMax; ++i) {
    list += (i ? ", " : "") + (*all)[i].id;
  }
  if (all->size() > kMax) list += ", ... (" + std::to_string(all->size()) + " in all)";
  return message + "; machines: " + list;
}

int RunExport(const ExportArgs& args, CommandIo& io) {
  auto format = ResolveOutputFormat(args.output);
  if (!format.ok()) return UsageError(io, kCommand, format.status().message());
  if (args.what != "windows" && args.what != "rollups" && args.what != "snapshots") {
    return UsageError(io, kCommand,
                      "--what: expected windows, rollups or snapshots, got '" + args.what + "'");
  }
  if (args.resolution != "1m" && args.resolution != "1h") {
    return UsageError(io, kCommand,
                      "--resolution: expected 1m or 1h, got '" + args.resolution + "'");
  }
  if (args.resolution_given && args.what != "rollups") {
    return UsageError(io, kCommand, "--resolution is for --what rollups");
  }
  if (args.snapshot != 0 && args.what != "snapshots") {
    return UsageError(io, kCommand, "--snapshot is for --what snapshots");
  }
  auto range = ParseTimeRange(args.range);
  if (!range.ok()) return UsageError(io, kCommand, range.status().message());
  const std::int64_t from_ns = range->from_ns;
  const std::int64_t to_ns = range->to_ns;
  auto reader = sink::SqliteReader::Open(args.db);
  if (!reader.ok()) return Fail(io, reader.status().message());
  auto machine = (*reader)->Machine(args.machine);
  if (!machine.ok()) {
    if (machine.status().IsNotFound()) {
      return Fail(io, args.db + ": " + UnknownMachine(**reader, machine.status().message()));
    }
    return Fail(io, machine.status().message());
  }
  if (args.what == "snapshots") return ExportSnapshots(**reader, args, from_ns, to_ns, io);
  if (args.what == "rollups") return ExportRollups(**reader, args, from_ns, to_ns, io);
  return ExportWindows(**reader, args, from_ns, to_ns, io);
}

}  // namespace

void AddExportCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* sub = root.add_subcommand(
      "export", "Write a machine's stored windows, rollups or waveform snapshots out as rows");
  sub->add_option("--db", args->db, "SQLite database written by 'machine-health run'")
      ->capture_default_str();
  sub->add_option("--machine", args->machine, "the machine")->required();
  AddTimeRangeOptions(
      *sub, &args->range,
      "only [FROM, TO) (window or bucket start): RFC 3339 time or epoch milliseconds");
  sub->add_option("--what", args->what, "windows, rollups or snapshots")->capture_default_str();
  CLI::Option* resolution = sub->add_option("--resolution", args->resolution,
                                            "rollup resolution: 1m or 1h (--what rollups)")
                                ->capture_default_str();
  sub->add_option("--snapshot", args->snapshot, "only this snapshot (--what snapshots)");
  AddOutputOptions(*sub, args->output, "rows", /*required=*/true);
  sub->callback([&io, &action, args, resolution] {
    args->resolution_given = resolution->count() > 0;
    action = [&io, args] { return RunExport(*args, io); };
  });
}

}  // namespace mh::app
