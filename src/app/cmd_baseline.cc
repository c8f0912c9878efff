// machine-health baseline: the per-machine baselines stored in a
// machine-health database (docs/baselines.md).
//
//   machine-health baseline list [--db PATH] [--machine M] [--json]
//   machine-health baseline show MACHINE [--version V] [--db PATH] [--json]
//   machine-health baseline reset MACHINE [--db PATH]
//   machine-health baseline retrain MACHINE [--from T] [--to T] [--db PATH]
//   machine-health baseline assign MACHINE --model FILE | --version V [--db PATH]
//
// --db defaults to run's default, machine-health.db in the current folder.
// `list` and `show` read the database read-only; `reset`, `retrain` and
// `assign` write it (a running `run` hears of the change, see
// sink::BaselineStore). T is an RFC 3339 time or epoch milliseconds (as in
// `alarms list`). retrain uses the pipeline's default forest, calibration and
// threshold rule (app::MakePipelineOptions of the default PipelineArgs).
//
// Exit codes: 0 ok; 1 no such database, unknown machine or version, no usable
// window, unreadable model or database; 2 usage error (missing or bad option).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/pipeline_options.h"
#include "app/time_range_option.h"
#include "baseline/baseline_ops.h"
#include "core/time_util.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::app {
namespace {

constexpr const char* kDefaultDb = "machine-health.db";  // as `run`

struct Args {
  std::string db = kDefaultDb;
  std::string machine;
  std::int64_t version = 0;
  TimeRangeText range;
  std::string model;
  bool json = false;
};

std::string Num(double v, const char* format = "%.6g") {
  if (!std::isfinite(v)) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Invalid UTF-8 (e.g. in a machine id) is replaced instead of thrown on.
std::string Dump(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Time(std::int64_t ns) { return ns == 0 ? "-" : FormatRfc3339(ns, 3); }

// Never create a database just to find the machine missing in it.
Result<std::unique_ptr<sink::BaselineStore>> OpenExisting(const std::string& db) {
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) return Status::NotFound(db + ": no such database");
  return sink::BaselineStore::Open({db});
}

void PrintInfoLine(const sink::BaselineInfo& i, std::ostream& out) {
  out << i.machine_id << "  v" << i.version << (i.active ? "  active  " : "          ")
      << "created " << Time(i.created_ns) << "  " << i.origin << "  " << i.rows << " rows";
  if (i.trained_from_ns != 0 || i.trained_to_ns != 0) {
    out << " " << Time(i.trained_from_ns) << " .. " << Time(i.trained_to_ns);
  }
  out << "  threshold " << Num(i.threshold, "%.4f") << " (" << score::DescribeThreshold(i.rule)
      << ")\n";
}

void PrintStored(const sink::StoredBaseline& s, std::ostream& out) {
  const sink::BaselineInfo& i = s.info;
  const score::Baseline& b = *s.baseline;
  out << "machine    " << i.machine_id << "\n"
      << "version    " << i.version << (i.active ? " (active)" : " (not active)") << "\n"
      << "origin     " << i.origin << "\n"
      << "created    " << Time(i.created_ns) << "\n"
      << "trained    " << Time(i.trained_from_ns) << " .. " << Time(i.trained_to_ns) << ", "
      << i.rows << " rows\n"
      << "threshold  " << Num(i.threshold, "%.6f") << " (decision_function below it is anomalous)\n"
      << "rule       " << score::DescribeThreshold(i.rule) << "\n"
      << "model      " << b.model->trees.size() << " trees, max_samples " << b.model->max_samples
      << ", offset " << Num(b.model->offset) << (b.model->has_scaler ? ", standardized" : "")
      << "\n"
      << "features   " << i.feature_names.size() << "\n";
  const score::FeatureStats& st = b.stats;
  if (st.names.empty()) {
    out << "statistics none (an assigned model)\n";
    return;
  }
  std::size_t width = 7;
  for (const std::string& n : st.names) width = std::max(width, n.size());
  char line[256];
  std::snprintf(line, sizeof line, "%-*s  %12s  %12s  %12s  %12s\n", static_cast<int>(width),
                "feature", "mean", "std", "min", "max");
  out << line;
  for (std::size_t k = 0; k < st.names.size(); ++k) {
    std::snprintf(line, sizeof line, "%-*s  %12s  %12s  %12s  %12s\n", static_cast<int>(width),
                  st.names[k].c_str(), Num(st.mean[k]).c_str(), Num(st.std[k]).c_str(),
                  Num(st.min[k]).c_str(), Num(st.max[k]).c_str());
    out << line;
  }
}

int RunList(const Args& a, CommandIo& io) {
  const char* cmd = "baseline list";
  auto reader = sink::SqliteReader::Open(a.db);
  if (!reader.ok()) return ReportError(io, cmd, reader.status());
  auto list = (*reader)->Baselines(a.machine);
  if (!list.ok()) return ReportError(io, cmd, list.status());
  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const sink::BaselineInfo& i : *list) j.push_back(baseline::BaselineInfoJson(i));
    io.out << Dump(j) << "\n";
    return kExitOk;
  }
  if (list->empty()) {
    io.out << "no baselines\n";
    return kExitOk;
  }
  for (const sink::BaselineInfo& i : *list) PrintInfoLine(i, io.out);
  return kExitOk;
}

