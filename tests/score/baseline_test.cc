#include "score/baseline.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iforest/scorer.h"
#include "iforest/train.h"

namespace mh::score {
namespace {

TEST(ThresholdTest, RulesOnKnownScores) {
  std::vector<double> s;
  for (int i = 1; i <= 100; ++i) s.push_back(-i / 100.0);  // -0.01 .. -1.00
  const double offset = -0.5;
  ThresholdOptions o;
  o.rule = ThresholdRule::kAuto;
  EXPECT_EQ(*ComputeThreshold(s, offset, o), 0.0);
  o.rule = ThresholdRule::kQuantile;
  o.q = 0.005;
  // numpy.percentile(s, 0.5): between the two lowest (-1.00, -0.99) at 0.495.
  EXPECT_NEAR(*ComputeThreshold(s, offset, o), (-1.0 + 0.495 * 0.01) + 0.5, 1e-12);
  o.rule = ThresholdRule::kQuantileMargin;
  o.margin = 0.05;
  EXPECT_NEAR(*ComputeThreshold(s, offset, o), (-1.0 + 0.495 * 0.01) - 0.05 + 0.5, 1e-12);
  o.rule = ThresholdRule::kRobustZ;
  o.z = 6;
  // median -0.505, MAD 0.25.
  EXPECT_NEAR(*ComputeThreshold(s, offset, o), -0.505 - 6 * 1.4826 * 0.25 + 0.5, 1e-12);
}

TEST(ThresholdTest, ValidatesAndParses) {
  ThresholdOptions o;
  o.q = 0;
  EXPECT_NE(ValidateThresholdOptions(o).message().find("--threshold-q"), std::string::npos);
  o.q = 0.01;
  o.margin = -1;
  EXPECT_NE(ValidateThresholdOptions(o).message().find("--threshold-margin"), std::string::npos);
  o.margin = 0;
  o.z = NAN;
  EXPECT_NE(ValidateThresholdOptions(o).message().find("--threshold-z"), std::string::npos);
  EXPECT_EQ(*ParseThresholdRule("robust-z"), ThresholdRule::kRobustZ);
  EXPECT_FALSE(ParseThresholdRule("max").ok());
  o = ThresholdOptions{};
  EXPECT_EQ(DescribeThreshold(o), "quantile-margin q=0.005 margin=0.02");
  std::vector<double> none;
  o.rule = ThresholdRule::kQuantile;
  EXPECT_FALSE(ComputeThreshold(none, -0.5, o).ok());
}

TEST(FeatureStatsTest, MeanStdMinMax) {
  iforest::Matrix m;
  m.rows = 4;
  m.cols = 2;
  m.data = {1, 10, 2, 10, 3, 10, 6, 10};
  FeatureStats st = ComputeFeatureStats(m, {"a", "b"});
  EXPECT_DOUBLE_EQ(st.mean[0], 3);
  EXPECT_DOUBLE_EQ(st.std[0], std::sqrt((4 + 1 + 0 + 9) / 4.0));
  EXPECT_DOUBLE_EQ(st.min[0], 1);
  EXPECT_DOUBLE_EQ(st.max[0], 6);
  EXPECT_DOUBLE_EQ(st.std[1], 0);
}

// Rows of a 2-d Gaussian.
std::vector<double> Row(std::mt19937_64& rng, double shift = 0) {
  std::normal_distribution<double> n(0, 1);
  return {n(rng) + shift, 5 + 0.1 * n(rng) + shift};
}

TEST(MachineScorerTest, LearnsThenScoresWithVersionAndThreshold) {
  LearnOptions lo;
  lo.learning_windows = 200;
  lo.train.n_estimators = 50;
  MachineScorer m("m1", {"x", "y"}, lo, 3);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 199; ++i) {
    auto r = m.Observe(Row(rng), i);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->learning);
  }
  EXPECT_TRUE(m.learning());
  auto last = m.Observe(Row(rng), 199);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(last->learning);  // the 200th window completes learning
  ASSERT_NE(m.baseline(), nullptr);
  EXPECT_EQ(m.baseline()->version, 3);
  EXPECT_EQ(m.baseline()->rows, 200);
  EXPECT_EQ(m.baseline()->trained_from_ns, 0);
  EXPECT_EQ(m.baseline()->trained_to_ns, 199);
  EXPECT_NEAR(m.baseline()->stats.mean[1], 5, 0.05);
  // The default rule puts the threshold below the training quantile: normal
  // rows are rarely flagged, a far row always.
  int flagged = 0;
  for (int i = 0; i < 1000; ++i) flagged += m.Observe(Row(rng), 1000 + i)->anomalous ? 1 : 0;
  EXPECT_LT(flagged, 20);
  auto far = m.Observe(Row(rng, 20), 5000);
  EXPECT_TRUE(far->anomalous);
  EXPECT_LT(far->score, far->threshold);
  EXPECT_EQ(far->baseline_version, 3);
  // Reset: learning again, the next baseline is version 4.
  m.StartLearning();
  EXPECT_TRUE(m.learning());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(m.Observe(Row(rng), 6000 + i).ok());
  ASSERT_TRUE(m.FinishLearning().ok());
  EXPECT_EQ(m.baseline()->version, 4);
}

