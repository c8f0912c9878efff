// Test models: an Isolation Forest trained on independent normal features,
// for tests that need "a model" with given feature names (scoring, reload,
// streaming) rather than a model of real data.
#ifndef MH_TESTING_GAUSSIAN_MODEL_H_
#define MH_TESTING_GAUSSIAN_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "iforest/model.h"

namespace mh::testing {

struct GaussianModelOptions {
  std::size_t rows = 400;  // training rows
  std::size_t trees = 30;  // n_estimators
  std::uint64_t seed = 1;  // the rows' and the forest's randomness
  double mean = 0;         // every feature ~ N(mean, 1)
};

// Trains on one thread (the same model for the same options); a failure to
// train is a test failure (EXPECT) and an empty model.
iforest::Model GaussianModel(std::vector<std::string> names,
                             const GaussianModelOptions& options = {});

}  // namespace mh::testing

#endif  // MH_TESTING_GAUSSIAN_MODEL_H_