int RunShow(const Args& a, CommandIo& io) {
  const char* cmd = "baseline show";
  if (a.version < 0) return UsageError(io, cmd, "--version: expected a version >= 1");
  auto reader = sink::SqliteReader::Open(a.db);
  if (!reader.ok()) return ReportError(io, cmd, reader.status());
  auto stored = (*reader)->Baseline(a.machine, a.version);
  if (!stored.ok()) return ReportError(io, cmd, stored.status().WithContext(a.db));
  if (a.json) {
    io.out << Dump(baseline::StoredBaselineJson(*stored)) << "\n";
  } else {
    PrintStored(*stored, io.out);
  }
  return kExitOk;
}

int RunReset(const Args& a, CommandIo& io) {
  const char* cmd = "baseline reset";
  auto store = OpenExisting(a.db);
  if (!store.ok()) return ReportError(io, cmd, store.status());
  auto active = (*store)->LoadActive(a.machine);
  if (!active.ok()) return ReportError(io, cmd, active.status());
  auto was = (*store)->Reset(a.machine);
  if (!was.ok()) return ReportError(io, cmd, was.status());
  if (*active != nullptr) {
    io.out << "machine " << a.machine << ": baseline v" << (*active)->version
           << " is no longer active; the machine learns anew (stored versions are kept)\n";
  } else {
    io.out << "machine " << a.machine
           << " had no active baseline; it learns anew (stored versions are kept)\n";
  }
  return kExitOk;
}

int RunRetrain(const Args& a, CommandIo& io) {
  const char* cmd = "baseline retrain";
  baseline::RetrainOptions options;
  auto range = ParseTimeRange(a.range);
  if (!range.ok()) return UsageError(io, cmd, range.status().message());
  options.has_from = range->has_from;
  options.from_ns = range->from_ns;
  options.to_ns = range->to_ns;
  if (options.from_ns >= options.to_ns) return UsageError(io, cmd, "--from is not before --to");
  auto pipeline = MakePipelineOptions(PipelineArgs{});
  if (!pipeline.ok()) return ReportError(io, cmd, pipeline.status());
  options.learn = pipeline->learn;
  auto store = OpenExisting(a.db);
  if (!store.ok()) return ReportError(io, cmd, store.status());
  auto stored = baseline::Retrain(**store, a.db, a.machine, options);
  if (!stored.ok()) return ReportError(io, cmd, stored.status());
  io.out << "machine " << a.machine << ": retrained baseline v" << stored->info.version
         << " (active) from " << stored->info.rows << " stored windows "
         << Time(stored->info.trained_from_ns) << " .. " << Time(stored->info.trained_to_ns)
         << ", threshold " << Num(stored->info.threshold, "%.6f") << " ("
         << score::DescribeThreshold(stored->info.rule) << ")\n";
  return kExitOk;
}

