// machine-health train: fits a StandardScaler + Isolation Forest on a feature
// CSV and writes a model file (iforest/model_io.h).
//
//   machine-health train --input features.csv [--features a,b,c] [--trees 100]
//       [--max-samples auto] [--max-features 1.0] [--contamination auto]
//       [--seed 42] [--threads N] [--no-scaler] --out model.mhm
//
// The CSV has a header line and comma-separated fields (no quoting). Every
// selected cell must be a finite number: an empty or non-numeric cell is an
// error naming the file, line and column (exit 1). Unknown feature names and
// bad option values are usage errors (exit 2).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/train.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "train";

// Columns that identify a window rather than describe it; never default features.
const std::set<std::string, std::less<>> kNonFeatureColumns = {"window_start", "timestamp",
                                                               "machine_id", "sensor_id"};

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
  std::string out;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The tiny CSV splitter: fields separated by commas, surrounding blanks and a
// trailing CR removed. No quoting (feature files have none).
std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields = Split(line, ',');
  for (std::string& f : fields) f = std::string(Trim(f));
  return fields;
}

int DataError(CommandIo& io, const std::string& message) {
  io.err << "machine-health " << kCommand << ": " << message << "\n";
  return kExitFailure;
}

// Parses one selected cell; the message names file, line and column.
Result<double> ParseCell(const std::string& file, std::size_t line, std::size_t column,
                         const std::string& name, const std::string& cell) {
  const std::string where = file + ":" + std::to_string(line) + ": column " +
                            std::to_string(column + 1) + " (" + name + ")";
  if (cell.empty()) return Status::InvalidArgument(where + " is empty");
  Result<double> v = ParseDouble(cell);
  if (!v.ok()) return Status::InvalidArgument(where + " is not a number: '" + cell + "'");
  if (!std::isfinite(*v)) return Status::InvalidArgument(where + " is not finite: '" + cell + "'");
  return *v;
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

  std::ifstream in(args.input);
  if (!in) return DataError(io, args.input + ": cannot open");
  std::string line;
  if (!std::getline(in, line) || Trim(line).empty()) {
    return DataError(io, args.input + ":1: missing header line");
  }
  const std::vector<std::string> header = SplitCsvLine(line);
  {
    std::set<std::string> seen;
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (header[c].empty() || !seen.insert(header[c]).second) {
        return DataError(io, args.input + ":1: column " + std::to_string(c + 1) +
                                 " has an empty or duplicate name");
      }
    }
  }
  // Data lines (blank lines are skipped), with their line numbers.
  std::vector<std::pair<std::size_t, std::vector<std::string>>> rows;
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (Trim(line).empty()) continue;
    std::vector<std::string> fields = SplitCsvLine(line);
    if (fields.size() != header.size()) {
      return DataError(io, args.input + ":" + std::to_string(number) + ": expected " +
                               std::to_string(header.size()) + " fields, got " +
                               std::to_string(fields.size()));
    }
    rows.emplace_back(number, std::move(fields));
  }
  if (in.bad()) return DataError(io, args.input + ": read failed");
  if (rows.empty()) return DataError(io, args.input + ": no data rows");

  // Feature selection: the named columns, or every column that is not an
  // identifier and holds a number in the first data row.
  std::vector<std::size_t> selected;
  if (!args.features.empty()) {
    std::vector<std::string> unknown;
    for (const std::string& raw : Split(args.features, ',')) {
      const std::string name(Trim(raw));
      auto it = std::find(header.begin(), header.end(), name);
      if (it == header.end()) {
        unknown.push_back("'" + name + "'");
      } else {
        selected.push_back(static_cast<std::size_t>(it - header.begin()));
      }
    }
    if (!unknown.empty()) {
      std::string list, columns;
      for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
      for (const auto& h : header) columns += (columns.empty() ? "" : ", ") + h;
      return UsageError(io, kCommand,
                        "--features: unknown column(s) " + list + " (columns: " + columns + ")");
    }
  } else {
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (kNonFeatureColumns.count(header[c])) continue;
      Result<double> v = ParseDouble(rows.front().second[c]);
      if (v.ok()) selected.push_back(c);
    }
    if (selected.empty()) return DataError(io, args.input + ": no numeric feature columns");
  }
  if (args.max_features > 1.0 && args.max_features > static_cast<double>(selected.size())) {
    return UsageError(io, kCommand,
                      "--max-features " + FormatDouble(args.max_features) + " exceeds the " +
                          std::to_string(selected.size()) + " selected features");
  }

  iforest::Matrix x;
  x.rows = rows.size();
  x.cols = selected.size();
  x.data.reserve(x.rows * x.cols);
  for (const auto& [number, fields] : rows) {
    for (std::size_t c : selected) {
      Result<double> v = ParseCell(args.input, number, c, header[c], fields[c]);
      if (!v.ok()) return DataError(io, v.status().message());
      x.data.push_back(*v);
    }
  }
  std::vector<std::string> names;
  for (std::size_t c : selected) names.push_back(header[c]);

  iforest::TrainOptions options;
  options.n_estimators = args.trees;
  options.max_samples = args.max_samples;
  options.max_features = args.max_features;
  options.contamination = args.contamination;
  options.seed = seed;
  options.threads = args.threads;
  options.standardize = !args.no_scaler;
  Result<iforest::Model> model = iforest::Train(x, std::move(names), options);
  if (!model.ok()) return ReportError(io, kCommand, model.status());

  std::size_t outliers = 0;
  {
    iforest::Scorer scorer(*model);
    for (std::size_t i = 0; i < x.rows; ++i) outliers += scorer.Predict(x.Row(i)) < 0;
  }
  const double outlier_fraction = static_cast<double>(outliers) / static_cast<double>(x.rows);
  model->card.source = args.input;
  model->card.created = FormatRfc3339(WallNowNs(), 0);
  model->card.metrics = "train_outlier_fraction=" + FormatDouble(outlier_fraction);
  Status saved = iforest::SaveModel(*model, args.out);
  if (!saved.ok()) return DataError(io, saved.message());
  io.out << "trained " << args.out << ": rows=" << x.rows << " features=" << x.cols
         << " trees=" << model->trees.size() << " offset=" << FormatDouble(model->offset)
         << " train_outlier_fraction=" << FormatDouble(outlier_fraction) << "\n";
  return kExitOk;
}

}  // namespace

void AddTrainCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* sub = root.add_subcommand(
      "train", "Fit a StandardScaler + Isolation Forest on a feature CSV and write a model file");
  sub->add_option("--input", args->input, "feature CSV with a header line")->required();
  sub->add_option("--features", args->features,
                  "comma-separated feature columns (default: every numeric column except "
                  "window_start, timestamp, machine_id, sensor_id)");
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
  sub->add_option("--out", args->out, "model file to write")->required();
  sub->callback([&io, &action, args] { action = [&io, args] { return RunTrain(*args, io); }; });
}

}  // namespace mh::app
