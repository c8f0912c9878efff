// The batch kernels of Scorer (portable, AVX2, AVX-512; ScorerOptions::kernel
// forces one) against single-row ScoreSamples, bit for bit, on random
// hand-built forests: shallow and deep trees (depth 0 to 14, so past the
// expanded layout's 12 and the AVX-512 kernel's 8), 1 to 300 features, feature
// subsets, with and without a scaler, thresholds shared between nodes, -0 and
// 0, thresholds that round to infinities as floats, rows exactly on the float
// thresholds and one float beside them, and batches of every remainder of the
// 8- and 16-row groups and of the block. A kernel the CPU lacks is skipped.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/check.h"
#include "iforest/model.h"
#include "iforest/scorer.h"

namespace mh::iforest {
namespace {

bool CpuHas(ScorerKernel kernel) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (kernel == ScorerKernel::kAvx2) return __builtin_cpu_supports("avx2");
  if (kernel == ScorerKernel::kAvx512) return __builtin_cpu_supports("avx512f");
#endif
  return kernel == ScorerKernel::kPortable;
}

const char* Name(ScorerKernel kernel) {
  switch (kernel) {
    case ScorerKernel::kPortable:
      return "portable";
    case ScorerKernel::kAvx2:
      return "avx2";
    case ScorerKernel::kAvx512:
      return "avx512";
    default:
      return "auto";
  }
}

struct Shape {
  std::size_t features;
  int max_depth;  // deepest leaf allowed
  int trees;
  bool scaler;
  bool subsets;  // per-tree feature subsets
};

// A random tree over `features` tree-local features: each node below
// max_depth splits with probability 0.85 (always at the root level when
// max_depth > 0, so depth 0 trees appear only when asked for), thresholds
// from a small pool so that nodes share them.
class TreeBuilder {
 public:
  TreeBuilder(std::mt19937_64& rng, std::size_t features, int max_depth,
              const std::vector<double>& pool)
      : rng_(rng), features_(features), max_depth_(max_depth), pool_(pool) {}

  Tree Build() {
    Add(0);
    return std::move(tree_);
  }

 private:
  std::int32_t Add(int depth) {
    const auto i = static_cast<std::int32_t>(tree_.left.size());
    tree_.left.push_back(-1);
    tree_.right.push_back(-1);
    tree_.feature.push_back(-2);
    tree_.threshold.push_back(-2.0);
    tree_.n_node_samples.push_back(static_cast<double>(1 + rng_() % 300));
    std::uniform_real_distribution<double> u(0.0, 1.0);
    if (depth < max_depth_ && (depth == 0 || u(rng_) < 0.85)) {
      tree_.feature[i] = static_cast<std::int32_t>(rng_() % features_);
      tree_.threshold[i] = pool_[rng_() % pool_.size()];
      const std::int32_t l = Add(depth + 1);
      const std::int32_t r = Add(depth + 1);
      tree_.left[i] = l;
      tree_.right[i] = r;
    }
    return i;
  }

