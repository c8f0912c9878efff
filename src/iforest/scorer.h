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
// Batch scoring runs an AVX-512 or AVX2 kernel when the CPU has it (checked
// at run time; ScorerOptions can force one) and a portable one otherwise; all
// give the single-row results bit for bit.
//
// Thread safety: a Scorer holds a scratch buffer, so it is not thread-safe;
// use one per thread. The model is only read and may be shared.
#ifndef MH_IFOREST_SCORER_H_
#define MH_IFOREST_SCORER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
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

// The batch kernels of ScoreSamplesBatch. All give the single-row results
// bit for bit.
enum class ScorerKernel : std::uint8_t {
  kAuto = 0,      // the fastest this CPU and model allow (below)
  kPortable = 1,  // plain C++, any CPU and model
  kAvx2 = 2,      // AVX2: any model in the expanded layout (trees of depth <= 12)
  kAvx512 = 3,    // AVX-512F: trees of depth <= 8 and at most 8 features
};

struct ScorerOptions {
  // kAuto runs AVX-512 when the CPU has it (checked at run time) and the model
  // fits it, else AVX2 when the CPU has it and the model fits it, else the
  // portable kernel. A named kernel runs when the CPU and the model allow it,
  // the portable one otherwise (Scorer::kernel() says which runs).
  ScorerKernel kernel = ScorerKernel::kAuto;
};

class Scorer {
 public:
  // `model` must satisfy ValidateModel (as Train, LoadModel and the importers
  // guarantee) and must outlive the scorer. Copies the trees into a compact
  // node array; this is the only allocation.
  explicit Scorer(const Model& model, ScorerOptions options = {});

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
  // ScoreSamples of rows [first, first + out.size()) of x into out (checked to
  // lie within x), with the same results as the whole-matrix call: rows are
  // independent, so threads may score disjoint ranges with a Scorer each.
  void ScoreSamplesBatch(const Matrix& x, std::size_t first, std::span<double> out);

  std::size_t num_features() const { return num_features_; }
  double offset() const { return offset_; }
  // The kernel ScoreSamplesBatch runs (never kAuto).
  ScorerKernel kernel() const { return kernel_; }

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
  // Scaled rows are held feature-major in a block of block_ rows
  // (scratch_[feature * block_ + row], float32), so that the rows of a block
  // can walk each tree together while the tree stays in cache. block_ is
  // kMaxBlock rows, fewer for wide models (the block stays under
  // kScratchFloats floats), and a multiple of kLanes.
  static constexpr std::size_t kMaxBlock = 256;
  static constexpr std::size_t kLanes = 8;
  static constexpr std::size_t kScratchFloats = std::size_t{1} << 16;
  // The fast layout: every tree of depth <= kMaxPerfectDepth is expanded to a
  // complete binary tree of its depth D in heap order (children of i at
  // 2i + 1 and 2i + 2), a leaf above depth D being replicated into both
  // subtrees, so that a row takes exactly D branch-free steps. Thresholds
  // are stored as the largest float <= the double threshold, which makes
  // `float x <= float t` equal to sklearn's `(double)x <= t` for every float
  // x (NaN included: it goes right in both). Used when the expanded forest
  // stays under kMaxPerfectNodes; otherwise the pointer layout above. In a
  // batch, kLanes rows descend a tree side by side (independent loads that
  // overlap), and each row adds its trees' path lengths in tree order, so
  // batch and single-row results are equal bit for bit.
  static constexpr int kMaxPerfectDepth = 12;
  static constexpr std::size_t kMaxPerfectNodes = std::size_t{1} << 22;
  struct PerfectNode {
    float threshold;
    std::uint32_t x_offset;  // feature * block_: where the feature's values are in scratch_
  };
  struct PerfectTree {
    std::size_t nodes;   // index of the tree's root in pnodes_
    std::size_t leaves;  // index of its first leaf in pleaves_
    int depth;           // D
  };
  // Builds the fast layout; false if a tree is too deep or the forest too big.
  bool BuildPerfect(const Model& model);
  // Sum over trees of the leaf path lengths of the row at xs[f * block_],
  // fast layout.
  double PerfectPathLengthSum(const float* xs) const;
  // Adds tree pt's leaf path lengths of kLanes rows, xs[f * block_ + l] for
  // lane l, to depths[0..kLanes).
  void PerfectLanes(const PerfectTree& pt, const float* xs, double* depths) const;
  // ScoreSamplesBatch's loop over the trees for the first `rows` rows of the
  // block (fast layout; rows are taken in groups of kLanes or kSimdLanes, the
  // lanes past `rows` computed and ignored): portable, or the AVX-512 kernel, which
  // walks 16 rows per tree in the lanes of a register and looks nodes and
  // row values up with two-register permutes (no gathers but for the
  // leaves). Its tables (per tree, kSimdTable entries): sthr_, the node
  // thresholds, and sfeat_, 16 x the node features (zero past the tree's
  // internal nodes).
  //
  // The AVX2 kernel (PerfectBlockAvx2) compares ranks instead of floats. Per
  // feature f, the sorted distinct thresholds of the forest u_0 < u_1 < ...
  // (vsplits_); a node's threshold is u_j and a row's value x has rank
  // b = #{j : !(x <= u_j)} (Avx2Rank; NaN: all), so !(x <= u_j) iff b > j,
  // exactly. Node and row both carry f << vshift_ | rank (vnodes_, indexed
  // as pnodes_ and padded with kAvx2Pad zeros; ranks_, feature-major like
  // scratch_), so one int32 per node holds what the row needs: 8 rows walk
  // a tree in the lanes of a register, 8 groups of 8 at a time. Levels 0-2
  // compare every lane with each of their 7 nodes and blend the results;
  // below, per level a permute (levels 3-6) or a gather (deeper) looks up
  // each lane's node, a tree of blends on f's bits (at most 8 features) or a
  // gather (more) the row's code, and one integer compare decides. The
  // leaves reached are stored (leaf_index_, kAvx2LeafChunk trees at a time)
  // and each row then adds their path lengths in tree order, as the
  // portable code does, so the sums are its bits.
  void PerfectBlock(std::size_t rows);
  void PerfectBlockAvx2(std::size_t rows);
  void PerfectBlockAvx512(std::size_t rows);
  static constexpr std::size_t kAvx2Lanes = 8;
  static constexpr std::size_t kAvx2BlendFeatures = 8;
  static constexpr std::size_t kAvx2Pad = 64;
  static constexpr std::size_t kAvx2LeafChunk = 16;
  // Builds vsplits_, vnodes_ and ranks_ (or falls back to kPortable).
  void BuildAvx2Tables();
  static constexpr int kSimdMaxDepth = 8;
  static constexpr std::size_t kSimdMaxFeatures = 8;
  static constexpr std::size_t kSimdLanes = 16;
  static constexpr std::size_t kSimdTable = 256 + 16;

