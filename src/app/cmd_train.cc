// machine-health train: fits a StandardScaler + Isolation Forest on a feature
// table and writes a model file (iforest/model_io.h).
//
//   machine-health train --input FILE.csv|FILE.parquet|FOLDER|GLOB|URL [--features a,b,c]
//       [--trees 100] [--max-samples auto] [--max-features 1.0] [--contamination auto]
//       [--seed 42] [--threads N] [--no-scaler] [--granularity window|sample]
//       [--keep-going] [--validation-fraction V] [--test-fraction T]
//       [--report FILE.html] [--json FILE] --out model.mhm
//
// The input is a CSV (header line; dialect as docs/csv.md) or Parquet file,
// or an http(s) URL of either, read by app/feature_table.h, or a folder or
// glob of them (replay/input_files.h; their rows together, every file with
// the features chosen from the first). Without --features the features are
// the first file's numeric columns that are not keys (FeatureTableFile::
// LooksNumeric), named in the log. Every selected
// cell must be a finite number: an empty, non-numeric, NaN or infinite cell
// is an error naming the file, the row (CSV: the line, for a cell that is not
// a number) and the column (exit 1). Unknown feature names and bad option
// values are usage errors (exit 2). With a folder or glob, a file that fails
// stops the run unless --keep-going: then it is reported and skipped, the
// model is trained on the others and the exit code is 1. --granularity records in the model whether
// a row describes a window of samples (the default: `features` output) or one
// sample.
//
// Splits (--split): `position` (the default), the rows in input order; the
// last T (--test-fraction) are the test split, the V (--validation-fraction)
// before them the validation split, and the model is trained on the rest
// (both 0 by default: every row trains). `time`: by event time (the
// `timestamp` or `window_start` column, needed in every row): the rows of
// the first 1 - V - T of the time span train, the next V validate, the last
// T test, whatever the input order. `shuffle`: rows in a random order
// (--seed), then as `position`: for data without time order only, it leaks
// the future into training on run-to-failure data.
// --report writes a self-contained HTML report (report/report.h) and --json
// its figures: the data (rows, features, splits, the time column's range,
// step and gaps), every feature's distribution per split, and the score
// histogram per split with the threshold (0: decision_function < 0 is an
// outlier) and the anomaly rate of each split (docs/report.md).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/feature_table.h"
#include "app/progress_option.h"
#include "app/report_files.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/train.h"
#include "replay/input_files.h"
#include "replay/table_file.h"
#include "report/figures.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "train";

struct TrainArgs {
  std::string input;
  std::string features;  // comma-separated; empty = default selection
  int trees = 100;
  std::string max_samples = "auto";
  double max_features = 1.0;
  std::string contamination = "auto";
  std::string seed = "42";  // parsed strictly: CLI11 wraps "-4" into a uint64
  int threads = 0;
  bool no_scaler = false;
  std::string granularity = "window";
  std::string out;
  bool keep_going = false;  // folder/glob: skip a failing file, exit 1 at the end
  double validation_fraction = 0;
  double test_fraction = 0;
  std::string split = "position";  // position, time or shuffle
  std::string report;              // HTML
  std::string json;                // the report's figures
  std::string progress = "auto";   // --progress
};

// The split of row i of n: 0 train, 1 validation, 2 test.
struct Splits {
  std::size_t train = 0, validation = 0, test = 0;
  int Of(std::size_t i) const { return i < train ? 0 : i < train + validation ? 1 : 2; }
};

constexpr const char* kSplitNames[] = {"train", "validation", "test"};

