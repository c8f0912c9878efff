// machine-health score: batch scoring of a feature table.
//
//   machine-health score --model MODEL|FILE.joblib --input FILE.csv|FILE.parquet|URL
//       --out FILE|- [--features a,b,...]
//
// Input: a feature table, CSV (header line; dialect as docs/csv.md) or
// Parquet, or an http(s) URL of either, read by app/feature_table.h. The
// model's features are matched by name (a model without names uses
// feature_1..feature_N); --features maps them instead: its i-th name is the
// input column for the model's i-th feature. Output (CSV): the input's id
// columns when present (machine_id, sensor_id, timestamp, window_start, in
// input order), then score (decision_function), score_samples and anomaly (1
// where predict is -1, else 0). Doubles are written in the shortest form that
// reads back to the same bits. The output file is written to FILE.tmp and
// renamed when complete.
//
// Errors: an empty, non-numeric or non-finite feature cell names the file,
// the row (CSV: the line, for a cell that is not a number) and the column
// (exit 1); feature columns missing from the input are all listed (exit 1); a
// bad --features list is a usage error (exit 2).
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/feature_table.h"
#include "app/score_stream.h"
#include "core/strings.h"
#include "iforest/matrix.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_import.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "score";

const std::set<std::string, std::less<>> kIdColumns = {"machine_id", "sensor_id", "timestamp",
                                                       "window_start"};

struct ScoreArgs {
  std::string model;
  std::string input;
  std::string out;
  std::string features;
};

int DataError(CommandIo& io, const std::string& message) {
  io.err << "machine-health " << kCommand << ": " << message << "\n";
  return kExitFailure;
}

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

int RunScore(const ScoreArgs& args, CommandIo& io) {
  Result<iforest::Model> model = iforest::LoadAnyModel(args.model);
  if (!model.ok()) return DataError(io, model.status().message());
  const std::size_t d = model->feature_names.size();

  // The input column name for each model feature.
  std::vector<std::string> wanted = model->feature_names;
  if (!args.features.empty()) {
    wanted.clear();
    for (const std::string& raw : Split(args.features, ',')) wanted.emplace_back(TrimSpace(raw));
    if (wanted.size() != d) {
      return UsageError(io, kCommand,
                        "--features lists " + std::to_string(wanted.size()) +
                            " columns but the model has " + std::to_string(d) + " features (" +
                            JoinQuoted(model->feature_names) + ")");
    }
  }

  Result<FeatureTableFile> file = FeatureTableFile::Open(args.input);
  if (!file.ok()) return DataError(io, file.status().message());
  {
    std::vector<std::string> missing;
    for (const std::string& w : wanted) {
      if (file->Find(w) < 0) missing.push_back(w);
    }
    if (!missing.empty()) {
      std::vector<std::string> columns;
      for (const TableColumnInfo& c : file->columns()) columns.push_back(c.name);
      return DataError(io, file->name() + ": missing feature column(s) " + JoinQuoted(missing) +
                               " (model features: " + JoinQuoted(model->feature_names) +
                               "; input columns: " + JoinQuoted(columns) + ")");
    }
  }
  std::vector<std::string> id_names;
  for (const TableColumnInfo& c : file->columns()) {
    if (kIdColumns.count(c.name)) id_names.push_back(c.name);
  }
  Result<FeatureTable> table = file->Read(wanted, id_names);
  if (!table.ok()) return DataError(io, table.status().message());
  const iforest::Matrix& x = table->x;

  std::vector<double> ss(x.rows);
  iforest::Scorer scorer(*model);
  if (x.rows > 0) scorer.ScoreSamplesBatch(x, ss);

  std::ostringstream text;
  for (const std::string& name : id_names) text << name << ",";
  text << "score,score_samples,anomaly\n";
  for (std::size_t i = 0; i < x.rows; ++i) {
    if (!id_names.empty()) {
      for (const std::string& v : table->ids[i]) text << v << ",";
    }
    const double decision = ss[i] - scorer.offset();
    text << FormatDouble(decision) << "," << FormatDouble(ss[i]) << "," << (decision < 0.0 ? 1 : 0)
         << "\n";
  }
  if (args.out == "-") {
    io.out << text.str();
    io.out.flush();
    return kExitOk;
  }
  const std::string tmp = args.out + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return DataError(io, tmp + ": cannot create: " + std::strerror(errno));
    out << text.str();
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return DataError(io, tmp + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), args.out.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return DataError(io, args.out + ": cannot rename " + tmp + ": " + std::strerror(e));
  }
  io.err << "scored " << x.rows << " rows -> " << args.out << "\n";
  return kExitOk;
}

}  // namespace

void AddScoreCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<ScoreArgs>();
  auto stream = std::make_shared<ScoreStreamArgs>();
  CLI::App* sub = root.add_subcommand(
      "score",
      "Score a feature table (--input/--out) or a stream of events (--from/--to) with a model "
      "file or a scikit-learn .joblib");
  sub->add_option("--model", args->model, "model file or scikit-learn .joblib/.pkl")->required();
  CLI::Option* input = sub->add_option(
      "--input", args->input, "feature table: CSV with a header line, Parquet, or an http(s) URL");
  CLI::Option* out = sub->add_option("--out", args->out, "output CSV, or - for stdout");
  sub->add_option("--features", args->features,
                  "comma-separated input columns (or event keys) for the model's features, in "
                  "model order");
  AddScoreStreamOptions(*sub, *stream);
  sub->callback([&io, &action, args, stream, input, out] {
    action = [&io, args, stream, input, out] {
      if (!stream->from.empty()) {
        if (input->count() > 0 || out->count() > 0) {
          return UsageError(io, kCommand, "--from (streaming) excludes --input/--out (batch)");
        }
        return RunScoreStream(args->model, args->features, *stream, io);
      }
      if (input->count() == 0 || out->count() == 0) {
        return UsageError(io, kCommand,
                          "--input and --out are required (or --from to score a stream)");
      }
      return RunScore(*args, io);
    };
  });
}

}  // namespace mh::app
