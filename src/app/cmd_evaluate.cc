// machine-health evaluate: runs the pipeline core (windows -> features ->
// per-machine baseline and threshold -> alarm rule), the same as `run`, over
// recorded files listed in a manifest, and prints detection figures.
//
//   machine-health evaluate --manifest FILE.csv [--json OUT|-] [--report FILE.html]
//       [pipeline options]
//
// Manifest (CSV, one row per file or file range): file (relative to the
// manifest), machine, seq (order within the machine), fs_hz, channels
// (';'-separated column names), rpm, bearing (optional), sample_range
// (optional a:b, 0-based rows a..b-1), role (learn | watch), truth (normal |
// fault). Per machine, in seq order, the learn rows build its baseline and
// the watch rows are scored, thresholded and alarmed. Every file is one
// continuous stretch: windows never cross files. Figures and JSON keys:
// docs/evaluation.md. --report writes a self-contained HTML report
// (report/report.h): per machine the score over the watched files with the
// threshold and alarm spans, detection and false-alarm shares, the first
// alarm and the sustained one (open at the end) with its lead before the
// end, and ROC / precision-recall curves of -score against truth fault;
// the JSON then also holds those figures ("sections": docs/report.md).
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/output_options.h"
#include "app/pipeline_options.h"
#include "app/progress_option.h"
#include "app/report_files.h"
#include "core/strings.h"
#include "core/table.h"
#include "features/feature_stage.h"
#include "log/log.h"
#include "pipeline/machine_pipeline.h"
#include "replay/sample_file.h"
#include "replay/table_file.h"
#include "report/figures.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "evaluate";

struct EvaluateArgs {
  std::string manifest;
  std::string json;
  std::string report;  // HTML
  PipelineArgs pipeline;
  std::string progress = "auto";  // --progress
};

struct ManifestRow {
  std::size_t line = 0;  // 1-based line of the manifest (header = 1)
  std::string file;      // resolved path
  std::string shown;     // as written in the manifest
  std::string machine;
  std::int64_t seq = 0;
  double fs_hz = 0;
  std::vector<std::string> channels;
  double rpm = 0;
  std::string bearing;
  std::string sample_range;
  bool learn = false;
  bool fault = false;
};

// The text of a cell read as a string column ("" for null).
std::string Cell(const TableColumn& c, std::size_t r) { return c.valid[r] ? c.strings[r] : ""; }

