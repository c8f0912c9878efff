#include "testing/gaussian_model.h"

#include <random>
#include <utility>

#include <gtest/gtest.h>

#include "iforest/train.h"

namespace mh::testing {

iforest::Model GaussianModel(std::vector<std::string> names, const GaussianModelOptions& options) {
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> g(options.mean, 1);
  iforest::Matrix x;
  x.rows = options.rows;
  x.cols = names.size();
  for (std::size_t i = 0; i < x.rows * x.cols; ++i) x.data.push_back(g(rng));
  iforest::TrainOptions o;
  o.n_estimators = options.trees;
  o.threads = 1;
  o.seed = options.seed;
  auto m = iforest::Train(x, std::move(names), o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  return std::move(*m);
}

}  // namespace mh::testing