  std::mt19937_64& rng_;
  std::size_t features_;
  int max_depth_;
  const std::vector<double>& pool_;
  Tree tree_;
};

Model RandomModel(const Shape& shape, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> pool = {0.0,     -0.0,     0.1,     -0.1,   0.5,
                              1.0,     -2.25,    1e-40,   -1e-40, 1e30,
                              -1e30,   1e300,    -1e300,  0.3f,   std::nextafter(0.3f, 1.0f),
                              1.0 / 3, -1.0 / 3, 2.0 / 3, 1e-7,   1234.5678};
  for (int k = 0; k < 40; ++k) pool.push_back(normal(rng));
  Model m;
  for (std::size_t j = 0; j < shape.features; ++j)
    m.feature_names.push_back("f" + std::to_string(j));
  if (shape.scaler) {
    m.has_scaler = true;
    for (std::size_t j = 0; j < shape.features; ++j) {
      m.scaler.mean.push_back(normal(rng));
      m.scaler.scale.push_back(0.25 + std::abs(normal(rng)));
    }
  }
  for (int t = 0; t < shape.trees; ++t) {
    std::size_t local = shape.features;
    if (shape.subsets) {
      std::vector<std::int32_t> all(shape.features);
      for (std::size_t j = 0; j < all.size(); ++j) all[j] = static_cast<std::int32_t>(j);
      std::shuffle(all.begin(), all.end(), rng);
      all.resize(1 + rng() % shape.features);
      std::sort(all.begin(), all.end());
      local = all.size();
      m.tree_features.push_back(all);
    }
    // Mostly full depth, some shallower trees.
    const int depth =
        rng() % 4 == 0 ? static_cast<int>(rng() % (shape.max_depth + 1)) : shape.max_depth;
    m.trees.push_back(TreeBuilder(rng, local, depth, pool).Build());
  }
  m.max_samples = 256;
  MH_CHECK(ValidateModel(m).ok());
  return m;
}

// Rows: noise, then rows whose columns sit on a threshold of the first trees
// (unscaled models only: the float threshold itself and the floats beside
// it), then infinities, NaN and signed zeros.
Matrix RandomRows(const Model& m, std::size_t n, std::mt19937_64& rng, bool specials) {
  const std::size_t d = m.feature_names.size();
  std::normal_distribution<double> normal(0.0, 1.0);
  Matrix x{n, d, std::vector<double>(n * d)};
  for (double& v : x.data) v = 2.0 * normal(rng);
  std::size_t r = 0;
  if (!m.has_scaler) {
    for (std::size_t t = 0; t < m.trees.size() && r + 3 <= n / 2; ++t) {
      const Tree& tree = m.trees[t];
      for (std::size_t i = 0; i < tree.size() && r + 3 <= n / 2; ++i) {
        if (tree.left[i] < 0) continue;
        const auto f = static_cast<std::size_t>(
            m.tree_features.empty() ? tree.feature[i] : m.tree_features[t][tree.feature[i]]);
        const float at = static_cast<float>(tree.threshold[i]);
        x.data[r++ * d + f] = at;
        x.data[r++ * d + f] = std::nextafter(at, INFINITY);
        x.data[r++ * d + f] = std::nextafter(at, -INFINITY);
      }
    }
  }
  if (specials) {
    const double values[] = {
        std::numeric_limits<double>::quiet_NaN(), INFINITY, -INFINITY, -0.0, 0.0, 1e39, -1e39};
    for (std::size_t k = 0; k < 70 && n / 2 + k < n; ++k) {
      x.data[(n / 2 + k) * d + k % d] = values[k % 7];
    }
  }
  return x;
}

void ExpectKernelsEqualSingleRows(const Model& m, const Matrix& x, bool expanded) {
  Scorer reference(m, ScorerOptions{.kernel = ScorerKernel::kPortable});
  std::vector<double> single(x.rows);
  for (std::size_t i = 0; i < x.rows; ++i) single[i] = reference.ScoreSamples(x.Row(i));
  for (const ScorerKernel kernel :
       {ScorerKernel::kPortable, ScorerKernel::kAvx2, ScorerKernel::kAvx512, ScorerKernel::kAuto}) {
    SCOPED_TRACE(Name(kernel));
    Scorer scorer(m, ScorerOptions{.kernel = kernel});
    if (kernel == ScorerKernel::kAvx2 && expanded && CpuHas(ScorerKernel::kAvx2)) {
      // AVX2 takes every model of the expanded layout.
      EXPECT_EQ(scorer.kernel(), ScorerKernel::kAvx2);
    }
    if (!expanded) {
      EXPECT_EQ(scorer.kernel(), ScorerKernel::kPortable);
    }
    if (kernel != ScorerKernel::kAuto && scorer.kernel() != kernel) continue;  // not here
    for (const std::size_t rows :
         {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9}, std::size_t{15},
          std::size_t{17}, std::size_t{63}, std::size_t{65}, std::size_t{255}, std::size_t{257},
          std::size_t{520}, x.rows}) {
      if (rows > x.rows) continue;
      Matrix part{rows, x.cols,
                  std::vector<double>(x.data.begin(), x.data.begin() + rows * x.cols)};
      std::vector<double> out(rows);
      scorer.ScoreSamplesBatch(part, out);
      ASSERT_EQ(std::memcmp(out.data(), single.data(), rows * sizeof(double)), 0)
          << rows << " rows, kernel " << Name(scorer.kernel());
    }
    // The single-row path is shared, whichever kernel the batches use.
    for (std::size_t i = 0; i < x.rows; i += 101) {
      EXPECT_EQ(scorer.ScoreSamples(x.Row(i)), single[i]);
    }
  }
}