Result<std::vector<ManifestRow>> ReadManifest(const std::string& path) {
  // Every manifest column is read as text (a file named 00123.csv stays
  // that): the header first, then the table with those kinds.
  replay::TableFileOptions to;
  {
    MH_ASSIGN_OR_RETURN(auto header, replay::OpenTableFile(path, to));
    for (const char* name : {"file", "machine", "seq", "fs_hz", "channels", "rpm", "bearing",
                             "sample_range", "role", "truth"}) {
      const std::ptrdiff_t i = FindColumn(header->columns(), name);
      if (i >= 0) {
        to.csv.column_types.emplace_back(header->columns()[static_cast<std::size_t>(i)].name,
                                         ValueKind::kString);
      }
    }
  }
  MH_ASSIGN_OR_RETURN(auto reader, replay::OpenTableFile(path, to));
  const auto& cols = reader->columns();
  std::map<std::string, std::size_t> at;
  for (const char* name : {"file", "machine", "seq", "fs_hz", "channels", "role", "truth"}) {
    const std::ptrdiff_t i = FindColumn(cols, name);
    if (i < 0) {
      return Status::InvalidArgument(path + ": no column '" + name +
                                     "' (a manifest has file, machine, seq, fs_hz, channels, rpm, "
                                     "bearing, sample_range, role, truth: docs/evaluation.md)");
    }
    at[name] = static_cast<std::size_t>(i);
  }
  for (const char* name : {"rpm", "bearing", "sample_range"}) {
    const std::ptrdiff_t i = FindColumn(cols, name);
    if (i >= 0) at[name] = static_cast<std::size_t>(i);
  }
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  std::vector<ManifestRow> rows;
  TableBatch batch;
  while (true) {
    MH_RETURN_IF_ERROR(reader->Next(&batch).status());
    if (batch.rows == 0) break;
    for (std::size_t r = 0; r < batch.rows; ++r) {
      ManifestRow m;
      m.line = static_cast<std::size_t>(batch.first_row) + r + 2;
      const std::string where = path + ": line " + std::to_string(m.line);
      auto get = [&](const char* name) {
        auto it = at.find(name);
        return it == at.end() ? std::string()
                              : std::string(TrimSpace(Cell(batch.columns[it->second], r)));
      };
      m.shown = get("file");
      if (m.shown.empty()) return Status::InvalidArgument(where + ": file is empty");
      const std::filesystem::path f(m.shown);
      m.file = f.is_absolute() || replay::IsHttpUrl(m.shown) ? m.shown : (base / f).string();
      m.machine = get("machine");
      if (m.machine.empty()) return Status::InvalidArgument(where + ": machine is empty");
      auto seq = ParseInt(get("seq"));
      if (!seq.ok())
        return Status::InvalidArgument(where + ": seq '" + get("seq") + "' is not an integer");
      m.seq = *seq;
      auto fs = ParseDouble(get("fs_hz"));
      if (!fs.ok() || !(*fs > 0) || !std::isfinite(*fs)) {
        return Status::InvalidArgument(where + ": fs_hz '" + get("fs_hz") +
                                       "' is not a rate in hz > 0");
      }
      m.fs_hz = *fs;
      for (const std::string& c : Split(get("channels"), ';')) {
        const std::string_view name = TrimSpace(c);
        if (!name.empty()) m.channels.emplace_back(name);
      }
      if (m.channels.empty()) return Status::InvalidArgument(where + ": channels is empty");
      const std::string rpm = get("rpm");
      if (!rpm.empty()) {
        auto v = ParseDouble(rpm);
        if (!v.ok() || !(*v >= 0) || !std::isfinite(*v)) {
          return Status::InvalidArgument(where + ": rpm '" + rpm + "' is not a speed in rev/min");
        }
        m.rpm = *v;
      }
      m.bearing = get("bearing");
      m.sample_range = get("sample_range");
      const std::string role = AsciiLower(get("role"));
      if (role != "learn" && role != "watch") {
        return Status::InvalidArgument(where + ": role '" + get("role") +
                                       "': expected learn or watch");
      }
      m.learn = role == "learn";
      const std::string truth = AsciiLower(get("truth"));
      if (truth != "normal" && truth != "fault") {
        return Status::InvalidArgument(where + ": truth '" + get("truth") +
                                       "': expected normal or fault");
      }
      m.fault = truth == "fault";
      rows.push_back(std::move(m));
    }
  }
  if (rows.empty()) return Status::InvalidArgument(path + ": no rows");
  return rows;
}

struct FileFigures {
  const ManifestRow* row = nullptr;
  std::int64_t windows = 0;
  std::int64_t flagged = 0;
  std::int64_t in_alarm = 0;  // windows after which the machine was in alarm
  bool in_alarm_at_end = false;
  std::vector<double> scores;  // decision_function of its windows
  std::vector<bool> alarm;     // per window: in alarm after it
};

struct MachineFigures {
  std::string machine;
  std::int64_t learn_windows = 0;
  std::int64_t baseline_rows = 0;
  double threshold = 0;
  std::int64_t watched = 0;
  std::int64_t normal_windows = 0, normal_flagged = 0, normal_in_alarm = 0;
  std::int64_t fault_windows = 0, fault_flagged = 0, fault_in_alarm = 0;
  std::int64_t alarms = 0;
  std::int64_t false_alarms = 0;  // opened on a normal file
  std::optional<std::int64_t> first_alarm_seq;
  std::optional<double> first_alarm_fraction;
  std::string first_alarm_explanation;  // its explanation JSON ("" if none)
  std::optional<std::int64_t> first_fault_seq;
  // The alarm still open after the last watched window (sustained to the
  // end): the seq of the file it opened in, and the windows from its
  // opening window to the end (that one included).
  std::optional<std::int64_t> sustained_alarm_seq;
  std::int64_t sustained_alarm_windows = 0;
  std::int64_t last_seq = 0;
  std::vector<FileFigures> files;
};

