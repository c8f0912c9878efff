// machine-health train: fits a StandardScaler + Isolation Forest on a feature
// table and writes a model file (iforest/model_io.h).
//
//   machine-health train --input FILE.csv|FILE.parquet|FOLDER|GLOB|URL [--features a,b,c]
//       [--trees 100] [--max-samples auto] [--max-features 1.0] [--contamination auto]
//       [--seed 42] [--threads N] [--no-scaler] [--granularity window|sample]
//       [--keep-going] --out model.mhm
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
#include <charconv>
#include <cmath>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/feature_table.h"
#include "app/progress_option.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/train.h"
#include "replay/input_files.h"
#include "replay/table_file.h"

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
  bool keep_going = false;        // folder/glob: skip a failing file, exit 1 at the end
  std::string progress = "auto";  // --progress
};

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
    if (status.ok()) {
      Result<FeatureTable> read = other->Read(names, {});
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
  Result<iforest::Model> model = iforest::Train(x, std::move(names), options);
  if (!model.ok()) return ReportError(io, kCommand, model.status());
  model->granularity = granularity;

  std::size_t outliers = 0;
  {
    iforest::Scorer scorer(*model);
    for (std::size_t i = 0; i < x.rows; ++i) outliers += scorer.Predict(x.Row(i)) < 0;
  }
  const double outlier_fraction = static_cast<double>(outliers) / static_cast<double>(x.rows);
  model->card.source = replay::RedactUrl(args.input);  // a URL without its query (a secret)
  model->card.created = FormatRfc3339(WallNowNs(), 0);
  model->card.metrics = "train_outlier_fraction=" + FormatDouble(outlier_fraction);
  Status saved = iforest::SaveModel(*model, args.out);
  if (!saved.ok()) return DataError(io, saved.message());
  io.out << "trained " << args.out << ": rows=" << x.rows << " features=" << x.cols
         << " trees=" << model->trees.size() << " offset=" << FormatDouble(model->offset)
         << " train_outlier_fraction=" << FormatDouble(outlier_fraction) << "\n";
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
  AddProgressOption(*sub, &args->progress);
  sub->callback([&io, &action, args] { action = [&io, args] { return RunTrain(*args, io); }; });
}

}  // namespace mh::app
