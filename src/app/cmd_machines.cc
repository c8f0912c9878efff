// machine-health machines: the machine registry (docs/machines.md).
//
//   machine-health machines list [--machines-file FILE] [--db FILE] [--json]
//       Prints every machine of the machines file (file order), then, with
//       --db, the machines of that database that the file does not list
//       (shown with the defaults, "defaults (not in file)"), then the
//       defaults any other sensor gets. A table by default; --json prints
//       {"machines_file", "defaults", "machines": [...]} with the stable keys
//       of docs/machines.md.
//
// Exit codes: 0 ok; 1 a missing, unreadable or invalid machines file or
// database; 2 usage error.
#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "core/strings.h"
#include "registry/registry.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "machines list";

struct MachinesArgs {
  std::string machines_file;
  std::string db;
  bool json = false;
};

struct Row {
  registry::MachinePtr machine;
  std::string source;
};

std::string ShaftText(const registry::ShaftSpeed& s) {
  switch (s.source) {
    case registry::ShaftSpeedSource::kFixed:
      return FormatDouble(s.rpm) + " rpm";
    case registry::ShaftSpeedSource::kEventField:
      return "field " + s.field;
    case registry::ShaftSpeedSource::kNone:
      break;
  }
  return "-";
}

std::string ThresholdText(const score::ThresholdOptions& t) {
  // "quantile-margin q=0.005 margin=0.05" without spaces, for one cell.
  std::string s = score::DescribeThreshold(t);
  const std::size_t space = s.find(' ');
  if (space == std::string::npos) return s;
  std::string params = s.substr(space + 1);
  std::replace(params.begin(), params.end(), ' ', ',');
  return s.substr(0, space) + "(" + params + ")";
}

std::vector<std::string> Cells(const registry::MachineConfig& m, const std::string& id,
                               const std::string& source) {
  std::string channels;
  for (const std::string& c : m.channels) channels += (channels.empty() ? "" : ",") + c;
  return {
      id,
      m.name.empty() ? "-" : m.name,
      m.location.empty() ? "-" : m.location,
      m.fs_hz > 0 ? FormatDouble(m.fs_hz) : "event",
      channels.empty() ? "all" : channels,
      registry::SampleUnitName(m.unit),
      ShaftText(m.shaft),
      m.bearing.name.empty() ? "-" : m.bearing.name,
      std::to_string(static_cast<int>(m.iso_group)) + "/" +
          (m.foundation == features::Foundation::kRigid ? "rigid" : "flexible"),
      registry::LearningText(m.learning),
      std::to_string(m.alarm.k) + "/" + std::to_string(m.alarm.n) + "/" + std::to_string(m.alarm.m),
      ThresholdText(m.threshold),
      m.model.empty() ? "-" : m.model,
      source};
}

void PrintTable(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

int RunList(const MachinesArgs& args, CommandIo& io) {
  std::unique_ptr<registry::Registry> reg;
  if (args.machines_file.empty()) {
    reg = registry::Registry::BuiltIn();
  } else {
    auto loaded = registry::Registry::Load(args.machines_file);
    if (!loaded.ok()) return ReportError(io, kCommand, loaded.status());
    reg = std::move(*loaded);
  }
  std::vector<Row> rows;
  for (const registry::MachinePtr& m : reg->List()) {
    rows.push_back({m, "file:" + std::to_string(m->file_line)});
  }
  if (!args.db.empty()) {
    auto reader = sink::SqliteReader::Open(args.db);
    if (!reader.ok()) return ReportError(io, kCommand, reader.status());
    auto machines = (*reader)->Machines();
    if (!machines.ok()) return ReportError(io, kCommand, machines.status());
    for (const sink::MachineSummary& s : *machines) {
      registry::MachinePtr m = reg->Peek(s.id);
      if (!m->from_file) rows.push_back({m, "defaults (not in file)"});
    }
  }

  if (args.json) {
    std::string o = "{";
    AppendJsonString("machines_file", &o);
    o += ':';
    if (args.machines_file.empty()) {
      o += "null";
    } else {
      AppendJsonString(args.machines_file, &o);
    }
    o += ',';
    AppendJsonString("defaults", &o);
    o += ':' + registry::MachineJson(reg->defaults()) + ',';
    AppendJsonString("machines", &o);
    o += ":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      o += (i ? ",\n  " : "\n  ") + registry::MachineJson(*rows[i].machine);
    }
    o += rows.empty() ? "]}" : "\n]}";
    io.out << o << "\n";
    return kExitOk;
  }

  std::vector<std::vector<std::string>> table = {{"ID", "NAME", "LOCATION", "FS_HZ", "CHANNELS",
                                                  "UNIT", "SHAFT", "BEARING", "ISO", "LEARNING",
                                                  "ALARM_K/N/M", "THRESHOLD", "MODEL", "SOURCE"}};
  for (const Row& r : rows) table.push_back(Cells(*r.machine, r.machine->id, r.source));
  table.push_back(Cells(reg->defaults(), "*", "defaults (any other sensor)"));
  io.out << "machines file: " << (args.machines_file.empty() ? "none" : args.machines_file) << "\n";
  PrintTable(table, io.out);
  return kExitOk;
}

}  // namespace

void AddMachinesCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("machines", "Show the machine registry (docs/machines.md)");
  sub->require_subcommand(1);
  auto args = std::make_shared<MachinesArgs>();
  CLI::App* list = sub->add_subcommand(
      "list",
      "List the machines of a machines file (and of a database) with their resolved settings");
  list->add_option("--machines-file", args->machines_file,
                   "Machines file (TOML: [defaults] and [machines.<id>] tables)");
  list->add_option("--db", args->db,
                   "Database of `machine-health run`: also list its machines not in the file");
  list->add_flag("--json", args->json, "Print JSON (stable keys) instead of a table");
  list->callback([&io, &action, args] { action = [&io, args] { return RunList(*args, io); }; });
}

}  // namespace mh::app