double Share(std::int64_t part, std::int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// `progress` advances by one per file read.
Result<MachineFigures> EvaluateMachine(const pipeline::PipelineOptions& options,
                                       std::vector<const ManifestRow*> rows, Progress& progress) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const ManifestRow* a, const ManifestRow* b) { return a->seq < b->seq; });
  const ManifestRow& first = *rows.front();
  MachineFigures fig;
  fig.machine = first.machine;
  bool watching = false;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ManifestRow& r = *rows[i];
    const std::string where = "line " + std::to_string(r.line);
    if (i > 0 && r.seq == rows[i - 1]->seq) {
      return Status::InvalidArgument(where + ": machine '" + r.machine + "' has seq " +
                                     std::to_string(r.seq) + " twice");
    }
    if (r.fs_hz != first.fs_hz || r.channels != first.channels || r.rpm != first.rpm ||
        r.bearing != first.bearing) {
      return Status::InvalidArgument(where + ": machine '" + r.machine +
                                     "': fs_hz, channels, rpm and bearing must be the same on "
                                     "every row of a machine (line " +
                                     std::to_string(first.line) + ")");
    }
    if (r.learn && watching) {
      return Status::InvalidArgument(where + ": machine '" + r.machine +
                                     "': a learn row after a watch row (learn rows come first in "
                                     "seq order)");
    }
    watching = watching || !r.learn;
    if (!fig.first_fault_seq && r.fault && !r.learn) fig.first_fault_seq = r.seq;
  }
  if (rows.front()->learn == false) {
    return Status::InvalidArgument("line " + std::to_string(first.line) + ": machine '" +
                                   first.machine + "' has no learn rows");
  }
  pipeline::MachineSpec spec;
  spec.machine_id = first.machine;
  spec.shape.fs_hz = first.fs_hz;
  spec.shape.channels = first.channels;
  spec.shape.shaft_rpm = first.rpm;
  if (!first.bearing.empty()) {
    MH_ASSIGN_OR_RETURN(spec.shape.bearing, features::ParseBearing(first.bearing, "bearing"));
  }
  pipeline::PipelineOptions o = options;
  o.learn.learning_windows = 0;  // the manifest's learn rows
  auto created = pipeline::MachinePipeline::Create(o, std::move(spec));
  if (!created.ok()) {
    return Status(created.status()).WithContext("line " + std::to_string(first.line));
  }
  pipeline::MachinePipeline& p = **created;
  std::int64_t t0 = 1'000'000'000'000'000'000;  // 2001-09-09; files 1000 s apart
  std::int64_t open_seq = 0, open_at = 0;       // the current alarm: file seq, watched window
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ManifestRow& r = *rows[i];
    const std::string where = "line " + std::to_string(r.line);
    if (!r.learn && p.scorer().learning()) {
      Status s = p.FinishLearning();
      if (!s.ok()) return s.WithContext(where);
      fig.baseline_rows = p.scorer().baseline()->rows;
      fig.threshold = p.scorer().baseline()->threshold;
    }
    replay::SampleFileOptions so;
    so.channels = r.channels;
    Status s = replay::ParseSampleRange(r.sample_range, &so);
    if (!s.ok()) return s.WithContext(where);
    auto samples = replay::ReadSampleFile(r.file, so);
    progress.Advance();
    if (!samples.ok()) return Status(samples.status()).WithContext(where);
    std::vector<std::span<const double>> spans(samples->samples.begin(), samples->samples.end());
    window::Block b;
    b.fs_hz = r.fs_hz;
    b.channels = spans;
    b.t0_ns = t0;
    t0 += 1'000'000'000'000;
    FileFigures ff;
    ff.row = &r;
    s = p.Add(b, [&](pipeline::WindowResult& w) {
      if (w.scored.learning) {
        ++fig.learn_windows;
        return Status::OK();
      }
      const bool alarm = w.alarm->state == alarm::AlarmState::kAlarm;
      ++ff.windows;
      ff.flagged += w.scored.anomalous ? 1 : 0;
      ff.scores.push_back(w.scored.score);
      ff.in_alarm += alarm ? 1 : 0;
      ff.in_alarm_at_end = alarm;
      ff.alarm.push_back(alarm);
      if (w.alarm->event && w.alarm->event->kind == alarm::AlarmEventKind::kOpened) {
        open_seq = r.seq;
        open_at = fig.watched + ff.windows - 1;
        ++fig.alarms;
        if (!r.fault) ++fig.false_alarms;
        if (!fig.first_alarm_seq) {
          if (auto e = p.AlarmEventOf(w)) fig.first_alarm_explanation = e->alarm.explanation_json;
          fig.first_alarm_seq = r.seq;
          fig.first_alarm_fraction =
              rows.size() > 1 ? static_cast<double>(i) / static_cast<double>(rows.size() - 1) : 0;
        }
      }
      return Status::OK();
    });
    if (!s.ok()) return s.WithContext(where + ": " + r.shown);
    p.EndStream();
    if (r.learn) continue;
    if (ff.windows == 0) {
      return Status::InvalidArgument(
          where + ": " + r.shown + ": " + std::to_string(samples->rows()) +
          " samples, fewer than one window of " + std::to_string(o.window.window_samples));
    }
    fig.watched += ff.windows;
    (r.fault ? fig.fault_windows : fig.normal_windows) += ff.windows;
    (r.fault ? fig.fault_flagged : fig.normal_flagged) += ff.flagged;
    (r.fault ? fig.fault_in_alarm : fig.normal_in_alarm) += ff.in_alarm;
    fig.files.push_back(ff);
  }
  if (p.scorer().learning()) {
    return Status::InvalidArgument("machine '" + first.machine + "' has no watch rows");
  }
  fig.last_seq = rows.back()->seq;
  if (!fig.files.empty() && fig.files.back().in_alarm_at_end) {
    fig.sustained_alarm_seq = open_seq;
    fig.sustained_alarm_windows = fig.watched - open_at;
  }
  return fig;
}