TEST(ScorerKernelsTest, EveryKernelEqualsSingleRowsOnRandomForests) {
  const Shape shapes[] = {
      {1, 1, 5, false, false},  {1, 8, 20, false, false},  {2, 3, 30, true, false},
      {3, 8, 20, false, true},  {5, 6, 25, true, false},   {6, 8, 40, false, false},
      {6, 8, 40, true, false},  {6, 0, 3, false, false},   {7, 9, 15, false, false},
      {8, 8, 20, true, true},   {8, 12, 8, false, false},  {9, 8, 20, false, false},
      {13, 10, 12, true, true}, {27, 5, 10, false, false}, {6, 14, 4, false, false},
      {300, 7, 6, false, true},
  };
  std::mt19937_64 rng(14);
  for (const Shape& shape : shapes) {
    for (int rep = 0; rep < 3; ++rep) {
      SCOPED_TRACE("features " + std::to_string(shape.features) + " depth " +
                   std::to_string(shape.max_depth) + (shape.scaler ? " scaler" : "") +
                   (shape.subsets ? " subsets" : "") + " rep " + std::to_string(rep));
      const Model m = RandomModel(shape, rng);
      int depth = 0;
      for (const Tree& t : m.trees) {
        for (std::int32_t dd : t.depth) depth = std::max(depth, static_cast<int>(dd));
      }
      // Trees deeper than 12 leave the expanded layout (pointer walk only).
      const bool expanded = depth <= 12;
      ExpectKernelsEqualSingleRows(m, RandomRows(m, 1031, rng, rep == 2), expanded);
    }
  }
}

// The AVX-512 kernel's limits (depth <= 8, at most 8 features) leave AVX2 as
// the automatic choice; within them AVX-512 wins where the CPU has it.
TEST(ScorerKernelsTest, AutoPicksTheWidestKernelTheModelFits) {
  std::mt19937_64 rng(3);
  const Model fits = RandomModel({6, 8, 4, false, false}, rng);
  const Model deep = RandomModel({6, 10, 4, false, false}, rng);
  const Model wide = RandomModel({9, 8, 4, false, false}, rng);
  const ScorerKernel widest = CpuHas(ScorerKernel::kAvx512) ? ScorerKernel::kAvx512
                              : CpuHas(ScorerKernel::kAvx2) ? ScorerKernel::kAvx2
                                                            : ScorerKernel::kPortable;
  const ScorerKernel avx2 =
      CpuHas(ScorerKernel::kAvx2) ? ScorerKernel::kAvx2 : ScorerKernel::kPortable;
  EXPECT_EQ(Scorer(fits).kernel(), widest);
  EXPECT_EQ(Scorer(deep).kernel(), avx2);
  EXPECT_EQ(Scorer(wide).kernel(), avx2);
  EXPECT_EQ(Scorer(fits, ScorerOptions{.kernel = ScorerKernel::kPortable}).kernel(),
            ScorerKernel::kPortable);
  EXPECT_EQ(Scorer(deep, ScorerOptions{.kernel = ScorerKernel::kAvx512}).kernel(),
            ScorerKernel::kPortable);
}

}  // namespace
}  // namespace mh::iforest