// Row `i` of a time key as (value, is a time in ns): an integer (a sample
// index), a timestamp or time of day, or a text of one of those
// ("09:39:39.065664", RFC 3339, epoch milliseconds). Nullopt for a null or
// anything else.
std::optional<std::pair<std::int64_t, bool>> TimeKeyValue(const TableColumn& c, std::size_t i) {
  if (i >= c.valid.size() || !c.valid[i]) return std::nullopt;
  switch (c.info.kind) {
    case ValueKind::kInt:
      return std::pair{c.ints[i], false};
    case ValueKind::kTimestamp:
    case ValueKind::kTime:
      return std::pair{c.ints[i], true};
    case ValueKind::kString: {
      const std::string_view text = TrimSpace(c.strings[i]);
      if (auto v = ParseInt(text); v.ok()) return std::pair{*v, false};
      // HH:MM:SS[.fraction]: ns since midnight.
      if (text.size() >= 8 && text[2] == ':' && text[5] == ':') {
        auto h = ParseInt(text.substr(0, 2)), m = ParseInt(text.substr(3, 2));
        auto sec = ParseDouble(text.substr(6));
        if (h.ok() && m.ok() && sec.ok() && *h < 24 && *m < 60 && *sec >= 0 && *sec < 61) {
          return std::pair{(*h * 3600 + *m * 60) * 1'000'000'000 +
                               static_cast<std::int64_t>(std::llround(*sec * 1e9)),
                           true};
        }
      }
      if (auto v = ParseInstant(text); v.ok()) return std::pair{*v, true};
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// The time column's figures for the data section (nothing without one).
// `t` in the column's unit: ns for a time, samples for a sample index.
void AddTimeFigures(const std::string& column, bool is_time, const std::vector<std::int64_t>& t,
                    report::Section* s) {
  if (t.size() < 2) {
    s->stats.push_back(report::TextStat("time_column", "time column", ""));
    return;
  }
  s->stats.push_back(report::TextStat("time_column", "time column", column));
  std::vector<std::int64_t> steps;
  std::size_t restarts = 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i] < t[i - 1]) {
      ++restarts;  // a new file or machine starts its own clock
    } else {
      steps.push_back(t[i] - t[i - 1]);
    }
  }
  std::vector<std::int64_t> sorted = steps;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.empty() ? 0 : static_cast<double>(sorted[sorted.size() / 2]);
  const double unit = is_time ? 1e9 : 1.0;
  const std::string suffix = is_time ? " (s)" : " (samples)";
  struct Gap {
    std::int64_t from = 0, to = 0;
  };
  std::vector<Gap> gaps;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (t[i] >= t[i - 1] && median > 0 && static_cast<double>(t[i] - t[i - 1]) > 2 * median) {
      gaps.push_back({t[i - 1], t[i]});
    }
  }
  const auto shown = [&](std::int64_t v) {
    if (!is_time) return std::to_string(v);
    const std::string text = FormatRfc3339(v, 3);
    // A time of day (ns since midnight) without its 1970-01-01.
    return v >= 0 && v < 86'400'000'000'000 ? text.substr(11) : text;
  };
  s->stats.push_back(report::TextStat("time_first", "first row's time", shown(t.front())));
  s->stats.push_back(report::TextStat("time_last", "last row's time", shown(t.back())));
  s->stats.push_back(report::NumberStat("median_step", "median step" + suffix, median / unit));
  s->stats.push_back(report::NumberStat("gaps", "gaps (steps over twice the median)",
                                        static_cast<double>(gaps.size())));
  s->stats.push_back(
      report::NumberStat("largest_step", "largest step" + suffix,
                         sorted.empty() ? 0.0 : static_cast<double>(sorted.back()) / unit));
  s->stats.push_back(report::NumberStat("restarts", "times the clock goes back (new file)",
                                        static_cast<double>(restarts)));
  std::stable_sort(gaps.begin(), gaps.end(),
                   [](const Gap& a, const Gap& b) { return a.to - a.from > b.to - b.from; });
  report::Table table{
      "data-gaps", "Largest gaps (at most 20)", {"after", "before", "length" + suffix}, {}};
  for (std::size_t i = 0; i < gaps.size() && i < 20; ++i) {
    table.rows.push_back(
        {shown(gaps[i].from), shown(gaps[i].to),
         report::FormatShown(static_cast<double>(gaps[i].to - gaps[i].from) / unit)});
  }
  s->tables.push_back(std::move(table));
}

