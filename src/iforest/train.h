// Train: fits an Isolation Forest (optionally after a StandardScaler) the way
// scikit-learn 1.2's Pipeline(StandardScaler(), IsolationForest()) does:
// per tree, max_samples rows drawn without replacement (or with, collapsed to
// distinct rows, if bootstrap), a feature subset if max_features < all, and
// an extremely randomized tree grown to depth ceil(log2(max(max_samples, 2))):
// at each node a uniformly random non-constant feature (range > 1e-7 in
// float32) and a threshold uniform in [min, max) of that feature at the node;
// a node with fewer than 2 rows or no non-constant feature is a leaf.
// sklearn's random numbers are not reproduced; the result is deterministic
// for a given seed whatever the thread count.
//
// Thread safety: Train may be called concurrently; it uses its own threads.
#ifndef MH_IFOREST_TRAIN_H_
#define MH_IFOREST_TRAIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "iforest/matrix.h"
#include "iforest/model.h"

namespace mh::iforest {

struct TrainOptions {
  // --- the forest (sklearn IsolationForest parameters) ---
  int n_estimators = 100;              // trees, >= 1
  std::string max_samples = "auto";    // "auto" = min(256, n), an integer >= 1 (capped at n)
                                       // or a fraction in (0, 1] of n (at least 1 row)
  double max_features = 1.0;           // fraction in (0, 1] of the features (at least 1), or
                                       // an integer count in (1, d]
  bool bootstrap = false;              // draw rows with replacement
  std::string contamination = "auto";  // "auto": offset -0.5; a fraction in (0, 0.5]: offset
                                       // = that percentile of the training scores
  std::uint64_t seed = 42;             // all randomness derives from it
  bool standardize = true;             // fit a StandardScaler first (a Pipeline)

  // --- performance ---
  int threads = 0;  // worker threads, 0 = all cores; never changes the model
};

// Fits a model on x (n x d, unscaled). names are the d feature names.
// Fills the card's rows, seed and params (not source/created). Errors:
// InvalidArgument for an empty x, a NaN/Inf value ("row 3, column 2 (rms)
// is nan", 0-based), names.size() != d, duplicate or empty names, or a bad
// option (naming it).
Result<Model> Train(const Matrix& x, std::vector<std::string> names, const TrainOptions& options);

// numpy.percentile(values, q) with the default 'linear' method, evaluated in
// numpy's operation order (q in [0, 100], values non-empty; checked). Used
// for the contamination offset; exposed for tests.
double Percentile(std::vector<double> values, double q);

// Resolves TrainOptions::max_samples for n rows (sklearn max_samples_);
// InvalidArgument for a malformed value.
Result<std::int64_t> ResolveMaxSamples(const std::string& max_samples, std::int64_t n);

}  // namespace mh::iforest

#endif  // MH_IFOREST_TRAIN_H_