TEST(MachineScorerTest, RestoreResumesWithoutLearning) {
  LearnOptions lo;
  lo.learning_windows = 50;
  lo.train.n_estimators = 20;
  MachineScorer a("m1", {"x", "y"}, lo);
  std::mt19937_64 rng(2);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(a.Observe(Row(rng), i).ok());
  ASSERT_FALSE(a.learning());
  MachineScorer b("m1", {"x", "y"}, lo);
  ASSERT_TRUE(b.Restore(a.baseline()).ok());
  const std::vector<double> r = {0.3, 5.1};
  auto sa = a.Observe(r, 100);
  auto sb = b.Observe(r, 100);
  EXPECT_FALSE(sb->learning);
  EXPECT_EQ(sa->score, sb->score);
  EXPECT_EQ(sb->baseline_version, 1);
  MachineScorer c("m1", {"x", "z"}, lo);
  Status s = c.Restore(a.baseline());
  EXPECT_NE(s.message().find("not computed: y"), std::string::npos) << s.message();
}

TEST(MachineScorerTest, BadRowsAndFailedFits) {
  LearnOptions lo;
  lo.learning_windows = 0;
  MachineScorer m("m9", {"x", "y"}, lo);
  const std::vector<double> bad = {1, NAN};
  EXPECT_NE(m.Observe(bad, 0).status().message().find("feature 'y' is not finite"),
            std::string::npos);
  const std::vector<double> short_row = {1};
  EXPECT_FALSE(m.Observe(short_row, 0).ok());
  EXPECT_NE(m.FinishLearning().message().find("no learning windows"), std::string::npos);
  const std::vector<double> r = {1, 2};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(m.Observe(r, i)->learning);  // 0: until Finish
  EXPECT_TRUE(m.learning());
}

// The threshold and the window scores are those of the forests scored with
// the scorer's default (batch) kernel, so that scoring the learning windows
// and each window with the portable kernel changes nothing: with 27 features,
// as the pipeline's default model, the out-of-fold calibration of 5 folds
// recomputed here fold by fold.
TEST(MachineScorerTest, ThresholdAndScoresEqualTheBatchKernels) {
  constexpr std::size_t kFeatures = 27, kRows = 300, kFolds = 5;
  LearnOptions lo;
  lo.learning_windows = kRows;
  lo.calibration_folds = kFolds;
  std::vector<std::string> names;
  for (std::size_t j = 0; j < kFeatures; ++j) names.push_back("f" + std::to_string(j));
  MachineScorer m("m1", names, lo);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g(0, 1);
  iforest::Matrix all;
  all.cols = kFeatures;
  for (std::size_t i = 0; i < kRows; ++i) {
    std::vector<double> row(kFeatures);
    for (std::size_t j = 0; j < kFeatures; ++j) row[j] = static_cast<double>(j) + g(rng);
    all.data.insert(all.data.end(), row.begin(), row.end());
    ++all.rows;
    ASSERT_TRUE(m.Observe(row, static_cast<std::int64_t>(i)).ok());
  }
  ASSERT_NE(m.baseline(), nullptr);
  std::vector<double> s(kRows);
  for (std::size_t f = 0; f < kFolds; ++f) {
    const std::size_t lo_row = kRows * f / kFolds, hi_row = kRows * (f + 1) / kFolds;
    iforest::Matrix rest, held;
    rest.cols = held.cols = kFeatures;
    for (std::size_t i = 0; i < kRows; ++i) {
      iforest::Matrix& to = i >= lo_row && i < hi_row ? held : rest;
      to.data.insert(to.data.end(), all.data.begin() + static_cast<std::ptrdiff_t>(i * kFeatures),
                     all.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * kFeatures));
      ++to.rows;
    }
    iforest::TrainOptions to = lo.train;
    to.seed = lo.train.seed + 1 + f;
    auto model = iforest::Train(rest, names, to);
    ASSERT_TRUE(model.ok());
    iforest::Scorer batch(*model);  // the default kernel (AVX-512 or AVX2 where the CPU has it)
    batch.ScoreSamplesBatch(held, std::span<double>(s).subspan(lo_row, hi_row - lo_row));
  }
  auto want = ComputeThreshold(s, m.baseline()->model->offset, lo.threshold);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(m.baseline()->threshold, *want);
  iforest::Scorer batch(*m.baseline()->model);
  iforest::Matrix probe;
  probe.cols = kFeatures;
  probe.rows = 40;
  for (std::size_t k = 0; k < probe.rows * kFeatures; ++k) {
    probe.data.push_back(static_cast<double>(k % kFeatures) + 2 * g(rng));
  }
  std::vector<double> expected(probe.rows);
  batch.ScoreSamplesBatch(probe, expected);
  for (std::size_t i = 0; i < probe.rows; ++i) {
    auto r = m.Observe(probe.Row(i), static_cast<std::int64_t>(kRows + i));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->score_samples, expected[i]) << "row " << i;
  }
}

}  // namespace
}  // namespace mh::score
