// Scorer on hand-built models whose scores follow from the isolation forest
// formulas: float32 comparison, leaf correction, scaling, sklearn's edge
// cases, and no allocation per row.
#include "iforest/scorer.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iforest/model.h"
#include "iforest/train.h"

// Counts heap allocations made by this test binary (to prove scoring makes none).
// The replacements pair malloc with free, which GCC cannot see through.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace mh::iforest {
namespace {

// c(n) from the isolation forest paper, with H(i) ~ ln(i) + Euler's gamma.
double C(double n) {
  if (n <= 1) return 0.0;
  if (n == 2) return 1.0;
  return 2.0 * (std::log(n - 1.0) + std::numbers::egamma) - 2.0 * (n - 1.0) / n;
}

// One tree: root splits feature 0 at `threshold`; left leaf holds 1 row,
// right leaf 3 rows; max_samples 4.
Model Stump(double threshold) {
  Model m;
  m.feature_names = {"a", "b"};
  Tree t;
  t.left = {1, -1, -1};
  t.right = {2, -1, -1};
  t.feature = {0, -2, -2};
  t.threshold = {threshold, -2, -2};
  t.n_node_samples = {4, 1, 3};
  m.trees.push_back(t);
  m.max_samples = 4;
  MH_CHECK(ValidateModel(m).ok());
  return m;
}

TEST(ScorerTest, AveragePathLengthIsTheHarmonicApproximation) {
  EXPECT_EQ(AveragePathLength(0), 0.0);
  EXPECT_EQ(AveragePathLength(1), 0.0);
  EXPECT_EQ(AveragePathLength(2), 1.0);
  // c(n) = 2 H(n-1) - 2 (n-1)/n with H approximated; exact H(2) = 1.5 differs
  // by the known approximation error, so compare to the closed form.
  EXPECT_NEAR(AveragePathLength(3), 2.0 * (std::log(2.0) + 0.5772156649015329) - 4.0 / 3.0, 1e-15);
  EXPECT_NEAR(AveragePathLength(256), 2.0 * (std::log(255.0) + 0.5772156649015329) - 510.0 / 256.0,
              1e-13);
}

TEST(ScorerTest, PathLengthsGiveThePaperScore) {
  const Model m = Stump(0.5);
  Scorer s(m);
  const double left[2] = {0.0, 9.0};
  const double right[2] = {1.0, 9.0};
  EXPECT_NEAR(s.ScoreSamples(left), -std::pow(2.0, -1.0 / C(4)), 1e-15);
  EXPECT_NEAR(s.ScoreSamples(right), -std::pow(2.0, -(1.0 + C(3)) / C(4)), 1e-15);
  EXPECT_NEAR(s.DecisionFunction(left), -std::pow(2.0, -1.0 / C(4)) + 0.5, 1e-15);
  // The isolated row is the more anomalous (lower score) one.
  EXPECT_LT(s.ScoreSamples(left), s.ScoreSamples(right));
}

TEST(ScorerTest, ComparesTheInputAsFloat32) {
  // 0.1 as float is 0.100000001490116..., above the double threshold 0.1, so
  // the row goes right, as in sklearn (which casts X to float32).
  ASSERT_GT(static_cast<double>(static_cast<float>(0.1)), 0.1);
  const Model m = Stump(0.1);
  Scorer s(m);
  const double at[2] = {0.1, 0.0};
  const double right[2] = {1.0, 0.0};
  const double left[2] = {0.0, 0.0};
  EXPECT_EQ(s.ScoreSamples(at), s.ScoreSamples(right));
  EXPECT_NE(s.ScoreSamples(at), s.ScoreSamples(left));
  // A threshold equal to the float value itself sends the row left (<=).
  const Model m2 = Stump(static_cast<double>(static_cast<float>(0.1)));
  Scorer s2(m2);
  EXPECT_EQ(s2.ScoreSamples(at), s2.ScoreSamples(left));
}

TEST(ScorerTest, StandardizesBeforeTheTrees) {
  Model m = Stump(0.0);
  m.has_scaler = true;
  m.scaler.mean = {10.0, 0.0};
  m.scaler.scale = {2.0, 1.0};
  Scorer s(m);
  const double at_mean[2] = {10.0, 0.0};  // scaled 0 -> left
  const double above[2] = {10.001, 0.0};  // scaled 0.0005 -> right
  EXPECT_NEAR(s.ScoreSamples(at_mean), -std::pow(2.0, -1.0 / C(4)), 1e-15);
  EXPECT_NEAR(s.ScoreSamples(above), -std::pow(2.0, -(1.0 + C(3)) / C(4)), 1e-15);
}

TEST(ScorerTest, TreeFeatureSubsetsIndexTheRow) {
  Model m = Stump(0.5);
  m.tree_features = {{1}};  // the tree's feature 0 is the row's column 1
  m.trees[0].feature[0] = 0;
  ASSERT_TRUE(ValidateModel(m).ok());
  Scorer s(m);
  const double row[2] = {100.0, 0.0};  // column 1 = 0 -> left
  EXPECT_NEAR(s.ScoreSamples(row), -std::pow(2.0, -1.0 / C(4)), 1e-15);
}

TEST(ScorerTest, OneTrainingSampleScoresMinusHalfAsSklearn) {
  Model m;
  m.feature_names = {"a"};
  Tree t;
  t.left = {-1};
  t.right = {-1};
  t.feature = {-2};
  t.threshold = {-2};
  t.n_node_samples = {1};
  m.trees.push_back(t);
  m.max_samples = 1;
  ASSERT_TRUE(ValidateModel(m).ok());
  Scorer s(m);
  const double row[1] = {3.0};
  EXPECT_EQ(s.ScoreSamples(row), -0.5);
  EXPECT_EQ(s.Predict(row), 1);  // decision 0 is an inlier
}

TEST(ScorerTest, PredictBoundary) {
  Model m = Stump(0.5);
  const double left[2] = {0.0, 0.0};
  m.offset = Scorer(m).ScoreSamples(left);
  Scorer s(m);
  EXPECT_EQ(s.DecisionFunction(left), 0.0);
  EXPECT_EQ(s.Predict(left), 1);
  m.offset = std::nextafter(m.offset, 1.0);
  Scorer s2(m);
  EXPECT_EQ(s2.Predict(left), -1);
}

TEST(ScorerTest, CheckRowNamesTheBadColumn) {
  const Model m = Stump(0.5);
  const double ok[2] = {1.0, 2.0};
  EXPECT_TRUE(CheckRow(m, ok).ok());
  const double nan[2] = {1.0, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_EQ(CheckRow(m, nan).message(), "column 1 (b) is nan");
  const double inf[2] = {-std::numeric_limits<double>::infinity(), 1.0};
  EXPECT_EQ(CheckRow(m, inf).message(), "column 0 (a) is infinite");
  const double one[1] = {1.0};
  EXPECT_TRUE(CheckRow(m, one).IsInvalidArgument());
}

TEST(ScorerTest, ScoringDoesNotAllocate) {
  Model m = Stump(0.5);
  m.has_scaler = true;
  m.scaler.mean = {0.0, 0.0};
  m.scaler.scale = {1.0, 1.0};
  Matrix x{100, 2, std::vector<double>(200, 0.25)};
  std::vector<double> out(100);
  for (const ScorerKernel kernel :
       {ScorerKernel::kPortable, ScorerKernel::kAvx2, ScorerKernel::kAvx512}) {
    Scorer s(m, ScorerOptions{.kernel = kernel});
    const long before = g_allocations.load();
    double sum = 0.0;
    for (int i = 0; i < 1000; ++i) {
      const double row[2] = {i * 0.001, 1.0};
      sum += s.DecisionFunction(row) + s.ScoreSamples(row) + s.Predict(row);
    }
    s.ScoreSamplesBatch(x, out);
    EXPECT_EQ(g_allocations.load(), before) << static_cast<int>(s.kernel());
    EXPECT_TRUE(std::isfinite(sum));
  }
}

// Batch scoring, portable and (where the CPU has AVX-512) SIMD, equals
// single-row scoring bit for bit: every lane and block remainder, shallow
// and deep trees (AVX-512 kernel, portable expanded trees, pointer layout),
// 1 to 9 features, feature subsets, with and without a scaler, and inputs
// exactly on float thresholds, just beside them, NaN, infinities and -0.
TEST(ScorerTest, BatchPathsEqualSingleRowsBitForBit) {
  struct Case {
    std::size_t d;
    std::string max_samples;
    double max_features;
    bool scaler;
    bool simd_fits;  // depth <= 8 and d <= 8
  };
  const Case cases[] = {{1, "auto", 1.0, true, true},   {6, "auto", 1.0, true, true},
                        {8, "64", 1.0, false, true},    {6, "auto", 0.5, false, true},
                        {9, "auto", 1.0, true, false},  {6, "3000", 1.0, true, false},
                        {3, "10000", 1.0, false, false}};
  const std::size_t n_train = 10000;
  for (const Case& c : cases) {
    SCOPED_TRACE("d " + std::to_string(c.d) + " max_samples " + c.max_samples);
    std::mt19937_64 rng(c.d * 7 + c.max_samples.size());
    std::normal_distribution<double> normal(0.0, 1.0);
    Matrix train{n_train, c.d, std::vector<double>(n_train * c.d)};
    for (double& v : train.data) v = normal(rng);
    std::vector<std::string> names;
    for (std::size_t j = 0; j < c.d; ++j) names.push_back("f" + std::to_string(j));
    TrainOptions o;
    o.n_estimators = 20;
    o.max_samples = c.max_samples;
    o.max_features = c.max_features;
    o.standardize = c.scaler;
    o.seed = 3;
    Result<Model> m = Train(train, names, o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();

    // 1000 rows: noise, then edge values.
    const std::size_t n = 1000;
    Matrix x{n, c.d, std::vector<double>(n * c.d)};
    for (double& v : x.data) v = 2.0 * normal(rng);
    const Tree& t0 = m->trees[0];
    std::size_t r = 0;
    for (std::size_t i = 0; i < t0.size() && r + 2 < n / 2; ++i) {
      if (t0.left[i] < 0 || c.scaler) continue;  // unscaled: rows hit thresholds exactly
      const std::size_t f = m->tree_features.empty() || m->tree_features[0].empty()
                                ? static_cast<std::size_t>(t0.feature[i])
                                : static_cast<std::size_t>(m->tree_features[0][t0.feature[i]]);
      const float at = static_cast<float>(t0.threshold[i]);
      x.data[r++ * c.d + f] = at;
      x.data[r++ * c.d + f] = std::nextafter(at, INFINITY);
      x.data[r++ * c.d + f] = std::nextafter(at, -INFINITY);
    }
    const double specials[] = {
        std::numeric_limits<double>::quiet_NaN(), INFINITY, -INFINITY, -0.0, 0.0, 1e39, -1e39};
    for (std::size_t k = 0; k < 70; ++k) {
      x.data[(n / 2 + k) * c.d + k % c.d] = specials[k % 7];
    }
    Scorer fast(*m);
    Scorer portable(*m, ScorerOptions{.kernel = ScorerKernel::kPortable});
    EXPECT_EQ(portable.kernel(), ScorerKernel::kPortable);
    if (!c.simd_fits) {
      EXPECT_NE(fast.kernel(), ScorerKernel::kAvx512);
    }
#if defined(__x86_64__)
    if (c.simd_fits && __builtin_cpu_supports("avx512f")) {
      EXPECT_EQ(fast.kernel(), ScorerKernel::kAvx512);
    }
#endif
    std::vector<double> single(n);
    for (std::size_t i = 0; i < n; ++i) single[i] = portable.ScoreSamples(x.Row(i));
    for (const std::size_t rows : {1, 7, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1000}) {
      Matrix part{rows, c.d, std::vector<double>(x.data.begin(), x.data.begin() + rows * c.d)};
      std::vector<double> a(rows), b(rows);
      fast.ScoreSamplesBatch(part, a);
      portable.ScoreSamplesBatch(part, b);
      ASSERT_EQ(std::memcmp(a.data(), single.data(), rows * sizeof(double)), 0) << rows << " rows";
      ASSERT_EQ(std::memcmp(b.data(), single.data(), rows * sizeof(double)), 0) << rows << " rows";
    }
    // The single-row path of the SIMD scorer is the same code.
    for (std::size_t i = 0; i < n; i += 37) EXPECT_EQ(fast.ScoreSamples(x.Row(i)), single[i]);
  }
}

// Row ranges and threads: ScoreSamplesBatch(x, first, out) equals the rows
// of the whole-matrix call, and ParallelScorer equals one Scorer bit for bit
// for every thread count, below and above the rows that start threads, and
// again on a second batch (scorers kept).
TEST(ScorerTest, RangesAndThreadsEqualOneScorerBitForBit) {
  const std::size_t d = 4;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(0.0, 1.0);
  Matrix train{4000, d, std::vector<double>(4000 * d)};
  for (double& v : train.data) v = normal(rng);
  TrainOptions o;
  o.n_estimators = 30;
  o.seed = 5;
  Result<Model> m = Train(train, {"a", "b", "c", "e"}, o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::size_t n = 3 * ParallelScorer::kMinRowsPerThread + 77;
  Matrix x{n, d, std::vector<double>(n * d)};
  for (double& v : x.data) v = 1.5 * normal(rng);
  Scorer one(*m);
  std::vector<double> expected(n);
  one.ScoreSamplesBatch(x, expected);

  std::vector<double> part(300);
  one.ScoreSamplesBatch(x, n - 300, part);
  EXPECT_EQ(std::memcmp(part.data(), expected.data() + n - 300, 300 * sizeof(double)), 0);
  one.ScoreSamplesBatch(x, 5, std::span<double>(part).first(0));  // empty range

  for (const int threads : {1, 2, 3, 4, 0}) {
    ParallelScorer many(*m, threads);
    EXPECT_EQ(many.threads(), threads > 0 ? threads : many.threads());
    EXPECT_GE(many.threads(), 1);
    EXPECT_EQ(many.offset(), m->offset);
    for (const std::size_t rows : {std::size_t{1}, std::size_t{500}, n, n}) {
      Matrix first{rows, d, std::vector<double>(x.data.begin(), x.data.begin() + rows * d)};
      std::vector<double> got(rows, 99.0);
      many.ScoreSamplesBatch(first, got);
      ASSERT_EQ(std::memcmp(got.data(), expected.data(), rows * sizeof(double)), 0)
          << threads << " threads, " << rows << " rows";
    }
  }
}

}  // namespace
}  // namespace mh::iforest
