#include "iforest/scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "core/check.h"

namespace mh::iforest {
namespace {

// The largest float <= t: for every float x, x <= FloatAtOrBelow(t) exactly
// when (double)x <= t.
float FloatAtOrBelow(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

// A leaf's contribution; sklearn adds (nodes on the path = depth + 1) + c(n)
// - 1.0 per tree: keep its rounding order.
double LeafValue(const Tree& tree, std::int32_t i) {
  return (static_cast<double>(tree.depth[i] + 1) + AveragePathLength(tree.n_node_samples[i])) - 1.0;
}

}  // namespace

Status CheckRow(const Model& model, std::span<const double> row) {
  if (row.size() != model.feature_names.size()) {
    return Status::InvalidArgument("row has " + std::to_string(row.size()) +
                                   " values, the model expects " +
                                   std::to_string(model.feature_names.size()));
  }
  for (std::size_t j = 0; j < row.size(); ++j) {
    if (!std::isfinite(row[j])) {
      return Status::InvalidArgument("column " + std::to_string(j) + " (" + model.feature_names[j] +
                                     ") is " + (std::isnan(row[j]) ? "nan" : "infinite"));
    }
  }
  return Status::OK();
}

Scorer::Scorer(const Model& model)
    : num_features_(model.feature_names.size()),
      has_scaler_(model.has_scaler),
      mean_(model.scaler.mean.data()),
      scale_(model.scaler.scale.data()),
      offset_(model.offset),
      scratch_(model.feature_names.size()) {
  MH_CHECK(!model.trees.empty());
  MH_CHECK(!has_scaler_ || (model.scaler.mean.size() == num_features_ &&
                            model.scaler.scale.size() == num_features_));
  // sklearn: len(estimators_) * _average_path_length([max_samples_]).
  denominator_ = static_cast<double>(model.trees.size()) *
                 AveragePathLength(static_cast<double>(model.max_samples));
  std::size_t total = 0;
  for (const Tree& tree : model.trees) total += tree.size();
  nodes_.reserve(total);
  roots_.reserve(model.trees.size());
  std::vector<std::int32_t> order;  // breadth-first: new index -> tree node
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    const Tree& tree = model.trees[t];
    MH_CHECK(tree.depth.size() == tree.size());
    const std::vector<std::int32_t>* subset =
        (model.tree_features.empty() || model.tree_features[t].empty()) ? nullptr
                                                                        : &model.tree_features[t];
    const auto base = static_cast<std::int32_t>(nodes_.size());
    roots_.push_back(base);
    // Breadth-first renumbering puts the two children of a node next to each
    // other, so a node needs only one child index.
    order.assign(1, 0);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::int32_t i = order[k];
      Node node{};
      if (tree.left[i] < 0) {
        node.value = LeafValue(tree, i);
        node.feature = -1;
        node.left = -1;
      } else {
        node.value = tree.threshold[i];
        // Map the tree-local feature to the model's column once, here, so
        // scoring needs no per-tree gather.
        node.feature = subset ? (*subset)[tree.feature[i]] : tree.feature[i];
        MH_CHECK(node.feature >= 0 && static_cast<std::size_t>(node.feature) < num_features_);
        node.left = base + static_cast<std::int32_t>(order.size());
        order.push_back(tree.left[i]);
        order.push_back(tree.right[i]);
      }
      nodes_.push_back(node);
    }
    MH_CHECK(order.size() == tree.size());
  }
  scratch_.resize(kBlock * num_features_);
  depths_.resize(kBlock);
  perfect_ = BuildPerfect(model);
}

