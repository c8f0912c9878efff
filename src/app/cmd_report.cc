// machine-health report: what a table of scored windows says, per machine.
//
//   machine-health report --scores FILE|FOLDER|GLOB [--json FILE|-] [--html FILE]
//       [--alarm K/N[/M]]
//   machine-health report --db FILE --machine M [--from T] [--to T] [--json F] [--html F]
//   machine-health report --db FILE [--machine M] --alarm ID [--from T] [--to T] ...
//
// Input: the output of `score` (CSV, JSON lines are not read; CSV or Parquet),
// one file, a folder or a glob (replay/input_files.h), read in natural order.
// Needs a `score` column (decision_function: negative = anomalous); an
// `anomaly` column (1/0), when present, decides which windows are anomalous,
// else score < 0 does. Rows are grouped by `machine_id`, else `sensor_id`,
// else form one group "all", kept in file order. Each row is labelled by
// `source_file`:`source_offset` and its `timestamp` or `window_start` when
// there is one, else by that time alone, else by its 1-based row number.
//
// Per group: windows, anomalous windows and their share, score min / median /
// max, the first anomalous window, a strip of the anomalous share along the
// rows (40 buckets), and alarms by the rule "K of the last N windows
// anomalous opens an alarm, M normal windows in a row close it" (--alarm
// K/N[/M], default 3/5 and M = N; the pipeline's alarm stage,
// alarm::AlarmTracker): how many, the window where the first one opens, where the one
// still open at the end opened, and the share of windows spent in alarm. Text
// to standard output; --json writes the same figures as JSON
// (docs/quickstart.md shows both). --html writes a self-contained HTML report
// (report/report.h) of the same figures, with the score of each group over
// its windows (threshold 0, alarm spans) and its histogram; the JSON then
// also holds those figures ("title", "command", "sections": docs/report.md).
//
// With --db, the report is of one machine of a database (sink/sqlite/
// sqlite_reader.h): its stored windows with event time in [--from, --to),
// their scores against the threshold of the baseline that scored each, the
// stored alarms shaded, the RMS, the alarm list and the baselines' model
// cards. Text to standard output as well. --alarm ID (an id of `alarms
// list`; --machine defaults to its machine) selects one stored alarm: the
// range becomes its windows (start to end, or to the latest window while it
// is open) unless --from/--to are given, only that alarm is shaded and
// listed, its explanation is shown, and the spectrum and envelope spectrum of
// its stored snapshot (the alarm's peak window) are drawn when one is stored.
// An alarm rule K/N[/M] with --db is a usage error (it goes with --scores).
//
// Exit codes: 0 ok, 1 unreadable input or no score column, 2 usage error.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "alarm/alarm_tracker.h"
#include "app/command.h"
#include "app/output_options.h"
#include "app/report_files.h"
#include "app/time_range_option.h"
#include "core/strings.h"
#include "core/table.h"
#include "core/time_util.h"
#include "features/snapshot_spectrum.h"
#include "parquet/table_text.h"
#include "replay/input_files.h"
#include "replay/table_file.h"
#include "report/figures.h"
#include "score/baseline.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "report";
constexpr std::size_t kStripBuckets = 40;

struct ReportArgs {
  std::string scores;
  std::string json;
  std::string html;
  std::string alarm = "3/5";
  bool alarm_given = false;  // --alarm on the command line (with --db: an alarm id)
  std::string db;
  std::string machine;
  TimeRangeText range;
  std::string command;  // as shown in the HTML
};

struct Group {
  std::string name;
  std::vector<double> scores;
  std::vector<std::uint8_t> anomalous;
  std::vector<std::string> labels;
};

struct WindowRef {
  std::size_t index = 0;  // 0-based within the group
  std::string label;
};

struct GroupFigures {
  std::size_t windows = 0;
  std::size_t anomalous = 0;
  double score_min = 0, score_median = 0, score_max = 0;
  std::optional<WindowRef> first_anomalous;
  std::size_t alarms = 0;
  std::optional<WindowRef> first_alarm;
  std::optional<WindowRef> alarm_at_end;  // where the alarm still open at the end opened
  std::size_t windows_in_alarm = 0;
  std::vector<double> strip;   // anomalous share per bucket
  std::vector<bool> in_alarm;  // per window: in alarm after it
};

