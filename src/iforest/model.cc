#include "iforest/model.h"

#include <cmath>
#include <numbers>
#include <string>

#include "core/result.h"

namespace mh::iforest {

const char* FeatureGranularityName(FeatureGranularity granularity) {
  switch (granularity) {
    case FeatureGranularity::kPerSample:
      return "per-sample";
    case FeatureGranularity::kPerWindow:
      return "per-window";
    default:
      return "unknown";
  }
}

double AveragePathLength(double n) {
  if (n <= 1.0) return 0.0;
  if (n == 2.0) return 1.0;
  // Same operation order as sklearn so that scores agree to the last bit.
  return 2.0 * (std::log(n - 1.0) + std::numbers::egamma) - 2.0 * (n - 1.0) / n;
}

namespace {

Status TreeError(std::size_t t, std::size_t node, const std::string& what) {
  return Status::Corruption("tree " + std::to_string(t) + " node " + std::to_string(node) + ": " +
                            what);
}

Status ValidateTree(std::size_t t, std::size_t n_features, Tree& tree) {
  const std::size_t n = tree.left.size();
  if (n == 0) return Status::Corruption("tree " + std::to_string(t) + ": no nodes");
  if (tree.right.size() != n || tree.feature.size() != n || tree.threshold.size() != n ||
      tree.n_node_samples.size() != n) {
    return Status::Corruption("tree " + std::to_string(t) + ": node arrays differ in length");
  }
  // Children have larger indices than their parents and one parent each, so
  // walking nodes in index order assigns every depth before it is needed and
  // the structure is a tree rooted at node 0 (no cycles, nothing unreachable).
  tree.depth.assign(n, -1);
  tree.depth[0] = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (tree.depth[i] < 0) return TreeError(t, i, "unreachable from the root");
    const std::int32_t l = tree.left[i], r = tree.right[i];
    if (l == -1 && r == -1) {
      const double ns = tree.n_node_samples[i];
      if (!(ns >= 1.0 && ns <= 9007199254740992.0)) {
        return TreeError(t, i, "leaf sample count out of range");
      }
      continue;
    }
    for (std::int32_t c : {l, r}) {
      if (c < 0 || static_cast<std::size_t>(c) >= n) {
        return TreeError(t, i, "child index " + std::to_string(c) + " out of range");
      }
      if (static_cast<std::size_t>(c) <= i) {
        return TreeError(t, i, "child index " + std::to_string(c) + " not after its parent");
      }
      if (tree.depth[c] >= 0) {
        return TreeError(t, i, "node " + std::to_string(c) + " has two parents");
      }
      tree.depth[c] = tree.depth[i] + 1;
    }
    if (tree.feature[i] < 0 || static_cast<std::size_t>(tree.feature[i]) >= n_features) {
      return TreeError(t, i, "feature index " + std::to_string(tree.feature[i]) + " out of range");
    }
    if (std::isnan(tree.threshold[i])) return TreeError(t, i, "threshold is nan");
  }
  return Status::OK();
}

}  // namespace

Status ValidateModel(Model& model) {
  const std::size_t d = model.feature_names.size();
  if (d == 0) return Status::Corruption("model has no features");
  if (model.has_scaler) {
    if (model.scaler.mean.size() != d || model.scaler.scale.size() != d) {
      return Status::Corruption("scaler size differs from the feature count");
    }
    for (std::size_t j = 0; j < d; ++j) {
      if (!std::isfinite(model.scaler.mean[j]) || !std::isfinite(model.scaler.scale[j]) ||
          model.scaler.scale[j] == 0.0) {
        return Status::Corruption("scaler entry " + std::to_string(j) + " is not usable");
      }
    }
  }
  if (model.max_samples < 1) return Status::Corruption("max_samples < 1");
  if (!std::isfinite(model.offset)) return Status::Corruption("offset is not finite");
  if (model.has_threshold && !std::isfinite(model.threshold)) {
    return Status::Corruption("threshold is not finite");
  }
  if (static_cast<std::uint8_t>(model.granularity) > 2) {
    return Status::Corruption("unknown feature granularity");
  }
  if (model.trees.empty()) return Status::Corruption("model has no trees");
  if (!model.tree_features.empty() && model.tree_features.size() != model.trees.size()) {
    return Status::Corruption("tree feature subsets differ in number from the trees");
  }
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    std::size_t n_features = d;
    if (!model.tree_features.empty() && !model.tree_features[t].empty()) {
      const auto& subset = model.tree_features[t];
      if (subset.size() > d) {
        return Status::Corruption("tree " + std::to_string(t) + ": feature subset too large");
      }
      for (std::int32_t f : subset) {
        if (f < 0 || static_cast<std::size_t>(f) >= d) {
          return Status::Corruption("tree " + std::to_string(t) + ": subset feature index " +
                                    std::to_string(f) + " out of range");
        }
      }
      n_features = subset.size();
    }
    MH_RETURN_IF_ERROR(ValidateTree(t, n_features, model.trees[t]));
  }
  return Status::OK();
}

}  // namespace mh::iforest