bool Scorer::BuildPerfect(const Model& model) {
  std::size_t total = 0;
  std::vector<int> depth(model.trees.size(), 0);
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    for (std::int32_t d : model.trees[t].depth) depth[t] = std::max(depth[t], static_cast<int>(d));
    if (depth[t] > kMaxPerfectDepth) return false;
    total += std::size_t{1} << depth[t];
    if (total > kMaxPerfectNodes) return false;
  }
  pnodes_.reserve(total);
  pleaves_.reserve(total);
  ptrees_.reserve(model.trees.size());
  struct Step {
    std::int32_t src;
    std::size_t dst;
    int level;
  };
  std::vector<Step> stack;
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    const Tree& tree = model.trees[t];
    const std::vector<std::int32_t>* subset =
        (model.tree_features.empty() || model.tree_features[t].empty()) ? nullptr
                                                                        : &model.tree_features[t];
    const int d = depth[t];
    const std::size_t internal = (std::size_t{1} << d) - 1;
    const PerfectTree pt{pnodes_.size(), pleaves_.size(), d};
    pnodes_.resize(pnodes_.size() + internal, PerfectNode{0.0f, 0});
    pleaves_.resize(pleaves_.size() + internal + 1, 0.0);
    stack.assign(1, Step{0, 0, 0});
    while (!stack.empty()) {
      const Step step = stack.back();
      stack.pop_back();
      const std::int32_t i = step.src;
      if (step.level == d) {
        MH_CHECK(tree.left[i] < 0);
        pleaves_[pt.leaves + step.dst - internal] = LeafValue(tree, i);
        continue;
      }
      if (tree.left[i] < 0) {
        // A leaf above depth d: both subtrees lead to it, whatever the row.
        stack.push_back(Step{i, 2 * step.dst + 1, step.level + 1});
        stack.push_back(Step{i, 2 * step.dst + 2, step.level + 1});
        continue;
      }
      PerfectNode& node = pnodes_[pt.nodes + step.dst];
      node.threshold = FloatAtOrBelow(tree.threshold[i]);
      node.feature = subset ? (*subset)[tree.feature[i]] : tree.feature[i];
      MH_CHECK(node.feature >= 0 && static_cast<std::size_t>(node.feature) < num_features_);
      stack.push_back(Step{tree.left[i], 2 * step.dst + 1, step.level + 1});
      stack.push_back(Step{tree.right[i], 2 * step.dst + 2, step.level + 1});
    }
    ptrees_.push_back(pt);
  }
  return true;
}

double Scorer::PerfectPathLengthSum(const float* x) const {
  double depths = 0.0;
  for (const PerfectTree& pt : ptrees_) {
    const PerfectNode* nodes = pnodes_.data() + pt.nodes;
    std::size_t i = 0;
    for (int level = 0; level < pt.depth; ++level) {
      const PerfectNode& n = nodes[i];
      i = 2 * i + 1 + static_cast<std::size_t>(!(x[n.feature] <= n.threshold));
    }
    depths += pleaves_[pt.leaves + i - ((std::size_t{1} << pt.depth) - 1)];
  }
  return depths;
}

void Scorer::ScaleRow(std::span<const double> row, float* dst) const {
  if (has_scaler_) {
    // StandardScaler.transform works in float64; the trees then see float32.
    for (std::size_t j = 0; j < num_features_; ++j) {
      dst[j] = static_cast<float>((row[j] - mean_[j]) / scale_[j]);
    }
  } else {
    for (std::size_t j = 0; j < num_features_; ++j) dst[j] = static_cast<float>(row[j]);
  }
}

double Scorer::PathLengthSum(const float* x) const {
  const Node* nodes = nodes_.data();
  double depths = 0.0;
  for (std::int32_t root : roots_) {
    const Node* node = nodes + root;
    while (node->feature >= 0) {
      // Compare as sklearn does: float32 input promoted to double.
      node = nodes + node->left + (static_cast<double>(x[node->feature]) <= node->value ? 0 : 1);
    }
    depths += node->value;
  }
  return depths;
}

double Scorer::ScoreFromDepths(double depths) const {
  const double ratio = denominator_ != 0.0 ? depths / denominator_ : 1.0;
  return -std::pow(2.0, -ratio);
}