std::string CellText(const TableColumn& c, std::size_t row) {
  // A text cell as it is (a name with a quote keeps one quote).
  if (c.info.kind == ValueKind::kString) return c.valid[row] ? c.strings[row] : std::string();
  std::string s;
  parquet::AppendCsvValue(c, row, parquet::TextOptions{}, &s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

bool CellNumber(const TableColumn& c, std::size_t row, double* out) {
  if (!c.valid[row]) return false;
  switch (c.info.kind) {
    case ValueKind::kDouble:
      *out = c.doubles[row];
      return true;
    case ValueKind::kInt:
    case ValueKind::kBool:
      *out = static_cast<double>(c.ints[row]);
      return true;
    case ValueKind::kString: {
      auto v = ParseDouble(TrimSpace(c.strings[row]));
      if (!v.ok()) return false;
      *out = *v;
      return true;
    }
    default:
      return false;
  }
}

// Reads one file's rows into the groups (created in order of appearance).
Status ReadFile(const std::string& path, std::vector<Group>* groups,
                std::map<std::string, std::size_t>* index) {
  replay::TableFileOptions options;
  MH_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, replay::OpenTableFile(path, options));
  const std::vector<TableColumnInfo>& cols = reader->columns();
  const std::string shown = replay::RedactUrl(path);
  const std::ptrdiff_t score = FindColumn(cols, "score");
  if (score < 0) {
    return Status::InvalidArgument(shown + ": no 'score' column (give the output of `score`)");
  }
  const std::ptrdiff_t anomaly = FindColumn(cols, "anomaly");
  std::ptrdiff_t group = FindColumn(cols, "machine_id");
  if (group < 0) group = FindColumn(cols, "sensor_id");
  const std::ptrdiff_t file = FindColumn(cols, "source_file");
  const std::ptrdiff_t offset = FindColumn(cols, "source_offset");
  std::ptrdiff_t label = FindColumn(cols, "timestamp");
  if (label < 0) label = FindColumn(cols, "window_start");

  TableBatch batch;
  std::int64_t row_number = 0;
  while (true) {
    MH_ASSIGN_OR_RETURN(bool ok, reader->Next(&batch));
    (void)ok;
    if (batch.rows == 0) break;
    for (std::size_t r = 0; r < batch.rows; ++r) {
      ++row_number;
      double s = 0;
      if (!CellNumber(batch.columns[static_cast<std::size_t>(score)], r, &s) || !std::isfinite(s)) {
        return Status::InvalidArgument(shown + ": row " + std::to_string(row_number) +
                                       ": 'score' is not a finite number");
      }
      bool bad = s < 0;
      if (anomaly >= 0) {
        double a = 0;
        if (!CellNumber(batch.columns[static_cast<std::size_t>(anomaly)], r, &a)) {
          return Status::InvalidArgument(shown + ": row " + std::to_string(row_number) +
                                         ": 'anomaly' is not a number");
        }
        bad = a != 0;
      }
      const std::string name =
          group >= 0 ? CellText(batch.columns[static_cast<std::size_t>(group)], r) : "all";
      auto [it, inserted] = index->try_emplace(name, groups->size());
      if (inserted) groups->push_back(Group{name, {}, {}, {}});
      Group& g = (*groups)[it->second];
      g.scores.push_back(s);
      g.anomalous.push_back(bad ? 1 : 0);
      std::string text;
      if (file >= 0) {
        text = CellText(batch.columns[static_cast<std::size_t>(file)], r);
        const std::size_t slash = text.rfind('/');
        if (slash != std::string::npos) text = text.substr(slash + 1);
        std::string at;
        if (offset >= 0) at = CellText(batch.columns[static_cast<std::size_t>(offset)], r);
        if (!at.empty()) text += ":" + at;
        if (label >= 0) {
          // window_start is the same sample offset when the input had no time.
          const std::string when = CellText(batch.columns[static_cast<std::size_t>(label)], r);
          if (when != at) text += " " + when;
        }
      } else if (label >= 0) {
        text = CellText(batch.columns[static_cast<std::size_t>(label)], r);
      } else {
        text = "row " + std::to_string(row_number);
      }
      g.labels.push_back(std::move(text));
    }
  }
  return Status::OK();
}

// The figures of one group; alarms by the pipeline's alarm stage
// (alarm::AlarmTracker) over the group's windows in row order.
Result<GroupFigures> Summarize(const Group& g, const alarm::AlarmRule& rule) {
  GroupFigures f;
  f.windows = g.scores.size();
  if (f.windows == 0) return f;
  std::vector<double> sorted = g.scores;
  std::sort(sorted.begin(), sorted.end());
  f.score_min = sorted.front();
  f.score_max = sorted.back();
  const std::size_t mid = sorted.size() / 2;
  f.score_median = sorted.size() % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
  MH_ASSIGN_OR_RETURN(alarm::AlarmTracker tracker, alarm::AlarmTracker::Create(g.name, rule));
  bool in_alarm = false;
  for (std::size_t i = 0; i < f.windows; ++i) {
    const bool bad = g.anomalous[i] != 0;
    if (bad) {
      ++f.anomalous;
      if (!f.first_anomalous) f.first_anomalous = WindowRef{i, g.labels[i]};
    }
    // Rows are windows in order: the row number stands for the time.
    MH_ASSIGN_OR_RETURN(const alarm::AlarmUpdate u,
                        tracker.Observe({static_cast<std::int64_t>(i), g.scores[i], bad}));
    if (u.event && u.event->kind == alarm::AlarmEventKind::kOpened) {
      ++f.alarms;
      if (!f.first_alarm) f.first_alarm = WindowRef{i, g.labels[i]};
      f.alarm_at_end = WindowRef{i, g.labels[i]};
    }
    in_alarm = u.state == alarm::AlarmState::kAlarm;
    if (in_alarm) ++f.windows_in_alarm;
    f.in_alarm.push_back(in_alarm);
  }
  if (!in_alarm) f.alarm_at_end.reset();
  const std::size_t buckets = std::min(kStripBuckets, f.windows);
  f.strip.assign(buckets, 0.0);
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t lo = b * f.windows / buckets, hi = (b + 1) * f.windows / buckets;
    std::size_t bad = 0;
    for (std::size_t i = lo; i < hi; ++i) bad += g.anomalous[i];
    f.strip[b] = static_cast<double>(bad) / static_cast<double>(hi - lo);
  }
  return f;
}

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * share);
  return buf;
}

