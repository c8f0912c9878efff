// Scorer: scores feature rows with a Model in scikit-learn's convention
// (lower = more anomalous), reproducing sklearn's IsolationForest (after an
// optional StandardScaler) to the last bit:
//   h_t(x)          = depth of x's leaf in tree t + c(n_node_samples[leaf])
//   score_samples   = -2^(-sum_t h_t(x) / (n_trees * c(max_samples)))
//   decision        = score_samples - offset
//   outlier         iff decision < 0 (exactly 0 is an inlier, as in sklearn)
// where c() is AveragePathLength (model.h). When c(max_samples) = 0 (one
// training sample) the score is -0.5, as in sklearn.
//
// Thread safety: a Scorer holds a scratch buffer, so it is not thread-safe;
// use one per thread. The model is only read and may be shared.
#ifndef MH_IFOREST_SCORER_H_
#define MH_IFOREST_SCORER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "iforest/matrix.h"
#include "iforest/model.h"

namespace mh::iforest {

// OK iff row has n_features finite values; otherwise InvalidArgument naming
// the first bad column ("column 3 (kurtosis) is nan"). Scorer does not check
// values itself: callers validate untrusted rows with this first.
Status CheckRow(const Model& model, std::span<const double> row);

class Scorer {
 public:
  // `model` must satisfy ValidateModel (as Train, LoadModel and the importers
  // guarantee) and must outlive the scorer. Copies the trees into a compact
  // node array; this is the only allocation.
  explicit Scorer(const Model& model);

  Scorer(const Scorer&) = delete;
  Scorer& operator=(const Scorer&) = delete;

  // row: unscaled features in model.feature_names order; row.size() must equal
  // the feature count (checked). Values should be finite (see CheckRow): a NaN
  // takes the right branch everywhere. No allocation.
  double ScoreSamples(std::span<const double> row);
  // ScoreSamples(row) - model.offset. Negative means outlier.
  double DecisionFunction(std::span<const double> row);
  // -1 for an outlier (DecisionFunction < 0), +1 for an inlier (sklearn predict).
  int Predict(std::span<const double> row);

  // ScoreSamples of every row of x into out (out.size() == x.rows, x.cols ==
  // feature count; checked). No allocation.
  void ScoreSamplesBatch(const Matrix& x, std::span<double> out);

  std::size_t num_features() const { return num_features_; }
  double offset() const { return offset_; }

 private:
  // A node of the flattened forest, 16 bytes. Internal nodes: feature >= 0
  // indexes the scaled row and the children are nodes left and left + 1
  // (the constructor renumbers each tree so siblings are adjacent). Leaves:
  // feature = -1 and value holds the leaf's path length (depth +
  // c(n_node_samples)).
  struct Node {
    double value;  // threshold (internal) or path length (leaf)
    std::int32_t feature;
    std::int32_t left;  // absolute index of the left child; right is left + 1
  };
  // Rows scored together per tree by ScoreSamplesBatch, so that a tree stays
  // in cache while it is used.
  static constexpr std::size_t kBlock = 64;
  // The fast layout: every tree of depth <= kMaxPerfectDepth is expanded to a
  // complete binary tree of its depth D in heap order (children of i at
  // 2i + 1 and 2i + 2), a leaf above depth D being replicated into both
  // subtrees, so that a row takes exactly D branch-free steps. Thresholds
  // are stored as the largest float <= the double threshold, which makes
  // `float x <= float t` equal to sklearn's `(double)x <= t` for every float
  // x (NaN included: it goes right in both). Used when the expanded forest
  // stays under kMaxPerfectNodes; otherwise the pointer layout below.
  static constexpr int kMaxPerfectDepth = 12;
  static constexpr std::size_t kMaxPerfectNodes = std::size_t{1} << 22;
  struct PerfectNode {
    float threshold;
    std::int32_t feature;
  };
  struct PerfectTree {
    std::size_t nodes;   // index of the tree's root in pnodes_
    std::size_t leaves;  // index of its first leaf in pleaves_
    int depth;           // D
  };
  // Builds the fast layout; false if a tree is too deep or the forest too big.
  bool BuildPerfect(const Model& model);
  // Sum over trees of the leaf path lengths, fast layout.
  double PerfectPathLengthSum(const float* x) const;

  // Scales row into dst (num_features_ floats).
  void ScaleRow(std::span<const double> row, float* dst) const;
  // Sum over trees of the leaf path lengths for the scaled row x.
  double PathLengthSum(const float* x) const;
  // -2^(-depths / denominator).
  double ScoreFromDepths(double depths) const;

  std::size_t num_features_;
  bool has_scaler_;
  const double* mean_;
  const double* scale_;
  double offset_;
  double denominator_;               // n_trees * c(max_samples)
  std::vector<Node> nodes_;          // all trees, each contiguous
  bool perfect_ = false;             // the fast layout is in use
  std::vector<PerfectNode> pnodes_;  // internal nodes of every expanded tree
  std::vector<double> pleaves_;      // 2^D leaf path lengths per expanded tree
  std::vector<PerfectTree> ptrees_;
  std::vector<std::int32_t> roots_;  // index of each tree's root in nodes_
  std::vector<float> scratch_;       // kBlock rows, scaled and cast to float
  std::vector<double> depths_;       // kBlock path length sums
};

}  // namespace mh::iforest

#endif  // MH_IFOREST_SCORER_H_
