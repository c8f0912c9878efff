// report/figures.h: min/max downsampling against a brute-force reference,
// alarm spans, histogram bins, and ROC / precision-recall areas against
// scikit-learn (Debian's /usr/bin/python3) and cases worked out by hand.
#include "report/figures.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh::report {
namespace {

TEST(DownsampleMinMax, KeepsEveryColumnsTrueMinimumAndMaximum) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 1);
  for (std::size_t n : {10u, 1400u, 1401u, 5000u, 100000u}) {
    Series s{"s", {}, {}};
    double x = 0;
    for (std::size_t i = 0; i < n; ++i) {
      x += (i % 97 == 0) ? 50.0 : 1.0;  // uneven spacing: some columns empty
      s.x.push_back(x);
      s.y.push_back(noise(rng) + (i == n / 3 ? 40.0 : 0.0));
    }
    const std::size_t columns = 700;
    const Series d = DownsampleMinMax(s, columns);
    SCOPED_TRACE(n);
    if (n <= 2 * columns) {
      EXPECT_EQ(d.x, s.x);
      continue;
    }
    EXPECT_LE(d.x.size(), 2 * columns + 2);
    EXPECT_EQ(d.x.front(), s.x.front());
    EXPECT_EQ(d.x.back(), s.x.back());
    for (std::size_t i = 1; i < d.x.size(); ++i) EXPECT_LE(d.x[i - 1], d.x[i]);
    // Brute force: the extremes of each column, from the original points.
    const double lo = s.x.front(), width = (s.x.back() - lo) / columns;
    auto column = [&](double v) {
      return std::min<std::size_t>(columns - 1, static_cast<std::size_t>((v - lo) / width));
    };
    std::vector<double> want_min(columns, INFINITY), want_max(columns, -INFINITY);
    std::vector<double> got_min(columns, INFINITY), got_max(columns, -INFINITY);
    for (std::size_t i = 0; i < n; ++i) {
      want_min[column(s.x[i])] = std::min(want_min[column(s.x[i])], s.y[i]);
      want_max[column(s.x[i])] = std::max(want_max[column(s.x[i])], s.y[i]);
    }
    for (std::size_t i = 0; i < d.x.size(); ++i) {
      got_min[column(d.x[i])] = std::min(got_min[column(d.x[i])], d.y[i]);
      got_max[column(d.x[i])] = std::max(got_max[column(d.x[i])], d.y[i]);
    }
    EXPECT_EQ(got_min, want_min);
    EXPECT_EQ(got_max, want_max);
  }
}

TEST(DownsampleMinMax, DropsGapsOnlyWhenReducing) {
  Series s{"s", {}, {}};
  for (int i = 0; i < 3000; ++i) {
    s.x.push_back(i);
    s.y.push_back(i % 10 == 0 ? NAN : i);
  }
  const Series d = DownsampleMinMax(s, 100);
  for (double y : d.y) EXPECT_FALSE(std::isnan(y));
  EXPECT_EQ(d.y.back(), 2999);
}

TEST(SpansFromFlags, RunsAndMergedGaps) {
  const std::vector<double> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<bool> f = {false, true, true, false, false, true, false, true, true, true};
  auto spans = SpansFromFlags(x, f);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].from, 1);
  EXPECT_EQ(spans[0].to, 2);
  EXPECT_EQ(spans[1].from, 5);
  EXPECT_EQ(spans[1].to, 5);
  EXPECT_EQ(spans[2].to, 9);
  spans = SpansFromFlags(x, f, 2.0);  // 5 - 5 <= 2 merges the last two; 5 - 2 > 2 does not
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[1].from, 5);
  EXPECT_EQ(spans[1].to, 9);
}