std::string Strip(const std::vector<double>& strip) {
  static const char* const kBlocks[] = {"\u00b7", "\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
  std::string s;
  for (double v : strip) {
    const int level = v <= 0 ? 0 : std::clamp(static_cast<int>(std::ceil(v * 8)), 1, 8);
    s += kBlocks[level];
  }
  return s;
}

std::string WhereText(const WindowRef& w, std::size_t windows) {
  return w.label + " (window " + std::to_string(w.index + 1) + " of " + std::to_string(windows) +
         ", " + Percent(static_cast<double>(w.index) / static_cast<double>(windows)) +
         " of the way)";
}

void AppendRef(const std::optional<WindowRef>& w, std::size_t windows, std::string* out) {
  if (!w) {
    *out += "null";
    return;
  }
  *out += "{\"window\":" + std::to_string(w->index + 1) + ",\"label\":";
  AppendJsonString(w->label, out);
  *out += ",\"fraction\":";
  AppendJsonNumber(static_cast<double>(w->index) / static_cast<double>(windows), out);
  *out += "}";
}

std::string Json(const std::string& source, const std::vector<Group>& groups,
                 const std::vector<GroupFigures>& figs, const alarm::AlarmRule& rule) {
  std::string j = "{\"source\":";
  AppendJsonString(source, &j);
  j += ",\"alarm_rule\":{\"open_k\":" + std::to_string(rule.k) +
       ",\"of_n\":" + std::to_string(rule.n) + ",\"close_normal\":" + std::to_string(rule.m) +
       "},\"groups\":[";
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const GroupFigures& f = figs[i];
    if (i > 0) j += ",";
    j += "{\"name\":";
    AppendJsonString(groups[i].name, &j);
    j += ",\"windows\":" + std::to_string(f.windows) +
         ",\"anomalous\":" + std::to_string(f.anomalous) + ",\"anomalous_share\":";
    AppendJsonNumber(static_cast<double>(f.anomalous) / static_cast<double>(f.windows), &j);
    j += ",\"score_min\":";
    AppendJsonNumber(f.score_min, &j);
    j += ",\"score_median\":";
    AppendJsonNumber(f.score_median, &j);
    j += ",\"score_max\":";
    AppendJsonNumber(f.score_max, &j);
    j += ",\"first_anomalous\":";
    AppendRef(f.first_anomalous, f.windows, &j);
    j += ",\"alarms\":" + std::to_string(f.alarms) + ",\"first_alarm\":";
    AppendRef(f.first_alarm, f.windows, &j);
    j += ",\"alarm_at_end\":";
    AppendRef(f.alarm_at_end, f.windows, &j);
    j += ",\"alarm_share\":";
    AppendJsonNumber(static_cast<double>(f.windows_in_alarm) / static_cast<double>(f.windows), &j);
    j += ",\"strip\":[";
    for (std::size_t b = 0; b < f.strip.size(); ++b) {
      if (b > 0) j += ",";
      AppendJsonNumber(f.strip[b], &j);
    }
    j += "]}";
  }
  j += "]}\n";
  return j;
}

