// Model: a fitted StandardScaler + Isolation Forest as plain data, laid out
// like scikit-learn's fitted objects so that sklearn models map onto it
// one to one (Tree is sklearn's `tree_` arrays).
//
// Sign convention (scikit-learn's, used everywhere in machine-health):
// score_samples and decision_function are LOWER for MORE anomalous rows;
// a row is an outlier iff decision_function < 0. (isotree uses the opposite.)
//
// Thread safety: plain data; concurrent const access is safe.
#ifndef MH_IFOREST_MODEL_H_
#define MH_IFOREST_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace mh::iforest {

// x_scaled[j] = (x[j] - mean[j]) / scale[j]. scale is the population standard
// deviation, with constant features given scale 1 (as sklearn does).
struct StandardScaler {
  std::vector<double> mean;
  std::vector<double> scale;
};

// One isolation tree as flat node arrays (sklearn's `tree_` layout); node 0 is
// the root and every child index is greater than its parent's index. Leaves
// have left = right = -1; their feature and threshold are ignored.
struct Tree {
  std::vector<std::int32_t> left, right;  // child node indices, -1 at leaves
  // Split feature: an index into the tree's feature subset
  // (Model::tree_features[t]) or, if that is empty, into the model's features.
  std::vector<std::int32_t> feature;
  // A row goes left iff static_cast<float>(x[feature]) <= threshold (sklearn
  // compares float32 inputs with float64 thresholds).
  std::vector<double> threshold;
  // Training samples (distinct rows) that reached each node; the leaf path
  // length correction is AveragePathLength(n_node_samples[leaf]).
  std::vector<double> n_node_samples;
  // Depth of each node (root 0). Derived data: LoadModel and the importers
  // recompute it from left/right.
  std::vector<std::int32_t> depth;

  std::size_t size() const { return left.size(); }
};

// Provenance, stored in model files and shown to operators. Free text.
struct ModelCard {
  std::string source;     // training data, e.g. the CSV path
  std::int64_t rows = 0;  // training rows
  std::string created;    // RFC 3339 UTC creation time
  std::uint64_t seed = 0;
  std::string params;   // "n_estimators=100 max_samples=auto ..."
  std::string metrics;  // "train_outlier_fraction=0.03 ..."
};

// Whether the model's features describe single samples or windows of samples
// (the feature contract). Serialized: explicit values.
enum class FeatureGranularity : std::uint8_t {
  kUnknown = 0,    // not recorded (e.g. imported from scikit-learn)
  kPerSample = 1,  // one row per sensor sample (the prototype's ax, ay, mag, ...)
  kPerWindow = 2,  // one row per window (machine-health's features)
};

// "unknown", "per-sample" or "per-window".
const char* FeatureGranularityName(FeatureGranularity granularity);

struct Model {
  std::vector<std::string> feature_names;  // input columns, in order (d = size())
  bool has_scaler = false;                 // if true, rows are standardized first
  StandardScaler scaler;                   // d means and scales when has_scaler
  std::vector<Tree> trees;
  // Per tree, the feature subset (indices into feature_names) the tree was
  // fitted on, in order; an empty vector means all features. Either empty or
  // one entry per tree.
  std::vector<std::vector<std::int32_t>> tree_features;
  std::int64_t max_samples = 256;  // sklearn max_samples_: c(max_samples) normalises path lengths
  double offset = -0.5;            // sklearn offset_: decision_function = score_samples - offset
  // An alert threshold on the anomaly score -score_samples, as stored by the
  // prototype's {"pipeline", "features", "threshold"} dict (it set it to the
  // 95th percentile of the training anomaly scores). Informational: predict
  // and `anomaly` use offset. Finite when has_threshold.
  bool has_threshold = false;
  double threshold = 0.0;
  FeatureGranularity granularity = FeatureGranularity::kUnknown;
  ModelCard card;
};

// sklearn's _average_path_length c(n): 0 for n <= 1, 1 for n = 2, else
// 2 (ln(n - 1) + Euler's gamma) - 2 (n - 1) / n (the harmonic-number
// approximation sklearn uses, evaluated in the same order).
double AveragePathLength(double n);

// Checks the structural invariants above: sizes agree, d >= 1, finite scaler
// values with scale != 0, max_samples >= 1, finite offset, at least one tree,
// child indices in range and greater than the parent's (so no cycles), each
// non-root node with exactly one parent, feature indices in range, finite
// thresholds, a finite model threshold when has_threshold, a known granularity, leaf n_node_samples
// >= 1. Fills Tree::depth. Returns Corruption naming the tree and node on the first violation.
Status ValidateModel(Model& model);

}  // namespace mh::iforest

#endif  // MH_IFOREST_MODEL_H_