void AppendOptional(const std::optional<std::int64_t>& v, std::string* j) {
  *j += v ? std::to_string(*v) : "null";
}

// The shares, alarms and false_alarms keys of a machine or the total.
void AppendShares(const MachineFigures& f, std::string* j) {
  *j += ",\"normal_flagged_share\":";
  AppendJsonNumber(Share(f.normal_flagged, f.normal_windows), j);
  *j += ",\"normal_alarm_share\":";
  AppendJsonNumber(Share(f.normal_in_alarm, f.normal_windows), j);
  *j += ",\"fault_flagged_share\":";
  AppendJsonNumber(Share(f.fault_flagged, f.fault_windows), j);
  *j += ",\"fault_alarm_share\":";
  AppendJsonNumber(Share(f.fault_in_alarm, f.fault_windows), j);
  *j += ",\"alarms\":" + std::to_string(f.alarms);
  *j += ",\"false_alarms\":" + std::to_string(f.false_alarms);
}

std::string Json(const std::vector<MachineFigures>& figs, const std::string& rule) {
  std::string j = "{\"machines\":[";
  MachineFigures total;
  for (std::size_t i = 0; i < figs.size(); ++i) {
    const MachineFigures& f = figs[i];
    total.watched += f.watched;
    total.normal_windows += f.normal_windows;
    total.normal_flagged += f.normal_flagged;
    total.normal_in_alarm += f.normal_in_alarm;
    total.fault_windows += f.fault_windows;
    total.fault_flagged += f.fault_flagged;
    total.fault_in_alarm += f.fault_in_alarm;
    total.alarms += f.alarms;
    total.false_alarms += f.false_alarms;
    if (i > 0) j += ",";
    j += "{\"machine\":";
    AppendJsonString(f.machine, &j);
    j += ",\"learn_windows\":" + std::to_string(f.learn_windows);
    j += ",\"threshold\":";
    AppendJsonNumber(f.threshold, &j);
    j += ",\"windows_watched\":" + std::to_string(f.watched);
    AppendShares(f, &j);
    j += ",\"first_alarm_seq\":";
    AppendOptional(f.first_alarm_seq, &j);
    j += ",\"first_alarm_fraction\":";
    if (f.first_alarm_fraction) {
      AppendJsonNumber(*f.first_alarm_fraction, &j);
    } else {
      j += "null";
    }
    j += ",\"first_fault_seq\":";
    AppendOptional(f.first_fault_seq, &j);
    // The first alarm's explanation as `run` stores it (docs/alarms.md).
    j += ",\"first_alarm_explanation\":";
    j += f.first_alarm_explanation.empty() ? "null" : f.first_alarm_explanation;
    j += ",\"files\":[";
    for (std::size_t k = 0; k < f.files.size(); ++k) {
      const FileFigures& ff = f.files[k];
      if (k > 0) j += ",";
      j += "{\"file\":";
      AppendJsonString(ff.row->shown, &j);
      if (!ff.row->sample_range.empty()) {
        j += ",\"sample_range\":";
        AppendJsonString(ff.row->sample_range, &j);
      }
      j += ",\"seq\":" + std::to_string(ff.row->seq);
      j += ",\"truth\":";
      j += ff.row->fault ? "\"fault\"" : "\"normal\"";
      j += ",\"windows\":" + std::to_string(ff.windows);
      j += ",\"flagged_share\":";
      AppendJsonNumber(Share(ff.flagged, ff.windows), &j);
      std::vector<double> sorted = ff.scores;
      std::sort(sorted.begin(), sorted.end());
      j += ",\"score_min\":";
      AppendJsonNumber(sorted.front(), &j);
      j += ",\"score_median\":";
      AppendJsonNumber(sorted[sorted.size() / 2], &j);
      j += ",\"in_alarm_at_end\":";
      j += ff.in_alarm_at_end ? "true" : "false";
      j += "}";
    }
    j += "]}";
  }
  j += "],\"total\":{\"windows_watched\":" + std::to_string(total.watched);
  AppendShares(total, &j);
  j += "},\"pipeline\":";
  AppendJsonString(rule, &j);
  j += "}\n";
  return j;
}