int RunAssign(const Args& a, CommandIo& io) {
  const char* cmd = "baseline assign";
  if (a.model.empty() == (a.version == 0)) {
    return UsageError(io, cmd, "give either --model FILE or --version V");
  }
  if (a.version < 0) return UsageError(io, cmd, "--version: expected a version >= 1");
  auto store = OpenExisting(a.db);
  if (!store.ok()) return ReportError(io, cmd, store.status());
  if (a.version > 0) {  // a stored version back
    Status s = (*store)->Activate(a.machine, a.version);
    if (!s.ok()) return ReportError(io, cmd, s.WithContext(a.db));
    io.out << "machine " << a.machine << ": baseline v" << a.version << " is active again\n";
    return kExitOk;
  }
  auto stored = baseline::Assign(**store, a.db, a.machine, a.model);
  if (!stored.ok()) return ReportError(io, cmd, stored.status());
  io.out << "machine " << a.machine << ": assigned " << stored->info.origin << " as baseline v"
         << stored->info.version << " (active), " << stored->info.feature_names.size()
         << " features, threshold rule " << score::DescribeThreshold(stored->info.rule) << "\n";
  return kExitOk;
}

CLI::App* Sub(CLI::App* parent, const char* name, const char* help, std::shared_ptr<Args> args,
              bool machine) {
  CLI::App* s = parent->add_subcommand(name, help);
  if (machine) s->add_option("machine", args->machine, "machine id")->required();
  s->add_option("--db", args->db, "SQLite database written by 'machine-health run'")
      ->capture_default_str();
  return s;
}

}  // namespace

void AddBaselineCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand(
      "baseline", "List, show, reset, retrain and assign the per-machine baselines in a database");
  sub->require_subcommand(1);
  auto bind = [&io, &action](CLI::App* s, std::shared_ptr<Args> args,
                             int (*run)(const Args&, CommandIo&)) {
    s->callback(
        [&io, &action, args, run] { action = [&io, args, run] { return run(*args, io); }; });
  };

  auto list = std::make_shared<Args>();
  CLI::App* ls = Sub(sub, "list", "List stored baselines (every version)", list, false);
  ls->add_option("--machine", list->machine, "only this machine");
  ls->add_flag("--json", list->json, "print a JSON array instead of text");
  bind(ls, list, RunList);

  auto show = std::make_shared<Args>();
  CLI::App* sh =
      Sub(sub, "show", "Show a baseline: card, threshold, rule, feature statistics", show, true);
  sh->add_option("--version", show->version, "this version instead of the active one")
      ->check(CLI::PositiveNumber);
  sh->add_flag("--json", show->json, "print JSON instead of text");
  bind(sh, show, RunShow);

  auto reset = std::make_shared<Args>();
  CLI::App* rs =
      Sub(sub, "reset", "Deactivate the machine's baseline: it learns anew", reset, true);
  bind(rs, reset, RunReset);

  auto retrain = std::make_shared<Args>();
  CLI::App* rt =
      Sub(sub, "retrain", "Train a new active baseline from the machine's stored windows", retrain,
          true);
  AddTimeRangeOptions(*rt, &retrain->range,
                      "first window time (RFC 3339 or epoch milliseconds); default: the latest "
                      "learning-window count of windows before --to",
                      "windows before this time (default: all)");
  bind(rt, retrain, RunRetrain);

  auto assign = std::make_shared<Args>();
  CLI::App* as = Sub(sub, "assign",
                     "Make a model file (train, or scikit-learn .joblib) or a stored version "
                     "the machine's baseline",
                     assign, true);
  as->add_option("--model", assign->model, "model file");
  as->add_option("--version", assign->version, "a stored version instead of a model file");
  bind(as, assign, RunAssign);
}

}  // namespace mh::app
