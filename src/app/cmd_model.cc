// machine-health model: model artifacts.
//
//   machine-health model import FILE.joblib --out MODEL
//       Imports a scikit-learn model (pickle/joblib; read by the safe pickle
//       reader, nothing is executed) into a machine-health model file.
//   machine-health model info MODEL|FILE.joblib [--json]
//       Prints the model card, the feature contract, the parameters, the
//       offset and threshold and the tree count.
//
// Exit codes: 0 ok, 1 unreadable/refused/corrupt model or write failure,
// 2 usage error.
#include <algorithm>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/command.h"
#include "blob/model_source.h"
#include "core/compression.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "iforest/model_io.h"
#include "iforest/pickle_reader.h"
#include "iforest/sklearn_import.h"

namespace mh::app {
namespace {

struct ModelArgs {
  std::string input;
  std::string out;
  bool json = false;
};

int Fail(CommandIo& io, const std::string& command, const Status& status) {
  return ReportError(io, command, status);
}

// "machine-health model file", "scikit-learn pickle" (or compressed joblib)
// or "unknown" by content.
std::string FormatOf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[12] = {};
  in.read(head, sizeof(head));
  if (in.gcount() >= 12 && std::string_view(head, 8) == "MHIFORST") {
    const unsigned version =
        static_cast<unsigned char>(head[8]) | (static_cast<unsigned char>(head[9]) << 8);
    return "machine-health model file, version " + std::to_string(version);
  }
  if (in.gcount() >= 2 && static_cast<unsigned char>(head[0]) == 0x80) {
    return "scikit-learn pickle/joblib (protocol " +
           std::to_string(static_cast<unsigned char>(head[1])) + ")";
  }
  const std::string_view read(head, static_cast<std::size_t>(in.gcount()));
  if (iforest::LooksLikePickle(read)) {
    const Compression c = DetectCompression(read);
    return "scikit-learn joblib, " +
           std::string(c == Compression::kNone ? "zlib (joblib ZF container)"
                                               : CompressionName(c)) +
           "-compressed";
  }
  return "unknown";
}

int RunImport(const ModelArgs& args, CommandIo& io) {
  const std::string command = "model import";
  Result<iforest::Model> model = iforest::ImportSklearnFile(args.input);
  if (!model.ok()) return Fail(io, command, model.status());
  model->card.created = FormatRfc3339(WallNowNs(), 0);
  if (model->card.metrics.empty()) model->card.metrics = "imported_from=scikit-learn";
  Status saved = iforest::SaveModel(*model, args.out);
  if (!saved.ok()) return Fail(io, command, saved);
  io.out << "imported " << args.input << " -> " << args.out
         << ": features=" << model->feature_names.size() << " trees=" << model->trees.size()
         << " scaler=" << (model->has_scaler ? "yes" : "no")
         << " offset=" << FormatDouble(model->offset) << "\n";
  return kExitOk;
}

int RunInfo(const ModelArgs& args, CommandIo& io) {
  const std::string command = "model info";
  Result<iforest::Model> loaded = blob::LoadModelSource(args.input);
  if (!loaded.ok()) return Fail(io, command, loaded.status());
  const iforest::Model& m = *loaded;
  std::size_t nodes = 0;
  int max_depth = 0;
  for (const iforest::Tree& t : m.trees) {
    nodes += t.size();
    for (std::int32_t d : t.depth) max_depth = std::max(max_depth, static_cast<int>(d));
  }
  const char* granularity = iforest::FeatureGranularityName(m.granularity);
  if (args.json) {
    nlohmann::json j;
    j["path"] = args.input;
    j["format"] = FormatOf(args.input);
    j["card"] = {{"source", m.card.source}, {"rows", m.card.rows},     {"created", m.card.created},
                 {"seed", m.card.seed},     {"params", m.card.params}, {"metrics", m.card.metrics}};
    j["features"] = m.feature_names;
    j["feature_granularity"] = granularity;
    j["scaler"] = m.has_scaler;
    if (m.has_scaler) {
      j["scaler_mean"] = m.scaler.mean;
      j["scaler_scale"] = m.scaler.scale;
    }
    j["trees"] = m.trees.size();
    j["nodes"] = nodes;
    j["max_depth"] = max_depth;
    j["feature_subsets"] = !m.tree_features.empty();
    j["max_samples"] = m.max_samples;
    j["offset"] = m.offset;
    j["threshold"] = m.has_threshold ? nlohmann::json(m.threshold) : nlohmann::json(nullptr);
    io.out << j.dump(2) << "\n";
    return kExitOk;
  }
  std::string names;
  for (const auto& n : m.feature_names) names += (names.empty() ? "" : ", ") + n;
  io.out << "model:       " << args.input << "\n"
         << "format:      " << FormatOf(args.input) << "\n"
         << "source:      " << m.card.source << "\n"
         << "rows:        " << m.card.rows << "\n"
         << "created:     " << m.card.created << "\n"
         << "seed:        " << m.card.seed << "\n"
         << "params:      " << m.card.params << "\n"
         << "metrics:     " << m.card.metrics << "\n"
         << "features:    " << m.feature_names.size() << " (" << granularity << "): " << names
         << "\n"
         << "scaler:      " << (m.has_scaler ? "StandardScaler" : "none") << "\n"
         << "trees:       " << m.trees.size() << " (" << nodes << " nodes, max depth " << max_depth
         << (m.tree_features.empty() ? "" : ", per-tree feature subsets") << ")\n"
         << "max_samples: " << m.max_samples << "\n"
         << "offset:      " << FormatDouble(m.offset)
         << " (decision_function = score_samples - offset; anomaly iff < 0)\n"
         << "threshold:   "
         << (m.has_threshold ? FormatDouble(m.threshold) + " (on -score_samples)" : "none") << "\n";
  return kExitOk;
}

}  // namespace

void AddModelCommand(CLI::App& root, CommandIo& io, Action& action) {
  CLI::App* sub = root.add_subcommand("model", "Import and inspect model files");
  sub->require_subcommand(1);

  auto import_args = std::make_shared<ModelArgs>();
  CLI::App* imp = sub->add_subcommand(
      "import", "Import a scikit-learn .joblib/.pkl model (never executed) into a model file");
  imp->add_option("file", import_args->input, "scikit-learn pickle or joblib file")->required();
  imp->add_option("--out", import_args->out, "model file to write")->required();
  imp->callback([&io, &action, import_args] {
    action = [&io, import_args] { return RunImport(*import_args, io); };
  });

  auto info_args = std::make_shared<ModelArgs>();
  CLI::App* info = sub->add_subcommand(
      "info", "Show a model's card, feature contract, parameters, offset and threshold");
  info->add_option("model", info_args->input, "model file or scikit-learn .joblib/.pkl")
      ->required();
  info->add_flag("--json", info_args->json, "print JSON instead of text");
  info->callback(
      [&io, &action, info_args] { action = [&io, info_args] { return RunInfo(*info_args, io); }; });
}

}  // namespace mh::app