std::string Percent(double share) { return FormatDouble(std::round(share * 1000) / 10) + " %"; }

std::string Text(const std::vector<MachineFigures>& figs, const std::string& rule) {
  std::string t = "evaluate: " + rule + "\n";
  for (const MachineFigures& f : figs) {
    t += "\n" + f.machine + ": learned from " + std::to_string(f.learn_windows) +
         " windows (threshold " + FormatDouble(std::round(f.threshold * 10000) / 10000) +
         "), watched " + std::to_string(f.watched) + "\n";
    if (f.normal_windows > 0) {
      t += "  normal: " + std::to_string(f.normal_windows) + " windows, flagged " +
           Percent(Share(f.normal_flagged, f.normal_windows)) + ", in alarm " +
           Percent(Share(f.normal_in_alarm, f.normal_windows)) + "\n";
    }
    if (f.fault_windows > 0) {
      t += "  fault: " + std::to_string(f.fault_windows) + " windows, flagged " +
           Percent(Share(f.fault_flagged, f.fault_windows)) + ", in alarm " +
           Percent(Share(f.fault_in_alarm, f.fault_windows)) + "\n";
    }
    t += "  alarms: " + std::to_string(f.alarms) + " (" + std::to_string(f.false_alarms) +
         " on normal files)";
    if (f.first_alarm_seq) {
      t += ", the first at seq " + std::to_string(*f.first_alarm_seq) + " (" +
           Percent(*f.first_alarm_fraction) + " of the files)";
    }
    if (f.first_fault_seq) t += "; first fault file: seq " + std::to_string(*f.first_fault_seq);
    t += "\n";
    std::string missed;
    for (const FileFigures& ff : f.files) {
      if (ff.row->fault && ff.in_alarm == 0) missed += (missed.empty() ? "" : ", ") + ff.row->shown;
    }
    if (!missed.empty() && missed.size() < 600)
      t += "  fault files never in alarm: " + missed + "\n";
  }
  return t;
}