report::Report TrainReport(const TrainArgs& args, const iforest::Matrix& x,
                           const std::vector<std::string>& names, const Splits& splits,
                           iforest::Scorer& scorer, double offset, std::size_t files,
                           const std::string& time_column, bool is_time,
                           const std::vector<std::int64_t>& t) {
  report::Report r;
  r.title = "machine-health train: " + replay::RedactUrl(args.input);
  r.command = "machine-health train --input " + replay::RedactUrl(args.input) + " --out " +
              args.out + " --validation-fraction " + FormatDouble(args.validation_fraction) +
              " --test-fraction " + FormatDouble(args.test_fraction) +
              (args.split == "position" ? "" : " --split " + args.split);
  report::Section data;
  data.id = "data";
  data.title = "Data";
  data.text = std::string(args.split == "time"      ? "Rows by event time"
                          : args.split == "shuffle" ? "Rows in a random order (--seed)"
                                                    : "Rows in input order") +
              ": the first " + std::to_string(splits.train) + " train the model, the next " +
              std::to_string(splits.validation) + " are the validation split and the last " +
              std::to_string(splits.test) + " the test split.";
  data.stats = {report::NumberStat("rows", "rows", static_cast<double>(x.rows)),
                report::NumberStat("features", "features", static_cast<double>(x.cols)),
                report::NumberStat("files", "files", static_cast<double>(files)),
                report::NumberStat("train_rows", "train rows", static_cast<double>(splits.train)),
                report::NumberStat("validation_rows", "validation rows",
                                   static_cast<double>(splits.validation)),
                report::NumberStat("test_rows", "test rows", static_cast<double>(splits.test))};
  AddTimeFigures(time_column, is_time, t, &data);

  std::vector<double> scores(x.rows);
  for (std::size_t i = 0; i < x.rows; ++i) scores[i] = scorer.DecisionFunction(x.Row(i));
  const std::size_t counts[3] = {splits.train, splits.validation, splits.test};
  std::vector<report::NamedValues> score_sets;
  report::Section sc;
  sc.id = "scores";
  sc.title = "Scores per split";
  sc.text = "decision_function of every row (score_samples - offset " + FormatDouble(offset) +
            "); negative = anomalous, the threshold 0 is marked.";
  report::Table rates{"scores-splits",
                      "Anomaly rate per split",
                      {"split", "rows", "anomalous", "anomaly rate"},
                      {}};
  std::size_t first = 0;
  for (int k = 0; k < 3; ++k) {
    const std::size_t n = counts[k];
    std::vector<double> v(scores.begin() + static_cast<std::ptrdiff_t>(first),
                          scores.begin() + static_cast<std::ptrdiff_t>(first + n));
    std::size_t bad = 0;
    for (double d : v) bad += d < 0 ? 1 : 0;
    first += n;
    if (n == 0) continue;
    const double rate = static_cast<double>(bad) / static_cast<double>(n);
    sc.stats.push_back(report::NumberStat(std::string("anomaly_rate_") + kSplitNames[k],
                                          std::string("anomaly rate, ") + kSplitNames[k], rate));
    rates.rows.push_back(
        {kSplitNames[k], std::to_string(n), std::to_string(bad), report::FormatShown(rate)});
    score_sets.push_back({kSplitNames[k], std::move(v)});
  }
  sc.figures.push_back(report::HistogramFigure("scores-histogram", "Score histogram per split",
                                               "score (decision_function)", score_sets, 0.0));
  sc.tables.push_back(std::move(rates));

  report::Section fs;
  fs.id = "features";
  fs.title = "Feature distributions";
  fs.text = "Every feature's values per split.";
  for (std::size_t c = 0; c < x.cols; ++c) {
    std::vector<report::NamedValues> sets;
    std::size_t at = 0;
    for (int k = 0; k < 3; ++k) {
      if (counts[k] == 0) continue;
      report::NamedValues nv{kSplitNames[k], {}};
      nv.values.reserve(counts[k]);
      for (std::size_t i = 0; i < counts[k]; ++i) nv.values.push_back(x.Row(at + i)[c]);
      at += counts[k];
      sets.push_back(std::move(nv));
    }
    fs.figures.push_back(
        report::HistogramFigure("feature-" + std::to_string(c + 1), names[c], names[c], sets));
  }
  r.sections = {std::move(data), std::move(sc), std::move(fs)};
  return r;
}

