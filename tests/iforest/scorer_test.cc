// Scorer on hand-built models whose scores follow from the isolation forest
// formulas: float32 comparison, leaf correction, scaling, sklearn's edge
// cases, and no allocation per row.
#include "iforest/scorer.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "iforest/model.h"

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
  Scorer s(m);
  Matrix x{100, 2, std::vector<double>(200, 0.25)};
  std::vector<double> out(100);
  const long before = g_allocations.load();
  double sum = 0.0;
  for (int i = 0; i < 1000; ++i) {
    const double row[2] = {i * 0.001, 1.0};
    sum += s.DecisionFunction(row) + s.ScoreSamples(row) + s.Predict(row);
  }
  s.ScoreSamplesBatch(x, out);
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_TRUE(std::isfinite(sum));
}

}  // namespace
}  // namespace mh::iforest