std::optional<double> OptionalNumber(const std::optional<std::int64_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

report::Stat MaybeStat(std::string key, std::string label, std::optional<double> v) {
  report::Stat s;
  s.key = std::move(key);
  s.label = std::move(label);
  s.number = v;
  return s;
}

// The HTML report's model: a summary section, then one section per machine.
report::Report EvaluateReport(const EvaluateArgs& a, const std::vector<MachineFigures>& figs,
                              const std::string& rule) {
  report::Report r;
  r.title = "machine-health evaluate: " + a.manifest;
  r.command = "machine-health evaluate --manifest " + a.manifest;
  report::Section summary;
  summary.id = "summary";
  summary.title = "Summary";
  summary.text = "Pipeline: " + rule +
                 ". Detection = share of fault windows in alarm; false alarm = share of "
                 "normal windows in alarm. Lead = watched files (seq) from the opening of the "
                 "alarm still open at the end to the last file.";
  report::Table table{"summary-machines",
                      "Machines",
                      {"machine", "windows watched", "detection (fault in alarm)",
                       "false alarm (normal in alarm)", "alarms", "false alarms", "ROC AUC",
                       "average precision", "sustained alarm from seq", "lead (seq)"},
                      {}};
  for (std::size_t m = 0; m < figs.size(); ++m) {
    const MachineFigures& f = figs[m];
    report::Section s;
    s.id = "machine-" + std::to_string(m + 1);
    s.title = f.machine;
    // One point per watched window: x = the file's seq, its windows spread
    // evenly over [seq, seq + 1).
    std::vector<double> x, scores, anomaly;
    std::vector<bool> alarm, fault;
    for (const FileFigures& ff : f.files) {
      for (std::size_t k = 0; k < ff.scores.size(); ++k) {
        x.push_back(static_cast<double>(ff.row->seq) +
                    static_cast<double>(k) / static_cast<double>(ff.scores.size()));
        scores.push_back(ff.scores[k]);
        anomaly.push_back(-ff.scores[k]);
        alarm.push_back(ff.alarm[k]);
        fault.push_back(ff.row->fault);
      }
    }
    const auto roc = report::RocCurve(anomaly, fault);
    const auto pr = report::PrecisionRecallCurve(anomaly, fault);
    std::optional<double> lead;
    if (f.sustained_alarm_seq) lead = static_cast<double>(f.last_seq - *f.sustained_alarm_seq);
    s.text = "Learned from " + std::to_string(f.learn_windows) + " windows; watched " +
             std::to_string(f.watched) + " (" + std::to_string(f.normal_windows) +
             " on normal files, " + std::to_string(f.fault_windows) + " on fault files).";
    s.stats = {
        report::NumberStat("learn_windows", "windows learned from",
                           static_cast<double>(f.learn_windows)),
        report::NumberStat("threshold", "threshold", f.threshold),
        report::NumberStat("windows_watched", "windows watched", static_cast<double>(f.watched)),
        report::NumberStat("normal_windows", "windows on normal files",
                           static_cast<double>(f.normal_windows)),
        report::NumberStat("fault_windows", "windows on fault files",
                           static_cast<double>(f.fault_windows)),
        report::NumberStat("detection_share", "detection: fault windows in alarm",
                           Share(f.fault_in_alarm, f.fault_windows)),
        report::NumberStat("false_alarm_share", "false alarm: normal windows in alarm",
                           Share(f.normal_in_alarm, f.normal_windows)),
        report::NumberStat("fault_flagged_share", "fault windows flagged",
                           Share(f.fault_flagged, f.fault_windows)),
        report::NumberStat("normal_flagged_share", "normal windows flagged",
                           Share(f.normal_flagged, f.normal_windows)),
        report::NumberStat("alarms", "alarms", static_cast<double>(f.alarms)),
        report::NumberStat("false_alarms", "alarms opened on normal files",
                           static_cast<double>(f.false_alarms)),
        MaybeStat("first_alarm_seq", "first alarm opens in seq", OptionalNumber(f.first_alarm_seq)),
        MaybeStat("first_fault_seq", "first fault file, seq", OptionalNumber(f.first_fault_seq)),
        MaybeStat("sustained_alarm_seq", "sustained alarm (open at the end) opens in seq",
                  OptionalNumber(f.sustained_alarm_seq)),
        MaybeStat("lead_seq", "lead before the end, seq", lead),
        MaybeStat("lead_windows", "lead before the end, windows",
                  f.sustained_alarm_seq
                      ? std::optional<double>(static_cast<double>(f.sustained_alarm_windows))
                      : std::nullopt),
        MaybeStat("roc_auc", "ROC AUC (-score, truth fault)",
                  roc ? std::optional<double>(roc->area) : std::nullopt),
        MaybeStat("average_precision", "average precision",
                  pr && roc ? std::optional<double>(pr->area) : std::nullopt)};
    s.figures = report::ScoreFigures(s.id, f.machine, x, scores, f.threshold, alarm, false,
                                     "seq (file order)");
    if (roc && pr) {
      s.figures.push_back(report::RocFigure(s.id + "-roc", "ROC of " + f.machine, *roc));
      s.figures.push_back(
          report::PrecisionRecallFigure(s.id + "-pr", "Precision-recall of " + f.machine, *pr));
    }
    const auto shown = [](const std::optional<double>& v) {
      return v ? report::FormatShown(*v) : std::string("\u2013");
    };
    table.rows.push_back({f.machine, std::to_string(f.watched),
                          report::FormatShown(Share(f.fault_in_alarm, f.fault_windows)),
                          report::FormatShown(Share(f.normal_in_alarm, f.normal_windows)),
                          std::to_string(f.alarms), std::to_string(f.false_alarms),
                          shown(roc ? std::optional<double>(roc->area) : std::nullopt),
                          shown(pr && roc ? std::optional<double>(pr->area) : std::nullopt),
                          shown(OptionalNumber(f.sustained_alarm_seq)), shown(lead)});
    r.sections.push_back(std::move(s));
  }
  summary.tables.push_back(std::move(table));
  r.sections.insert(r.sections.begin(), std::move(summary));
  return r;
}

int RunEvaluate(const EvaluateArgs& a, CommandIo& io) {
  auto options = MakePipelineOptions(a.pipeline);
  if (!options.ok()) return UsageError(io, kCommand, options.status().message());
  auto rows = ReadManifest(a.manifest);
  if (!rows.ok()) return ReportError(io, kCommand, rows.status());
  std::vector<std::string> order;
  std::map<std::string, std::vector<const ManifestRow*>> by_machine;
  for (const ManifestRow& r : *rows) {
    auto& list = by_machine[r.machine];
    if (list.empty()) order.push_back(r.machine);
    list.push_back(&r);
  }
  std::vector<MachineFigures> figs;
  const std::unique_ptr<Progress> progress =
      StartProgress(a.progress, kCommand, static_cast<std::int64_t>(rows->size()), "files", io);
  for (const std::string& m : order) {
    auto f = EvaluateMachine(*options, by_machine[m], *progress);
    if (!f.ok()) return ReportError(io, kCommand, Status(f.status()).WithContext(a.manifest));
    figs.push_back(std::move(*f));
  }
  progress->Finish();
  const pipeline::PipelineOptions& o = *options;
  const std::string rule =
      "window " + std::to_string(o.window.window_samples) + ", hop " +
      std::to_string(o.window.hop_samples == 0 ? o.window.window_samples : o.window.hop_samples) +
      ", threshold " + score::DescribeThreshold(o.learn.threshold) + ", alarm " +
      std::to_string(o.alarm.k) + " of " + std::to_string(o.alarm.n) + ", clear after " +
      std::to_string(o.alarm.m);
  io.out << Text(figs, rule);
  io.out.flush();
  std::optional<report::Report> r;
  if (!a.report.empty()) r = EvaluateReport(a, figs, rule);
  if (r) {
    Status s = WriteReportFiles(*r, a.report, "", io.out);
    if (!s.ok()) return ReportError(io, kCommand, s);
  }
  if (!a.json.empty()) {
    const std::string base = Json(figs, rule);
    Status s = WriteTextOutput(a.json, r ? report::RenderJson(*r, base) : base, io.out);
    if (!s.ok()) return ReportError(io, kCommand, s);
  }
  return kExitOk;
}

}  // namespace

void AddEvaluateCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<EvaluateArgs>();
  CLI::App* sub = root.add_subcommand(
      "evaluate",
      "Run the pipeline (learning, threshold, alarm rule) over recorded files listed in a "
      "manifest and print detection figures");
  sub->add_option("--manifest", args->manifest,
                  "CSV: file, machine, seq, fs_hz, channels, rpm, bearing, sample_range, role "
                  "(learn|watch), truth (normal|fault); see docs/evaluation.md")
      ->required();
  sub->add_option("--json", args->json, "also write the figures as JSON to FILE (- for stdout)");
  sub->add_option("--report", args->report,
                  "also write a self-contained HTML report to FILE: per machine the score with "
                  "threshold and alarms, detection, lead, ROC and precision-recall (opens "
                  "offline; the JSON then holds the same figures)");
  AddPipelineOptions(*sub, args->pipeline, PipelineOptionSet{.learning = false});
  AddProgressOption(*sub, &args->progress);
  sub->callback([&io, &action, args] { action = [&io, args] { return RunEvaluate(*args, io); }; });
}

}  // namespace mh::app
