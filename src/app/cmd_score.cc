// machine-health score: batch scoring of a feature table.
//
//   machine-health score --model MODEL|FILE.joblib --input FILE.csv --out FILE|-
//       [--features a,b,...]
//
// Input: a CSV with a header line and comma-separated fields (no quoting).
// The model's features are matched by name (a model without names uses
// feature_1..feature_N); --features maps them instead: its i-th name is the
// input column for the model's i-th feature. Output (CSV): the input's id
// columns when present (machine_id, sensor_id, timestamp, window_start, in
// input order), then score (decision_function), score_samples and anomaly (1
// where predict is -1, else 0). Doubles are written in the shortest form that
// reads back to the same bits. The output file is written to FILE.tmp and
// renamed when complete.
//
// Errors: an empty, non-numeric or non-finite feature cell names the file,
// line, row and column (exit 1); feature columns missing from the input are
// all listed (exit 1); a bad --features list is a usage error (exit 2).
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

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields = Split(line, ',');
  for (std::string& f : fields) f = std::string(Trim(f));
  return fields;
}

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
    for (const std::string& raw : Split(args.features, ',')) wanted.emplace_back(Trim(raw));
    if (wanted.size() != d) {
      return UsageError(io, kCommand,
                        "--features lists " + std::to_string(wanted.size()) +
                            " columns but the model has " + std::to_string(d) + " features (" +
                            JoinQuoted(model->feature_names) + ")");
    }
  }

  std::ifstream in(args.input, std::ios::binary);
  if (!in) return DataError(io, args.input + ": cannot open: " + std::strerror(errno));
  std::string line;
  if (!std::getline(in, line) || Trim(line).empty()) {
    return DataError(io, args.input + ":1: missing header line");
  }
  const std::vector<std::string> header = SplitCsvLine(line);
  std::vector<std::size_t> feature_col(d);
  {
    std::vector<std::string> missing;
    for (std::size_t j = 0; j < d; ++j) {
      std::size_t found = header.size();
      for (std::size_t c = 0; c < header.size(); ++c) {
        if (header[c] == wanted[j]) {
          if (found != header.size()) {
            return DataError(io, args.input + ":1: column '" + wanted[j] + "' appears twice");
          }
          found = c;
        }
      }
      if (found == header.size()) missing.push_back(wanted[j]);
      feature_col[j] = found;
    }
    if (!missing.empty()) {
      return DataError(io, args.input + ": missing feature column(s) " + JoinQuoted(missing) +
                               " (model features: " + JoinQuoted(model->feature_names) +
                               "; input columns: " + JoinQuoted(header) + ")");
    }
  }
  std::vector<std::size_t> id_cols;
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (kIdColumns.count(header[c])) id_cols.push_back(c);
  }

  iforest::Matrix x;
  x.cols = d;
  std::vector<std::vector<std::string>> ids;
  std::size_t row = 0;
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (Trim(line).empty()) continue;
    ++row;
    std::vector<std::string> fields = SplitCsvLine(line);
    const std::string where =
        args.input + ":" + std::to_string(number) + ": row " + std::to_string(row);
    if (fields.size() != header.size()) {
      return DataError(io, where + ": expected " + std::to_string(header.size()) + " fields, got " +
                               std::to_string(fields.size()));
    }
    for (std::size_t j = 0; j < d; ++j) {
      const std::string& cell = fields[feature_col[j]];
      const std::string col = ", column '" + header[feature_col[j]] + "'";
      if (cell.empty()) return DataError(io, where + col + ": missing value");
      Result<double> v = ParseDouble(cell);
      if (!v.ok()) return DataError(io, where + col + ": not a number: '" + cell + "'");
      if (!std::isfinite(*v)) return DataError(io, where + col + ": not finite: '" + cell + "'");
      x.data.push_back(*v);
    }
    std::vector<std::string> id;
    for (std::size_t c : id_cols) id.push_back(fields[c]);
    ids.push_back(std::move(id));
  }
  if (in.bad()) return DataError(io, args.input + ": read failed");
  x.rows = row;

  std::vector<double> ss(x.rows);
  iforest::Scorer scorer(*model);
  if (x.rows > 0) scorer.ScoreSamplesBatch(x, ss);

  std::ostringstream text;
  for (std::size_t c : id_cols) text << header[c] << ",";
  text << "score,score_samples,anomaly\n";
  for (std::size_t i = 0; i < x.rows; ++i) {
    for (const std::string& v : ids[i]) text << v << ",";
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
  CLI::App* sub = root.add_subcommand(
      "score", "Score a feature CSV with a model file or a scikit-learn .joblib");
  sub->add_option("--model", args->model, "model file or scikit-learn .joblib/.pkl")->required();
  sub->add_option("--input", args->input, "feature CSV with a header line")->required();
  sub->add_option("--out", args->out, "output CSV, or - for stdout")->required();
  sub->add_option("--features", args->features,
                  "comma-separated input columns for the model's features, in model order");
  sub->callback([&io, &action, args] { action = [&io, args] { return RunScore(*args, io); }; });
}

}  // namespace mh::app