  // Scales row into dst[j * stride] (num_features_ floats).
  void ScaleRow(std::span<const double> row, float* dst, std::size_t stride) const;
  // Sum over trees of the leaf path lengths for the scaled row at xs[f * block_].
  double PathLengthSum(const float* xs) const;
  // -2^(-depths / denominator).
  double ScoreFromDepths(double depths) const;

  std::size_t num_features_;
  bool has_scaler_;
  const double* mean_;
  const double* scale_;
  double offset_;
  double denominator_;               // n_trees * c(max_samples)
  std::size_t block_;                // rows per block (see kMaxBlock)
  std::vector<Node> nodes_;          // all trees, each contiguous
  bool perfect_ = false;             // the fast layout is in use
  std::vector<PerfectNode> pnodes_;  // internal nodes of every expanded tree
  std::vector<double> pleaves_;      // 2^D leaf path lengths per expanded tree
  std::vector<PerfectTree> ptrees_;
  ScorerKernel kernel_ = ScorerKernel::kPortable;
  std::vector<float> sthr_;  // see PerfectBlockAvx512
  std::vector<std::int32_t> sfeat_;
  std::vector<float> vsplits_;               // see PerfectBlockAvx2
  std::vector<std::uint32_t> vsplit_begin_;  // feature f's are [f], [f + 1])
  std::vector<std::int32_t> vnodes_;
  int vshift_ = 29;
  std::vector<std::int32_t> ranks_;
  std::vector<std::int32_t> leaf_index_;  // kAvx2LeafChunk x block_ leaves
  std::vector<std::int32_t> roots_;       // index of each tree's root in nodes_
  std::vector<float> scratch_;            // block_ rows, scaled, cast to float, feature-major
  std::vector<double> depths_;            // block_ path length sums
};

// Batch scoring on several threads: the rows of a batch are split into
// `threads` contiguous ranges, each scored by a Scorer of its own thread
// (made on first use, kept for the next batches), so the results are those
// of Scorer::ScoreSamplesBatch bit for bit whatever the thread count. Batches
// under kMinRowsPerThread rows per thread use fewer threads (one for small
// batches, on the calling thread).
//
// Thread safety: as Scorer (one ParallelScorer per calling thread).
class ParallelScorer {
 public:
  static constexpr std::size_t kMinRowsPerThread = 8192;

  // threads: 0 = std::thread::hardware_concurrency() (at least 1). `model`
  // as for Scorer.
  ParallelScorer(const Model& model, int threads, ScorerOptions options = {});
  ~ParallelScorer();

  ParallelScorer(const ParallelScorer&) = delete;
  ParallelScorer& operator=(const ParallelScorer&) = delete;

  // As Scorer::ScoreSamplesBatch.
  void ScoreSamplesBatch(const Matrix& x, std::span<double> out);

  double offset() const { return offset_; }
  // The most threads a batch uses.
  int threads() const { return static_cast<int>(scorers_.size()); }

 private:
  const Model& model_;
  ScorerOptions options_;
  double offset_;
  std::vector<std::unique_ptr<Scorer>> scorers_;  // one per thread, made on first use
};

}  // namespace mh::iforest

#endif  // MH_IFOREST_SCORER_H_