int DataError(CommandIo& io, const std::string& message) {
  PrintError(io, kCommand, message);
  return kExitFailure;
}

int RunTrain(const TrainArgs& args, CommandIo& io) {
  std::uint64_t seed = 0;
  {
    const char* end = args.seed.data() + args.seed.size();
    auto [ptr, ec] = std::from_chars(args.seed.data(), end, seed);
    if (args.seed.empty() || ec != std::errc() || ptr != end) {
      return UsageError(io, kCommand,
                        "--seed must be an integer in [0, 2^64), got '" + args.seed + "'");
    }
  }
  if (args.trees < 1) return UsageError(io, kCommand, "--trees must be at least 1");
  if (args.threads < 0) return UsageError(io, kCommand, "--threads must be >= 0 (0 = all cores)");
  if (Result<std::int64_t> ms = iforest::ResolveMaxSamples(args.max_samples, 1 << 30); !ms.ok()) {
    return UsageError(io, kCommand, "--max-samples: " + ms.status().message());
  }
  if (args.contamination != "auto") {
    Result<double> c = ParseDouble(args.contamination);
    if (!c.ok() || !(*c > 0.0 && *c <= 0.5)) {
      return UsageError(io, kCommand,
                        "--contamination must be 'auto' or a fraction in (0, 0.5], got '" +
                            args.contamination + "'");
    }
  }
  if (!(args.max_features > 0.0) || !std::isfinite(args.max_features) ||
      (args.max_features > 1.0 && args.max_features != std::floor(args.max_features))) {
    return UsageError(io, kCommand,
                      "--max-features must be a fraction in (0, 1] or an integer count");
  }
  for (const auto& [name, v] : {std::pair{"--validation-fraction", args.validation_fraction},
                                std::pair{"--test-fraction", args.test_fraction}}) {
    if (!(v >= 0.0 && v < 1.0)) {
      return UsageError(io, kCommand, std::string(name) + " must be in [0, 1)");
    }
  }
  if (!(args.validation_fraction + args.test_fraction < 1.0)) {
    return UsageError(io, kCommand,
                      "--validation-fraction plus --test-fraction must be below 1 (rows must "
                      "remain to train on)");
  }
  iforest::FeatureGranularity granularity = iforest::FeatureGranularity::kPerWindow;
  if (args.granularity == "sample") {
    granularity = iforest::FeatureGranularity::kPerSample;
  } else if (args.granularity != "window") {
    return UsageError(io, kCommand,
                      "--granularity must be 'window' or 'sample', got '" + args.granularity + "'");
  }

  std::vector<std::string> listed;
  if (!args.features.empty()) {
    Result<std::vector<std::string>> list = ParseFeatureList(args.features);
    if (!list.ok()) return UsageError(io, kCommand, list.status().message());
    listed = std::move(*list);
  }
  Result<replay::InputFiles> inputs = replay::ExpandInputs(args.input);
  if (!inputs.ok()) return DataError(io, "--input: " + inputs.status().message());

  Result<FeatureTableFile> file = FeatureTableFile::Open(inputs->files.front());
  if (!file.ok()) return DataError(io, file.status().message());
  if (file->empty() && !inputs->multiple) return DataError(io, file->name() + ": no data rows");
  const std::vector<TableColumnInfo>& columns = file->columns();

  // Feature selection: the named columns, or every column that is not an
  // identifier and holds numbers (FeatureTableFile::LooksNumeric: numeric
  // kind, or mostly numbers in the first rows; a bad cell further down is
  // then an error naming its line, never a dropped column).
  std::vector<std::string> names;
  if (!listed.empty()) {
    std::vector<std::string> unknown;
    for (const std::string& name : listed) {
      if (file->Find(name) < 0) {
        unknown.push_back("'" + name + "'");
      } else {
        names.push_back(name);
      }
    }
    if (!unknown.empty()) {
      std::string list, known;
      for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
      for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c.name;
      return UsageError(io, kCommand,
                        "--features: unknown column(s) " + list + " (columns: " + known + ")");
    }
  } else {
    std::string skipped;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (IsKeyColumn(columns[c].name)) continue;
      if (file->LooksNumeric(c)) {
        names.push_back(columns[c].name);
      } else {
        skipped += (skipped.empty() ? "'" : ", '") + columns[c].name + "'";
      }
    }
    if (names.empty()) {
      return DataError(io, file->name() + ": no numeric feature columns (non-numeric: " +
                               (skipped.empty() ? std::string("none") : skipped) + ")");
    }
    std::string chosen;
    for (const auto& n : names) chosen += (chosen.empty() ? "" : ",") + n;
    io.err << "train: " << names.size() << " features " << chosen;
    if (!skipped.empty()) io.err << " (not numeric: " << skipped << ")";
    io.err << "\n";
  }
  if (args.max_features > 1.0 && args.max_features > static_cast<double>(names.size())) {
    return UsageError(io, kCommand,
                      "--max-features " + FormatDouble(args.max_features) + " exceeds the " +
                          std::to_string(names.size()) + " selected features");
  }

  // The time column of the report: timestamp, else window_start.
  const bool want_report = !args.report.empty() || !args.json.empty();
  std::string time_column;
  if (args.split != "position" && args.split != "time" && args.split != "shuffle") {
    return UsageError(io, kCommand,
                      "--split must be position, time or shuffle, got '" + args.split + "'");
  }
  const bool by_time = args.split == "time";
  if (want_report || by_time) {
    if (file->Find("timestamp") >= 0) {
      time_column = "timestamp";
    } else if (file->Find("window_start") >= 0) {
      time_column = "window_start";
    }
  }
  std::vector<std::int64_t> times;
  bool time_is_time = false, time_ok = !time_column.empty();

  iforest::Matrix x;
  x.cols = names.size();
  const bool keep_going = args.keep_going && inputs->files.size() > 1;
  std::size_t failed = 0;
  const std::unique_ptr<Progress> progress = StartProgress(
      args.progress, kCommand, static_cast<std::int64_t>(inputs->files.size()), "files", io);
  for (std::size_t f = 0; f < inputs->files.size(); ++f) {
    Result<FeatureTableFile> other =
        f == 0 ? std::move(file) : FeatureTableFile::Open(inputs->files[f]);
    Status status = other.status();
    if (status.ok()) {
      for (const std::string& name : names) {
        if (other->Find(name) < 0) {
          status =
              Status::Corruption(other->name() + ": no feature column '" + name +
                                 "' (the features are those of " + inputs->files.front() + ")");
          break;
        }
      }
    }
    std::optional<FeatureTable> table;
    const bool with_time = time_ok && status.ok() && other->Find(time_column) >= 0;
    if (status.ok()) {
      Result<FeatureTable> read = other->Read(
          names, with_time ? std::vector<std::string>{time_column} : std::vector<std::string>{});
      status = read.status();
      if (read.ok()) table = std::move(*read);
    }
    progress->Advance();
    if (!status.ok()) {
      if (!keep_going) {
        return DataError(
            io, status.message() +
                    (inputs->files.size() > 1 ? " (--keep-going trains on the other files)" : ""));
      }
      ++failed;
      DataError(io, status.message());
      continue;
    }
    x.data.insert(x.data.end(), table->x.data.begin(), table->x.data.end());
    x.rows += table->x.rows;
    if (time_ok) {
      // Times of every row, or of none (a file without the column, or
      // with nulls or another kind, ends the gap figures).
      const TableColumn* c =
          with_time && !table->keys.columns.empty() ? &table->keys.columns.front() : nullptr;
      bool ok = c != nullptr;
      for (std::size_t i = 0; ok && i < table->x.rows; ++i) {
        auto v = TimeKeyValue(*c, i);
        if (!v || (!times.empty() && v->second != time_is_time)) {
          ok = false;
          break;
        }
        time_is_time = v->second;
        times.push_back(v->first);
      }
      if (!ok) {
        time_ok = false;
        times.clear();
      }
    }
  }
  progress->Finish();
  if (x.rows == 0) return DataError(io, args.input + ": no data rows");

  iforest::TrainOptions options;
  options.n_estimators = args.trees;
  options.max_samples = args.max_samples;
  options.max_features = args.max_features;
  options.contamination = args.contamination;
  options.seed = seed;
  options.threads = args.threads;
  options.standardize = !args.no_scaler;
  Splits splits;
  splits.test = static_cast<std::size_t>(args.test_fraction * static_cast<double>(x.rows));
  splits.validation =
      static_cast<std::size_t>(args.validation_fraction * static_cast<double>(x.rows));
  if (by_time || args.split == "shuffle") {
    // Reorder the rows (by time, or at random) so that each split is a
    // contiguous run; the report's time figures keep the input order.
    std::vector<std::size_t> order(x.rows);
    for (std::size_t i = 0; i < x.rows; ++i) order[i] = i;
    if (by_time) {
      if (!time_ok || times.size() != x.rows) {
        return DataError(io, args.input +
                                 ": --split time needs a timestamp or window_start column with a "
                                 "time or an integer in every row of every file");
      }
      if (time_is_time) {
        for (std::size_t i = 1; i < times.size(); ++i) {
          if (times[i] < times[i - 1] && times[i - 1] < 86'400'000'000'000) {
            return DataError(io, args.input + ": --split time: row " + std::to_string(i + 1) +
                                     ": the time of day goes back (times of day of several "
                                     "files or days do not order the rows; use --split position)");
          }
        }
      }
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return times[a] < times[b]; });
      // Cut the time span, not the row count: the first 1 - V - T of it trains.
      const double t0 = static_cast<double>(times[order.front()]);
      const double span = static_cast<double>(times[order.back()]) - t0;
      const double cut_test = t0 + (1.0 - args.test_fraction) * span;
      const double cut_val = t0 + (1.0 - args.test_fraction - args.validation_fraction) * span;
      splits.test = splits.validation = 0;
      for (std::size_t i : order) {
        const double t = static_cast<double>(times[i]);
        if (args.test_fraction > 0 && t >= cut_test) {
          ++splits.test;
        } else if (args.validation_fraction > 0 && t >= cut_val) {
          ++splits.validation;
        }
      }
    } else {
      std::mt19937_64 rng(seed);
      std::shuffle(order.begin(), order.end(), rng);
    }
    std::vector<double> data(x.data.size());
    for (std::size_t i = 0; i < x.rows; ++i) {
      std::copy_n(x.data.begin() + static_cast<std::ptrdiff_t>(order[i] * x.cols), x.cols,
                  data.begin() + static_cast<std::ptrdiff_t>(i * x.cols));
    }
    x.data = std::move(data);
  }
  splits.train = x.rows - splits.test - splits.validation;
  if (splits.train == 0) return DataError(io, args.input + ": no rows left to train on");
  iforest::Matrix train_x;
  const iforest::Matrix* fit = &x;
  if (splits.train < x.rows) {
    train_x.cols = x.cols;
    train_x.rows = splits.train;
    train_x.data.assign(x.data.begin(),
                        x.data.begin() + static_cast<std::ptrdiff_t>(splits.train * x.cols));
    fit = &train_x;
  }
  const std::vector<std::string> feature_names = names;
  Result<iforest::Model> model = iforest::Train(*fit, std::move(names), options);
  if (!model.ok()) return ReportError(io, kCommand, model.status());
  model->granularity = granularity;

  std::size_t outliers = 0;
  std::optional<report::Report> report;
  {
    iforest::Scorer scorer(*model);
    for (std::size_t i = 0; i < splits.train; ++i) outliers += scorer.Predict(x.Row(i)) < 0;
    if (want_report) {
      report = TrainReport(args, x, feature_names, splits, scorer, model->offset,
                           inputs->files.size() - failed, time_column, time_is_time,
                           time_ok ? times : std::vector<std::int64_t>{});
    }
  }
  const double outlier_fraction = static_cast<double>(outliers) / static_cast<double>(splits.train);
  model->card.source = replay::RedactUrl(args.input);  // a URL without its query (a secret)
  model->card.created = FormatRfc3339(WallNowNs(), 0);
  model->card.metrics = "train_outlier_fraction=" + FormatDouble(outlier_fraction);
  Status saved = iforest::SaveModel(*model, args.out);
  if (!saved.ok()) return DataError(io, saved.message());
  io.out << "trained " << args.out << ": rows=" << splits.train << " features=" << x.cols
         << " trees=" << model->trees.size() << " offset=" << FormatDouble(model->offset)
         << " train_outlier_fraction=" << FormatDouble(outlier_fraction);
  if (splits.train < x.rows) {
    io.out << " validation_rows=" << splits.validation << " test_rows=" << splits.test;
  }
  io.out << "\n";
  if (report) {
    Status w = WriteReportFiles(*report, args.report, args.json, io.out);
    if (!w.ok()) return DataError(io, w.message());
  }
  if (failed > 0) {
    return DataError(io, std::to_string(failed) + " of " + std::to_string(inputs->files.size()) +
                             " files failed (--keep-going: the model was trained on the others)");
  }
  return kExitOk;
}

}  // namespace

void AddTrainCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* sub = root.add_subcommand(
      "train", "Fit a StandardScaler + Isolation Forest on a feature table and write a model file");
  sub->add_option("--input", args->input,
                  "feature table: CSV with a header line, Parquet, an http(s) URL, or a folder or "
                  "glob of CSV/Parquet files (their rows together)")
      ->required();
  sub->add_option("--features", args->features,
                  "comma-separated feature columns, each once (default: every numeric column "
                  "except window_start, timestamp, machine_id, sensor_id, source_file, "
                  "source_offset)");
  sub->add_option("--trees", args->trees, "number of trees")->capture_default_str();
  sub->add_option("--max-samples", args->max_samples,
                  "rows per tree: 'auto' (min(256, n)), an integer, or a fraction in (0, 1]")
      ->capture_default_str();
  sub->add_option("--max-features", args->max_features,
                  "features per tree: a fraction in (0, 1] or an integer count")
      ->capture_default_str();
  sub->add_option("--contamination", args->contamination,
                  "'auto' (offset -0.5) or the expected outlier fraction in (0, 0.5]")
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "random seed, an integer in [0, 2^64)")
      ->capture_default_str();
  sub->add_option("--threads", args->threads, "training threads, 0 = all cores")
      ->capture_default_str();
  sub->add_flag("--no-scaler", args->no_scaler, "do not standardize features first");
  sub->add_option("--granularity", args->granularity,
                  "what a row describes, stored in the model's feature contract: 'window' (one "
                  "row per window of samples, as `features` writes) or 'sample' (one row per "
                  "sensor sample)")
      ->capture_default_str();
  sub->add_option("--out", args->out, "model file to write")->required();
  sub->add_flag("--keep-going", args->keep_going,
                "folder or glob: a file that fails is reported and skipped; the model is trained "
                "on the others and the exit code is 1");
  sub->add_option("--validation-fraction", args->validation_fraction,
                  "hold out this share of the rows (before the test split) as the validation "
                  "split: not trained on, scored in the report")
      ->capture_default_str();
  sub->add_option("--test-fraction", args->test_fraction,
                  "hold out the last share of the rows as the test split")
      ->capture_default_str();
  sub->add_option("--split", args->split,
                  "how rows are split: 'position' (input order: the last rows test), 'time' (by "
                  "the timestamp/window_start column: the first share of the time span trains, "
                  "the last tests) or 'shuffle' (random with --seed; leaks the future into "
                  "training on run-to-failure data)")
      ->capture_default_str();
  sub->add_option("--report", args->report,
                  "also write a self-contained HTML report to FILE: data and gaps, feature "
                  "distributions, score histograms and anomaly rate per split (opens offline)");
  sub->add_option("--json", args->json, "also write the report's figures as JSON to FILE");
  AddProgressOption(*sub, &args->progress);
  sub->callback([&io, &action, args] { action = [&io, args] { return RunTrain(*args, io); }; });
}

}  // namespace mh::app