// "K/N" (M = N) or "K/N/M" -> the alarm rule. InvalidArgument naming --alarm.
Result<alarm::AlarmRule> ParseAlarmRule(const std::string& text) {
  const std::vector<std::string> parts = Split(text, '/');
  if (parts.size() == 2 || parts.size() == 3) {
    std::vector<std::int64_t> v;
    for (const std::string& p : parts) {
      auto x = ParseInt(TrimSpace(p));
      if (!x.ok()) break;
      v.push_back(std::clamp<std::int64_t>(*x, -1, alarm::kMaxAlarmWindows + 1));
    }
    if (v.size() == parts.size()) {
      alarm::AlarmRule rule;
      rule.k = static_cast<int>(v[0]);
      rule.n = static_cast<int>(v[1]);
      rule.m = static_cast<int>(v.size() == 3 ? v[2] : v[1]);
      if (alarm::ValidateAlarmRule(rule).ok()) return rule;
    }
  }
  return Status::InvalidArgument(
      "--alarm: expected K/N or K/N/M with 1 <= K <= N <= 1000 and 1 <= M <= 1000, got '" + text +
      "'");
}

// The id of the n-th (0-based) group or machine in the report: names may
// hold any byte, ids stay plain.
std::string SectionId(std::size_t n) { return "machine-" + std::to_string(n + 1); }

std::string WindowText(const std::optional<WindowRef>& w) {
  return w ? w->label + " (window " + std::to_string(w->index + 1) + ")" : std::string();
}

// The report of a scored table: one section per group.
report::Report ScoresReport(const ReportArgs& a, const std::vector<Group>& groups,
                            const std::vector<GroupFigures>& figs, const alarm::AlarmRule& rule) {
  report::Report r;
  r.title = "machine-health report: " + a.scores;
  r.command = a.command;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const GroupFigures& f = figs[i];
    const double windows = static_cast<double>(f.windows);
    report::Section s;
    s.id = SectionId(i);
    s.title = groups[i].name;
    s.text = "Scores of " + std::to_string(f.windows) +
             " windows in row order (negative = anomalous). Alarms: " + std::to_string(rule.k) +
             " of the last " + std::to_string(rule.n) + " windows anomalous opens one, " +
             std::to_string(rule.m) + " normal in a row close it.";
    s.stats = {
        report::NumberStat("windows", "windows", windows),
        report::NumberStat("anomalous", "anomalous windows", static_cast<double>(f.anomalous)),
        report::NumberStat("anomalous_share", "anomalous share",
                           static_cast<double>(f.anomalous) / windows),
        report::NumberStat("score_min", "score minimum", f.score_min),
        report::NumberStat("score_median", "score median", f.score_median),
        report::NumberStat("score_max", "score maximum", f.score_max),
        report::TextStat("first_anomalous", "first anomalous window",
                         WindowText(f.first_anomalous)),
        report::NumberStat("alarms", "alarms", static_cast<double>(f.alarms)),
        report::TextStat("first_alarm", "first alarm opens at", WindowText(f.first_alarm)),
        report::NumberStat("alarm_share", "share of windows in alarm",
                           static_cast<double>(f.windows_in_alarm) / windows),
        report::TextStat("alarm_at_end", "in alarm at the end, since", WindowText(f.alarm_at_end))};
    std::vector<double> x(f.windows);
    for (std::size_t k = 0; k < f.windows; ++k) x[k] = static_cast<double>(k + 1);
    s.figures = report::ScoreFigures(s.id, groups[i].name, x, groups[i].scores, 0.0, f.in_alarm,
                                     false, "window (row order)");
    r.sections.push_back(std::move(s));
  }
  return r;
}

int RunDbReport(const ReportArgs& a, CommandIo& io);