TEST(HistogramFigure, SharedEdgesCountEveryFiniteValueAndIncludeTheThreshold) {
  const Figure f = HistogramFigure("h", "t", "score",
                                   {{"a", {0.0, 0.1, 0.2, 1.0, NAN}}, {"b", {0.5, 1.0}}}, -1.0, 4);
  ASSERT_EQ(f.edges.size(), 5u);
  EXPECT_EQ(f.edges.front(), -1.0);
  EXPECT_EQ(f.edges.back(), 1.0);
  ASSERT_EQ(f.bins.size(), 2u);
  EXPECT_EQ(f.bins[0].counts, (std::vector<std::size_t>{0, 0, 3, 1}));  // 1.0 in the last bin
  EXPECT_EQ(f.bins[1].counts, (std::vector<std::size_t>{0, 0, 0, 2}));
}

TEST(Curves, HandWorkedCases) {
  // Perfect ranking, reversed ranking, all tied.
  auto roc = RocCurve({3, 2, 1, 0}, {true, true, false, false});
  ASSERT_TRUE(roc);
  EXPECT_DOUBLE_EQ(roc->area, 1.0);
  EXPECT_DOUBLE_EQ(PrecisionRecallCurve({3, 2, 1, 0}, {true, true, false, false})->area, 1.0);
  EXPECT_DOUBLE_EQ(RocCurve({0, 1, 2, 3}, {true, true, false, false})->area, 0.0);
  EXPECT_DOUBLE_EQ(RocCurve({1, 1, 1, 1}, {true, false, true, false})->area, 0.5);
  EXPECT_DOUBLE_EQ(PrecisionRecallCurve({1, 1, 1, 1}, {true, false, true, false})->area, 0.5);
  // scores 4 3 2 1, labels + - + -: pairs ranked right 3 of 4 -> AUC 0.75;
  // AP = 0.5 * 1 + 0.5 * 2/3.
  EXPECT_DOUBLE_EQ(RocCurve({4, 3, 2, 1}, {true, false, true, false})->area, 0.75);
  EXPECT_DOUBLE_EQ(PrecisionRecallCurve({4, 3, 2, 1}, {true, false, true, false})->area,
                   0.5 + 0.5 * 2.0 / 3.0);
  EXPECT_FALSE(RocCurve({1, 2}, {true, true}));
  EXPECT_FALSE(PrecisionRecallCurve({1, 2}, {false, false}));
  EXPECT_EQ(roc->x.front(), 0);
  EXPECT_EQ(roc->x.back(), 1);
  EXPECT_EQ(roc->y.back(), 1);
}

TEST(Curves, AgreeWithScikitLearn) {
  const std::string dir = testing::MakeTempDir("mh-report-auc");
  std::ofstream(dir + "/auc.py") << R"py(
import sys
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score
d = np.loadtxt(sys.argv[1], delimiter=",")
print(repr(roc_auc_score(d[:, 0], d[:, 1])), repr(average_precision_score(d[:, 0], d[:, 1])))
)py";
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<double> scores;
    std::vector<bool> positive;
    std::ostringstream csv;
    csv.precision(17);
    const int n = 200 + 700 * trial;
    std::normal_distribution<double> noise(0, 1);
    for (int i = 0; i < n; ++i) {
      const bool p = rng() % 3 == 0;
      double s = noise(rng) + (p ? 0.8 : 0.0);
      if (trial % 2 == 1) s = std::round(s * 4) / 4;  // many ties
      scores.push_back(s);
      positive.push_back(p);
      csv << (p ? 1 : 0) << "," << s << "\n";
    }
    std::ofstream(dir + "/d.csv") << csv.str();
    std::string out;
    ASSERT_EQ(testing::RunCommand(
                  testing::ReferencePython() + " " + dir + "/auc.py " + dir + "/d.csv", &out),
              0)
        << out;
    double want_auc = 0, want_ap = 0;
    std::istringstream(out) >> want_auc >> want_ap;
    SCOPED_TRACE(trial);
    EXPECT_NEAR(RocCurve(scores, positive)->area, want_auc, 1e-12);
    EXPECT_NEAR(PrecisionRecallCurve(scores, positive)->area, want_ap, 1e-12);
    EXPECT_GT(want_auc, 0.6);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::report