double Scorer::ScoreSamples(std::span<const double> row) {
  MH_CHECK(row.size() == num_features_);
  ScaleRow(row, scratch_.data());
  return ScoreFromDepths(perfect_ ? PerfectPathLengthSum(scratch_.data())
                                  : PathLengthSum(scratch_.data()));
}

double Scorer::DecisionFunction(std::span<const double> row) { return ScoreSamples(row) - offset_; }

int Scorer::Predict(std::span<const double> row) { return DecisionFunction(row) < 0.0 ? -1 : 1; }

void Scorer::ScoreSamplesBatch(const Matrix& x, std::span<double> out) {
  MH_CHECK(x.cols == num_features_ && out.size() == x.rows && x.data.size() == x.rows * x.cols);
  const Node* nodes = nodes_.data();
  const std::size_t d = num_features_;
  for (std::size_t begin = 0; begin < x.rows; begin += kBlock) {
    const std::size_t n = std::min(kBlock, x.rows - begin);
    for (std::size_t r = 0; r < n; ++r) {
      ScaleRow(x.Row(begin + r), scratch_.data() + r * d);
      depths_[r] = 0.0;
    }
    // Tree-major within the block, kLanes rows walking each tree in lockstep
    // so that their independent node loads overlap. Each row still sums its
    // trees in order, so results equal ScoreSamples bit for bit.
    constexpr std::size_t kLanes = 8;
    if (perfect_) {
      // Level-major: all rows of the block take one step down the tree, then
      // the next; the steps of different rows are independent, so the loads
      // pipeline instead of forming one dependency chain per row.
      std::uint32_t idx[kBlock];
      const float* rows = scratch_.data();
      for (const PerfectTree& pt : ptrees_) {
        const PerfectNode* pn = pnodes_.data() + pt.nodes;
        const double* leaves = pleaves_.data() + pt.leaves;
        const std::uint32_t internal = (std::uint32_t{1} << pt.depth) - 1;
        for (std::size_t r = 0; r < n; ++r) idx[r] = 0;
        for (int level = 0; level < pt.depth; ++level) {
          for (std::size_t r = 0; r < n; ++r) {
            const PerfectNode node = pn[idx[r]];
            idx[r] = 2 * idx[r] + 1 +
                     static_cast<std::uint32_t>(!(rows[r * d + node.feature] <= node.threshold));
          }
        }
        for (std::size_t r = 0; r < n; ++r) depths_[r] += leaves[idx[r] - internal];
      }
      for (std::size_t r = 0; r < n; ++r) out[begin + r] = ScoreFromDepths(depths_[r]);
      continue;
    }
    for (std::int32_t root : roots_) {
      std::size_t r = 0;
      for (; r + kLanes <= n; r += kLanes) {
        const Node* node[kLanes];
        for (std::size_t l = 0; l < kLanes; ++l) node[l] = nodes + root;
        bool active = true;
        while (active) {
          active = false;
          for (std::size_t l = 0; l < kLanes; ++l) {
            const Node* p = node[l];
            if (p->feature >= 0) {
              const float* row = scratch_.data() + (r + l) * d;
              node[l] =
                  nodes + p->left + (static_cast<double>(row[p->feature]) <= p->value ? 0 : 1);
              active = true;
            }
          }
        }
        for (std::size_t l = 0; l < kLanes; ++l) depths_[r + l] += node[l]->value;
      }
      for (; r < n; ++r) {
        const float* row = scratch_.data() + r * d;
        const Node* node = nodes + root;
        while (node->feature >= 0) {
          node =
              nodes + node->left + (static_cast<double>(row[node->feature]) <= node->value ? 0 : 1);
        }
        depths_[r] += node->value;
      }
    }
    for (std::size_t r = 0; r < n; ++r) out[begin + r] = ScoreFromDepths(depths_[r]);
  }
}

}  // namespace mh::iforest