int RunReport(const ReportArgs& a, CommandIo& io) {
  if (!a.db.empty()) return RunDbReport(a, io);
  if (a.scores.empty()) return UsageError(io, kCommand, "give --scores FILE or --db FILE");
  if (!a.machine.empty() || !a.range.from.empty() || !a.range.to.empty()) {
    return UsageError(io, kCommand, "--machine, --from and --to go with --db");
  }
  auto parsed = ParseAlarmRule(a.alarm);
  if (!parsed.ok()) return UsageError(io, kCommand, parsed.status().message());
  const alarm::AlarmRule& rule = *parsed;
  auto inputs = replay::ExpandInputs(a.scores);
  if (!inputs.ok()) return ReportError(io, kCommand, Status::IOError(inputs.status().message()));
  std::vector<Group> groups;
  std::map<std::string, std::size_t> index;
  for (const std::string& path : inputs->files) {
    Status s = ReadFile(path, &groups, &index);
    if (!s.ok()) return ReportError(io, kCommand, Status::Corruption(s.message()));
  }
  std::size_t total = 0;
  for (const Group& g : groups) total += g.scores.size();
  if (total == 0) {
    return ReportError(io, kCommand, Status::Corruption(a.scores + ": no scored windows"));
  }
  std::vector<GroupFigures> figs;
  for (const Group& g : groups) {
    auto f = Summarize(g, rule);
    if (!f.ok()) return ReportError(io, kCommand, Status::Corruption(f.status().message()));
    figs.push_back(std::move(*f));
  }

  std::string t = "report: " + std::to_string(total) + " windows from " + a.scores;
  if (inputs->files.size() > 1) t += " (" + std::to_string(inputs->files.size()) + " files)";
  t += "\nalarm rule: " + std::to_string(rule.k) + " of the last " + std::to_string(rule.n) +
       " windows anomalous opens an alarm, " + std::to_string(rule.m) +
       " normal in a row close it\n";
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const GroupFigures& f = figs[i];
    t += "\n" + groups[i].name + ": " + std::to_string(f.windows) + " windows, " +
         std::to_string(f.anomalous) + " anomalous (" +
         Percent(static_cast<double>(f.anomalous) / static_cast<double>(f.windows)) + ")\n";
    t += "  score: min " + FormatDouble(f.score_min) + ", median " + FormatDouble(f.score_median) +
         ", max " + FormatDouble(f.score_max) + " (negative = anomalous)\n";
    t += "  anomalous along the rows: |" + Strip(f.strip) + "|\n";
    t += "  first anomalous window: " +
         (f.first_anomalous ? WhereText(*f.first_anomalous, f.windows) : std::string("none")) +
         "\n";
    t += "  alarms: " + std::to_string(f.alarms);
    if (f.first_alarm) {
      t += ", the first opens at " + WhereText(*f.first_alarm, f.windows) + "; in alarm " +
           Percent(static_cast<double>(f.windows_in_alarm) / static_cast<double>(f.windows)) +
           " of the windows";
    }
    t += "\n";
    if (f.alarm_at_end) {
      t += "  in alarm at the end, since " + WhereText(*f.alarm_at_end, f.windows) + "\n";
    }
  }
  io.out << t;
  io.out.flush();
  if (!a.json.empty() || !a.html.empty()) {
    const report::Report r = ScoresReport(a, groups, figs, rule);
    const std::string base = Json(a.scores, groups, figs, rule);
    Status s = Status::OK();
    if (!a.html.empty()) s = WriteReportFiles(r, a.html, "", io.out);
    if (s.ok() && !a.json.empty()) {
      s = WriteTextOutput(a.json, a.html.empty() ? base : report::RenderJson(r, base), io.out);
    }
    if (!s.ok()) return ReportError(io, kCommand, s);
  }
  return kExitOk;
}

