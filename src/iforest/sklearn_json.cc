#include "iforest/sklearn_json.h"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace mh::iforest {
namespace {

using nlohmann::json;

// Reads key `key` of object `obj` into `out`; the JSON library reports type
// mismatches with exceptions, which stop here.
template <typename T>
Status Get(const json& obj, const char* key, T& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Corruption(std::string("missing key '") + key + "'");
  try {
    out = it->get<T>();
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("key '") + key + "' has the wrong type");
  }
  return Status::OK();
}

}  // namespace

Result<Model> ModelFromSklearnJson(std::string_view json_text) {
  json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return Status::Corruption("sklearn json: not a json object");
  }
  Model m;
  Status s = Get(root, "feature_names", m.feature_names);
  if (s.ok()) s = Get(root, "max_samples", m.max_samples);
  if (s.ok()) s = Get(root, "offset", m.offset);
  if (s.ok()) s = Get(root, "estimators_features", m.tree_features);
  if (!s.ok()) return s.WithContext("sklearn json");
  auto scaler = root.find("scaler");
  if (scaler != root.end() && !scaler->is_null()) {
    m.has_scaler = true;
    s = Get(*scaler, "mean", m.scaler.mean);
    if (s.ok()) s = Get(*scaler, "scale", m.scaler.scale);
    if (!s.ok()) return s.WithContext("sklearn json: scaler");
  }
  auto trees = root.find("trees");
  if (trees == root.end() || !trees->is_array()) {
    return Status::Corruption("sklearn json: missing array 'trees'");
  }
  for (std::size_t t = 0; t < trees->size(); ++t) {
    const json& jt = (*trees)[t];
    if (!jt.is_object()) return Status::Corruption("sklearn json: tree is not an object");
    Tree tree;
    s = Get(jt, "children_left", tree.left);
    if (s.ok()) s = Get(jt, "children_right", tree.right);
    if (s.ok()) s = Get(jt, "feature", tree.feature);
    if (s.ok()) s = Get(jt, "threshold", tree.threshold);
    if (s.ok()) s = Get(jt, "n_node_samples", tree.n_node_samples);
    if (!s.ok()) return s.WithContext("sklearn json: tree " + std::to_string(t));
    m.trees.push_back(std::move(tree));
  }
  bool any_subset = false;
  for (const auto& f : m.tree_features) any_subset = any_subset || !f.empty();
  if (!any_subset) m.tree_features.clear();
  s = ValidateModel(m);
  if (!s.ok()) return s.WithContext("sklearn json");
  return m;
}

}  // namespace mh::iforest
