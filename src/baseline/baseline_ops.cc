#include "baseline/baseline_ops.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "blob/model_source.h"
#include "core/time_util.h"
#include "features/feature_stage.h"
#include "iforest/sklearn_import.h"
#include "sink/sqlite/sqlite_reader.h"

namespace mh::baseline {
namespace {

using nlohmann::json;

json Number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json Time(std::int64_t ns) { return ns == 0 ? json(nullptr) : json(FormatRfc3339(ns, 3)); }

// The model features a retrain uses (see Retrain).
Result<std::vector<std::string>> ModelFeatures(sink::BaselineStore& store,
                                               const std::string& machine,
                                               const std::vector<std::string>& stored) {
  MH_ASSIGN_OR_RETURN(auto active, store.LoadActive(machine));
  if (active != nullptr) return active->model->feature_names;
  MH_ASSIGN_OR_RETURN(std::vector<sink::BaselineInfo> versions, store.List(machine));
  if (!versions.empty()) return versions.back().feature_names;
  return features::DefaultModelFeatures(stored);
}

// The machine's stored feature names; NotFound naming the machine if it has
// no stored window.
Result<std::vector<std::string>> StoredFeatureNames(const std::string& db_path,
                                                    const std::string& machine) {
  MH_ASSIGN_OR_RETURN(auto reader, sink::SqliteReader::Open(db_path));
  auto names = reader->FeatureNames(machine);
  if (names.status().IsNotFound() || (names.ok() && names->empty())) {
    return Status::NotFound(db_path + ": machine '" + machine + "' has no stored windows");
  }
  return names;
}

}  // namespace

Result<sink::StoredBaseline> Retrain(sink::BaselineStore& store, const std::string& db_path,
                                     const std::string& machine, const RetrainOptions& options) {
  if (options.from_ns >= options.to_ns) {
    return Status::InvalidArgument("retrain: from (" + FormatRfc3339(options.from_ns, 3) +
                                   ") is not before to (" + FormatRfc3339(options.to_ns, 3) + ")");
  }
  MH_ASSIGN_OR_RETURN(std::vector<std::string> stored, StoredFeatureNames(db_path, machine));
  MH_ASSIGN_OR_RETURN(std::vector<std::string> model_names, ModelFeatures(store, machine, stored));
  // The stored features the model features come from, each once.
  std::vector<std::string> raw;
  std::string missing;
  for (const std::string& name : model_names) {
    auto source = features::ResolveModelFeature(name, stored);
    if (!source.ok()) {
      missing += (missing.empty() ? "" : ", ") + name;
      continue;
    }
    const std::string& from = stored[source->index];
    if (std::find(raw.begin(), raw.end(), from) == raw.end()) raw.push_back(from);
  }
  if (!missing.empty()) {
    return Status::InvalidArgument("retrain: machine '" + machine +
                                   "': model features not stored: " + missing);
  }
  std::vector<features::ModelFeatureSource> sources;
  for (const std::string& name : model_names) {
    MH_ASSIGN_OR_RETURN(features::ModelFeatureSource s, features::ResolveModelFeature(name, raw));
    sources.push_back(s);
  }
  // The stored envelope amplitudes (a machine with a bearing and a shaft
  // speed): their statistics go with the baseline for the alarm
  // explanation's bearing evidence, as the pipeline's learning keeps them.
  std::vector<std::string> explain_names;
  const std::size_t first_explain = raw.size();
  for (const std::string& name : stored) {
    if (!features::IsEnvelopeFeature(name)) continue;
    if (std::find(model_names.begin(), model_names.end(), name) != model_names.end()) continue;
    if (std::find(raw.begin(), raw.end(), name) != raw.end()) continue;
    explain_names.push_back(name);
    raw.push_back(name);
  }
  const std::int64_t latest =
      options.has_from ? 0 : static_cast<std::int64_t>(options.learn.learning_windows);
  MH_ASSIGN_OR_RETURN(
      sink::StoredWindows windows,
      sink::ReadStoredWindows(db_path, machine, raw, options.from_ns, options.to_ns, latest));
  if (windows.skipped > 0 && !explain_names.empty()) {
    // Some windows lack the envelope features (stored before the machine
    // had a bearing): train on every window with the model features, and
    // keep no bearing statistics rather than a partial picture.
    raw.resize(first_explain);
    explain_names.clear();
    MH_ASSIGN_OR_RETURN(windows, sink::ReadStoredWindows(db_path, machine, raw, options.from_ns,
                                                         options.to_ns, latest));
  }

  score::LearnOptions learn = options.learn;
  learn.learning_windows = 0;  // fitted below, from every row
  score::MachineScorer scorer(machine, model_names, learn);
  scorer.SetExplainFeatures(explain_names);
  std::vector<double> row(model_names.size());
  const std::size_t d = raw.size();
  std::size_t used = 0;
  for (std::size_t i = 0; i < windows.t_ns.size(); ++i) {
    std::span<const double> values(windows.values.data() + i * d, d);
    bool finite = true;
    for (std::size_t j = 0; j < sources.size(); ++j) {
      row[j] = features::ModelFeatureValue(sources[j], values);
      finite = finite && std::isfinite(row[j]);
    }
    if (!finite) continue;
    MH_RETURN_IF_ERROR(
        scorer.Observe(row, windows.t_ns[i], values.subspan(first_explain, explain_names.size()))
            .status());
    ++used;
  }
  if (used == 0) {
    return Status::InvalidArgument("retrain: machine '" + machine +
                                   "' has no usable stored window in the range");
  }
  MH_RETURN_IF_ERROR(scorer.FinishLearning());
  score::Baseline b = *scorer.baseline();
  b.version = 0;  // the store numbers it
  MH_ASSIGN_OR_RETURN(std::int64_t version, store.Save(b));
  return store.Get(machine, version);
}

Result<sink::StoredBaseline> Assign(sink::BaselineStore& store, const std::string& db_path,
                                    const std::string& machine, const std::string& model_path) {
  if (machine.empty()) return Status::InvalidArgument("assign: empty machine id");
  MH_ASSIGN_OR_RETURN(iforest::Model model, blob::LoadModelSource(model_path));
  auto stored = StoredFeatureNames(db_path, machine);
  if (stored.ok()) {
    std::string missing;
    for (const std::string& name : model.feature_names) {
      if (!features::ResolveModelFeature(name, *stored).ok()) {
        missing += (missing.empty() ? "" : ", ") + name;
      }
    }
    if (!missing.empty()) {
      return Status::InvalidArgument(model_path + ": model features not computed for machine '" +
                                     machine + "': " + missing);
    }
  } else if (!stored.status().IsNotFound()) {
    return stored.status();
  }
  score::Baseline b;
  b.machine_id = machine;
  b.version = 0;
  b.rule.rule = score::ThresholdRule::kAuto;
  b.threshold = 0;  // contamination "auto": decision_function < 0
  b.rows = model.card.rows;
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(model_path, ec);
  b.origin = ec ? model_path : absolute.lexically_normal().string();
  b.model = std::make_shared<const iforest::Model>(std::move(model));
  MH_ASSIGN_OR_RETURN(std::int64_t version, store.Save(b));
  return store.Get(machine, version);
}

json BaselineInfoJson(const sink::BaselineInfo& i) {
  return json{{"machine", i.machine_id},
              {"version", i.version},
              {"active", i.active},
              {"created", Time(i.created_ns)},
              {"origin", i.origin},
              {"threshold", Number(i.threshold)},
              {"rule", score::DescribeThreshold(i.rule)},
              {"threshold_rule",
               {{"name", score::ThresholdRuleName(i.rule.rule)},
                {"q", i.rule.q},
                {"margin", i.rule.margin},
                {"z", i.rule.z}}},
              {"card",
               {{"trained_from", Time(i.trained_from_ns)},
                {"trained_to", Time(i.trained_to_ns)},
                {"rows", i.rows},
                {"features", i.feature_names}}}};
}

json StoredBaselineJson(const sink::StoredBaseline& s) {
  json j = BaselineInfoJson(s.info);
  json stats = json::array();
  const score::FeatureStats& st = s.baseline->stats;
  for (std::size_t k = 0; k < st.names.size(); ++k) {
    stats.push_back({{"feature", st.names[k]},
                     {"mean", Number(st.mean[k])},
                     {"std", Number(st.std[k])},
                     {"min", Number(st.min[k])},
                     {"max", Number(st.max[k])}});
  }
  j["stats"] = std::move(stats);
  const iforest::Model& m = *s.baseline->model;
  j["model"] = {{"trees", m.trees.size()},
                {"max_samples", m.max_samples},
                {"offset", Number(m.offset)},
                {"scaler", m.has_scaler},
                {"source", m.card.source}};
  return j;
}

}  // namespace mh::baseline