// --db: one machine of a database.
int RunDbReport(const ReportArgs& a, CommandIo& io) {
  if (!a.scores.empty()) return UsageError(io, kCommand, "give --scores or --db, not both");
  if (a.alarm_given && ParseAlarmRule(a.alarm).ok()) {
    return UsageError(io, kCommand,
                      "--alarm " + a.alarm +
                          ": an alarm rule goes with --scores; with --db give an alarm id "
                          "(`machine-health alarms list --db FILE`)");
  }
  if (a.machine.empty() && !a.alarm_given) return UsageError(io, kCommand, "--db needs --machine");
  auto range = ParseTimeRange(a.range);
  if (!range.ok()) return UsageError(io, kCommand, range.status().message());
  std::int64_t from_ns = range->from_ns;
  std::int64_t to_ns = range->to_ns;
  auto opened = sink::SqliteReader::Open(a.db);
  if (!opened.ok()) return ReportError(io, kCommand, opened.status());
  sink::SqliteReader& reader = **opened;
  // --alarm ID: that alarm, of --machine (default: its own machine).
  std::optional<sink::AlarmRecord> chosen;
  std::string machine_id = a.machine;
  if (a.alarm_given) {
    auto al = reader.Alarm(a.alarm);
    if (!al.ok()) return ReportError(io, kCommand, Status(al.status()).WithContext(a.db));
    if (machine_id.empty()) machine_id = al->machine_id;
    if (al->machine_id != machine_id) {
      return ReportError(
          io, kCommand,
          Status::InvalidArgument(a.db + ": alarm '" + a.alarm + "' is of machine '" +
                                  al->machine_id + "', not '" + machine_id + "'"));
    }
    if (!range->has_from) from_ns = al->start_ns;
    if (!range->has_to && al->end_ns != 0) to_ns = al->end_ns + 1;  // the closing window too
    if (from_ns > to_ns) return UsageError(io, kCommand, "--from is after --to");
    chosen = std::move(*al);
  }
  auto machine = reader.Machine(machine_id);
  if (!machine.ok()) {
    return ReportError(io, kCommand, Status(machine.status()).WithContext(a.db));
  }
  // The windows of the range, a page at a time (scores, thresholds, RMS).
  std::vector<double> t, score, threshold, rms;
  std::size_t scored = 0, anomalous = 0;
  for (std::int64_t cursor = from_ns;;) {
    auto page = reader.Windows(machine_id, cursor, to_ns, 10000);
    if (!page.ok()) return ReportError(io, kCommand, Status(page.status()).WithContext(a.db));
    for (const sink::StoredWindow& w : *page) {
      t.push_back(static_cast<double>(w.t_ns));
      score.push_back(w.score);
      threshold.push_back(w.threshold);
      rms.push_back(w.rms);
      scored += std::isfinite(w.score) ? 1 : 0;
      anomalous += w.anomaly == 1 ? 1 : 0;
    }
    if (page->size() < 10000) break;
    cursor = page->back().t_ns + 1;
  }
  if (t.empty()) {
    return ReportError(
        io, kCommand,
        Status::NotFound(a.db + ": machine '" + machine_id + "' has no windows in the range"));
  }
  sink::AlarmFilter filter;
  filter.machine_id = machine_id;
  filter.from_ns = from_ns;
  filter.to_ns = to_ns;
  filter.limit = 100000;
  auto alarms = reader.Alarms(filter);
  if (!alarms.ok()) return ReportError(io, kCommand, Status(alarms.status()).WithContext(a.db));
  if (chosen) *alarms = {*chosen};
  std::sort(alarms->begin(), alarms->end(),
            [](const sink::AlarmRecord& x, const sink::AlarmRecord& y) {
              return x.start_ns < y.start_ns;
            });
  auto baselines = reader.Baselines(machine_id);
  if (!baselines.ok()) {
    return ReportError(io, kCommand, Status(baselines.status()).WithContext(a.db));
  }
  // A window is in alarm when a stored alarm covers it (open to the end).
  std::vector<bool> in_alarm(t.size(), false);
  std::size_t windows_in_alarm = 0;
  for (const sink::AlarmRecord& al : *alarms) {
    const double end = al.end_ns == 0 ? INFINITY : static_cast<double>(al.end_ns);
    auto it = std::lower_bound(t.begin(), t.end(), static_cast<double>(al.start_ns));
    for (auto k = static_cast<std::size_t>(it - t.begin()); k < t.size() && t[k] < end; ++k) {
      windows_in_alarm += in_alarm[k] ? 0 : 1;
      in_alarm[k] = true;
    }
  }
  // The threshold line: the latest known threshold (the active baseline's
  // unless none scored the range).
  std::optional<double> line;
  for (std::size_t k = threshold.size(); k-- > 0;) {
    if (std::isfinite(threshold[k])) {
      line = threshold[k];
      break;
    }
  }
  const auto time_text = [](double ns) { return FormatRfc3339(static_cast<std::int64_t>(ns), 3); };
  report::Report r;
  r.title = "machine-health report: " + machine_id;
  r.command = a.command;
  report::Section s;
  s.id = SectionId(0);
  s.title = machine_id;
  s.text = "Stored windows of " + machine_id + " in " + a.db + " from " + time_text(t.front()) +
           " to " + time_text(t.back()) +
           " (UTC): scores against the threshold of the latest baseline, alarms shaded.";
  const double n = static_cast<double>(t.size());
  s.stats = {report::NumberStat("windows", "windows", n),
             report::NumberStat("scored_windows", "scored windows (not learning)",
                                static_cast<double>(scored)),
             report::NumberStat("anomalous", "anomalous windows", static_cast<double>(anomalous)),
             report::NumberStat(
                 "anomalous_share", "anomalous share of scored windows",
                 scored == 0 ? NAN : static_cast<double>(anomalous) / static_cast<double>(scored)),
             report::NumberStat("alarms", "alarms", static_cast<double>(alarms->size())),
             report::NumberStat("alarm_share", "share of windows in alarm",
                                static_cast<double>(windows_in_alarm) / n),
             report::TextStat("first_alarm", "first alarm opens at",
                              alarms->empty() ? "" : time_text(alarms->front().start_ns)),
             report::TextStat("state", "state now", machine->state),
             report::TextStat("from", "first window", time_text(t.front())),
             report::TextStat("to", "last window", time_text(t.back()))};
  if (line) s.stats.push_back(report::NumberStat("threshold", "threshold", *line));
  s.figures = report::ScoreFigures(s.id, machine_id, t, score, line, in_alarm, true, "time (UTC)");
  s.figures.push_back(report::LineFigure(
      s.id + "-rms", "Vector RMS of " + machine_id, "time (UTC)", "RMS (g)", {{"rms", t, rms}},
      std::nullopt,
      report::SpansFromFlags(t, in_alarm, (t.back() - t.front()) / report::kPlotColumns), true));
  report::Table at{s.id + "-alarms", "Alarms", {"start", "end", "peak score", "explanation"}, {}};
  for (const sink::AlarmRecord& al : *alarms) {
    at.rows.push_back({time_text(al.start_ns), al.end_ns == 0 ? "open" : time_text(al.end_ns),
                       report::FormatShown(al.peak_score), al.explanation_text});
  }
  report::Table bt{s.id + "-baselines",
                   "Baselines (model cards)",
                   {"version", "active", "origin", "threshold", "rule", "trained from",
                    "trained to", "rows", "features"},
                   {}};
  for (const sink::BaselineInfo& b : *baselines) {
    bt.rows.push_back({std::to_string(b.version), b.active ? "yes" : "no", b.origin,
                       report::FormatShown(b.threshold), score::DescribeThreshold(b.rule),
                       b.trained_from_ns == 0 ? "" : time_text(b.trained_from_ns),
                       b.trained_to_ns == 0 ? "" : time_text(b.trained_to_ns),
                       std::to_string(b.rows), std::to_string(b.feature_names.size())});
  }
  s.tables = {std::move(at), std::move(bt)};
  std::string alarm_text;
  if (chosen) {
    s.text = "Alarm " + chosen->alarm_id + " of " + machine_id + ": " + s.text;
    s.stats.push_back(report::TextStat("alarm_id", "alarm", chosen->alarm_id));
    s.stats.push_back(report::TextStat("alarm_start", "alarm opened", time_text(chosen->start_ns)));
    s.stats.push_back(report::TextStat("alarm_end", "alarm closed",
                                       chosen->end_ns == 0 ? "open" : time_text(chosen->end_ns)));
    s.stats.push_back(report::NumberStat("alarm_peak_score", "peak score", chosen->peak_score));
    s.stats.push_back(
        report::TextStat("alarm_explanation", "explanation", chosen->explanation_text));
    s.stats.push_back(report::TextStat("alarm_acked_by", "acknowledged by", chosen->acked_by));
    alarm_text = "  alarm " + chosen->alarm_id + ": " + time_text(chosen->start_ns) + " to " +
                 (chosen->end_ns == 0 ? std::string("open") : time_text(chosen->end_ns)) +
                 ", peak score " + report::FormatShown(chosen->peak_score) + "\n  " +
                 chosen->explanation_text + "\n";
    // The alarm's snapshot (its peak window), when one is stored.
    auto snaps = reader.Snapshots(
        machine_id, chosen->start_ns,
        chosen->end_ns == 0 ? std::numeric_limits<std::int64_t>::max() : chosen->end_ns + 1,
        100000);
    if (!snaps.ok()) return ReportError(io, kCommand, Status(snaps.status()).WithContext(a.db));
    const sink::SnapshotInfo* info = nullptr;
    for (const sink::SnapshotInfo& si : *snaps) {
      if (si.kind == "alarm" && si.alarm_id == chosen->alarm_id) info = &si;
    }
    if (info) {
      auto snap = reader.Snapshot(info->id);
      if (!snap.ok()) return ReportError(io, kCommand, Status(snap.status()).WithContext(a.db));
      auto spectra = features::ComputeSnapshotSpectra(snap->samples.samples, snap->samples.fs_hz);
      if (!spectra.ok()) {
        return ReportError(io, kCommand,
                           Status::Corruption(a.db + ": snapshot " + std::to_string(info->id) +
                                              ": " + spectra.status().message()));
      }
      std::vector<report::Series> amp, env;
      for (std::size_t c = 0; c < spectra->amplitude.size(); ++c) {
        const std::string name =
            c < snap->samples.channels.size() ? snap->samples.channels[c] : std::to_string(c + 1);
        amp.push_back({name, spectra->freq_hz, spectra->amplitude[c]});
        env.push_back({name, spectra->freq_hz, spectra->envelope_amplitude[c]});
      }
      const std::string when = time_text(static_cast<double>(info->t_ns));
      s.stats.push_back(report::TextStat("alarm_snapshot", "snapshot of the alarm", when));
      s.figures.push_back(report::LineFigure(
          s.id + "-spectrum", "Amplitude spectrum of the alarm's snapshot (" + when + ")",
          "frequency (Hz)", "amplitude", std::move(amp)));
      s.figures.push_back(
          report::LineFigure(s.id + "-envelope",
                             "Envelope spectrum of the alarm's snapshot (band " +
                                 report::FormatShown(spectra->envelope_band.lo_hz) + "-" +
                                 report::FormatShown(spectra->envelope_band.hi_hz) + " Hz)",
                             "frequency (Hz)", "amplitude", std::move(env)));
      alarm_text += "  snapshot of the alarm: " + when + " (spectrum and envelope in the HTML)\n";
    } else {
      alarm_text += "  no snapshot of the alarm is stored\n";
    }
  }
  r.sections.push_back(std::move(s));

  std::string text = "report: " + machine_id + " in " + a.db + ": " + std::to_string(t.size()) +
                     " windows from " + time_text(t.front()) + " to " + time_text(t.back()) +
                     "\n  scored " + std::to_string(scored) + ", anomalous " +
                     std::to_string(anomalous) + ", alarms " + std::to_string(alarms->size()) +
                     ", in alarm " + Percent(static_cast<double>(windows_in_alarm) / n) +
                     " of the windows, state " + machine->state + "\n" + alarm_text;
  io.out << text;
  io.out.flush();
  Status w = WriteReportFiles(r, a.html, a.json, io.out);
  if (!w.ok()) return ReportError(io, kCommand, w);
  return kExitOk;
}

}  // namespace

void AddReportCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* sub = root.add_subcommand(
      "report", "Summarize scored windows per machine: anomalous share, first anomaly, alarms");
  sub->add_option("--scores", args->scores,
                  "output of `score`: a CSV or Parquet file, a folder or a glob");
  sub->add_option("--db", args->db,
                  "instead of --scores: a database written by `run` (one --machine)");
  sub->add_option("--machine", args->machine, "--db: the machine");
  AddTimeRangeOptions(*sub, &args->range,
                      "--db: only windows in [FROM, TO): RFC 3339 time or epoch milliseconds");
  sub->add_option("--json", args->json, "also write the figures as JSON to FILE (- for stdout)");
  sub->add_option("--html", args->html,
                  "also write a self-contained HTML report of the figures to FILE (opens offline)");
  CLI::Option* alarm_option =
      sub->add_option("--alarm", args->alarm,
                      "--scores: alarm rule K/N[/M]: K of the last N windows anomalous opens an "
                      "alarm, M normal in a row close it (M defaults to N; the pipeline's alarm "
                      "stage, docs/alarms.md); --db: an alarm id (`alarms list`): report that "
                      "alarm, its windows, explanation and snapshot spectrum")
          ->capture_default_str();
  sub->callback([&io, &action, args, alarm_option] {
    args->alarm_given = alarm_option->count() > 0;
    args->command =
        "machine-health report" +
        (args->db.empty()
             ? " --scores " + args->scores
             : " --db " + args->db + (args->machine.empty() ? "" : " --machine " + args->machine) +
                   (args->alarm_given ? " --alarm " + args->alarm : "")) +
        (args->range.from.empty() ? "" : " --from " + args->range.from) +
        (args->range.to.empty() ? "" : " --to " + args->range.to);
    action = [&io, args] { return RunReport(*args, io); };
  });
}

}  // namespace mh::app
